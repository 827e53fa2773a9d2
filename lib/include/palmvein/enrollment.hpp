// SPDX-License-Identifier: Apache-2.0
// Enrolment (frames -> several consistent templates of one palm) and comparison of a probe with
// gallery templates (verification 1:1 per identity, identification 1:N). See docs/gallery.md for the
// policy and the measurement behind it (several templates per identity, max-score fusion).
//
// Thread-safety: EnrollmentSession is used by one thread at a time. GallerySearch: load() takes
// exclusive access; rank() may run concurrently on a loaded search. Verifier and Identifier are
// immutable once loaded: verify() and identify() may run concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "palmvein/export.hpp"
#include "palmvein/extractor.hpp"
#include "palmvein/gallery.hpp"
#include "palmvein/image.hpp"
#include "palmvein/roi.hpp"
#include "palmvein/template.hpp"

PALMVEIN_NAMESPACE_BEGIN

// The default consistency threshold of an enrolment: the built-in calibration's score at this
// false-match rate per comparison. Looser than verification (samples of one capture session agree
// better than later probes), but one bad sample is caught (docs/gallery.md, "Cross-check").
inline constexpr double kEnrollmentConsistencyFmr = 1e-2;
// Calibration::builtin().threshold_for_fmr(kEnrollmentConsistencyFmr).
PALMVEIN_API double default_consistency_threshold();

// How an EnrollmentSession collects its samples.
struct PALMVEIN_API EnrollmentOptions {
  int samples = 3;           // good frames (templates) to keep per enrolment, K (1..16)
  int max_frames = 60;       // give up after this many frames in total (>= samples)
  float min_quality = 0.0f;  // frames whose ROI quality (0..1) is below this are rejected
  // Every pair of kept samples must score at least this (Matcher similarity). Samples that disagree
  // mean the palm changed (another person, other hand) or a sample is bad. 0 checks nothing.
  double consistency_threshold = default_consistency_threshold();
  // How many single disagreeing samples may be dropped and re-captured before the enrolment fails.
  int max_outliers = 2;
  // Throws InvalidArgument when a field is out of range.
  void check() const;
};

// Where an EnrollmentSession stands: still taking frames, done (templates() holds the samples), or
// failed (failure_reason() says why).
enum class EnrollmentState : std::uint8_t { Collecting, Complete, Failed };

// What happened to one frame, for live feedback.
struct FrameFeedback {
  bool accepted = false;                  // the frame became a sample
  RoiFailure failure = RoiFailure::None;  // why not (None when accepted or when it was low quality)
  float quality = 0;                      // ROI quality (0 when no ROI)
  std::string message;                    // one line for the user: guidance or progress
  int good = 0;                           // samples kept so far
  int frames = 0;                         // frames seen so far
};

// Collects K good, mutually consistent samples from a stream of frames (a sensor, or image files).
// Feed frames with add() while state() is Collecting.
class PALMVEIN_API EnrollmentSession {
 public:
  // `extractor` is borrowed and must outlive the session. Throws InvalidArgument for bad options.
  explicit EnrollmentSession(const TemplateExtractor& extractor, EnrollmentOptions options = {});
  ~EnrollmentSession();
  // Movable, not copyable; a moved-from session may only be destroyed or assigned to.
  EnrollmentSession(EnrollmentSession&&) noexcept;
  // Takes over `other`'s state.
  EnrollmentSession& operator=(EnrollmentSession&&) noexcept;

  // Extracts a template from `frame` and updates the state. Calling add() when not Collecting throws
  // InvalidArgument.
  FrameFeedback add(const Image& frame, ImageKind kind = ImageKind::FullHand);
  // The same for a frame the caller has already extracted (a live view extracts every frame anyway).
  FrameFeedback add(const ExtractResult& extracted);
  // Ends the input early (no more frames, e.g. the last image file): Collecting becomes Failed with
  // the reason. No effect in other states.
  void finish_input();

  // Collecting until K good, consistent samples are kept (Complete) or it gives up (Failed).
  EnrollmentState state() const noexcept;
  // Why the enrolment failed (empty unless Failed); one line.
  const std::string& failure_reason() const noexcept;
  // The kept samples, best quality first (complete when state() is Complete).
  const std::vector<Template>& templates() const noexcept;
  // templates() serialized (Template::to_bytes), the form EnrollRequest::templates takes.
  std::vector<std::vector<std::uint8_t>> template_bytes() const;
  // Pairwise scores of the kept samples (i < j, row-major), for reports.
  std::vector<double> pairwise_scores() const;
  // Frames given to add() so far (accepted or not).
  int frames_seen() const noexcept;
  // The options the session was made with.
  const EnrollmentOptions& options() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// How the scores of one identity's several templates become one score.
enum class ScoreFusion : std::uint8_t {
  Max,   // best template (default: measured best, docs/gallery.md)
  Mean,  // mean over the identity's templates
};
// "max" or "mean".
PALMVEIN_API std::string_view to_string(ScoreFusion fusion) noexcept;

// Searches gallery templates for a probe. An interface so that the in-memory 1:N engine
// (identification.hpp) can replace the plain loop by changing make_gallery_search() only.
class PALMVEIN_API GallerySearch {
 public:
  virtual ~GallerySearch() = default;
  // Parses and indexes decrypted gallery templates (replacing what was loaded). Throws FormatError
  // for bytes that are not a template.
  virtual void load(const std::vector<StoredTemplate>& templates) = 0;
  // load(gallery.all_templates()); the 1:N implementation streams the templates from the gallery
  // (Gallery::for_each_template) instead, so the gallery is never held twice in memory.
  virtual void load_from(const Gallery& gallery);
  // Identities by fused score, best first; at most `top_k` (0: all).
  virtual std::vector<IdentityScore> rank(const Template& probe, std::size_t top_k = 0) const = 0;
  // Templates loaded (all identities together).
  virtual std::size_t template_count() const = 0;
};

// Max fusion (the default) runs on the 1:N identification engine (IdentificationIndex, exhaustive:
// exact scores); Mean fusion scores every template with Matcher in a plain loop.
PALMVEIN_API std::unique_ptr<GallerySearch> make_gallery_search(ScoreFusion fusion = ScoreFusion::Max);

// One identity's templates, read from a gallery once, for verifying many probes against it (a
// Matcher over the templates: 1:1 builds no index and starts no threads). Gallery::verify is
// Verifier::load(...).verify(...).
class PALMVEIN_API Verifier {
 public:
  // The templates of `id` (that hand, or every enrolled hand when `hand` is empty). Throws
  // GalleryError(NotFound) when there are none, and what Gallery::templates_of() and
  // Template::from_bytes() throw.
  static Verifier load(const Gallery& gallery, std::string_view id, std::optional<Hand> hand = std::nullopt);
  // Compares `probe` with every loaded template; the best score decides (accepted when it reaches
  // `threshold`). Throws InvalidArgument for a probe of another algorithm.
  VerificationResult verify(const Template& probe, const DecisionThreshold& threshold) const;
  // A person presented with one or both hands. One side: that hand's templates only, the threshold
  // as given (as verify(probe) on a Verifier loaded for that hand). Both sides: each probe against its
  // hand's templates (best score per hand), the two fused by fuse_hand_scores(), accepted when the
  // fused score reaches two_hand_threshold(threshold). Throws InvalidArgument for an empty probe and
  // GalleryError(NotFound) when a presented hand has no templates here (not enrolled, or not loaded).
  VerificationResult verify(const PersonProbe& probe, const DecisionThreshold& threshold) const;
  // The identity loaded.
  const std::string& id() const noexcept { return id_; }
  // Its templates loaded (of every hand loaded).
  std::size_t template_count() const noexcept { return templates_.size(); }

 private:
  Verifier() = default;
  std::string id_;
  std::vector<Hand> hands_;  // hands_[i] is the hand of templates_[i]
  std::vector<Template> templates_;
};

// Every template of a gallery in the 1:N engine (max fusion, exhaustive, exact scores), read once,
// for identifying many probes. Gallery::identify is Identifier::load(...).identify(...). The
// templates are indexed per hand, so that a two-hand search compares each hand only with its own.
class PALMVEIN_API Identifier {
 public:
  // Throws what Gallery::all_templates() and GallerySearch::load() throw.
  static Identifier load(const Gallery& gallery);
  // The `k` best identities (0: all), and the rank-1 one if its score reaches the threshold.
  IdentificationResult identify(const Template& probe, const DecisionThreshold& threshold, std::size_t k = 1) const;
  // A person presented with one or both hands: the 1:N engine searches the pair. One side: that
  // hand's gallery only, the threshold as given. Both sides: the left probe searches the left hands'
  // gallery and the right probe the right hands'; a person enrolled with both hands scores
  // fuse_hand_scores() of the two (persons enrolled with one hand, or hand Unknown, are not
  // candidates of a two-hand search: the min rule needs both scores); the `k` best by fused score,
  // found when the best reaches two_hand_threshold(threshold). Exact: the same answer as fusing the
  // complete per-hand rankings. Throws InvalidArgument for an empty probe.
  IdentificationResult identify(const PersonProbe& probe, const DecisionThreshold& threshold, std::size_t k = 1) const;
  // Templates loaded, all hands together.
  std::size_t template_count() const;

 private:
  Identifier() = default;
  // One 1:N search per hand (Left, Right, Unknown), each over that hand's templates; null for a hand
  // with none. A one-probe search merges the three (the same ranking as one index over everything).
  std::unique_ptr<GallerySearch> searches_[3];
};

PALMVEIN_NAMESPACE_END

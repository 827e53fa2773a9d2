// SPDX-License-Identifier: Apache-2.0
// Evaluation of the recognition pipeline by the protocol of ../shared/PROTOCOL.md: manifests, all-pairs
// verification scores, EER and FNMR at fixed FMRs, closed-set rank-1 identification, and DET plots.
//
// The verification metrics follow tools/evalscores.py *exactly* (same threshold sweep, same
// tie-breaking, same FNMR@FMR rule), so that figures from palmvein and from other systems agree to
// the last bit on the same score file. Scores are stored in steps of kScoreResolution (1e-6) so
// that the value written to a score file, parsed back by any correctly-rounding reader, is the very
// double the metrics were computed on.
//
// Thread-safety: Manifest, PairScores, VerificationMetrics and EvaluationResult are plain values
// (const access from many threads is safe). evaluate() uses its own worker threads and may be
// called concurrently with distinct arguments; the progress callback is only ever called from the
// thread that called evaluate().
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "palmvein/export.hpp"
#include "palmvein/roi.hpp"

PALMVEIN_NAMESPACE_BEGIN

class TemplateExtractor;

// ---------------------------------------------------------------------------------------------
// Manifests: CSV with a header naming at least the columns path, subject, hand and kind
// (session optional; other columns ignored). Paths are relative to the manifest's folder.

struct ManifestEntry {
  std::string path;     // as written in the manifest (this is what score files carry)
  std::string subject;  // palm identity = (subject, hand)
  std::string hand;     // "L", "R" or "unknown"
  std::string session;  // empty when unknown
  ImageKind kind = ImageKind::Roi;
};

// True when two images show the same palm: same subject and same hand.
PALMVEIN_API bool same_palm(const ManifestEntry& a, const ManifestEntry& b) noexcept;

class PALMVEIN_API Manifest {
 public:
  // Reads a manifest. Throws IoError if it cannot be read, FormatError (with file and line) for a
  // missing column, an unknown kind, a duplicate path, a malformed row or no rows at all; IoError for
  // a file that cannot be read or is larger than 64 MiB.
  static Manifest load(const std::filesystem::path& csv);
  // Builds one in memory (for tests and tools); throws FormatError for duplicate or empty paths.
  Manifest(std::filesystem::path directory, std::vector<ManifestEntry> entries);

  const std::filesystem::path& directory() const noexcept { return directory_; }
  const std::vector<ManifestEntry>& entries() const noexcept { return entries_; }
  std::size_t size() const noexcept { return entries_.size(); }
  // directory() / entries()[i].path
  std::filesystem::path image_path(std::size_t i) const;
  // True when at least two distinct non-empty session values occur.
  bool has_sessions() const noexcept;

 private:
  std::filesystem::path directory_;
  std::vector<ManifestEntry> entries_;
};

// ---------------------------------------------------------------------------------------------
// Verification metrics (identical to tools/evalscores.py).

inline constexpr double kReportedFmrs[] = {1e-2, 1e-3, 1e-4, 1e-5};

struct FnmrAtFmr {
  double target_fmr = 0;  // 1e-2, 1e-3, ...
  double fnmr = 0;        // FNMR at the lowest threshold whose FMR is at most target_fmr
  double threshold = 0;   // that threshold (just above the (k+1)-th highest impostor score)
  bool reliable = false;  // impostor_pairs * target_fmr >= 10
};

struct PALMVEIN_API VerificationMetrics {
  std::size_t genuine_pairs = 0;
  std::size_t impostor_pairs = 0;
  double eer = 0;            // (FMR + FNMR) / 2 at the swept threshold where they are closest
  double eer_threshold = 0;  // that threshold (accept when score >= threshold)
  std::vector<FnmrAtFmr> fnmr_at_fmr;  // one per kReportedFmrs
  double dprime = 0;                   // |mean_g - mean_i| / sqrt((var_g + var_i) / 2)

  // The entry for `target` (one of kReportedFmrs); throws InvalidArgument for another value.
  const FnmrAtFmr& at(double target) const;
};

// Computes the metrics; higher scores mean more alike. Throws InvalidArgument when either list is
// empty. The lists are taken by value because they are sorted.
PALMVEIN_API VerificationMetrics verification_metrics(std::vector<double> genuine, std::vector<double> impostor);

// ---------------------------------------------------------------------------------------------
// DET curves and plots.

struct DetPoint {
  double threshold = 0;
  double fmr = 0;
  double fnmr = 0;
};

// One point per distinct score, thresholds from high to low (FMR rising, FNMR falling).
// Throws InvalidArgument when either list is empty.
PALMVEIN_API std::vector<DetPoint> det_curve(std::vector<double> genuine, std::vector<double> impostor);

struct DetSeries {
  std::string label;           // legend text, e.g. "all pairs"
  std::vector<DetPoint> curve; // from det_curve()
  double eer = 0;              // marked on the curve
};

struct PALMVEIN_API DetPlotOptions {
  int width = 900;    // pixels
  int height = 700;   // pixels
  std::string title = "DET curve";
  // Throws InvalidArgument when a field is out of range.
  void check() const;
};

// Draws the curves (FNMR against FMR, both on log axes, decade grid, labels, legend, EER marks)
// and returns the PNG bytes. Throws InvalidArgument for no series or an empty curve.
PALMVEIN_API std::vector<std::uint8_t> draw_det_plot(std::span<const DetSeries> series,
                                                     const DetPlotOptions& options = {});

// ---------------------------------------------------------------------------------------------
// All-pairs scores.

// Scores are kept as integers in steps of this size (see the file comment).
inline constexpr double kScoreResolution = 1e-6;

// The scores of every unordered pair (i < j) of n images, in steps of kScoreResolution.
class PALMVEIN_API PairScores {
 public:
  PairScores() = default;
  explicit PairScores(std::size_t images);

  // Rounds a score to the stored step. Throws InvalidArgument for a non-finite score or one
  // beyond +-2000.
  static std::int32_t quantize(double score);
  static double value(std::int32_t quantized) noexcept { return quantized / 1e6; }

  std::size_t images() const noexcept { return n_; }
  std::size_t pairs() const noexcept { return q_.size(); }
  // Index of pair (i, j), i < j < images(): rows of i are contiguous.
  std::size_t index(std::size_t i, std::size_t j) const noexcept {
    return i * (2 * n_ - i - 1) / 2 + (j - i - 1);
  }
  std::int32_t quantized(std::size_t i, std::size_t j) const noexcept {
    return i < j ? q_[index(i, j)] : q_[index(j, i)];
  }
  double score(std::size_t i, std::size_t j) const noexcept { return value(quantized(i, j)); }
  void set(std::size_t i, std::size_t j, double score) { q_[index(i, j)] = quantize(score); }
  // Raw row access for fast writers: the scores of (i, i+1), (i, i+2), ..., (i, n-1).
  std::int32_t* row(std::size_t i) noexcept { return q_.data() + index(i, i + 1); }

 private:
  std::size_t n_ = 0;
  std::vector<std::int32_t> q_;
};

// Writes a quantized score as the shortest decimal ("0.5", "0.123456", "1", "-0.25") into `out`
// (at least 16 chars); returns the end pointer.
PALMVEIN_API char* format_score(char* out, std::int32_t quantized) noexcept;

// The protocol's score file: header "a,b,score", one row per pair (i < j) with the manifest paths.
// Paths that need it are quoted as in RFC 4180.
PALMVEIN_API std::string format_score_csv(const Manifest& manifest, const PairScores& scores);

// Genuine and impostor scores of a manifest's pairs. With `cross_session`, genuine pairs are only
// those whose (known) sessions differ; impostors are always all impostor pairs.
struct LabelledScores {
  std::vector<double> genuine;
  std::vector<double> impostor;
};
PALMVEIN_API LabelledScores label_scores(const Manifest& manifest, const PairScores& scores, bool cross_session = false);

// Closed-set rank-1 identification: every image in turn is the probe, every other image the
// gallery. Probes whose palm has no other image are skipped. A probe counts as identified only
// when its best genuine score is strictly above its best impostor score (ties count as errors, so
// that a failure to acquire, which scores kLowestScore with everything, is never identified).
struct Rank1 {
  std::size_t probes = 0;
  std::size_t identified = 0;
  double accuracy() const noexcept { return probes ? static_cast<double>(identified) / probes : 0.0; }
};
PALMVEIN_API Rank1 rank1_identification(const Manifest& manifest, const PairScores& scores);

// ---------------------------------------------------------------------------------------------
// The whole protocol on one manifest.

struct PALMVEIN_API EvaluationOptions {
  int threads = 0;  // worker threads for extraction and scoring; 0 = hardware concurrency
  // Called from the calling thread every ~100 ms and at the end of a stage: stage is "extract" or
  // "match"; done/total count images or pairs. May be empty.
  std::function<void(std::string_view stage, std::size_t done, std::size_t total)> progress;
  // Throws InvalidArgument when a field is out of range.
  void check() const;
};

struct ImageOutcome {
  bool fta = false;                        // no template could be made
  RoiFailure failure = RoiFailure::None;   // why, when fta
  double extract_ms = 0;                   // decoded image -> finished template, one thread
  std::size_t template_bytes = 0;          // serialized size, 0 when fta
};

// Accuracy at the threshold the builtin calibration gives for a target FMR: shows how well the
// calibration (measured on the development sets) fits the data set at hand.
struct CalibratedPoint {
  double target_fmr = 0;  // asked of Calibration::builtin().threshold_for_fmr()
  double threshold = 0;   // what it gave
  double fmr = 0;         // measured on this set's impostor pairs (score >= threshold)
  double fnmr = 0;        // measured on this set's genuine pairs (score < threshold)
};

struct EvaluationResult {
  std::vector<ImageOutcome> images;  // one per manifest entry
  std::size_t fta = 0;
  PairScores scores;                 // FTAs score kLowestScore with everything
  VerificationMetrics overall;
  std::optional<VerificationMetrics> cross_session;  // when the manifest has sessions and such pairs
  Rank1 rank1;
  std::vector<CalibratedPoint> calibrated;  // for 1e-2, 1e-3, 1e-4
  double extract_ms_median = 0;      // over images with a template
  double match_us_median = 0;        // one Matcher::score call; median over a sample of pairs
  std::size_t template_bytes = 0;    // median serialized size
  double extract_seconds = 0;        // wall time of the extraction stage (reading and decoding included)
  double match_seconds = 0;          // wall time of the scoring stage
  double wall_seconds = 0;           // whole evaluate() call
};

// Reads every image, makes one template per image (one thread each, timed from decoded image to
// template), scores every unordered pair once with a Matcher built around the first image, and
// computes the metrics. An image that cannot be read or decoded is an error (IoError/FormatError
// naming the path), not a failure to acquire. Throws InvalidArgument when the manifest has no
// genuine or no impostor pairs.
PALMVEIN_API EvaluationResult evaluate(const Manifest& manifest, const TemplateExtractor& extractor,
                                       const EvaluationOptions& options = {});

PALMVEIN_NAMESPACE_END

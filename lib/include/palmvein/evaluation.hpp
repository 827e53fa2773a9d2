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
// Thread-safety: Manifest, PairScores, VerificationMetrics, EvaluationResult and every other type
// here are plain values (const access from many threads is safe; TailModel is immutable after
// fit()). evaluate() uses its own worker threads and may be called concurrently with distinct
// arguments; the progress callback is only ever called from the thread that called evaluate().
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "palmvein/export.hpp"
#include "palmvein/hand.hpp"
#include "palmvein/roi.hpp"

PALMVEIN_NAMESPACE_BEGIN

class TemplateExtractor;

// ---------------------------------------------------------------------------------------------
// Manifests: CSV with a header naming at least the columns path, subject, hand and kind
// (session optional; other columns ignored). Paths are relative to the manifest's folder. The hand
// column is read by parse_hand() (L, R, U, left, right, unknown; any case) and written L, R or unknown.

// One row of a manifest: an image and whose palm it shows.
struct ManifestEntry {
  std::string path;     // as written in the manifest (this is what score files carry)
  std::string subject;  // palm identity = (subject, hand)
  Hand hand = Hand::Unknown;  // which of the subject's hands (Unknown when the manifest says unknown)
  std::string session;  // empty when unknown
  ImageKind kind = ImageKind::Roi;  // column kind: "full-hand" (a sensor frame) or "roi"
};

// True when two images show the same palm: same subject and same hand.
PALMVEIN_API bool same_palm(const ManifestEntry& a, const ManifestEntry& b) noexcept;

// The images of an evaluation and their labels, in file order; paths are unique.
class PALMVEIN_API Manifest {
 public:
  // Reads a manifest. Throws IoError if it cannot be read, FormatError (with file and line) for a
  // missing column, an unknown kind or hand, a duplicate path, a malformed row or no rows at all;
  // IoError for a file that cannot be read or is larger than 64 MiB.
  static Manifest load(const std::filesystem::path& csv);
  // Builds one in memory (for tests and tools); throws FormatError for duplicate or empty paths.
  Manifest(std::filesystem::path directory, std::vector<ManifestEntry> entries);

  // The folder the entries' paths are relative to: the CSV's folder for load() ("." when the path
  // names none).
  const std::filesystem::path& directory() const noexcept { return directory_; }
  // The images, in file order.
  const std::vector<ManifestEntry>& entries() const noexcept { return entries_; }
  // Number of images.
  std::size_t size() const noexcept { return entries_.size(); }
  // directory() / entries()[i].path; throws std::out_of_range for i >= size().
  std::filesystem::path image_path(std::size_t i) const;
  // True when at least two distinct non-empty session values occur.
  bool has_sessions() const noexcept;

 private:
  std::filesystem::path directory_;
  std::vector<ManifestEntry> entries_;
};

// The hand as a manifest's `hand` column spells it: "L", "R" or "unknown" (the data sets' and
// PROTOCOL.md's word; Manifest::load also reads the gallery's "U"). Score files' palm names
// ("subject/hand") use it too.
inline std::string_view manifest_hand_text(Hand hand) noexcept {
  return hand == Hand::Unknown ? std::string_view("unknown") : to_string(hand);
}
// The manifest's `kind` column: "full-hand" or "roi".
inline std::string_view manifest_kind_text(ImageKind kind) noexcept {
  return kind == ImageKind::FullHand ? std::string_view("full-hand") : std::string_view("roi");
}

// Writes a manifest that Manifest::load reads back: CSV with a header row that names at least path,
// subject, hand and kind (other columns are kept; a missing one is a programming error,
// std::logic_error), one row per image, paths relative to the manifest's folder; saved atomically, so a
// reader never sees half a manifest. A row with another number of fields than the header is a
// std::logic_error too. Fields are quoted as CSV needs (commas, quotes, line breaks).
class PALMVEIN_API ManifestWriter {
 public:
  // Starts a manifest with this header row.
  explicit ManifestWriter(std::initializer_list<std::string_view> header);
  // Appends one row (as many fields as the header).
  ManifestWriter& row(std::initializer_list<std::string_view> fields);
  // Appends one row (as many fields as the header).
  ManifestWriter& row(const std::vector<std::string>& fields);
  // The CSV text so far.
  const std::string& text() const noexcept { return text_; }
  // Writes the manifest to `path` atomically; throws IoError.
  void save(const std::filesystem::path& path) const;

 private:
  std::size_t columns_ = 0;
  std::string text_;
};

// ---------------------------------------------------------------------------------------------
// Verification metrics (identical to tools/evalscores.py).

// The false-match rates VerificationMetrics reports the FNMR at (fnmr_at_fmr, in this order).
inline constexpr double kReportedFmrs[] = {1e-2, 1e-3, 1e-4, 1e-5};

// The false non-match rate at one target false-match rate (accept when score >= threshold).
struct FnmrAtFmr {
  double target_fmr = 0;  // 1e-2, 1e-3, ...
  double fnmr = 0;        // FNMR at the lowest threshold whose FMR is at most target_fmr
  double threshold = 0;   // that threshold (just above the (k+1)-th highest impostor score)
  bool reliable = false;  // impostor_pairs * target_fmr >= 10
};

// Verification accuracy of a set of genuine and impostor scores (verification_metrics()).
struct PALMVEIN_API VerificationMetrics {
  std::size_t genuine_pairs = 0;   // genuine scores (pairs of one palm)
  std::size_t impostor_pairs = 0;  // impostor scores (pairs of two palms)
  double eer = 0;            // (FMR + FNMR) / 2 at the swept threshold where they are closest
  double eer_threshold = 0;  // that threshold (accept when score >= threshold)
  std::vector<FnmrAtFmr> fnmr_at_fmr;  // one per kReportedFmrs
  double dprime = 0;                   // |mean_g - mean_i| / sqrt((var_g + var_i) / 2)

  // The entry for `target` (one of kReportedFmrs); throws InvalidArgument for another value.
  const FnmrAtFmr& at(double target) const;
};

// Computes the metrics; higher scores mean more alike. Throws InvalidArgument when either list is
// empty or a score is not finite. The lists are taken by value because they are sorted.
PALMVEIN_API VerificationMetrics verification_metrics(std::vector<double> genuine, std::vector<double> impostor);

// ---------------------------------------------------------------------------------------------
// DET curves and plots.

// One operating point: the error rates when accepting scores >= threshold.
struct DetPoint {
  double threshold = 0;  // a score
  double fmr = 0;        // share of impostor scores >= threshold, 0..1
  double fnmr = 0;       // share of genuine scores < threshold, 0..1
};

// One point per distinct score, thresholds from high to low (FMR rising, FNMR falling).
// Throws InvalidArgument when either list is empty.
PALMVEIN_API std::vector<DetPoint> det_curve(std::vector<double> genuine, std::vector<double> impostor);

// One labelled curve of a plot.
struct DetSeries {
  std::string label;           // legend text, e.g. "all pairs"
  std::vector<DetPoint> curve; // from det_curve()
  double eer = 0;              // marked on the curve
  bool mark_eer = true;        // false: no EER mark or legend figure (e.g. open-set FPIR/FNIR curves)
};

// How a DET plot maps rates to the page: log10 of the rate, or the normal deviate (probit,
// the inverse standard normal CDF of the rate), as NIST and bob.measure draw DET curves (Martin et
// al. 1997): on it, normally distributed scores give straight lines.
enum class DetScale {
  Log,            // log10 of the rate
  NormalDeviate,  // the probit of the rate
};

// Options of every plot below (the defaults are the DET plot's; other plots name their own labels).
struct PALMVEIN_API DetPlotOptions {
  int width = 900;    // of the PNG in pixels, 300..8000
  int height = 700;   // of the PNG in pixels, 240..8000
  std::string title = "DET curve";                      // above the plot; ASCII (the font has no other letters)
  std::string x_label = "FMR (false match rate)";       // below the x axis; ASCII
  std::string y_label = "FNMR (false non-match rate)";  // beside the y axis; ASCII
  DetScale scale = DetScale::NormalDeviate;  // DET plots only: probit axes, as NIST and bob draw them
  // Throws InvalidArgument when a field is out of range (width 300..8000, height 240..8000).
  void check() const;
};

// Draws the curves (FNMR against FMR on `options.scale` axes, grid, labels, legend, EER marks)
// and returns the PNG bytes. Throws InvalidArgument for no series, an empty curve or options that
// fail check().
PALMVEIN_API std::vector<std::uint8_t> draw_det_plot(std::span<const DetSeries> series,
                                                     const DetPlotOptions& options = {});

// ROC: 1 - FNMR (the true match rate, linear) against FMR (log axis). Same input and errors as
// the DET plot; returns the PNG bytes.
PALMVEIN_API std::vector<std::uint8_t> draw_roc_plot(std::span<const DetSeries> series, const DetPlotOptions& options);

// Score histograms: the genuine and the impostor scores in `bins` equal bins over their common
// range, each normalised to a share of its own class, with a vertical line at `threshold`.
struct HistogramBin {
  double low = 0;            // lower end of the bin's scores, included
  double high = 0;           // upper end, excluded (the last bin includes its high end)
  double genuine = 0;        // share of genuine scores in the bin
  double impostor = 0;       // share of impostor scores in the bin
};
// Throws InvalidArgument when either list is empty, a score is not finite or bins is 0.
PALMVEIN_API std::vector<HistogramBin> score_histogram(std::span<const double> genuine, std::span<const double> impostor,
                                                       std::size_t bins = 50);
// Draws score_histogram()'s bins (each class as an outline) and the line at `threshold`; returns the
// PNG bytes. Throws InvalidArgument for no bins or options that fail check().
PALMVEIN_API std::vector<std::uint8_t> draw_score_histogram(std::span<const HistogramBin> bins, double threshold,
                                                            const DetPlotOptions& options);

// CMC: identification rate (share of mated probes with the mate at rank <= k) against k = 1..size,
// as cmc_curve() gives it; returns the PNG bytes. Throws InvalidArgument for an empty curve or
// options that fail check().
PALMVEIN_API std::vector<std::uint8_t> draw_cmc_plot(std::span<const double> cmc, const DetPlotOptions& options);

// ---------------------------------------------------------------------------------------------
// All-pairs scores.

// Scores are kept as integers in steps of this size (see the file comment).
inline constexpr double kScoreResolution = 1e-6;

// The scores of every unordered pair (i < j) of n images, in steps of kScoreResolution.
class PALMVEIN_API PairScores {
 public:
  // No images.
  PairScores() = default;
  // Room for every pair of `images` images, all scores 0.
  explicit PairScores(std::size_t images);

  // Rounds a score to the stored step (to the nearest multiple of kScoreResolution, as an integer
  // count of steps). Throws InvalidArgument for a non-finite score or one beyond +-2000.
  static std::int32_t quantize(double score);
  // The score a quantized value stands for: quantized * kScoreResolution.
  static double value(std::int32_t quantized) noexcept { return quantized / 1e6; }

  // Number of images n.
  std::size_t images() const noexcept { return n_; }
  // Number of pairs, n (n - 1) / 2.
  std::size_t pairs() const noexcept { return q_.size(); }
  // Index of pair (i, j), i < j < images(): rows of i are contiguous.
  std::size_t index(std::size_t i, std::size_t j) const noexcept {
    return i * (2 * n_ - i - 1) / 2 + (j - i - 1);
  }
  // The stored score of images i and j in steps, in either order (i != j, both < images(); not
  // checked).
  std::int32_t quantized(std::size_t i, std::size_t j) const noexcept {
    return i < j ? q_[index(i, j)] : q_[index(j, i)];
  }
  // value(quantized(i, j)).
  double score(std::size_t i, std::size_t j) const noexcept { return value(quantized(i, j)); }
  // Stores quantize(score) for pair (i, j), i < j < images() (not checked). Distinct pairs may be set
  // from different threads at once.
  void set(std::size_t i, std::size_t j, double score) { q_[index(i, j)] = quantize(score); }
  // Raw row access for fast writers: the scores of (i, i+1), (i, i+2), ..., (i, n-1); i < n - 1.
  std::int32_t* row(std::size_t i) noexcept { return q_.data() + index(i, i + 1); }

 private:
  std::size_t n_ = 0;
  std::vector<std::int32_t> q_;
};

// Writes a quantized score as the shortest decimal ("0.5", "0.123456", "1", "-0.25") into `out`
// (at least 16 chars); returns the end pointer.
PALMVEIN_API char* format_score(char* out, std::int32_t quantized) noexcept;

// The protocol's score file: header "a,b,score", one row per pair (i < j) with the manifest paths.
// Paths that need it are quoted as in RFC 4180. Throws InvalidArgument when `scores` does not have
// the manifest's number of images.
PALMVEIN_API std::string format_score_csv(const Manifest& manifest, const PairScores& scores);

// Genuine and impostor scores of a manifest's pairs. With `cross_session`, genuine pairs are only
// those whose (known) sessions differ; impostors are always all impostor pairs.
struct LabelledScores {
  std::vector<double> genuine;   // scores of pairs of one palm
  std::vector<double> impostor;  // scores of pairs of two palms
};
// The genuine and impostor scores of `manifest`'s pairs, in pair order (see LabelledScores). Throws
// InvalidArgument when `scores` does not have the manifest's number of images.
PALMVEIN_API LabelledScores label_scores(const Manifest& manifest, const PairScores& scores, bool cross_session = false);

// Closed-set rank-1 identification: every image in turn is the probe, every other image the
// gallery. Probes whose palm has no other image are skipped. A probe counts as identified only
// when its best genuine score is strictly above its best impostor score (ties count as errors, so
// that a failure to acquire, which scores kLowestScore with everything, is never identified).
struct Rank1 {
  std::size_t probes = 0;      // images whose palm has another image
  std::size_t identified = 0;  // of these, those identified at rank 1
  // identified / probes, 0 when there are no probes.
  double accuracy() const noexcept { return probes ? static_cast<double>(identified) / probes : 0.0; }
};
// Closed-set rank-1 identification over the stored scores (see Rank1). Throws InvalidArgument when
// `scores` does not have the manifest's number of images.
PALMVEIN_API Rank1 rank1_identification(const Manifest& manifest, const PairScores& scores);

// ---------------------------------------------------------------------------------------------
// Open-set identification (1:N), ISO/IEC 19795-1 and NIST FRVT 1:N (PROTOCOL.md "Open-set
// identification"). A search compares a probe with every gallery identity; an identity's score is
// the best over its templates (and, for a person enrolled with two hands, the fusion of the two
// hands' scores). A probe is *mated* when its identity is enrolled, *non-mated* when it is not.
//   FPIR(t)    = share of non-mated probes whose best candidate scores >= t
//   FNIR(t, L) = share of mated probes whose mate is not among the best L candidates with a score >= t
// Ranks count ties against the mate (like rank1_identification): mate rank = 1 + the number of
// other identities scoring at least as high.

// Scores of probes against gallery identities. Values; thread-safety as for PairScores.
struct PALMVEIN_API SearchScores {
  std::size_t identities = 0;           // gallery identities (columns)
  std::vector<std::uint32_t> probe_identity;  // per probe: an id naming its identity (palm or person)
  std::vector<std::int64_t> mate;       // per probe: the column of its identity, or -1 (non-mated)
  std::vector<double> scores;           // probes x identities, row-major

  // Number of probes (rows).
  std::size_t probes() const noexcept { return mate.size(); }
  // The score of `probe` against gallery identity `identity` (not bounds-checked).
  double at(std::size_t probe, std::size_t identity) const noexcept { return scores[probe * identities + identity]; }
  // Throws InvalidArgument when the sizes disagree or a mate column is out of range.
  void check() const;
};

// What the open-set metrics need of each search.
struct MatedSearch {
  double mate_score = 0;      // the mate identity's score
  std::size_t mate_rank = 0;  // 1 + identities (other than the mate) scoring >= mate_score
};
// A score matrix reduced to what the open-set metrics need (open_set_scores()).
struct OpenSetScores {
  std::vector<MatedSearch> mated;     // one per mated search, in probe order
  std::vector<double> nonmated_best;  // the best candidate score of each non-mated search
  // Every comparison of the non-mated searches (probe, identity): the per-comparison impostor
  // scores the tail model is fitted to. Mated searches' non-mate columns are left out: FPIR is
  // about non-mated searches, and with a session-1 gallery the mated ones are all cross-session,
  // another population than the non-mated probes' comparisons.
  std::vector<double> impostor;
};
// Reduces a score matrix to the above. Throws InvalidArgument (via check()) for a bad matrix.
PALMVEIN_API OpenSetScores open_set_scores(const SearchScores& searches);

// The false positive identification rates OpenSetMetrics reports the FNIR at (fnir_at_fpir, in
// this order).
inline constexpr double kReportedFpirs[] = {1e-2, 1e-3};

// The false negative identification rates at one target FPIR (a candidate counts when its score is
// >= threshold).
struct FnirAtFpir {
  double target_fpir = 0;  // 1e-2, 1e-3
  double threshold = 0;    // the lowest threshold with FPIR <= target (the FNMR@FMR rule of verification_metrics)
  double fpir = 0;         // measured at that threshold
  double fnir = 0;         // rank 1
  double fnir_list = 0;    // mate anywhere in the candidate list of length L (score >= threshold)
  bool reliable = false;   // nonmated_probes * target_fpir >= 10
};

// Open-set identification accuracy of a set of searches (open_set_metrics()).
struct PALMVEIN_API OpenSetMetrics {
  std::size_t mated_probes = 0;     // searches whose identity is enrolled
  std::size_t nonmated_probes = 0;  // searches whose identity is not enrolled
  std::size_t candidate_list = 0;       // L of fnir_list
  std::vector<FnirAtFpir> fnir_at_fpir;  // one per kReportedFpirs
  std::vector<double> cmc;              // cmc[k-1]: share of mated probes with mate rank <= k (no threshold)
  // The entry for `target` (one of kReportedFpirs); throws InvalidArgument for another value.
  const FnirAtFpir& at(double target) const;
};

// cmc[k-1] for k = 1..ranks (OpenSetMetrics::cmc); needs only the mated searches. Throws
// InvalidArgument for no mated searches or ranks = 0.
PALMVEIN_API std::vector<double> cmc_curve(const OpenSetScores& scores, std::size_t ranks);

// Throws InvalidArgument for no mated or no non-mated searches, L = 0 or cmc_ranks = 0.
PALMVEIN_API OpenSetMetrics open_set_metrics(const OpenSetScores& scores, std::size_t candidate_list = 10,
                                             std::size_t cmc_ranks = 20);

// One operating point of open-set identification: the error rates when candidates need a score
// >= threshold.
struct OpenSetPoint {
  double threshold = 0;  // a score
  double fpir = 0;       // share of non-mated searches whose best candidate scores >= threshold
  double fnir = 0;       // rank 1
  double fnir_list = 0;  // candidate list of length L
};
// One point per distinct score, thresholds from high to low (FPIR rising, FNIR falling). Throws
// InvalidArgument for no mated or no non-mated searches or candidate_list = 0.
PALMVEIN_API std::vector<OpenSetPoint> open_set_curve(const OpenSetScores& scores, std::size_t candidate_list = 10);

// The curve as DET points (fmr = FPIR, fnmr = rank-1 FNIR or, with `list`, the list FNIR), for draw_det_plot().
PALMVEIN_API std::vector<DetPoint> open_set_det(std::span<const OpenSetPoint> curve, bool list = false);

// ---------------------------------------------------------------------------------------------
// FPIR beyond the measured gallery size: a generalised Pareto tail (peaks over threshold; Pickands,
// "Statistical inference using extreme order statistics", Ann. Statist. 1975; Davison & Smith,
// JRSS B 1990) fitted by probability-weighted moments (Hosking & Wallis, "Parameter and quantile
// estimation for the generalized Pareto distribution", Technometrics 1987) to the per-comparison
// impostor scores above their (1 - tail_fraction) quantile u:
//   P(S >= t) = zeta * (1 + xi (t - u) / sigma)^(-1/xi)   for t > u (the empirical share below u),
// and, for a gallery of N identities compared independently,
//   FPIR(N, t) = 1 - (1 - p(t))^N
//   FNIR(N, t) = mean over mated searches of [mate < t ? 1 : 1 - (1 - p(mate))^(N - 1)]
// (the mate is missed when below t or beaten by any of N - 1 impostors). Assumptions: the
// comparisons of one search are independent draws from one impostor distribution (a real gallery
// has correlated impostors and a few lookalikes); an identity's score is the max over its templates
// as in the data; the mated score distribution does not change with N.
// The fitted shape often comes out negative (a bounded tail: no impostor above u - sigma / xi), which
// the data cannot prove for scores beyond their largest; TailShape::Exponential fixes xi = 0 (sigma
// = the mean excess, its maximum-likelihood value), the lightest unbounded tail, as the cautious
// variant. Hand-written: no Debian C++ library fits a GPD.
enum class TailShape {
  Fitted,       // xi estimated from the exceedances
  Exponential,  // xi = 0, sigma = the mean excess (the cautious variant)
};

// The fitted impostor tail and the FPIR/FNIR it predicts for N identities (formulas: TailShape).
// Made by fit(), then immutable; a default-constructed model holds no scores (only assign to it).
class PALMVEIN_API TailModel {
 public:
  // Fits the tail to the top max(ceil(tail_fraction * n), 50) of the n scores. Throws
  // InvalidArgument when that is more than half of them, for a tail fraction outside (0, 0.5], when
  // fewer than 50 scores lie strictly above u (ties) or they have no spread, or for a fit outside
  // the PWM estimator's range (xi >= 0.5).
  static TailModel fit(std::vector<double> impostor, double tail_fraction = 0.02, TailShape shape = TailShape::Fitted);

  // The tail threshold u: the score just below the fitted top share; the GPD models scores above it.
  double u() const noexcept { return u_; }
  double xi() const noexcept { return xi_; }        // shape (< 0: a finite upper end point)
  double sigma() const noexcept { return sigma_; }  // scale, in score units
  double zeta() const noexcept { return zeta_; }    // share of impostor scores above u
  // Number of impostor scores strictly above u (those the GPD was fitted to).
  std::size_t exceedances() const noexcept { return exceedances_; }
  // Number of impostor scores given to fit().
  std::size_t comparisons() const noexcept { return sorted_.size(); }

  // Per-comparison P(S >= t): empirical at or below u, the GPD above.
  double tail_probability(double t) const;
  // The score whose tail probability is p (0 < p <= 1); for p above zeta the empirical quantile.
  // Throws InvalidArgument for p outside (0, 1].
  double threshold_for_tail(double p) const;
  // Modelled FPIR(N, t) = 1 - (1 - tail_probability(t))^N of a gallery of N = `gallery_size`
  // identities.
  double fpir(double gallery_size, double t) const;
  // The threshold at which fpir(gallery_size, t) = target. Throws InvalidArgument for a gallery size
  // below 1 or a target outside (0, 1).
  double threshold_for_fpir(double gallery_size, double target) const;
  // Modelled FNIR(N, t) of the mated searches (formula at TailShape). Throws InvalidArgument for no mated
  // searches.
  double fnir(std::span<const MatedSearch> mated, double gallery_size, double t) const;

 private:
  std::vector<double> sorted_;
  double u_ = 0, xi_ = 0, sigma_ = 0, zeta_ = 0;
  std::size_t exceedances_ = 0;
};

// The measured FPIR of smaller galleries: `draws` seeded random subsets of `gallery_size` of the
// searches' identities, the share of (non-mated search, subset) pairs whose best score is >= t.
// Checks TailModel::fpir() where the data reach. Throws InvalidArgument for a size of 0 or above
// identities, no draws or no non-mated searches.
PALMVEIN_API double subsampled_fpir(const SearchScores& searches, std::size_t gallery_size, double t, std::size_t draws,
                                    std::uint64_t seed);

// For a check of the tail model on identities it was not fitted to: the non-mated searches split
// by their probe identity into two seeded halves. `fit` keeps every mated search and the first
// half's non-mated searches, `check` the other half's non-mated searches only (same gallery).
// Throws InvalidArgument when fewer than two non-mated identities are there.
struct SearchSplit {
  SearchScores fit;    // every mated search and the first half's non-mated searches
  SearchScores check;  // the other half's non-mated searches
};
// Splits the searches as SearchSplit describes, drawn by `seed`. Throws InvalidArgument as SearchSplit
// says, and for a bad matrix (SearchScores::check()).
PALMVEIN_API SearchSplit split_nonmated(const SearchScores& searches, std::uint64_t seed);

// ---------------------------------------------------------------------------------------------
// Drawing a gallery and probes from a manifest, and the searches they make.

// How draw_open_set() draws a gallery and probes from a manifest.
struct PALMVEIN_API OpenSetProtocol {
  // 0: the gallery is session 1 of each palm (the manifest needs sessions); k > 0: the first k
  // samples of each palm in manifest order. Mated probes are the palm's other samples.
  std::size_t gallery_samples = 0;
  double nonmated_fraction = 0.5;  // share of persons held out of the gallery (all their samples probe)
  std::uint64_t seed = 1;          // draws the held-out persons and the chimeric pairing
  // Persons: one palm each, or two (left, right): by subject (the manifest's own L and R palms of a
  // subject; subjects without both are left out) or chimeric (distinct palms paired by the seed).
  enum class Persons {
    OnePalm,       // every palm is a person
    SubjectHands,  // a subject's L and R palms are one person
    Chimeric,      // two distinct palms, paired by the seed, are one person
  } persons = Persons::OnePalm;  // what a person is
  // Throws InvalidArgument for a nonmated_fraction outside (0, 1) or gallery_samples above 1000000.
  void check() const;
};

// Manifest indices of a drawn protocol. For two-hand persons, hand 0 is the person's left hand
// (the first palm of the pair), hand 1 the right.
struct PALMVEIN_API OpenSetDesign {
  // One person of the draw.
  struct Person {
    std::vector<std::uint32_t> palms;  // 1 or 2 palm ids (indices into palm_names)
    bool enrolled = false;             // in the gallery; false: held out (all its images probe)
  };
  std::vector<std::string> palm_names;  // "subject/hand"
  std::vector<Person> persons;           // every person, enrolled or held out
  std::vector<std::vector<std::size_t>> gallery_images;  // per palm: its gallery images
  std::vector<std::vector<std::size_t>> probe_images;    // per palm: its probe images
  // Number of persons with enrolled set.
  std::size_t enrolled_persons() const noexcept;
};
// Draws persons, the held-out share and each palm's gallery and probe images by `protocol` (seeded:
// the same manifest and protocol give the same draw on every platform). At least one person is held
// out and at least one enrolled. Throws InvalidArgument for a protocol that fails check(), fewer
// than two persons, an enrolled palm without gallery or without probe images, or gallery_samples = 0
// with a manifest without sessions.
PALMVEIN_API OpenSetDesign draw_open_set(const Manifest& manifest, const OpenSetProtocol& protocol);

// Score-level fusion of the two hands' scores.
enum class HandFusion {
  Sum,  // left + right
  Max,  // the better of the two
  Min,  // the worse of the two
};
// "sum", "max" or "min"; "?" for a value outside the enum.
PALMVEIN_API std::string_view to_string(HandFusion fusion) noexcept;

// The searches of one hand (`hand` 0 or 1 of each person) against the gallery of that hand of the
// enrolled persons; probes are the images of that hand of every person (its probe images for an
// enrolled person, all its images for a held-out one). Columns are the enrolled persons in order;
// probe_identity is the person's index in design.persons. Throws InvalidArgument when a person has
// no such hand.
PALMVEIN_API SearchScores one_hand_searches(const OpenSetDesign& design, const PairScores& scores, std::size_t hand = 0);
// Two-hand searches: a person's k-th probe pairs the k-th probe images of its two hands (as many as
// the hand with fewer has); an identity's score is the fusion of the two hands' identity scores.
// Throws InvalidArgument when the persons do not have two hands.
PALMVEIN_API SearchScores two_hand_searches(const OpenSetDesign& design, const PairScores& scores, HandFusion fusion);

// ---------------------------------------------------------------------------------------------
// Score files of other systems (docs/evaluation.md "palmvein metrics").

// One comparison of a score file. bob.measure's four-column format is one comparison per line,
// "claimed_id real_id test_label score", separated by blanks; the comparison is genuine when
// claimed_id == real_id. model_label (the enrolled sample) is only known for the protocol's a,b,score
// files (a's path); it is empty for four-column files.
struct ScoreRecord {
  std::string claimed_id;  // the identity the probe is compared with
  std::string real_id;     // the probe's identity
  std::string test_label;  // the probe sample
  std::string model_label; // the enrolled sample, when known
  double score = 0;        // higher means more alike
  // True when claimed_id == real_id.
  bool genuine() const noexcept { return claimed_id == real_id; }
};

// Parses a four-column file. Blank lines and lines starting with '#' are skipped. Throws FormatError
// naming `where` and the line for a line without exactly four fields or with a score that is not a
// finite number, and for a file without comparisons.
PALMVEIN_API std::vector<ScoreRecord> parse_four_column(std::string_view text, const std::string& where);
// Reads one (IoError when it cannot be read or is larger than 2 GiB).
PALMVEIN_API std::vector<ScoreRecord> load_four_column(const std::filesystem::path& path);
// Writes the records as a four-column file (scores with up to 17 significant digits, so that they
// read back as the same doubles). Throws InvalidArgument for an id or label that is empty or holds
// a blank (the format separates by blanks).
PALMVEIN_API std::string format_four_column(std::span<const ScoreRecord> records);

// A palm's identity in score records: "subject/hand".
PALMVEIN_API std::string palm_identity(const ManifestEntry& entry);

// The protocol's a,b,score file, labelled by a manifest: each row becomes the record (claimed_id =
// palm of a, model_label = a, real_id = palm of b, test_label = b). Paths are looked up as written
// in the manifest. Throws FormatError (with the line) for a missing header column, a path not in
// the manifest, a malformed row or score, or no rows.
PALMVEIN_API std::vector<ScoreRecord> parse_pair_score_csv(std::string_view text, const Manifest& manifest,
                                                           const std::string& where);
// Reads and parses a file as parse_pair_score_csv() does; throws IoError when it cannot be read or
// is larger than 2 GiB.
PALMVEIN_API std::vector<ScoreRecord> load_pair_score_csv(const std::filesystem::path& path, const Manifest& manifest);
// The records of all pairs of an evaluation (what parse_pair_score_csv gives on format_score_csv's file).
// Throws InvalidArgument when `scores` does not have the manifest's number of images.
PALMVEIN_API std::vector<ScoreRecord> score_records(const Manifest& manifest, const PairScores& scores);

// Genuine and impostor scores of the records.
PALMVEIN_API LabelledScores label_records(std::span<const ScoreRecord> records);

// The searches the records describe, for the CMC: every distinct test_label is a probe, every
// distinct claimed_id a gallery identity whose score is the best of the probe's comparisons with it
// (identities it was not compared with score the lowest double). With `both_ways` (all-pairs files,
// where each pair is written once), every record with a model_label also counts as the search of
// model_label against real_id. A probe is mated when it was compared with its own identity.
PALMVEIN_API SearchScores record_searches(std::span<const ScoreRecord> records, bool both_ways);

// ---------------------------------------------------------------------------------------------
// Development / evaluation split: thresholds chosen on development scores, applied to evaluation
// scores (bob.measure's "metrics -e"; PROTOCOL.md "tune on one part, report on another").

// The error rates at one threshold (accept when score >= threshold).
struct ErrorRates {
  double fmr = 0;   // share of impostor scores >= threshold
  double fnmr = 0;  // share of genuine scores < threshold
  double hter() const noexcept { return (fmr + fnmr) / 2; }  // half total error rate
};
// The rates of these scores at `threshold`. Throws InvalidArgument when either list is empty.
PALMVEIN_API ErrorRates error_rates(std::span<const double> genuine, std::span<const double> impostor, double threshold);

// A threshold chosen on the development scores by one criterion, and its error rates on both sets.
struct TransferredThreshold {
  std::string criterion;  // "eer", "fmr=0.01", "fmr=0.001", "fmr=0.0001"
  double threshold = 0;   // chosen on development (VerificationMetrics' eer_threshold / FNMR@FMR threshold)
  ErrorRates development; // at that threshold, on development
  ErrorRates evaluation;  // at that threshold, on evaluation
};
// One per criterion: the EER threshold and the FNMR@FMR thresholds for 1e-2, 1e-3 and 1e-4 of
// verification_metrics(development). Throws InvalidArgument when a list is empty.
PALMVEIN_API std::vector<TransferredThreshold> transfer_thresholds(const LabelledScores& development,
                                                                   const LabelledScores& evaluation);

// ---------------------------------------------------------------------------------------------
// The whole protocol on one manifest.

// Options of evaluate().
struct PALMVEIN_API EvaluationOptions {
  int threads = 0;  // worker threads for extraction and scoring, 0..1024; 0 = hardware concurrency
  // Called from the calling thread every ~100 ms and at the end of a stage: stage is "extract" or
  // "match"; done/total count images or pairs. May be empty. What it throws ends the reports and
  // comes out of evaluate() once the stage's workers have finished.
  std::function<void(std::string_view stage, std::size_t done, std::size_t total)> progress;
  // Throws InvalidArgument when a field is out of range (threads outside 0..1024).
  void check() const;
};

// What extraction gave for one image of an evaluation.
struct ImageOutcome {
  bool fta = false;                        // no template could be made
  RoiFailure failure = RoiFailure::None;   // why, when fta
  double extract_ms = 0;                   // decoded image -> finished template (or failure), one thread
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

// Everything evaluate() measured on one manifest.
struct EvaluationResult {
  std::vector<ImageOutcome> images;  // one per manifest entry
  std::size_t fta = 0;               // images without a template (failures to acquire)
  PairScores scores;                 // FTAs score kLowestScore with everything
  VerificationMetrics overall;       // over all pairs, FTAs included
  std::optional<VerificationMetrics> cross_session;  // when the manifest has sessions and such pairs
  Rank1 rank1;                       // closed-set rank-1 over all images
  std::vector<CalibratedPoint> calibrated;  // for 1e-2, 1e-3, 1e-4
  double extract_ms_median = 0;      // over images with a template (0 when none)
  double match_us_median = 0;        // one Matcher::score call; median over a sample of pairs
  std::size_t template_bytes = 0;    // median serialized size (0 when no image has a template)
  double extract_seconds = 0;        // wall time of the extraction stage (reading and decoding included)
  double match_seconds = 0;          // wall time of the scoring stage
  double wall_seconds = 0;           // whole evaluate() call
};

// Reads every image, makes one template per image (one thread each, timed from decoded image to
// template), scores every unordered pair once with a Matcher built around the first image, and
// computes the metrics. An image that cannot be read or decoded is an error (IoError/FormatError
// naming the path), not a failure to acquire; so is an exception from the extractor (Error naming
// the path). With several failing images the first in manifest order is reported. Throws
// InvalidArgument for options that fail check(), fewer than two images, or a manifest without
// genuine or impostor pairs. While it runs, OpenCV's own thread count (cv::setNumThreads) is set
// to 1 and then restored.
PALMVEIN_API EvaluationResult evaluate(const Manifest& manifest, const TemplateExtractor& extractor,
                                       const EvaluationOptions& options = {});

PALMVEIN_NAMESPACE_END

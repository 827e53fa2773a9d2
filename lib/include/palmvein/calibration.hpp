// SPDX-License-Identifier: Apache-2.0
// Score <-> false-match-rate calibration (the table lives in models/, with its provenance).
// Thread-safety: immutable; safe to share.
#pragma once

#include <filesystem>
#include <optional>
#include <utility>
#include <vector>

#include "palmvein/export.hpp"

PALMVEIN_NAMESPACE_BEGIN

// A table of measured (score threshold, false-match rate) points that turns a target false-match
// rate into a score threshold and back. Between points the rate is interpolated linearly in
// log10(fmr), which follows the roughly exponential impostor tail; a rate of 0 counts as 1e-12.
class PALMVEIN_API Calibration {
 public:
  // One measurement: the share of impostor pairs that score at least `score`.
  struct Point {
    double score;  // threshold, a matcher score (similarity in [0, 1]); finite
    double fmr;    // false-match rate of impostor pairs with score >= threshold, in [0, 1]
  };
  // The calibration compiled into the library (generated from models/score_calibration.csv; its
  // provenance is in models/README.md). Made on first use; safe to call from any thread.
  static const Calibration& builtin();
  // Reads a CSV of "score,fmr" rows (an optional "score,fmr" header, blank lines and lines starting
  // with '#' are skipped; CRLF line ends are accepted). Throws IoError when the file cannot be read,
  // is a folder or is larger than 64 MiB; FormatError (naming the file and line) for a malformed row
  // or points that the constructor refuses.
  static Calibration load(const std::filesystem::path& csv);
  // Takes the points as they are: at least one, scores finite and strictly increasing, rates in
  // [0, 1] and strictly decreasing. Throws InvalidArgument (naming the point) otherwise.
  explicit Calibration(std::vector<Point> points);

  // The lowest threshold whose false-match rate is at most `fmr`. The one place that checks a target
  // FMR: throws InvalidArgument (one clear message) when `fmr` is NaN, infinite, <= 0, >= 1, or outside
  // fmr_range(), where the table has no measurement to set a threshold from.
  double threshold_for_fmr(double fmr) const;
  // The false-match rates the table was measured over: [lowest non-zero fmr, highest fmr] of its points.
  std::pair<double, double> fmr_range() const noexcept;
  // Estimated false-match rate of accepting at `score` (interpolated between points; below the first
  // point the first point's rate, above the last the last's). Throws InvalidArgument for NaN.
  double fmr_at(double score) const;
  // The table, sorted by score increasing (false-match rate decreasing).
  const std::vector<Point>& points() const noexcept { return points_; }

 private:
  std::vector<Point> points_;  // sorted by score, fmr decreasing
};

// The score threshold of a decision: a probe is accepted (verification) or found (identification)
// when its score is >= `score`. Read from the built-in calibration at a target false-match rate per
// comparison (at_fmr), or given directly (at_score).
// Thread-safety: a plain value.
struct PALMVEIN_API DecisionThreshold {
  // Accept when a score is >= this, in [0, 1]. The default 1.0, the highest score, accepts almost
  // nothing: make a threshold with at_fmr() or at_score().
  double score = 1.0;
  std::optional<double> fmr;  // the target false-match rate `score` was read at; empty when given directly
  // The threshold Calibration::builtin().threshold_for_fmr(fmr), with `fmr` recorded; throws
  // InvalidArgument for a rate the calibration cannot serve (see threshold_for_fmr()).
  static DecisionThreshold at_fmr(double fmr);
  // A threshold given directly (fmr left empty). Throws InvalidArgument unless 0 <= score <= 1.
  static DecisionThreshold at_score(double score);
};

PALMVEIN_NAMESPACE_END

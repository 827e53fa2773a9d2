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

class PALMVEIN_API Calibration {
 public:
  struct Point {
    double score;  // threshold
    double fmr;    // false-match rate of impostor pairs with score >= threshold
  };
  // The calibration compiled into the library (generated from models/score_calibration.csv).
  static const Calibration& builtin();
  // Reads a CSV "score,fmr". Throws IoError / FormatError.
  static Calibration load(const std::filesystem::path& csv);
  explicit Calibration(std::vector<Point> points);

  // The lowest threshold whose false-match rate is at most `fmr`. The one place that checks a target
  // FMR: throws InvalidArgument (one clear message) when `fmr` is NaN, infinite, <= 0, >= 1, or outside
  // fmr_range(), where the table has no measurement to set a threshold from.
  double threshold_for_fmr(double fmr) const;
  // The false-match rates the table was measured over: [lowest non-zero fmr, highest fmr] of its points.
  std::pair<double, double> fmr_range() const noexcept;
  // Estimated false-match rate of accepting at `score`.
  double fmr_at(double score) const;
  const std::vector<Point>& points() const noexcept { return points_; }

 private:
  std::vector<Point> points_;  // sorted by score, fmr decreasing
};

// The score threshold of a decision: a probe is accepted (verification) or found (identification)
// when its score is >= `score`. Read from the built-in calibration at a target false-match rate per
// comparison (at_fmr), or given directly (at_score).
struct PALMVEIN_API DecisionThreshold {
  double score = 1.0;
  std::optional<double> fmr;  // the target false-match rate `score` was read at; empty when given directly
  // Calibration::builtin().threshold_for_fmr(fmr), which throws InvalidArgument for a rate the
  // calibration cannot serve.
  static DecisionThreshold at_fmr(double fmr);
  // Throws InvalidArgument unless 0 <= score <= 1.
  static DecisionThreshold at_score(double score);
};

PALMVEIN_NAMESPACE_END

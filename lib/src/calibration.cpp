// SPDX-License-Identifier: Apache-2.0
// Score <-> false-match-rate calibration. The table is an empirical estimate measured on impostor
// pairs (models/README.md says which data and how to re-make it); between table points the FMR is
// interpolated linearly in log10(FMR), which follows the roughly exponential impostor tail.
#include "palmvein/calibration.hpp"

#include "internal/bounded_read.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "palmvein/error.hpp"

namespace palmvein {
inline namespace v1 {

namespace internal {
// Generated at configure time from models/score_calibration.csv (cmake/PalmveinCalibrationTable.cmake).
extern const Calibration::Point kBuiltinCalibration[];
extern const std::size_t kBuiltinCalibrationSize;
}  // namespace internal

namespace {

// Interpolation happens in log10(fmr); an fmr of 0 (above every impostor) is treated as this.
constexpr double kLogFloor = -12.0;

double log_fmr(double fmr) { return fmr > 0 ? std::max(kLogFloor, std::log10(fmr)) : kLogFloor; }

}  // namespace

Calibration::Calibration(std::vector<Point> points) : points_(std::move(points)) {
  if (points_.empty()) throw InvalidArgument("calibration: no points");
  for (std::size_t i = 0; i < points_.size(); ++i) {
    const Point& p = points_[i];
    if (!std::isfinite(p.score) || !(p.fmr >= 0 && p.fmr <= 1))
      throw InvalidArgument("calibration point " + std::to_string(i) + ": score must be finite and fmr in [0, 1]");
    if (i > 0 && !(p.score > points_[i - 1].score && p.fmr < points_[i - 1].fmr))
      throw InvalidArgument("calibration point " + std::to_string(i) +
                            ": scores must increase and false-match rates decrease");
  }
}

const Calibration& Calibration::builtin() {
  static const Calibration table(
      std::vector<Point>(internal::kBuiltinCalibration, internal::kBuiltinCalibration + internal::kBuiltinCalibrationSize));
  return table;
}

Calibration Calibration::load(const std::filesystem::path& csv) {
  const std::vector<std::uint8_t> bytes = io::read_file_bounded(csv, io::kMaxTextInputBytes, "calibration");
  std::istringstream in(std::string(bytes.begin(), bytes.end()));
  std::vector<Point> points;
  std::string line;
  std::size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    if (line == "score,fmr") continue;
    std::istringstream fields(line);
    Point p{};
    char comma = 0;
    std::string rest;
    if (!(fields >> p.score >> comma >> p.fmr) || comma != ',' || (fields >> rest))
      throw FormatError("calibration '" + csv.string() + "' line " + std::to_string(number) +
                        ": expected 'score,fmr', got '" + line + "'");
    points.push_back(p);
  }
  if (in.bad()) throw IoError("cannot read calibration '" + csv.string() + "'");
  try {
    return Calibration(std::move(points));
  } catch (const InvalidArgument& e) {
    throw FormatError("calibration '" + csv.string() + "': " + e.what());
  }
}

double Calibration::fmr_at(double score) const {
  if (std::isnan(score)) throw InvalidArgument("fmr_at: score is NaN");
  if (score <= points_.front().score) return points_.front().fmr;
  if (score >= points_.back().score) return points_.back().fmr;
  const auto hi = std::upper_bound(points_.begin(), points_.end(), score,
                                   [](double s, const Point& p) { return s < p.score; });
  const Point& b = *hi;
  const Point& a = *(hi - 1);
  const double f = (score - a.score) / (b.score - a.score);
  const double l = log_fmr(a.fmr) + f * (log_fmr(b.fmr) - log_fmr(a.fmr));
  if (l <= kLogFloor) return b.fmr;
  return std::clamp(std::pow(10.0, l), b.fmr, a.fmr);
}

std::pair<double, double> Calibration::fmr_range() const noexcept {
  // Points are sorted by fmr decreasing: the highest is the first, the lowest measured non-zero one
  // is the last (or the one before a final 0, "above every impostor").
  const double high = points_.front().fmr;
  double low = 0;
  for (auto p = points_.rbegin(); p != points_.rend() && low == 0; ++p) low = p->fmr;
  return {low, high};
}

double Calibration::threshold_for_fmr(double fmr) const {
  const auto [low, high] = fmr_range();
  if (!(fmr > 0 && fmr < 1 && fmr >= low && fmr <= high)) {
    char text[200];
    std::snprintf(text, sizeof text,
                  "false-match rate %g is outside the calibrated range: it must be above 0, below 1 and within "
                  "[%.3g, %.3g], where the calibration has measurements",
                  fmr, low, high);
    throw InvalidArgument(std::string(text) + "; pick a rate in that range or set a score threshold directly");
  }
  if (fmr >= points_.front().fmr) return points_.front().score;
  if (fmr <= points_.back().fmr) return points_.back().score;
  // First point with fmr <= target; the threshold lies between it and the point before.
  const auto hi = std::find_if(points_.begin(), points_.end(), [&](const Point& p) { return p.fmr <= fmr; });
  const Point& b = *hi;
  const Point& a = *(hi - 1);
  if (b.fmr == fmr) return b.score;
  const double la = log_fmr(a.fmr), lb = log_fmr(b.fmr), l = log_fmr(fmr);
  if (la == lb) return b.score;
  const double f = std::clamp((la - l) / (la - lb), 0.0, 1.0);
  return a.score + f * (b.score - a.score);
}

DecisionThreshold DecisionThreshold::at_fmr(double fmr) {
  DecisionThreshold t;
  t.score = Calibration::builtin().threshold_for_fmr(fmr);
  t.fmr = fmr;
  return t;
}

DecisionThreshold DecisionThreshold::at_score(double score) {
  if (!(score >= 0.0 && score <= 1.0)) throw InvalidArgument("a score threshold must be in [0, 1]");
  DecisionThreshold t;
  t.score = score;
  return t;
}

}  // namespace v1
}  // namespace palmvein

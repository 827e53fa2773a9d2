// SPDX-License-Identifier: Apache-2.0
// Verification metrics, a line-by-line equivalent of ../shared/tools/evalscores.py (metrics()), so that
// both give bit-identical numbers on the same scores. Keep the two in step: the test
// test_evaluation (EvalscoresAgreement) runs the python tool and compares.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>

#include "evaluation/thresholds.hpp"
#include "palmvein/error.hpp"
#include "palmvein/evaluation.hpp"

namespace palmvein {
inline namespace v1 {

const FnmrAtFmr& VerificationMetrics::at(double target) const {
  for (const auto& f : fnmr_at_fmr)
    if (f.target_fmr == target) return f;
  throw InvalidArgument("no FNMR at FMR=" + std::to_string(target) + " in these metrics");
}

namespace {

// Number of elements of the sorted `v` below t (python's bisect_left).
std::size_t count_below(const std::vector<double>& v, double t) {
  return static_cast<std::size_t>(std::lower_bound(v.begin(), v.end(), t) - v.begin());
}

double mean_of(const std::vector<double>& v) {
  double s = 0;  // plain left-to-right sum, like python's sum() before 3.12
  for (const double x : v) s += x;
  return s / static_cast<double>(v.size());
}

double variance_of(const std::vector<double>& v, double mean) {
  double s = 0;
  for (const double x : v) s += (x - mean) * (x - mean);
  return s / static_cast<double>(std::max<std::size_t>(1, v.size() - 1));
}

}  // namespace

}  // namespace v1

namespace internal {

double threshold_for_rate(const std::vector<double>& sorted, double target) {
  // The lowest threshold with rate <= target: just above the (k+1)-th highest score, k =
  // int(target * n) scores allowed at or above it.
  const std::size_t n = sorted.size();
  const auto k = static_cast<std::size_t>(target * static_cast<double>(n));
  if (k >= n) return sorted[0];
  const double t = sorted[n - k - 1];
  return t + 1e-12 * std::max(1.0, std::abs(t));
}

}  // namespace internal

inline namespace v1 {

VerificationMetrics verification_metrics(std::vector<double> gen, std::vector<double> imp) {
  if (gen.empty() || imp.empty()) throw InvalidArgument("verification metrics need genuine and impostor scores");
  for (const auto* v : {&gen, &imp})
    for (const double x : *v)
      if (!std::isfinite(x)) throw InvalidArgument("verification metrics: a score is not finite");
  std::sort(gen.begin(), gen.end());
  std::sort(imp.begin(), imp.end());
  const std::size_t ng = gen.size(), ni = imp.size();

  // EER: sweep thresholds over all distinct scores from high to low, accept when score >= t; keep the
  // threshold where |FMR - FNMR| is smallest (first one wins ties), report their mean.
  std::size_t i = ng, j = ni;  // gen[i:] and imp[j:] are >= the current threshold
  bool have_best = false;
  double best_d = 0, best_fmr = 0, best_fnmr = 0, best_t = 0;
  std::size_t a = ng, b = ni;  // merge cursors over gen and imp, from the top
  double last = 0;
  bool have_last = false;
  while (a > 0 || b > 0) {
    double t;
    if (b == 0 || (a > 0 && gen[a - 1] >= imp[b - 1])) t = gen[--a];
    else t = imp[--b];
    if (have_last && t == last) continue;
    last = t;
    have_last = true;
    while (i > 0 && gen[i - 1] >= t) --i;
    while (j > 0 && imp[j - 1] >= t) --j;
    const double fnmr = static_cast<double>(i) / static_cast<double>(ng);
    const double fmr = static_cast<double>(ni - j) / static_cast<double>(ni);
    const double d = fmr - fnmr;
    if (!have_best || std::abs(d) < std::abs(best_d)) {
      have_best = true;
      best_d = d;
      best_fmr = fmr;
      best_fnmr = fnmr;
      best_t = t;
    }
    if (fmr > fnmr && fmr - fnmr > std::abs(best_d)) break;
  }

  VerificationMetrics m;
  m.genuine_pairs = ng;
  m.impostor_pairs = ni;
  m.eer = (best_fmr + best_fnmr) / 2;
  m.eer_threshold = best_t;
  for (const double target : kReportedFmrs) {
    const double t = internal::threshold_for_rate(imp, target);
    FnmrAtFmr f;
    f.target_fmr = target;
    f.threshold = t;
    f.fnmr = static_cast<double>(count_below(gen, t)) / static_cast<double>(ng);
    f.reliable = static_cast<double>(ni) * target >= 10;
    m.fnmr_at_fmr.push_back(f);
  }
  const double mg = mean_of(gen), mi = mean_of(imp);
  const double vg = variance_of(gen, mg), vi = variance_of(imp, mi);
  double denominator = std::pow((vg + vi) / 2, 0.5);  // python: ** 0.5
  if (denominator == 0) denominator = 1e-12;
  m.dprime = std::abs(mg - mi) / denominator;
  return m;
}

std::vector<DetPoint> det_curve(std::vector<double> gen, std::vector<double> imp) {
  if (gen.empty() || imp.empty()) throw InvalidArgument("a DET curve needs genuine and impostor scores");
  std::sort(gen.begin(), gen.end());
  std::sort(imp.begin(), imp.end());
  const double ng = static_cast<double>(gen.size()), ni = static_cast<double>(imp.size());
  std::vector<DetPoint> curve;
  std::size_t a = gen.size(), b = imp.size();  // gen[a:] and imp[b:] are >= the threshold
  while (a > 0 || b > 0) {
    const double t = (b == 0 || (a > 0 && gen[a - 1] >= imp[b - 1])) ? gen[a - 1] : imp[b - 1];
    while (a > 0 && gen[a - 1] >= t) --a;
    while (b > 0 && imp[b - 1] >= t) --b;
    curve.push_back({t, (ni - static_cast<double>(b)) / ni, static_cast<double>(a) / ng});
  }
  return curve;
}

}  // namespace v1
}  // namespace palmvein

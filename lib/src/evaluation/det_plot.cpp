// SPDX-License-Identifier: Apache-2.0
// The evaluation plots, drawn with OpenCV on one frame (axes, grid, tick labels, axis labels, title,
// legend): DET curves (Martin et al., "The DET curve in assessment of detection task performance",
// Eurospeech 1997) on log or normal-deviate axes, ROC, score histograms and CMC curves.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <functional>
#include <string>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "palmvein/error.hpp"
#include "palmvein/evaluation.hpp"

namespace palmvein {
inline namespace v1 {

void DetPlotOptions::check() const {
  if (width < 300 || width > 8000 || height < 240 || height > 8000)
    throw InvalidArgument("DET plot size must be 300..8000 x 240..8000 pixels");
}

namespace {

// Layout and style of the plots, all in one place.
struct Style {
  int margin_left = 90, margin_right = 30, margin_top = 50, margin_bottom = 70;
  int lowest_decade = -8;  // never extend a rate axis below 1e-8
  double font = 0.5;
  cv::Scalar background{255, 255, 255}, axis{0, 0, 0}, major_grid{190, 190, 190}, minor_grid{232, 232, 232},
      diagonal{160, 160, 160}, threshold{0, 0, 0};
  std::array<cv::Scalar, 6> colours{cv::Scalar{200, 80, 20}, cv::Scalar{30, 30, 210}, cv::Scalar{30, 150, 30},
                                    cv::Scalar{160, 40, 160}, cv::Scalar{20, 140, 200}, cv::Scalar{90, 90, 90}};
};

// The inverse of the standard normal CDF (the normal deviate or probit), by P. J. Acklam's rational
// approximation ("An algorithm for computing the inverse normal cumulative distribution function",
// 2003; relative error below 1.2e-9, plenty for a picture). p in (0, 1).
double normal_deviate(double p) {
  static constexpr double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                                 1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
  static constexpr double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                                 6.680131188771972e+01,  -1.328068155288572e+01};
  static constexpr double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                                 -2.549671010415138e+00, 4.374664141464968e+00,  2.938163982698783e+00};
  static constexpr double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                                 3.754408661907416e+00};
  constexpr double low = 0.02425;
  if (p < low) {
    const double q = std::sqrt(-2 * std::log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
           ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - low) return -normal_deviate(1 - p);
  const double q = p - 0.5, r = q * q;
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
         (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

std::string decade_label(int e) {
  if (e == 0) return "1";
  if (e == -1) return "0.1";
  if (e == -2) return "0.01";
  return "1e" + std::to_string(e);
}

std::string number_label(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", std::abs(v) < 1e-12 ? 0.0 : v);
  return text;
}

// One axis: where a value goes on [0, 1] of the plot's extent, and the grid lines to draw.
struct Axis {
  std::function<double(double)> position;  // value -> 0..1 (clamped by the caller)
  std::vector<std::pair<double, std::string>> major;  // labelled grid lines
  std::vector<double> minor;                          // unlabelled grid lines
};

// A rate axis (values in [0, 1]) from 10^lowest to 1, log10 or normal deviate.
Axis rate_axis(int lowest, DetScale scale) {
  Axis a;
  const double lo_value = std::pow(10.0, lowest);
  if (scale == DetScale::Log) {
    a.position = [lowest, lo_value](double v) { return (std::log10(std::max(v, lo_value)) - lowest) / (0.0 - lowest); };
    for (int e = lowest; e <= 0; ++e) {
      a.major.emplace_back(std::pow(10.0, e), decade_label(e));
      for (int m = 2; m <= 9 && e < 0; ++m) a.minor.push_back(m * std::pow(10.0, e));
    }
    return a;
  }
  // Normal deviate from 10^lowest to 0.5 (rates beyond a half are of no interest and sit on the edge).
  const double z_lo = normal_deviate(lo_value), z_hi = 0;
  a.position = [z_lo, z_hi, lo_value](double v) {
    const double z = normal_deviate(std::clamp(v, lo_value, 0.5));
    return (z - z_lo) / (z_hi - z_lo);
  };
  for (int e = lowest; e < 0; ++e) {
    const double p = std::pow(10.0, e);
    a.major.emplace_back(p, decade_label(e));
    if (e >= -2) {
      a.major.emplace_back(2 * p, number_label(2 * p));
      a.major.emplace_back(5 * p, number_label(5 * p));
    } else {
      a.minor.push_back(2 * p);
      a.minor.push_back(5 * p);
    }
  }
  a.major.emplace_back(0.2, "0.2");
  a.major.emplace_back(0.5, "0.5");
  return a;
}

// A linear axis over [lo, hi] with about five "nice" (1, 2, 5 x 10^k) steps.
Axis linear_axis(double lo, double hi) {
  if (!(hi > lo)) hi = lo + 1;
  Axis a;
  a.position = [lo, hi](double v) { return (v - lo) / (hi - lo); };
  const double raw = (hi - lo) / 5, magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = magnitude;
  for (const double m : {1.0, 2.0, 5.0, 10.0})
    if (m * magnitude >= raw) {
      step = m * magnitude;
      break;
    }
  for (double v = std::ceil(lo / step - 1e-9) * step; v <= hi + 1e-9 * step; v += step) a.major.emplace_back(v, number_label(v));
  return a;
}

// Lowest decade that shows the smallest positive value of `values`.
int lowest_decade(double smallest, int floor_decade) {
  const int e = static_cast<int>(std::floor(std::log10(std::min(smallest, 1.0)) + 1e-9));
  return std::clamp(e, floor_decade, -1);
}

// The frame every plot shares: a white page, grid, ticks, axis labels and title; pixel mapping.
class Frame {
 public:
  Frame(const DetPlotOptions& o, Axis x, Axis y)
      : img_(o.height, o.width, CV_8UC3, st_.background), x_(std::move(x)), y_(std::move(y)) {
    left_ = st_.margin_left;
    right_ = o.width - st_.margin_right;
    top_ = st_.margin_top;
    bottom_ = o.height - st_.margin_bottom;
    draw_grid();
    draw_labels(o);
  }
  cv::Point pt(double xv, double yv) const {
    const double fx = std::clamp(x_.position(xv), 0.0, 1.0), fy = std::clamp(y_.position(yv), 0.0, 1.0);
    return {static_cast<int>(std::lround(left_ + fx * (right_ - left_))), static_cast<int>(std::lround(bottom_ - fy * (bottom_ - top_)))};
  }
  void polyline(const std::vector<cv::Point>& points, const cv::Scalar& colour) {
    cv::polylines(img_, points, false, colour, 2, cv::LINE_AA);
  }
  cv::Mat& image() { return img_; }
  const Style& style() const { return st_; }
  int top() const { return top_; }
  int bottom() const { return bottom_; }
  void legend(std::size_t k, const std::string& text, const cv::Scalar& colour) {
    const int face = cv::FONT_HERSHEY_SIMPLEX;
    const int ly = top_ + 22 + static_cast<int>(k) * 22;
    int base = 0;
    const cv::Size sz = cv::getTextSize(text, face, st_.font, 1, &base);
    const int lx = right_ - 50 - sz.width;
    cv::rectangle(img_, {lx - 36, ly - sz.height - 5}, {right_ - 8, ly + 7}, st_.background, cv::FILLED);
    cv::line(img_, {lx - 30, ly - sz.height / 2}, {lx - 6, ly - sz.height / 2}, colour, 2, cv::LINE_AA);
    cv::putText(img_, text, {lx, ly}, face, st_.font, st_.axis, 1, cv::LINE_AA);
  }
  std::vector<std::uint8_t> png() const {
    std::vector<std::uint8_t> out;
    if (!cv::imencode(".png", img_, out)) throw Error("plot: PNG encoding failed");
    return out;
  }

 private:
  void draw_grid() {
    const int face = cv::FONT_HERSHEY_SIMPLEX;
    for (const double v : x_.minor) cv::line(img_, {pt(v, 0).x, top_}, {pt(v, 0).x, bottom_}, st_.minor_grid, 1);
    for (const double v : y_.minor) cv::line(img_, {left_, py(v)}, {right_, py(v)}, st_.minor_grid, 1);
    for (const auto& [v, label] : x_.major) {
      const int x = pt(v, 0).x;
      cv::line(img_, {x, top_}, {x, bottom_}, st_.major_grid, 1);
      int base = 0;
      const cv::Size sz = cv::getTextSize(label, face, st_.font, 1, &base);
      cv::putText(img_, label, {x - sz.width / 2, bottom_ + 8 + sz.height}, face, st_.font, st_.axis, 1, cv::LINE_AA);
    }
    for (const auto& [v, label] : y_.major) {
      const int y = py(v);
      cv::line(img_, {left_, y}, {right_, y}, st_.major_grid, 1);
      int base = 0;
      const cv::Size sz = cv::getTextSize(label, face, st_.font, 1, &base);
      cv::putText(img_, label, {left_ - 8 - sz.width, y + sz.height / 2}, face, st_.font, st_.axis, 1, cv::LINE_AA);
    }
    cv::rectangle(img_, {left_, top_}, {right_, bottom_}, st_.axis, 1);
  }
  int py(double v) const { return pt(x_.major.empty() ? 0 : x_.major.front().first, v).y; }
  void draw_labels(const DetPlotOptions& o) {
    const int face = cv::FONT_HERSHEY_SIMPLEX;
    int base = 0;
    const cv::Size sz = cv::getTextSize(o.x_label, face, 0.6, 1, &base);
    cv::putText(img_, o.x_label, {(left_ + right_ - sz.width) / 2, o.height - 18}, face, 0.6, st_.axis, 1, cv::LINE_AA);
    if (!o.y_label.empty()) {
      const cv::Size ysz = cv::getTextSize(o.y_label, face, 0.6, 1, &base);
      cv::Mat label(ysz.height + base + 6, ysz.width + 4, CV_8UC3, st_.background);
      cv::putText(label, o.y_label, {2, ysz.height + 2}, face, 0.6, st_.axis, 1, cv::LINE_AA);
      cv::Mat rotated;
      cv::rotate(label, rotated, cv::ROTATE_90_COUNTERCLOCKWISE);
      const int y0 = std::max(0, (top_ + bottom_ - rotated.rows) / 2);
      if (rotated.rows + y0 <= img_.rows && rotated.cols + 8 <= left_)
        rotated.copyTo(img_(cv::Rect(8, y0, rotated.cols, rotated.rows)));
    }
    const cv::Size tsz = cv::getTextSize(o.title, face, 0.7, 2, &base);
    cv::putText(img_, o.title, {(o.width - tsz.width) / 2, 32}, face, 0.7, st_.axis, 2, cv::LINE_AA);
  }

  Style st_;
  cv::Mat img_;
  Axis x_, y_;
  int left_ = 0, right_ = 0, top_ = 0, bottom_ = 0;
};

void check_series(std::span<const DetSeries> series) {
  if (series.empty()) throw InvalidArgument("plot: no curves");
  for (const auto& s : series)
    if (s.curve.empty()) throw InvalidArgument("plot: curve '" + s.label + "' is empty");
}

double smallest_positive(std::span<const DetSeries> series, bool fmr) {
  double smallest = 1;
  for (const auto& s : series)
    for (const auto& p : s.curve) {
      const double v = fmr ? p.fmr : p.fnmr;
      if (v > 0) smallest = std::min(smallest, v);
    }
  return smallest;
}

// Draws each series as (x(p), y(p)) with its legend entry.
void draw_series(Frame& frame, std::span<const DetSeries> series, const std::function<double(const DetPoint&)>& x,
                 const std::function<double(const DetPoint&)>& y, bool mark_eer) {
  const Style& st = frame.style();
  for (std::size_t k = 0; k < series.size(); ++k) {
    const cv::Scalar colour = st.colours[k % st.colours.size()];
    std::vector<cv::Point> poly;
    poly.reserve(4096);
    for (const auto& p : series[k].curve) {
      const cv::Point q = frame.pt(x(p), y(p));
      if (poly.empty() || poly.back() != q) poly.push_back(q);
    }
    frame.polyline(poly, colour);
    const double eer = series[k].eer;
    const bool mark = mark_eer && series[k].mark_eer;
    if (mark && eer > 0) cv::circle(frame.image(), frame.pt(eer, eer), 6, colour, 2, cv::LINE_AA);
    char text[160];
    if (series[k].mark_eer) std::snprintf(text, sizeof text, "%s (EER %.3g%%)", series[k].label.c_str(), 100 * eer);
    else std::snprintf(text, sizeof text, "%s", series[k].label.c_str());
    frame.legend(k, text, colour);
  }
}

}  // namespace

std::vector<std::uint8_t> draw_det_plot(std::span<const DetSeries> series, const DetPlotOptions& options) {
  options.check();
  check_series(series);
  const Style st;
  const int x_lo = lowest_decade(smallest_positive(series, true), st.lowest_decade);
  const int y_lo = lowest_decade(smallest_positive(series, false), st.lowest_decade);
  Frame frame(options, rate_axis(x_lo, options.scale), rate_axis(y_lo, options.scale));
  {  // FMR = FNMR diagonal (where the EER lies)
    const double lo = std::pow(10.0, std::max(x_lo, y_lo)), hi = options.scale == DetScale::Log ? 1.0 : 0.5;
    cv::line(frame.image(), frame.pt(lo, lo), frame.pt(hi, hi), st.diagonal, 1, cv::LINE_AA);
  }
  draw_series(frame, series, [](const DetPoint& p) { return p.fmr; }, [](const DetPoint& p) { return p.fnmr; }, true);
  return frame.png();
}

std::vector<std::uint8_t> draw_roc_plot(std::span<const DetSeries> series, const DetPlotOptions& options) {
  options.check();
  check_series(series);
  const Style st;
  const int x_lo = lowest_decade(smallest_positive(series, true), st.lowest_decade);
  double lowest_tmr = 1;
  for (const auto& s : series)
    for (const auto& p : s.curve)
      if (p.fmr >= std::pow(10.0, x_lo)) lowest_tmr = std::min(lowest_tmr, 1 - p.fnmr);
  const double y_lo = std::max(0.0, std::floor(lowest_tmr * 10 - 1e-9) / 10);
  Frame frame(options, rate_axis(x_lo, DetScale::Log), linear_axis(std::min(y_lo, 0.9), 1.0));
  draw_series(frame, series, [](const DetPoint& p) { return p.fmr; }, [](const DetPoint& p) { return 1 - p.fnmr; }, false);
  return frame.png();
}

std::vector<HistogramBin> score_histogram(std::span<const double> genuine, std::span<const double> impostor, std::size_t bins) {
  if (genuine.empty() || impostor.empty()) throw InvalidArgument("a score histogram needs genuine and impostor scores");
  if (bins == 0) throw InvalidArgument("a score histogram needs at least one bin");
  double lo = genuine[0], hi = genuine[0];
  for (const auto* v : {&genuine, &impostor})
    for (const double s : *v) {
      if (!std::isfinite(s)) throw InvalidArgument("score histogram: a score is not finite");
      lo = std::min(lo, s);
      hi = std::max(hi, s);
    }
  if (hi == lo) hi = lo + 1;
  const double width = (hi - lo) / static_cast<double>(bins);
  std::vector<HistogramBin> out(bins);
  for (std::size_t k = 0; k < bins; ++k) {
    out[k].low = lo + width * static_cast<double>(k);
    out[k].high = k + 1 == bins ? hi : lo + width * static_cast<double>(k + 1);
  }
  auto bin_of = [&](double s) { return std::min(bins - 1, static_cast<std::size_t>((s - lo) / width)); };
  for (const double s : genuine) out[bin_of(s)].genuine += 1.0 / static_cast<double>(genuine.size());
  for (const double s : impostor) out[bin_of(s)].impostor += 1.0 / static_cast<double>(impostor.size());
  return out;
}

std::vector<std::uint8_t> draw_score_histogram(std::span<const HistogramBin> bins, double threshold, const DetPlotOptions& options) {
  options.check();
  if (bins.empty()) throw InvalidArgument("score histogram plot: no bins");
  double top = 0;
  for (const auto& b : bins) top = std::max({top, b.genuine, b.impostor});
  Frame frame(options, linear_axis(bins.front().low, bins.back().high), linear_axis(0, top > 0 ? top * 1.05 : 1));
  const Style& st = frame.style();
  const std::array<std::pair<const char*, double HistogramBin::*>, 2> classes{
      {{"impostor", &HistogramBin::impostor}, {"genuine", &HistogramBin::genuine}}};
  for (std::size_t k = 0; k < classes.size(); ++k) {
    std::vector<cv::Point> steps;  // the outline of the bars
    steps.push_back(frame.pt(bins.front().low, 0));
    for (const auto& b : bins) {
      steps.push_back(frame.pt(b.low, b.*classes[k].second));
      steps.push_back(frame.pt(b.high, b.*classes[k].second));
    }
    steps.push_back(frame.pt(bins.back().high, 0));
    frame.polyline(steps, st.colours[k]);
    frame.legend(k, classes[k].first, st.colours[k]);
  }
  cv::line(frame.image(), {frame.pt(threshold, 0).x, frame.top()}, {frame.pt(threshold, 0).x, frame.bottom()}, st.threshold, 1,
           cv::LINE_AA);
  char text[64];
  std::snprintf(text, sizeof text, "threshold %.4g", threshold);
  frame.legend(2, text, st.threshold);
  return frame.png();
}

std::vector<std::uint8_t> draw_cmc_plot(std::span<const double> cmc, const DetPlotOptions& options) {
  options.check();
  if (cmc.empty()) throw InvalidArgument("CMC plot: empty curve");
  const double lowest = *std::min_element(cmc.begin(), cmc.end());
  Frame frame(options, linear_axis(1, static_cast<double>(std::max<std::size_t>(cmc.size(), 2))),
              linear_axis(std::min(0.9, std::max(0.0, std::floor(lowest * 10 - 1e-9) / 10)), 1.0));
  std::vector<cv::Point> points;
  for (std::size_t k = 0; k < cmc.size(); ++k) points.push_back(frame.pt(static_cast<double>(k + 1), cmc[k]));
  const cv::Scalar colour = frame.style().colours[0];
  frame.polyline(points, colour);
  for (const auto& p : points) cv::circle(frame.image(), p, 3, colour, cv::FILLED, cv::LINE_AA);
  char text[64];
  std::snprintf(text, sizeof text, "rank-1 %.4g%%", 100 * cmc[0]);
  frame.legend(0, text, colour);
  return frame.png();
}

}  // namespace v1
}  // namespace palmvein

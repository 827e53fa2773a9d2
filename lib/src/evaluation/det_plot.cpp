// SPDX-License-Identifier: Apache-2.0
// DET plots (Martin et al., "The DET curve in assessment of detection task performance",
// Eurospeech 1997), drawn with OpenCV on log-log axes: FNMR against FMR (or, with other axis labels,
// open-set FNIR against FPIR).
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
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

// Layout and style of the plot, all in one place.
struct Style {
  int margin_left = 90, margin_right = 30, margin_top = 50, margin_bottom = 70;
  int lowest_decade = -8;  // never extend an axis below 1e-8
  double font = 0.5;
  cv::Scalar background{255, 255, 255}, axis{0, 0, 0}, major_grid{190, 190, 190}, minor_grid{232, 232, 232},
      diagonal{160, 160, 160};
  std::array<cv::Scalar, 6> colours{cv::Scalar{200, 80, 20}, cv::Scalar{30, 30, 210}, cv::Scalar{30, 150, 30},
                                    cv::Scalar{160, 40, 160}, cv::Scalar{20, 140, 200}, cv::Scalar{90, 90, 90}};
};

std::string decade_label(int e) {
  if (e == 0) return "1";
  if (e == -1) return "0.1";
  if (e == -2) return "0.01";
  return "1e" + std::to_string(e);
}

// Lowest decade that shows the smallest positive rate of the curves.
int lowest_decade(std::span<const DetSeries> series, bool fmr_axis, int floor_decade) {
  double smallest = 1;
  for (const auto& s : series)
    for (const auto& p : s.curve) {
      const double v = fmr_axis ? p.fmr : p.fnmr;
      if (v > 0) smallest = std::min(smallest, v);
    }
  int e = static_cast<int>(std::floor(std::log10(smallest) + 1e-9));
  return std::clamp(e, floor_decade, -1);
}

}  // namespace

std::vector<std::uint8_t> draw_det_plot(std::span<const DetSeries> series, const DetPlotOptions& options) {
  options.check();
  if (series.empty()) throw InvalidArgument("DET plot: no curves");
  for (const auto& s : series)
    if (s.curve.empty()) throw InvalidArgument("DET plot: curve '" + s.label + "' is empty");
  const Style st;
  const int x_lo = lowest_decade(series, true, st.lowest_decade);
  const int y_lo = lowest_decade(series, false, st.lowest_decade);

  cv::Mat img(options.height, options.width, CV_8UC3, st.background);
  const int left = st.margin_left, right = options.width - st.margin_right;
  const int top = st.margin_top, bottom = options.height - st.margin_bottom;
  // Rates are clamped to the axis range (0 sits on the lowest decade).
  auto px = [&](double fmr) {
    const double l = std::log10(std::max(fmr, std::pow(10.0, x_lo)));
    return left + (l - x_lo) / (0 - x_lo) * (right - left);
  };
  auto py = [&](double fnmr) {
    const double l = std::log10(std::max(fnmr, std::pow(10.0, y_lo)));
    return bottom - (l - y_lo) / (0 - y_lo) * (bottom - top);
  };
  auto pt = [&](double fmr, double fnmr) {
    return cv::Point(static_cast<int>(std::lround(px(fmr))), static_cast<int>(std::lround(py(fnmr))));
  };

  // Grid: minor lines at 2..9 x 10^e, major lines and labels at decades.
  const int face = cv::FONT_HERSHEY_SIMPLEX;
  for (int e = x_lo; e <= 0; ++e) {
    for (int m = 2; m <= 9 && e < 0; ++m) {
      const int x = static_cast<int>(std::lround(px(m * std::pow(10.0, e))));
      cv::line(img, {x, top}, {x, bottom}, st.minor_grid, 1);
    }
    const int x = static_cast<int>(std::lround(px(std::pow(10.0, e))));
    cv::line(img, {x, top}, {x, bottom}, st.major_grid, 1);
    const std::string label = decade_label(e);
    int base = 0;
    const cv::Size sz = cv::getTextSize(label, face, st.font, 1, &base);
    cv::putText(img, label, {x - sz.width / 2, bottom + 8 + sz.height}, face, st.font, st.axis, 1, cv::LINE_AA);
  }
  for (int e = y_lo; e <= 0; ++e) {
    for (int m = 2; m <= 9 && e < 0; ++m) {
      const int y = static_cast<int>(std::lround(py(m * std::pow(10.0, e))));
      cv::line(img, {left, y}, {right, y}, st.minor_grid, 1);
    }
    const int y = static_cast<int>(std::lround(py(std::pow(10.0, e))));
    cv::line(img, {left, y}, {right, y}, st.major_grid, 1);
    const std::string label = decade_label(e);
    int base = 0;
    const cv::Size sz = cv::getTextSize(label, face, st.font, 1, &base);
    cv::putText(img, label, {left - 8 - sz.width, y + sz.height / 2}, face, st.font, st.axis, 1, cv::LINE_AA);
  }
  // FMR = FNMR diagonal (where the EER lies).
  {
    const double lo = std::pow(10.0, std::max(x_lo, y_lo));
    cv::line(img, pt(lo, lo), pt(1, 1), st.diagonal, 1, cv::LINE_AA);
  }
  cv::rectangle(img, {left, top}, {right, bottom}, st.axis, 1);

  // Axis labels and title.
  {
    const std::string& xl = options.x_label;
    int base = 0;
    const cv::Size sz = cv::getTextSize(xl, face, 0.6, 1, &base);
    cv::putText(img, xl, {(left + right - sz.width) / 2, options.height - 18}, face, 0.6, st.axis, 1, cv::LINE_AA);
    const std::string& yl = options.y_label;
    const cv::Size ysz = cv::getTextSize(yl, face, 0.6, 1, &base);
    cv::Mat label(ysz.height + base + 6, ysz.width + 4, CV_8UC3, st.background);
    cv::putText(label, yl, {2, ysz.height + 2}, face, 0.6, st.axis, 1, cv::LINE_AA);
    cv::Mat rotated;
    cv::rotate(label, rotated, cv::ROTATE_90_COUNTERCLOCKWISE);
    const int y0 = std::max(0, (top + bottom - rotated.rows) / 2);
    if (rotated.rows + y0 <= img.rows && rotated.cols + 8 <= left)
      rotated.copyTo(img(cv::Rect(8, y0, rotated.cols, rotated.rows)));
    const cv::Size tsz = cv::getTextSize(options.title, face, 0.7, 2, &base);
    cv::putText(img, options.title, {(options.width - tsz.width) / 2, 32}, face, 0.7, st.axis, 2, cv::LINE_AA);
  }

  // Curves, EER marks and legend.
  cv::Mat plot = img(cv::Rect(left, top, right - left + 1, bottom - top + 1));
  const cv::Point origin(left, top);
  for (std::size_t k = 0; k < series.size(); ++k) {
    const cv::Scalar colour = st.colours[k % st.colours.size()];
    std::vector<cv::Point> poly;
    poly.reserve(4096);
    for (const auto& p : series[k].curve) {
      const cv::Point q = pt(p.fmr, p.fnmr) - origin;
      if (poly.empty() || poly.back() != q) poly.push_back(q);
    }
    cv::polylines(plot, poly, false, colour, 2, cv::LINE_AA);
    const double eer = series[k].eer;
    if (series[k].mark_eer && eer > 0) cv::circle(img, pt(eer, eer), 6, colour, 2, cv::LINE_AA);

    char text[160];
    if (series[k].mark_eer) std::snprintf(text, sizeof text, "%s (EER %.3g%%)", series[k].label.c_str(), 100 * eer);
    else std::snprintf(text, sizeof text, "%s", series[k].label.c_str());
    const int ly = top + 22 + static_cast<int>(k) * 22;
    int base = 0;
    const cv::Size sz = cv::getTextSize(text, face, st.font, 1, &base);
    const int lx = right - 50 - sz.width;
    cv::rectangle(img, {lx - 36, ly - sz.height - 5}, {right - 8, ly + 7}, st.background, cv::FILLED);
    cv::line(img, {lx - 30, ly - sz.height / 2}, {lx - 6, ly - sz.height / 2}, colour, 2, cv::LINE_AA);
    cv::putText(img, text, {lx, ly}, face, st.font, st.axis, 1, cv::LINE_AA);
  }

  std::vector<std::uint8_t> png;
  if (!cv::imencode(".png", img, png)) throw Error("DET plot: PNG encoding failed");
  return png;
}

}  // namespace v1
}  // namespace palmvein

// SPDX-License-Identifier: Apache-2.0
// RoiExtractor: from a frame to the normalised ROI (see roi/locate.cpp for how the palm is found),
// plus the quality assessment, reason codes and the overlay drawing.
#include "palmvein/roi.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include <opencv2/imgproc.hpp>

#include "internal/cv_bridge.hpp"
#include "palmvein/error.hpp"
#include "roi/locate.hpp"
#include "roi/roi_params.hpp"

namespace palmvein {
inline namespace v1 {
namespace {

using internal::RoiParams;

double ramp(double x, double zero_at, double one_at) {
  if (zero_at == one_at) return x >= one_at ? 1.0 : 0.0;
  return std::clamp((x - zero_at) / (one_at - zero_at), 0.0, 1.0);
}

// Exposure score from the palm's mean grey level and its saturated fraction.
double exposure_score(double mean, double saturated, const RoiParams& p) {
  const double level = mean < p.good_mean_low ? ramp(mean, p.hand_dark_mean, p.good_mean_low)
                                              : ramp(mean, 255.0, p.good_mean_high);
  return level * ramp(saturated, p.hand_saturated_max, 0.0);
}

CaptureQuality assess(const internal::PalmLocation& loc, const RoiParams& p) {
  CaptureQuality q;
  const double min_side = std::min(loc.frame_size.width, loc.frame_size.height);
  const double r = std::max(1e-9, loc.palm_radius);
  q.exposure = static_cast<float>(exposure_score(loc.hand_mean, loc.saturated_fraction, p));
  q.sharpness = static_cast<float>(ramp(loc.edge_width / r, p.blur_max_edge_width, p.sharp_edge_width));
  // Centring: the ROI square's margin to the border and the palm centre's offset from the middle.
  const cv::Point2d mid(0.5 * (loc.frame_size.width - 1), 0.5 * (loc.frame_size.height - 1));
  const cv::Point2d off = loc.palm_centre - mid;
  const double offset = std::sqrt(off.x * off.x + off.y * off.y) / min_side;
  q.centring = static_cast<float>(ramp(offset, p.centring_zero, p.centring_good));
  const double rel = loc.palm_radius / min_side;
  const bool small = rel < p.size_good_low;
  q.size = static_cast<float>(small ? ramp(rel, p.min_palm_radius, p.size_good_low)
                                    : ramp(rel, p.size_zero_high, p.size_good_high));
  // Advice: the weakest aspect when it is clearly short of good.
  struct Aspect {
    float score;
    RoiFailure advice;
  };
  const Aspect aspects[] = {
      {q.exposure, loc.hand_mean < 0.5 * (p.good_mean_low + p.good_mean_high) ? RoiFailure::TooDark : RoiFailure::TooBright},
      {q.sharpness, RoiFailure::Blurred},
      {q.centring, RoiFailure::HandCutOff},
      {q.size, small ? RoiFailure::TooFar : RoiFailure::TooClose},
  };
  const Aspect* worst = std::min_element(std::begin(aspects), std::end(aspects),
                                         [](const Aspect& a, const Aspect& b) { return a.score < b.score; });
  q.advice = worst->score < p.advice_below ? worst->advice : RoiFailure::None;
  return q;
}

float overall_quality(const CaptureQuality& q) {
  // Geometric mean: one bad aspect pulls the whole quality down.
  const double product = std::max(0.0f, q.exposure) * std::max(0.0f, q.sharpness) * std::max(0.0f, q.centring) *
                         std::max(0.0f, q.size);
  return static_cast<float>(std::pow(product, 0.25));
}

// Warps the ROI square from the full-resolution frame. When one ROI pixel covers several frame
// pixels the square is first sampled at an integer multiple and then area-averaged (anti-aliasing).
cv::Mat warp_roi(const cv::Mat& gray, const internal::RoiPlacement& pl, int size, int max_factor) {
  const double step = pl.side / size;  // frame pixels per ROI pixel
  const int factor = std::clamp(static_cast<int>(std::floor(step)), 1, std::max(1, max_factor));
  const int big = size * factor;
  const double s = pl.side / big;
  // dst (u, v) -> src: centre + ux * (u - (big-1)/2) * s + uy * (v - (big-1)/2) * s
  const double c = 0.5 * (big - 1);
  cv::Matx23d m(pl.ux.x * s, pl.uy.x * s, pl.centre.x - (pl.ux.x + pl.uy.x) * s * c,
                pl.ux.y * s, pl.uy.y * s, pl.centre.y - (pl.ux.y + pl.uy.y) * s * c);
  cv::Mat out;
  // Beyond the frame (only a square of a palm cut by the border reaches there) the ROI is black:
  // the features mask black cells as outside the palm.
  cv::warpAffine(gray, out, m, cv::Size(big, big), cv::INTER_LINEAR | cv::WARP_INVERSE_MAP, cv::BORDER_CONSTANT,
                 cv::Scalar(0));
  if (factor > 1) cv::resize(out, out, cv::Size(size, size), 0, 0, cv::INTER_AREA);
  return out;
}

}  // namespace

std::string_view to_string(RoiFailure failure) noexcept {
  switch (failure) {
    case RoiFailure::None: return "none";
    case RoiFailure::NoHand: return "no-hand";
    case RoiFailure::HandCutOff: return "hand-cut-off";
    case RoiFailure::TooDark: return "too-dark";
    case RoiFailure::TooBright: return "too-bright";
    case RoiFailure::Blurred: return "blurred";
    case RoiFailure::TooClose: return "too-close";
    case RoiFailure::TooFar: return "too-far";
    case RoiFailure::NoKeyPoints: return "no-key-points";
  }
  return "unknown";
}

std::string_view guidance(RoiFailure failure) noexcept {
  switch (failure) {
    case RoiFailure::None: return "Hold still";
    case RoiFailure::NoHand: return "Place your open hand over the sensor";
    case RoiFailure::HandCutOff: return "Centre your palm over the sensor";
    case RoiFailure::TooDark: return "Too dark: move your palm closer or check the illumination";
    case RoiFailure::TooBright: return "Too bright: move your palm a little away from the sensor";
    case RoiFailure::Blurred: return "Hold your hand still";
    case RoiFailure::TooClose: return "Move your palm further away";
    case RoiFailure::TooFar: return "Move your palm closer";
    case RoiFailure::NoKeyPoints: return "Spread your fingers slightly and show your whole palm";
  }
  return "Try again";
}

const PalmRoi& RoiResult::roi() const {
  if (!ok()) throw Error("no ROI: " + std::string(to_string(failure_)));
  return roi_;
}

void RoiOptions::check() const {
  if (roi_size < 16 || roi_size > 1024)
    throw InvalidArgument("roi_size must be 16..1024, got " + std::to_string(roi_size));
}

RoiExtractor::RoiExtractor(RoiOptions options) : options_(options) { options_.check(); }

RoiResult RoiExtractor::extract(const Image& frame, ImageKind kind, TransparencySink* sink) const {
  const RoiParams& p = internal::roi_params();
  if (frame.empty()) return RoiResult::failed(RoiFailure::NoHand);
  const cv::Mat gray = internal::gray8_view(frame);
  const int size = options_.roi_size;

  if (kind == ImageKind::Roi) {
    if (sink && sink->wants("01-input")) sink->take("01-input", internal::image_from_mat(gray));
    cv::Mat out;
    cv::resize(gray, out, cv::Size(size, size), 0, 0,
               std::min(gray.cols, gray.rows) > size ? cv::INTER_AREA : cv::INTER_LINEAR);
    PalmRoi roi;
    roi.image = internal::image_from_mat(out);
    const float w = static_cast<float>(gray.cols - 1), h = static_cast<float>(gray.rows - 1);
    roi.corners = {PointF{0, 0}, PointF{w, 0}, PointF{w, h}, PointF{0, h}};
    roi.scale = static_cast<float>(0.5 * (gray.cols + gray.rows) / size);
    roi.method = RoiMethod::Passthrough;
    const cv::Scalar mean = cv::mean(gray);
    roi.assessment.exposure = static_cast<float>(exposure_score(mean[0], 0.0, p));
    roi.assessment.sharpness = roi.assessment.centring = roi.assessment.size = 1;
    roi.assessment.advice = roi.assessment.exposure < p.advice_below ? (mean[0] < 128 ? RoiFailure::TooDark : RoiFailure::TooBright)
                                                           : RoiFailure::None;
    roi.quality = overall_quality(roi.assessment);
    if (sink && sink->wants("04-roi")) sink->take("04-roi", roi.image);
    return RoiResult::success(std::move(roi));
  }

  const internal::PalmLocation loc = internal::locate_palm(gray, p, sink);
  if (loc.failure != RoiFailure::None) return RoiResult::failed(loc.failure);

  const internal::RoiPlacement& pl = loc.placement;
  PalmRoi roi;
  roi.image = internal::image_from_mat(warp_roi(gray, pl, size, p.max_supersampling));
  const double h = 0.5 * pl.side;
  const cv::Point2d corner[4] = {pl.centre - pl.ux * h - pl.uy * h, pl.centre + pl.ux * h - pl.uy * h,
                                 pl.centre + pl.ux * h + pl.uy * h, pl.centre - pl.ux * h + pl.uy * h};
  for (int k = 0; k < 4; ++k) roi.corners[k] = PointF{static_cast<float>(corner[k].x), static_cast<float>(corner[k].y)};
  roi.hand_outline.reserve(loc.outline.size());
  for (const cv::Point2f& q : loc.outline) roi.hand_outline.push_back(PointF{q.x, q.y});
  for (const cv::Point2f& q : loc.key_points) roi.key_points.push_back(PointF{q.x, q.y});
  // Counter-clockwise on screen (image y points down), 0 when the fingers point up.
  roi.rotation_degrees = static_cast<float>(-std::atan2(pl.ux.y, pl.ux.x) * 180.0 / 3.14159265358979323846);
  roi.scale = static_cast<float>(pl.side / size);
  roi.method = loc.method;
  roi.assessment = assess(loc, p);
  roi.quality = overall_quality(roi.assessment);
  if (sink && sink->wants("04-roi")) sink->take("04-roi", roi.image);
  return RoiResult::success(std::move(roi));
}

Image draw_roi_overlay(const Image& frame, const PalmRoi& roi) {
  if (frame.empty()) throw InvalidArgument("draw_roi_overlay: empty frame");
  cv::Mat view = internal::gray8_view(frame).clone();
  const double unit = std::max(1.0, std::max(view.cols, view.rows) / 400.0);
  const int thin = static_cast<int>(std::lround(unit)), thick = static_cast<int>(std::lround(2 * unit));
  std::vector<cv::Point> outline;
  outline.reserve(roi.hand_outline.size());
  for (const PointF& q : roi.hand_outline) outline.emplace_back(static_cast<int>(std::lround(q.x)), static_cast<int>(std::lround(q.y)));
  if (outline.size() > 1) cv::polylines(view, outline, true, cv::Scalar(255), thin, cv::LINE_AA);
  cv::Point corners[4];
  for (int k = 0; k < 4; ++k)
    corners[k] = cv::Point(static_cast<int>(std::lround(roi.corners[k].x)), static_cast<int>(std::lround(roi.corners[k].y)));
  for (int k = 0; k < 4; ++k) {
    const cv::Point a = corners[k], b = corners[(k + 1) % 4];
    cv::line(view, a, b, cv::Scalar(0), thick + 2 * thin, cv::LINE_AA);
    if (k == 0) {  // top edge (towards the fingers): dashed
      constexpr int kDashes = 8;
      for (int i = 0; i < kDashes; i += 2)
        cv::line(view, a + (b - a) * i / kDashes, a + (b - a) * (i + 1) / kDashes, cv::Scalar(255), thick, cv::LINE_AA);
    } else {
      cv::line(view, a, b, cv::Scalar(255), thick, cv::LINE_AA);
    }
  }
  for (const PointF& q : roi.key_points) {
    const cv::Point c(static_cast<int>(std::lround(q.x)), static_cast<int>(std::lround(q.y)));
    cv::circle(view, c, static_cast<int>(4 * unit), cv::Scalar(0), cv::FILLED, cv::LINE_AA);
    cv::circle(view, c, static_cast<int>(3 * unit), cv::Scalar(255), cv::FILLED, cv::LINE_AA);
  }
  return internal::image_from_mat(view);
}

}  // namespace v1
}  // namespace palmvein

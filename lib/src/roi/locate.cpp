// SPDX-License-Identifier: Apache-2.0
// Palm location: segmentation of the hand, exposure/blur checks, finger valleys and the placement
// of the ROI square. Constants: roi_params.hpp (papers cited there).
//
// Decision between the two placements, with no per-sensor special case:
//  * FingerValleys: three consecutive gaps between fingers, each fully inside the frame, in the
//    geometric arrangement of a hand (evenly spaced, nearly collinear, palm centre on one side).
//    The ROI is placed relative to the common tangent of the two outer gaps (Zhang et al. 2003),
//    its side proportional to sqrt(tangent points' distance x palm radius) (valley-distance scale
//    as in Michael et al. 2008, steadied by the palm's inscribed radius).
//  * PalmCircle (fallback for close-ups where the fingers leave the frame): the largest circle
//    inscribed in the hand mask gives centre and scale; the mask's principal axis gives the residual
//    rotation from the sensor's axis. Used only when the palm is large in the frame and not cut by
//    the frame border.
// Close-up sensors: the mask is thresholded on the linear grey scale first and, when that gives no
// finger valleys, again on the log scale (illumination falling off towards the fingers); fingers
// that run out of the frame leave one hull edge along the border, split into one gap per finger.
#include "roi/locate.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <opencv2/imgproc.hpp>

#include "internal/cv_bridge.hpp"

namespace palmvein::internal {
namespace {

constexpr double kPi = 3.14159265358979323846;

struct Valley {
  int index = 0;     // position in the contour
  cv::Point far;     // deepest point of the gap
  cv::Point start;   // hull points either side (finger tips or knuckles)
  cv::Point end;
  double depth = 0;  // distance of `far` from the hull edge start-end
};

double norm2(cv::Point2d v) { return std::sqrt(v.x * v.x + v.y * v.y); }
double cross(cv::Point2d a, cv::Point2d b) { return a.x * b.y - a.y * b.x; }

// Signed distance of p from the line through a and b (positive to the left of a->b).
double line_side(cv::Point2d a, cv::Point2d b, cv::Point2d p) {
  const cv::Point2d d = b - a;
  const double len = norm2(d);
  return len > 0 ? cross(d, p - a) / len : 0.0;
}

void emit(TransparencySink* sink, std::string_view stage, const cv::Mat& mat) {
  if (sink && sink->wants(stage)) sink->take(stage, image_from_mat(mat));
}

// Largest inscribed circle: maximum of the distance transform. With `replicate_pad` > 0 the mask is
// continued that far beyond the frame border (as if the hand went on), otherwise the border counts
// as background.
void inscribed_circle(const cv::Mat& mask, int replicate_pad, double core_level, cv::Point2d& centre,
                      double& radius) {
  cv::Mat padded, dist;
  const int pad = std::max(1, replicate_pad);
  cv::copyMakeBorder(mask, padded, pad, pad, pad, pad, replicate_pad > 0 ? cv::BORDER_REPLICATE : cv::BORDER_CONSTANT, 0);
  cv::distanceTransform(padded, dist, cv::DIST_L2, cv::DIST_MASK_5);
  double max_value = 0;
  cv::Point at;
  cv::minMaxLoc(dist, nullptr, &max_value, nullptr, &at);
  radius = max_value;
  centre = cv::Point2d(at.x - pad, at.y - pad);
  if (core_level <= 0 || core_level >= 1) return;
  // The maximum is a ridge or plateau for elongated palms (a rounded rectangle has a whole line of
  // largest circles): the centroid of the near-maximal "palm core" is stable where the argmax is not.
  cv::Mat core;
  cv::threshold(dist, core, core_level * max_value, 255, cv::THRESH_BINARY);
  const cv::Moments m = cv::moments(core, true);
  if (m.m00 > 0) centre = cv::Point2d(m.m10 / m.m00 - pad, m.m01 / m.m00 - pad);
}

// Median edge spread (in pixels) of the hand outline: contrast between hand and background divided
// by the steepest grey-level slope across the outline. A step blurred by a Gaussian of sigma s gives
// about 2.5 s; it grows with defocus and motion and does not depend on vein content.
double edge_width(const cv::Mat& work, const std::vector<cv::Point>& contour, double contrast, int margin) {
  if (contour.empty() || contrast <= 0) return 0;
  const int step = std::max<int>(1, static_cast<int>(contour.size()) / 400);
  std::vector<float> slopes;
  slopes.reserve(contour.size() / step + 1);
  for (std::size_t i = 0; i < contour.size(); i += step) {
    const cv::Point p = contour[i];
    if (p.x < margin + 2 || p.y < margin + 2 || p.x >= work.cols - margin - 2 || p.y >= work.rows - margin - 2)
      continue;
    float best = 0;
    for (int dy = -1; dy <= 1; ++dy)
      for (int dx = -1; dx <= 1; ++dx) {
        const int x = p.x + dx, y = p.y + dy;
        const auto at = [&](int xx, int yy) { return static_cast<float>(work.at<std::uint8_t>(yy, xx)); };
        // Sobel divided by its gain of 8: grey levels per pixel.
        const float gx = (at(x + 1, y - 1) + 2 * at(x + 1, y) + at(x + 1, y + 1) - at(x - 1, y - 1) -
                          2 * at(x - 1, y) - at(x - 1, y + 1)) / 8.0f;
        const float gy = (at(x - 1, y + 1) + 2 * at(x, y + 1) + at(x + 1, y + 1) - at(x - 1, y - 1) -
                          2 * at(x, y - 1) - at(x + 1, y - 1)) / 8.0f;
        best = std::max(best, std::sqrt(gx * gx + gy * gy));
      }
    slopes.push_back(best);
  }
  if (slopes.size() < 8) return 0;
  auto mid = slopes.begin() + static_cast<std::ptrdiff_t>(slopes.size() / 2);
  std::nth_element(slopes.begin(), mid, slopes.end());
  return *mid > 0 ? contrast / *mid : 1e9;
}

std::vector<Valley> find_valleys(const std::vector<cv::Point>& contour, double radius, cv::Size size,
                                 const RoiParams& p) {
  std::vector<Valley> valleys;
  if (contour.size() < 16) return valleys;
  std::vector<int> hull;
  cv::convexHull(contour, hull, /*clockwise=*/false, /*returnPoints=*/false);
  if (hull.size() < 3) return valleys;
  std::vector<cv::Vec4i> defects;
  try {
    cv::convexityDefects(contour, hull, defects);
  } catch (const cv::Exception&) {
    return valleys;  // self-intersecting outline: no trustworthy valleys
  }
  const double min_depth = p.valley_min_depth * radius;
  const double max_cos = std::cos(p.valley_max_angle * kPi / 180.0);
  const double min_depth_cut = p.valley_min_depth_cut * radius;
  const auto on_border = [&](cv::Point q) {
    return q.x < p.border_margin || q.y < p.border_margin || q.x >= size.width - p.border_margin ||
           q.y >= size.height - p.border_margin;
  };
  // Candidate gaps: one per convexity defect, except where the hull edge runs along the frame
  // border (fingers leaving the frame, as on close-up sensors): that one hull edge spans several
  // fingers, and each stretch of outline between two points on the border is a gap of its own.
  std::vector<Valley> candidates;
  const int n = static_cast<int>(contour.size());
  for (const cv::Vec4i& d : defects) {
    if (!(on_border(contour[d[0]]) && on_border(contour[d[1]]))) {
      candidates.push_back(Valley{d[2], contour[d[2]], contour[d[0]], contour[d[1]], d[3] / 256.0});
      continue;
    }
    const cv::Point2d a(contour[d[0]]), b(contour[d[1]]);
    int last_on = d[0], deepest = -1;
    double deepest_depth = 0;
    for (int k = d[0];; k = (k + 1) % n) {
      if (on_border(contour[k])) {
        if (deepest >= 0)
          candidates.push_back(Valley{deepest, contour[deepest], contour[last_on], contour[k], deepest_depth});
        last_on = k;
        deepest = -1;
        deepest_depth = 0;
      } else {
        const double depth = std::abs(line_side(a, b, cv::Point2d(contour[k])));
        if (depth > deepest_depth) deepest_depth = depth, deepest = k;
      }
      if (k == d[1]) break;
    }
  }
  for (const Valley& c : candidates) {
    const double depth = c.depth;
    // When both fingers run out of the frame the gap's depth is only a lower bound (the fingertips
    // are not seen): a shallower limit applies.
    const bool cut = on_border(c.start) && on_border(c.end);
    if (depth < (cut ? min_depth_cut : min_depth)) continue;
    Valley v = c;
    if (v.far.x < p.border_margin || v.far.y < p.border_margin || v.far.x >= size.width - p.border_margin ||
        v.far.y >= size.height - p.border_margin)
      continue;
    const cv::Point2d a = v.start - v.far, b = v.end - v.far;
    const double cos_angle = (a.x * b.x + a.y * b.y) / std::max(1e-9, norm2(a) * norm2(b));
    if (cos_angle < max_cos) continue;  // too open to be a gap between two fingers
    valleys.push_back(v);
  }
  std::sort(valleys.begin(), valleys.end(), [](const Valley& a, const Valley& b) { return a.index < b.index; });
  return valleys;
}

// Picks three consecutive valleys that are arranged like the gaps between index, middle, ring and
// little finger. Among several candidates the best lies farthest from the palm centre, has deep gaps
// (long fingers either side, unlike notches of clutter at the wrist) and evenly spaced valleys: the
// four fingers are about equally wide, while the thumb's gap lies closer to the palm centre and
// about twice as far from its neighbour, so the triple with the thumb's gap loses.
bool pick_triple(const std::vector<Valley>& v, cv::Point2d centre, double radius, const RoiParams& p,
                 std::array<int, 3>& best) {
  const int n = static_cast<int>(v.size());
  if (n < 3) return false;
  double best_score = -1;
  for (int i = 0; i < n; ++i) {
    const int ia = i, ib = (i + 1) % n, ic = (i + 2) % n;
    // The contour's start is arbitrary, so wrap-around triples are tried too; the checks decide.
    const cv::Point2d a = v[ia].far, b = v[ib].far, c = v[ic].far;
    const double s1 = norm2(b - a), s2 = norm2(c - b), len = norm2(c - a);
    if (s1 < p.spacing_min * radius || s1 > p.spacing_max * radius) continue;
    if (s2 < p.spacing_min * radius || s2 > p.spacing_max * radius) continue;
    if (std::max(s1, s2) > p.spacing_ratio_max * std::min(s1, s2)) continue;
    if (len < 1e-6) continue;
    if (std::abs(line_side(a, c, b)) > p.middle_off_line_max * len) continue;
    const double t = ((b - a).x * (c - a).x + (b - a).y * (c - a).y) / (len * len);
    if (t < p.middle_position_min || t > p.middle_position_max) continue;
    const double centre_side = line_side(a, c, centre);
    if (std::abs(centre_side) < p.centre_dist_min * len || std::abs(centre_side) > p.centre_dist_max * len) continue;
    // The fingers either side of the middle gap point away from the palm centre.
    const double s_start = line_side(a, c, cv::Point2d(v[ib].start)), s_end = line_side(a, c, cv::Point2d(v[ib].end));
    if (s_start * centre_side >= 0 || s_end * centre_side >= 0) continue;
    const double score = (std::abs(centre_side) + (v[ia].depth + v[ib].depth + v[ic].depth) / 3.0) / radius -
                         p.spacing_irregularity_weight * std::abs(std::log(s1 / s2));
    if (score > best_score) {
      best_score = score;
      best = {ia, ib, ic};
    }
  }
  return best_score >= 0;
}

// For a palm cut by the frame border: two neighbouring finger gaps whose triple's third gap lies at
// or beyond the border (its finger leaves the frame), arranged as pick_triple() requires of a
// triple's outer gaps. `third_after`: the missing gap continues b - a beyond b (else beyond a).
// Among several pairs the one with the deepest gaps farthest from the palm centre wins.
bool pick_border_pair(const std::vector<Valley>& v, cv::Point2d centre, double radius, cv::Size frame,
                      const RoiParams& p, std::array<int, 2>& best, bool& third_after) {
  const int n = static_cast<int>(v.size());
  if (n < 2) return false;
  const auto border_distance = [&](cv::Point2d q) {
    return std::min(std::min(q.x, q.y), std::min(frame.width - 1 - q.x, frame.height - 1 - q.y));
  };
  double best_score = -1;
  for (int i = 0; i < (n == 2 ? 1 : n); ++i) {
    const int ia = i, ib = (i + 1) % n;
    const cv::Point2d a = v[ia].far, b = v[ib].far;
    const double spacing = norm2(b - a);
    if (spacing < p.spacing_min * radius || spacing < 1e-6) continue;
    const double centre_side = line_side(a, b, centre);
    const double span = 2 * spacing;  // the triple's outer gaps are about two spacings apart
    if (std::abs(centre_side) < p.centre_dist_min * span || std::abs(centre_side) > p.centre_dist_max * span) continue;
    // The fingers beside both gaps point away from the palm centre.
    bool fingers_out = true;
    for (const int k : {ia, ib})
      fingers_out = fingers_out && line_side(a, b, cv::Point2d(v[k].start)) * centre_side < 0 &&
                    line_side(a, b, cv::Point2d(v[k].end)) * centre_side < 0;
    if (!fingers_out) continue;
    // Exactly one of the two places the third gap could be lies at or beyond the border.
    const bool before_cut = border_distance(a - (b - a)) < p.border_gap_reach * spacing;
    const bool after_cut = border_distance(b + (b - a)) < p.border_gap_reach * spacing;
    if (before_cut == after_cut) continue;
    const double score = (std::abs(centre_side) + 0.5 * (v[ia].depth + v[ib].depth)) / radius;
    if (score > best_score) {
      best_score = score;
      best = {ia, ib};
      third_after = after_cut;
    }
  }
  return best_score >= 0;
}

// Contour points of one finger gap: contiguous along the contour and within `reach` of its bottom.
std::vector<cv::Point> gap_points(const std::vector<cv::Point>& contour, int index, double reach) {
  std::vector<cv::Point> pts;
  const int n = static_cast<int>(contour.size());
  const int span = static_cast<int>(std::ceil(reach * 1.5)) + 1;
  const cv::Point2d bottom = contour[index];
  for (int k = -span; k <= span; ++k) {
    const cv::Point q = contour[((index + k) % n + n) % n];
    if (norm2(cv::Point2d(q) - bottom) <= reach) pts.push_back(q);
  }
  return pts;
}

// Common tangent of two finger gaps on the palm side (Zhang et al. 2003): the edge of the convex
// hull of both gaps' points that bridges the two gaps and faces the palm centre.
bool common_tangent(const std::vector<cv::Point>& gap_a, const std::vector<cv::Point>& gap_b, cv::Point2d centre,
                    cv::Point2d& pa, cv::Point2d& pb) {
  std::vector<cv::Point> all(gap_a);
  all.insert(all.end(), gap_b.begin(), gap_b.end());
  const int na = static_cast<int>(gap_a.size());
  std::vector<int> hull;
  cv::convexHull(all, hull, false, false);
  if (hull.size() < 2) return false;
  cv::Point2d mean(0, 0);
  for (int h : hull) mean += cv::Point2d(all[h]);
  mean *= 1.0 / static_cast<double>(hull.size());
  for (std::size_t k = 0; k < hull.size(); ++k) {
    const int i = hull[k], j = hull[(k + 1) % hull.size()];
    if ((i < na) == (j < na)) continue;  // not a bridge between the gaps
    const cv::Point2d p(all[i]), q(all[j]);
    if (line_side(p, q, centre) * line_side(p, q, mean) < 0) {
      pa = i < na ? p : q;
      pb = i < na ? q : p;
      return true;
    }
  }
  return false;
}

}  // namespace

// One attempt with the hand mask thresholded on the linear (log_scale = false) or the log grey scale.
PalmLocation locate_once(const cv::Mat& gray, const RoiParams& p, bool log_scale, TransparencySink* sink) {
  PalmLocation out;
  out.frame_size = gray.size();
  emit(sink, "01-input", gray);

  // Working copy.
  const double scale = std::max(1.0, static_cast<double>(std::max(gray.cols, gray.rows)) / p.work_long_side);
  cv::Mat work;
  if (scale > 1.0)
    cv::resize(gray, work, cv::Size(std::max(8, static_cast<int>(std::lround(gray.cols / scale))),
                                    std::max(8, static_cast<int>(std::lround(gray.rows / scale)))),
               0, 0, cv::INTER_AREA);
  else
    work = gray;
  const double sx = static_cast<double>(gray.cols) / work.cols, sy = static_cast<double>(gray.rows) / work.rows;
  const auto to_frame = [&](cv::Point2d q) { return cv::Point2d((q.x + 0.5) * sx - 0.5, (q.y + 0.5) * sy - 0.5); };
  const double total = static_cast<double>(work.total());

  // Whole-frame exposure.
  std::array<double, 256> hist{};
  for (int y = 0; y < work.rows; ++y) {
    const std::uint8_t* row = work.ptr<std::uint8_t>(y);
    for (int x = 0; x < work.cols; ++x) hist[row[x]] += 1;
  }
  const auto percentile = [&](double q) {
    double acc = 0;
    for (int g = 0; g < 256; ++g) {
      acc += hist[g];
      if (acc >= q * total) return g;
    }
    return 255;
  };
  if (percentile(0.99) < p.dark_frame_p99) return out.failure = RoiFailure::TooDark, out;
  if (percentile(0.5) >= p.bright_frame_median) return out.failure = RoiFailure::TooBright, out;

  // Otsu threshold on the smoothed copy, and how well it separates two classes.
  cv::Mat smooth;
  cv::GaussianBlur(work, smooth, cv::Size(), p.presmooth_sigma);
  cv::Mat mask;
  double thr = 0;
  if (log_scale) {
    // Otsu on log(1 + grey): the hand's brightness is illumination x reflectance, so the fall-off
    // of the illumination towards the fingers and the frame's edges becomes an additive offset
    // instead of a third, dimmer class that a linear Otsu threshold cuts away with the background.
    cv::Mat lut(1, 256, CV_8U);
    for (int g = 0; g < 256; ++g)
      lut.at<std::uint8_t>(g) = cv::saturate_cast<std::uint8_t>(255.0 * std::log1p(g) / std::log(256.0));
    cv::Mat log_grey;
    cv::LUT(smooth, lut, log_grey);
    const double thr_log = cv::threshold(log_grey, mask, 0, 255, cv::THRESH_BINARY | cv::THRESH_OTSU);
    // The same threshold on the linear scale (the mask is log_grey > thr_log, i.e. grey > thr).
    for (int g = 0; g < 256 && lut.at<std::uint8_t>(g) <= thr_log; ++g) thr = g;
  } else {
    thr = cv::threshold(smooth, mask, 0, 255, cv::THRESH_BINARY | cv::THRESH_OTSU);
  }
  {
    double n0 = 0, s0 = 0, q0 = 0, n1 = 0, s1 = 0, q1 = 0;
    for (int g = 0; g < 256; ++g) {
      if (g <= thr) n0 += hist[g], s0 += g * hist[g], q0 += double(g) * g * hist[g];
      else n1 += hist[g], s1 += g * hist[g], q1 += double(g) * g * hist[g];
    }
    if (n0 < 1 || n1 < 1) return out.failure = RoiFailure::NoHand, out;
    const double m0 = s0 / n0, m1 = s1 / n1;
    const double v0 = q0 / n0 - m0 * m0, v1 = q1 / n1 - m1 * m1;
    // Distance of the class means in units of the tighter class's spread: a lit hand on a dark
    // background gives a tight class far from the other even when one class holds bright clutter.
    const double separation = (m1 - m0) / std::sqrt(std::max(1.0, std::min(v0, v1)));
    if (separation < p.min_separation) return out.failure = RoiFailure::NoHand, out;
  }
  const int open_r = std::max(1, static_cast<int>(std::lround(p.open_radius * std::max(work.cols, work.rows))));
  cv::morphologyEx(mask, mask, cv::MORPH_OPEN,
                   cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(2 * open_r + 1, 2 * open_r + 1)));

  // Largest outer contour, filled (holes closed).
  std::vector<std::vector<cv::Point>> contours;
  cv::findContours(mask, contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_NONE);
  if (contours.empty()) return out.failure = RoiFailure::NoHand, out;
  std::size_t largest = 0;
  double largest_area = 0;
  for (std::size_t i = 0; i < contours.size(); ++i) {
    const double a = cv::contourArea(contours[i]);
    if (a > largest_area) largest_area = a, largest = i;
  }
  const std::vector<cv::Point>& contour = contours[largest];
  mask.setTo(0);
  cv::drawContours(mask, contours, static_cast<int>(largest), cv::Scalar(255), cv::FILLED);
  const double area_fraction = cv::countNonZero(mask) / total;
  out.hand_area_fraction = area_fraction;
  emit(sink, "02-hand-mask", mask);
  // A clearly separated but small bright object is most likely a hand held too far away.
  if (area_fraction < p.min_object_area) return out.failure = RoiFailure::NoHand, out;
  if (area_fraction < p.min_hand_area) return out.failure = RoiFailure::TooFar, out;
  if (area_fraction > p.too_close_area) return out.failure = RoiFailure::TooClose, out;

  out.outline.reserve(contour.size());
  for (const cv::Point& q : contour) out.outline.emplace_back(to_frame(cv::Point2d(q)));

  // Hand exposure.
  {
    double n = 0, sum = 0, saturated = 0;
    for (int y = 0; y < work.rows; ++y) {
      const std::uint8_t* row = work.ptr<std::uint8_t>(y);
      const std::uint8_t* m = mask.ptr<std::uint8_t>(y);
      for (int x = 0; x < work.cols; ++x)
        if (m[x]) {
          n += 1;
          sum += row[x];
          saturated += row[x] >= p.saturated_level;
        }
    }
    out.hand_mean = sum / n;
    out.saturated_fraction = saturated / n;
  }
  if (out.hand_mean < p.hand_refuse_mean) return out.failure = RoiFailure::TooDark, out;
  if (out.saturated_fraction > p.hand_saturated_max) return out.failure = RoiFailure::TooBright, out;

  // Palm centre and size.
  cv::Point2d centre_d;
  double radius_w = 0;
  inscribed_circle(mask, 0, p.palm_core_level, centre_d, radius_w);
  const cv::Point centre_w(static_cast<int>(std::lround(centre_d.x)), static_cast<int>(std::lround(centre_d.y)));
  const double min_side_w = std::min(work.cols, work.rows);
  out.palm_centre = to_frame(centre_d);
  out.palm_radius = radius_w * 0.5 * (sx + sy);
  if (radius_w < p.min_palm_radius * min_side_w) return out.failure = RoiFailure::TooFar, out;

  // Blur from the hand outline.
  {
    const double bg_mean = [&] {
      double n = 0, sum = 0;
      for (int y = 0; y < work.rows; ++y) {
        const std::uint8_t* row = work.ptr<std::uint8_t>(y);
        const std::uint8_t* m = mask.ptr<std::uint8_t>(y);
        for (int x = 0; x < work.cols; ++x)
          if (!m[x]) n += 1, sum += row[x];
      }
      return n > 0 ? sum / n : 0.0;
    }();
    const double width_w = edge_width(work, contour, out.hand_mean - bg_mean, p.border_margin);
    out.edge_width = width_w * 0.5 * (sx + sy);
    if (width_w > p.blur_max_edge_width * radius_w) return out.failure = RoiFailure::Blurred, out;
  }

  // Is the palm cut by the frame border? Continuing the mask beyond the border must not make the
  // palm circle much larger. Padding just beyond what the test needs: R / cutoff_radius_ratio. A cut
  // palm's radius is too small, so it must not set the ROI's scale: with finger valleys the scale
  // then comes from the valleys alone (below); without them the frame is refused.
  bool palm_cut = false;
  {
    cv::Point2d centre_free;
    double radius_free = 0;
    inscribed_circle(mask, static_cast<int>(std::ceil(radius_w * (1.0 / p.cutoff_radius_ratio - 1.0))) + 2, 0,
                     centre_free, radius_free);
    palm_cut = radius_w < p.cutoff_radius_ratio * radius_free;
  }

  // Finger valleys.
  const std::vector<Valley> valleys = find_valleys(contour, radius_w, work.size(), p);
  std::array<int, 3> triple{};
  cv::Point2d ta, tb;
  bool have_valleys = pick_triple(valleys, centre_d, radius_w, p, triple) &&
                      common_tangent(gap_points(contour, valleys[triple[0]].index, p.tangent_window * radius_w),
                                     gap_points(contour, valleys[triple[2]].index, p.tangent_window * radius_w),
                                     centre_d, ta, tb);
  // A palm cut by the border whose triple has one gap beyond it: the two gaps inside the frame give
  // the tangent's direction and half its length (finger gaps are about evenly spaced); the middle
  // gap is the one beside the border, the tangent's far end is extrapolated.
  std::array<int, 2> pair{};
  bool third_after = false;
  if (!have_valleys && palm_cut && pick_border_pair(valleys, centre_d, radius_w, work.size(), p, pair, third_after)) {
    cv::Point2d pa, pb;
    if (common_tangent(gap_points(contour, valleys[pair[0]].index, p.tangent_window * radius_w),
                       gap_points(contour, valleys[pair[1]].index, p.tangent_window * radius_w), centre_d, pa, pb)) {
      have_valleys = true;
      if (third_after) {
        ta = pa, tb = pb + (pb - pa), triple[1] = pair[1];
      } else {
        ta = pa - (pb - pa), tb = pb, triple[1] = pair[0];
      }
    }
  }
  const auto draw_stage = [&](const std::vector<cv::Point2d>& points) {
    if (!sink || !sink->wants("03-contour-keypoints")) return;
    cv::Mat view = work.clone();
    cv::drawContours(view, contours, static_cast<int>(largest), cv::Scalar(255), 1);
    cv::circle(view, centre_w, static_cast<int>(radius_w), cv::Scalar(128), 1);
    for (const Valley& v : valleys) cv::circle(view, v.far, 3, cv::Scalar(0), cv::FILLED);
    for (const cv::Point2d& q : points) cv::circle(view, cv::Point(q), 4, cv::Scalar(255), 2);
    sink->take("03-contour-keypoints", image_from_mat(view));
  };

  if (palm_cut && !have_valleys) {
    draw_stage({centre_d});  // the transparency dump shows the valleys that were found
    return out.failure = RoiFailure::HandCutOff, out;
  }
  if (have_valleys) {
    const cv::Point2d fa = to_frame(ta), fb = to_frame(tb), fc = to_frame(centre_d);
    const cv::Point2d mid = 0.5 * (fa + fb);
    const double d = norm2(fb - fa);
    // Scale: geometric mean of two independent palm lengths, the tangent points' distance d (moves
    // with finger spread) and the palm radius R (moves with the thumb and the wrist's outline).
    // Their errors are largely independent, so the mean varies less than either. When the frame
    // border cuts the palm (a close-up, a contact-free hand held off-centre) R is not known: the
    // length is d times the typical sqrt(R / d). Where the square may lie: below.
    const double length = palm_cut ? d * p.cut_palm_length_per_tangent : std::sqrt(d * out.palm_radius);
    cv::Point2d normal(-(fb - fa).y / d, (fb - fa).x / d);
    if (normal.x * (fc - mid).x + normal.y * (fc - mid).y < 0) normal = -normal;
    RoiPlacement& pl = out.placement;
    pl.uy = normal;
    pl.ux = cv::Point2d(normal.y, -normal.x);
    pl.side = p.roi_side * length;
    pl.centre = mid + normal * (p.roi_offset * length);
    out.method = RoiMethod::FingerValleys;
    out.key_points = {cv::Point2f(fa), cv::Point2f(fb), cv::Point2f(to_frame(cv::Point2d(valleys[triple[1]].far)))};
    draw_stage({ta, tb, cv::Point2d(valleys[triple[1]].far)});
    // The square must lie inside the frame and on the hand. Of a palm cut by the border only the
    // part in the frame is seen: the square may then reach beyond the border as long as
    // cut_roi_min_in_frame of it is inside; the ROI image is black there (warp_roi) and the
    // features mask black cells as outside the palm, so a comparison counts the visible part only.
    int inside = 0, in_frame = 0, samples = 0;
    const int kGrid = std::max(2, p.roi_inside_grid);
    for (int j = 0; j < kGrid; ++j)
      for (int i = 0; i < kGrid; ++i) {
        const double u = ((i + 0.5) / kGrid - 0.5) * pl.side, v = ((j + 0.5) / kGrid - 0.5) * pl.side;
        const cv::Point2d q = pl.centre + pl.ux * u + pl.uy * v;
        ++samples;
        const int x = static_cast<int>(std::floor((q.x + 0.5) / sx)), y = static_cast<int>(std::floor((q.y + 0.5) / sy));
        if (x < 0 || y < 0 || x >= work.cols || y >= work.rows) continue;
        ++in_frame;
        if (mask.at<std::uint8_t>(y, x)) ++inside;
      }
    bool square_in_frame = true;
    for (int k = 0; k < 4; ++k) {
      const cv::Point2d q = pl.centre + pl.ux * ((k == 1 || k == 2) ? 0.5 : -0.5) * pl.side +
                            pl.uy * (k >= 2 ? 0.5 : -0.5) * pl.side;
      if (q.x < 0 || q.y < 0 || q.x > gray.cols - 1 || q.y > gray.rows - 1) square_in_frame = false;
    }
    if (!square_in_frame && (!palm_cut || in_frame < p.cut_roi_min_in_frame * samples))
      return out.failure = RoiFailure::HandCutOff, out;
    if (inside < p.roi_min_inside * in_frame || in_frame == 0) return out.failure = RoiFailure::NoKeyPoints, out;
    return out;
  }

  // Close-up fallback: the palm circle, only when the palm is large (and not cut, tested above).
  draw_stage({centre_d});
  if (radius_w < p.closeup_min_radius * min_side_w) return out.failure = RoiFailure::NoKeyPoints, out;

  // Rotation. As with the valleys, the ROI's top faces the fingers. The mask's major axis (when the
  // mask is elongated) runs along the hand. Two or more gaps between fingers that made no valley triple
  // (a finger cut by the border, the thumb's gap among them) still say on which side of the palm
  // centre the fingers are: the ROI then turns to the axis end on that side, or, on a round mask,
  // to the gaps' direction itself, whatever the hand's angle in the frame. Without gaps the
  // sensor's own axis is assumed (fingers up), turned by the axis' residual up to axis_max_residual.
  double angle = 0;
  bool have_axis = false;
  cv::Point2d axis;
  double residual = 0;
  const cv::Moments m = cv::moments(mask, true);
  if (m.m00 > 0) {
    const double a = m.mu20 / m.m00, b = m.mu11 / m.m00, c = m.mu02 / m.m00;
    const double root = std::sqrt(4 * b * b + (a - c) * (a - c));
    const double l1 = 0.5 * (a + c + root), l2 = 0.5 * (a + c - root);
    if (l2 > 0 && std::sqrt(l1 / l2) >= p.axis_min_elongation) {
      const double theta = 0.5 * std::atan2(2 * b, a - c);  // major axis, radians
      have_axis = true;
      axis = cv::Point2d(std::cos(theta), std::sin(theta));
      residual = std::fmod(theta * 180.0 / kPi, 90.0);
      if (residual > 45) residual -= 90;
      if (residual < -45) residual += 90;
    }
  }
  cv::Point2d gaps(0, 0);
  for (const Valley& v : valleys) gaps += (cv::Point2d(v.far) - centre_d) * (1.0 / static_cast<double>(valleys.size()));
  // One gap alone may be the thumb's, beside the palm rather than above it: two or more are needed.
  if (valleys.size() >= 2 && norm2(gaps) >= p.gap_min_offset * radius_w) {
    cv::Point2d fingers = gaps * (1.0 / norm2(gaps));
    if (have_axis && std::abs(axis.x * fingers.x + axis.y * fingers.y) >= std::cos(p.gap_max_axis_angle * kPi / 180.0))
      fingers = (axis.x * fingers.x + axis.y * fingers.y) >= 0 ? axis : -axis;
    angle = std::atan2(fingers.x, -fingers.y) * 180.0 / kPi;  // ROI up (-uy) along `fingers`
  } else if (have_axis && std::abs(residual) <= p.axis_max_residual) {
    angle = residual;
  }
  RoiPlacement& pl = out.placement;
  const double rad = angle * kPi / 180.0;
  pl.ux = cv::Point2d(std::cos(rad), std::sin(rad));
  pl.uy = cv::Point2d(-std::sin(rad), std::cos(rad));
  pl.centre = out.palm_centre;
  pl.side = p.fallback_side * out.palm_radius;
  out.method = RoiMethod::PalmCircle;
  out.key_points = {cv::Point2f(out.palm_centre)};
  return out;
}

PalmLocation locate_palm(const cv::Mat& gray, const RoiParams& p, TransparencySink* sink) {
  // The linear threshold first: with the hand evenly lit it gives the tightest outline. When it
  // finds no finger valleys the illumination may fall off towards the fingers (close-up sensors):
  // the log-scale mask then follows the hand rather than the light, and is used when it succeeds
  // (with valleys, or with the palm circle of the whole hand instead of the lit spot).
  const auto geometry_only = [](const PalmLocation& l) {
    return (l.failure == RoiFailure::None && l.method == RoiMethod::PalmCircle) || l.failure == RoiFailure::NoKeyPoints;
  };
  PalmLocation linear = locate_once(gray, p, false, sink);
  if (!p.log_segmentation_retry || !geometry_only(linear)) return linear;
  PalmLocation logged = locate_once(gray, p, true, nullptr);
  if (logged.failure != RoiFailure::None) return linear;
  // The stages shown are those of the result returned.
  if (sink) logged = locate_once(gray, p, true, sink);
  return logged;
}

}  // namespace palmvein::internal

// SPDX-License-Identifier: Apache-2.0
// Feature extraction: BOCV orientation code (Guo et al. 2009) over an even Gabor bank (Kong & Zhang
// 2004) and a wide-line-detector vein code (Huang et al. 2010). Constants: feature_config.hpp.
#include "features/features.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <numbers>
#include <string>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "internal/cv_bridge.hpp"
#include "palmvein/error.hpp"

namespace palmvein::inline v1::detail {

BitCode make_code(int width, int height, int planes) {
  BitCode code;
  code.width = static_cast<std::uint16_t>(width);
  code.height = static_cast<std::uint16_t>(height);
  code.planes = static_cast<std::uint16_t>(planes);
  code.bits.assign(code.words_per_plane() * static_cast<std::size_t>(planes), 0);
  code.mask.assign(code.words_per_plane(), 0);
  return code;
}

void set_bit(BitCode& code, std::size_t plane, int x, int y, bool value) {
  const std::size_t i = static_cast<std::size_t>(y) * code.width + static_cast<std::size_t>(x);
  std::uint64_t& word = code.bits[plane * code.words_per_plane() + i / 64];
  const std::uint64_t m = std::uint64_t{1} << (i % 64);
  word = value ? (word | m) : (word & ~m);
}

void set_valid(BitCode& code, int x, int y, bool value) {
  const std::size_t i = static_cast<std::size_t>(y) * code.width + static_cast<std::size_t>(x);
  const std::uint64_t m = std::uint64_t{1} << (i % 64);
  code.mask[i / 64] = value ? (code.mask[i / 64] | m) : (code.mask[i / 64] & ~m);
}

bool has_enough_texture(const TemplateData& data, const FeatureConfig& cfg) {
  std::size_t valid = 0;
  for (auto w : data.orientation.mask) valid += static_cast<std::size_t>(std::popcount(w));
  const double cells = static_cast<double>(data.orientation.width) * data.orientation.height;
  return cells > 0 && static_cast<double>(valid) >= cfg.min_valid_fraction * cells;
}

namespace {

// Even-symmetric (real) Gabor kernel with zero mean, oriented at theta: the wave runs along theta,
// so it responds to lines (veins, creases) running perpendicular to theta.
cv::Mat gabor_kernel(const FeatureConfig& cfg, double theta) {
  const int half = cfg.gabor_half;
  cv::Mat k(2 * half + 1, 2 * half + 1, CV_32F);
  const double c = std::cos(theta), s = std::sin(theta);
  const double sx = cfg.gabor_sigma, sy = cfg.gabor_sigma * cfg.gabor_aspect;
  double sum = 0, wsum = 0;
  cv::Mat env(k.size(), CV_64F);
  for (int y = -half; y <= half; ++y)
    for (int x = -half; x <= half; ++x) {
      const double xr = x * c + y * s, yr = -x * s + y * c;
      const double e = std::exp(-0.5 * (xr * xr / (sx * sx) + yr * yr / (sy * sy)));
      const double v = e * std::cos(2 * std::numbers::pi * xr / cfg.gabor_wavelength);
      env.at<double>(y + half, x + half) = e;
      k.at<float>(y + half, x + half) = static_cast<float>(v);
      sum += v;
      wsum += e;
    }
  // Remove the DC response (so uniform illumination gives zero) in proportion to the envelope.
  double norm = 0;
  for (int y = 0; y < k.rows; ++y)
    for (int x = 0; x < k.cols; ++x) {
      const double v = k.at<float>(y, x) - sum / wsum * env.at<double>(y, x);
      k.at<float>(y, x) = static_cast<float>(v);
      norm += v * v;
    }
  k /= std::sqrt(norm);
  return k;
}

Image grid_to_image(const cv::Mat& grid8, int scale) {
  cv::Mat big;
  cv::resize(grid8, big, cv::Size(), scale, scale, cv::INTER_NEAREST);
  return internal::image_from_mat(big);
}

bool wants(TransparencySink* sink, std::string_view stage) { return sink && sink->wants(stage); }

}  // namespace

TemplateData compute_features(const cv::Mat& roi_in, const FeatureConfig& cfg, TransparencySink* sink) {
  if (roi_in.empty() || roi_in.type() != CV_8UC1) throw InvalidArgument("feature extraction needs a non-empty 8-bit ROI");
  cv::Mat roi;
  if (roi_in.rows != cfg.roi_size || roi_in.cols != cfg.roi_size)
    cv::resize(roi_in, roi, cv::Size(cfg.roi_size, cfg.roi_size), 0, 0,
               roi_in.rows > cfg.roi_size ? cv::INTER_AREA : cv::INTER_LINEAR);
  else
    roi = roi_in;

  // Work image: area-downsampled float ROI.
  cv::Mat work;
  cv::resize(roi, work, cv::Size(cfg.work_size, cfg.work_size), 0, 0, cv::INTER_AREA);
  work.convertTo(work, CV_32F);

  // Outside-of-palm fraction per grid cell (black fill from the ROI stage).
  cv::Mat outside = roi <= cfg.outside_grey_level;  // 255 where outside
  cv::Mat outside_f;
  outside.convertTo(outside_f, CV_32F, 1.0 / 255);

  TemplateData data;
  data.algorithm = kAlgorithmBocvWld;
  data.params.roi_size = static_cast<std::uint16_t>(cfg.roi_size);
  data.params.orientations = static_cast<std::uint8_t>(cfg.orientations);
  data.params.max_shift = static_cast<std::uint8_t>(cfg.max_shift);

  // ---- Orientation family (BOCV) ----
  const int og = cfg.orientation_grid;
  std::vector<cv::Mat> responses(static_cast<std::size_t>(cfg.orientations));
  cv::Mat energy = cv::Mat::zeros(og, og, CV_32F);
  for (int j = 0; j < cfg.orientations; ++j) {
    cv::Mat r;
    cv::filter2D(work, r, CV_32F, gabor_kernel(cfg, j * std::numbers::pi / cfg.orientations), cv::Point(-1, -1), 0,
                 cv::BORDER_REFLECT);
    cv::resize(r, responses[static_cast<std::size_t>(j)], cv::Size(og, og), 0, 0, cv::INTER_AREA);
    energy += cv::abs(responses[static_cast<std::size_t>(j)]);
  }
  cv::Mat out_o;
  cv::resize(outside_f, out_o, cv::Size(og, og), 0, 0, cv::INTER_AREA);
  std::vector<float> e(energy.begin<float>(), energy.end<float>());
  std::nth_element(e.begin(), e.begin() + static_cast<std::ptrdiff_t>(e.size() / 2), e.end());
  const float energy_floor = std::max(static_cast<float>(cfg.low_energy_fraction) * e[e.size() / 2],
                                      static_cast<float>(cfg.min_abs_energy * cfg.orientations));

  data.orientation = make_code(og, og, cfg.orientations);
  for (int y = 0; y < og; ++y)
    for (int x = 0; x < og; ++x) {
      const bool valid = energy.at<float>(y, x) >= energy_floor && out_o.at<float>(y, x) < 0.25f;
      set_valid(data.orientation, x, y, valid);
      if (!valid) continue;
      for (int j = 0; j < cfg.orientations; ++j)
        set_bit(data.orientation, static_cast<std::size_t>(j), x, y, responses[static_cast<std::size_t>(j)].at<float>(y, x) < 0);
    }

  // ---- Vein-line family (wide line detector on a locally normalised image) ----
  cv::Mat mean, sq, var;
  cv::GaussianBlur(work, mean, cv::Size(), cfg.local_norm_sigma, 0, cv::BORDER_REFLECT);
  cv::GaussianBlur(work.mul(work), sq, cv::Size(), cfg.local_norm_sigma, 0, cv::BORDER_REFLECT);
  var = sq - mean.mul(mean);
  cv::Mat sd;
  cv::sqrt(cv::max(var, 1e-3), sd);
  cv::Mat norm = (work - mean) / (sd + 1.0f);
  const int r = cfg.wld_radius;
  cv::Mat padded;
  cv::copyMakeBorder(norm, padded, r, r, r, r, cv::BORDER_REFLECT);
  const int n = cfg.work_size;
  cv::Mat count = cv::Mat::zeros(n, n, CV_32F);
  int area = 0;
  const float t = static_cast<float>(cfg.wld_t);
  for (int dy = -r; dy <= r; ++dy)
    for (int dx = -r; dx <= r; ++dx) {
      if (dx * dx + dy * dy > r * r) continue;
      ++area;
      for (int y = 0; y < n; ++y) {
        const float* c = norm.ptr<float>(y);
        const float* q = padded.ptr<float>(y + r + dy) + r + dx;
        float* m = count.ptr<float>(y);
        for (int x = 0; x < n; ++x) m[x] += (q[x] - c[x] <= t) ? 1.0f : 0.0f;
      }
    }
  cv::Mat veins = count < static_cast<float>(cfg.wld_g * area);  // 255 on lines
  const int lg = cfg.line_grid;
  cv::Mat veins_f, vein_grid, out_l;
  veins.convertTo(veins_f, CV_32F, 1.0 / 255);
  cv::resize(veins_f, vein_grid, cv::Size(lg, lg), 0, 0, cv::INTER_AREA);
  cv::resize(outside_f, out_l, cv::Size(lg, lg), 0, 0, cv::INTER_AREA);
  data.lines = make_code(lg, lg, 1);
  for (int y = 0; y < lg; ++y)
    for (int x = 0; x < lg; ++x) {
      const bool valid = out_l.at<float>(y, x) < 0.25f;
      set_valid(data.lines, x, y, valid);
      if (valid) set_bit(data.lines, 0, x, y, vein_grid.at<float>(y, x) >= 0.5f);
    }

  if (sink) {
    if (wants(sink, "06-enhanced")) {
      cv::Mat vis;
      cv::normalize(norm, vis, 0, 255, cv::NORM_MINMAX, CV_8U);
      sink->take("06-enhanced", internal::image_from_mat(vis));
    }
    if (wants(sink, "07-orientation-code")) {
      // Grey level = index of the orientation with the most negative response (competitive code).
      cv::Mat vis(og, og, CV_8U);
      for (int y = 0; y < og; ++y)
        for (int x = 0; x < og; ++x) {
          int best = 0;
          for (int j = 1; j < cfg.orientations; ++j)
            if (responses[static_cast<std::size_t>(j)].at<float>(y, x) <
                responses[static_cast<std::size_t>(best)].at<float>(y, x))
              best = j;
          vis.at<std::uint8_t>(y, x) = data.orientation.valid(x, y)
                                           ? static_cast<std::uint8_t>(40 + best * 215 / std::max(1, cfg.orientations - 1))
                                           : 0;
        }
      sink->take("07-orientation-code", grid_to_image(vis, cfg.roi_size / og));
    }
    if (wants(sink, "08-vein-lines")) sink->take("08-vein-lines", grid_to_image(veins, cfg.roi_size / n));
    if (wants(sink, "09-valid-mask")) {
      cv::Mat vis(og, og, CV_8U);
      for (int y = 0; y < og; ++y)
        for (int x = 0; x < og; ++x) vis.at<std::uint8_t>(y, x) = data.orientation.valid(x, y) ? 255 : 0;
      sink->take("09-valid-mask", grid_to_image(vis, cfg.roi_size / og));
    }
  }
  return data;
}

}  // namespace palmvein::v1::detail

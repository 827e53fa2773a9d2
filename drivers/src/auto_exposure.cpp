// SPDX-License-Identifier: Apache-2.0
#include "palmvein/auto_exposure.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <string>

namespace palmvein {
inline namespace v1 {
namespace {

constexpr int kSubsample = 2;              // measure every 2nd pixel of every 2nd row
constexpr int kSaturatedLevel = 250;
constexpr double kMinPalmFraction = 0.03;  // a smaller bright region is not a palm
constexpr int kMinOtsuThreshold = 6;       // below this the frame is essentially black
constexpr double kDarkStep = 4;            // exposure factor when nothing can be measured
constexpr double kMinSeparation = 4;       // hand vs background: class means apart by this x tighter std

double percentile(const std::array<std::uint64_t, 256>& hist, std::uint64_t total, double q) {
  const double want = q * static_cast<double>(total);
  std::uint64_t seen = 0;
  for (int v = 0; v < 256; ++v) {
    seen += hist[v];
    if (static_cast<double>(seen) >= want) return v;
  }
  return 255;
}

}  // namespace

void AutoExposureOptions::check() const {
  if (!(target >= 16 && target <= 240)) throw InvalidArgument("auto-exposure: target must be in 16..240");
  if (!(tolerance > 0 && tolerance <= 100)) throw InvalidArgument("auto-exposure: tolerance must be in (0, 100]");
  if (!(max_saturated >= 0 && max_saturated <= 1)) throw InvalidArgument("auto-exposure: max_saturated must be in 0..1");
  if (max_iterations < 1 || max_iterations > 1000) throw InvalidArgument("auto-exposure: max_iterations must be in 1..1000");
  if (!(damping > 0 && damping <= 1)) throw InvalidArgument("auto-exposure: damping must be in (0, 1]");
  if (!(max_gain >= 1 && max_gain <= 64)) throw InvalidArgument("auto-exposure: max_gain must be in 1..64");
  if (settle_frames < 1 || settle_frames > 100) throw InvalidArgument("auto-exposure: settle_frames must be in 1..100");
  if (grab_timeout.count() <= 0) throw InvalidArgument("auto-exposure: grab_timeout must be positive");
}

ExposureMeasurement measure_exposure(const Image& frame) {
  if (frame.empty()) throw InvalidArgument("measure_exposure: empty frame");
  const Image gray = frame.to_gray8();
  std::array<std::uint64_t, 256> hist{};
  std::uint64_t total = 0;
  for (int y = 0; y < gray.height(); y += kSubsample) {
    const std::uint8_t* row = gray.row8(y);
    for (int x = 0; x < gray.width(); x += kSubsample) ++hist[row[x]], ++total;
  }
  // Otsu: the threshold that maximises the between-class variance.
  double sum_all = 0;
  for (int v = 0; v < 256; ++v) sum_all += v * static_cast<double>(hist[v]);
  double best = -1, w0 = 0, sum0 = 0;
  int threshold = 0;
  for (int t = 0; t < 255; ++t) {
    w0 += static_cast<double>(hist[t]);
    sum0 += t * static_cast<double>(hist[t]);
    const double w1 = static_cast<double>(total) - w0;
    if (w0 == 0 || w1 == 0) continue;
    const double m0 = sum0 / w0, m1 = (sum_all - sum0) / w1;
    const double between = w0 * w1 * (m0 - m1) * (m0 - m1);
    if (between > best) best = between, threshold = t;
  }
  std::array<std::uint64_t, 256> fg{};
  std::uint64_t fg_total = 0;
  for (int v = threshold + 1; v < 256; ++v) fg[v] = hist[v], fg_total += hist[v];
  // A hand on a dark background is bimodal: the class means lie several standard deviations of the
  // tighter class apart. Texture or noise of an empty sensor is not.
  std::array<double, 2> count{}, mean{}, var{};
  for (int v = 0; v < 256; ++v) {
    const int c = v > threshold;
    count[c] += static_cast<double>(hist[v]);
    mean[c] += v * static_cast<double>(hist[v]);
  }
  for (int c = 0; c < 2; ++c) mean[c] /= std::max(1.0, count[c]);
  for (int v = 0; v < 256; ++v) {
    const int c = v > threshold;
    var[c] += (v - mean[c]) * (v - mean[c]) * static_cast<double>(hist[v]);
  }
  const double spread = std::sqrt(std::min(var[0] / std::max(1.0, count[0]), var[1] / std::max(1.0, count[1]))) + 1;
  ExposureMeasurement m;
  m.palm_fraction = total ? static_cast<double>(fg_total) / static_cast<double>(total) : 0;
  m.palm_found = threshold >= kMinOtsuThreshold && m.palm_fraction >= kMinPalmFraction &&
                 (mean[1] - mean[0]) / spread >= kMinSeparation;
  const auto& region = m.palm_found ? fg : hist;
  const std::uint64_t n = m.palm_found ? fg_total : total;
  if (!m.palm_found) m.palm_fraction = 0;
  m.median = percentile(region, n, 0.5);
  m.p05 = percentile(region, n, 0.05);
  m.p95 = percentile(region, n, 0.95);
  std::uint64_t saturated = 0;
  for (int v = kSaturatedLevel; v < 256; ++v) saturated += region[v];
  m.saturated = n ? static_cast<double>(saturated) / static_cast<double>(n) : 0;
  return m;
}

AutoExposureResult run_auto_exposure(Sensor& sensor, const AutoExposureOptions& options) {
  options.check();
  const SensorCapabilities caps = sensor.capabilities();
  if (caps.exposure_max_us == 0)
    throw DeviceError(DeviceFault::Unsupported, "auto-exposure: the sensor has no exposure control");
  const double min_us = std::max<double>(1, caps.exposure_min_us), max_us = caps.exposure_max_us;
  AutoExposureResult result;
  Frame frame = sensor.grab(options.grab_timeout);
  double exposure = frame.exposure_us ? frame.exposure_us : (min_us + max_us) / 2;
  double gain = frame.gain >= 1 ? frame.gain : 1;
  for (;;) {
    result.last = measure_exposure(frame.image);
    result.exposure_us = static_cast<std::uint32_t>(std::lround(exposure));
    result.gain = static_cast<float>(gain);
    const ExposureMeasurement& m = result.last;
    const bool well_exposed = m.palm_found && std::abs(m.median - options.target) <= options.tolerance &&
                              m.saturated <= options.max_saturated;
    if (well_exposed) {
      result.converged = true;
      return result;
    }
    if (result.iterations >= options.max_iterations) return result;
    // Next total exposure (time x gain), a damped proportional step in log space.
    double factor = 0;
    if (!m.palm_found && m.p95 < kMinOtsuThreshold * 2) factor = kDarkStep;  // black frame: open up
    else if (!m.palm_found) return result;  // a visible scene but no palm: nothing to expose for
    else factor = std::pow(options.target / std::max(1.0, m.median), options.damping);
    if (m.saturated > options.max_saturated) factor = std::min(factor, 0.7);
    factor = std::clamp(factor, 1 / kDarkStep, kDarkStep);
    const double total = exposure * gain * factor;
    const double new_exposure = std::clamp(total, min_us, max_us);
    const double new_gain = std::clamp(total / new_exposure, 1.0, static_cast<double>(options.max_gain));
    if (std::lround(new_exposure) == std::lround(exposure) && std::abs(new_gain - gain) < 1e-3)
      return result;  // at a limit: cannot do better
    exposure = new_exposure;
    gain = new_gain;
    const auto exposure_us = static_cast<std::uint32_t>(std::lround(exposure));
    sensor.set_exposure(exposure_us, static_cast<float>(gain));
    ++result.iterations;
    // Wait for a frame taken with the new setting (sensors that report exposure), else take the next.
    for (int i = 0; i < options.settle_frames; ++i) {
      frame = sensor.grab(options.grab_timeout);
      if (frame.exposure_us == 0 || frame.exposure_us == exposure_us) break;
    }
  }
}

}  // namespace v1
}  // namespace palmvein

// SPDX-License-Identifier: Apache-2.0
// my_driver: a complete out-of-tree sensor driver (docs/writing-a-driver.md walks through it).
// It serves the URI scheme "example:" ("example:?palm=N"), here rendering synthetic palms where a real
// driver would talk to its device SDK, and the application then uses it like any built-in sensor:
// open_sensor(), start(), grab(), extract a template.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <palmvein/palmvein.hpp>
#include <palmvein/sensor.hpp>
#include <palmvein/synthetic.hpp>

namespace {

constexpr int kWidth = 640;
constexpr int kHeight = 480;

// 1. The sensor: one object per opened device, used by one thread at a time (cancel() excepted).
class ExampleSensor final : public palmvein::Sensor {
 public:
  ExampleSensor(std::string uri, std::uint64_t palm)
      : uri_(std::move(uri)), palm_(palmvein::SyntheticPalmId{palm, palmvein::Hand::Left, 0}, kWidth, kHeight) {}

  palmvein::SensorInfo info() const override {
    return {.uri = uri_, .driver = "example", .name = "Example palm sensor", .serial = "EX0001", .firmware = "1.0"};
  }
  palmvein::SensorCapabilities capabilities() const override {
    palmvein::SensorCapabilities caps;
    caps.width = kWidth;
    caps.height = kHeight;
    caps.wavelengths_nm = {940};
    caps.illumination_levels = palmvein::kSyntheticIlluminationLevels;
    caps.exposure_min_us = palmvein::kSyntheticExposureMinUs;
    caps.exposure_max_us = palmvein::kSyntheticExposureMaxUs;
    caps.max_fps = 30;
    return caps;
  }

  void start() override { streaming_ = true; }
  void stop() override { streaming_ = false; }

  // A real driver waits here for the device's next frame, at most `timeout`, and throws
  // DeviceError(Timeout) when none came; this one renders the frame at once.
  palmvein::Frame grab(std::chrono::milliseconds /*timeout*/) override {
    if (cancelled_.exchange(false))
      throw palmvein::DeviceError(palmvein::DeviceFault::Cancelled, uri_ + ": grab cancelled");
    if (!streaming_) throw palmvein::DeviceError(palmvein::DeviceFault::Io, uri_ + ": grab() before start()");
    palmvein::Frame frame;
    frame.image = palm_.render(counter_, settings_);
    frame.timestamp = std::chrono::steady_clock::now();
    frame.counter = counter_++;
    frame.exposure_us = settings_.exposure_us;
    frame.gain = settings_.gain;
    frame.illumination_level = settings_.illumination_940;
    frame.wavelength_nm = 940;
    return frame;
  }
  // Sticky: a cancel() that arrives while no grab() waits cancels the next one.
  void cancel() override { cancelled_ = true; }

  void set_illumination(int wavelength_nm, int level) override {
    if (wavelength_nm != 940)
      throw palmvein::DeviceError(palmvein::DeviceFault::Unsupported, uri_ + ": no " + std::to_string(wavelength_nm) + " nm bank");
    if (level < 0 || level >= palmvein::kSyntheticIlluminationLevels)
      throw palmvein::InvalidArgument(uri_ + ": illumination level " + std::to_string(level) + " out of range");
    settings_.illumination_940 = level;
  }
  void set_exposure(std::uint32_t exposure_us, float gain) override {
    if (exposure_us < palmvein::kSyntheticExposureMinUs || exposure_us > palmvein::kSyntheticExposureMaxUs || gain < 1)
      throw palmvein::InvalidArgument(uri_ + ": exposure " + std::to_string(exposure_us) + " us out of range");
    settings_.exposure_us = exposure_us;
    settings_.gain = gain;
  }

 private:
  std::string uri_;
  palmvein::SyntheticPalm palm_;
  palmvein::SyntheticFrameSettings settings_;
  std::uint64_t counter_ = 0;
  bool streaming_ = false;
  std::atomic<bool> cancelled_{false};
};

// 2. The factory: parses the URI ("example:" or "example:?palm=N") and opens the device. A URI it
// cannot read is an InvalidArgument naming the URI; a device that is absent, a DeviceError(NotFound).
std::unique_ptr<palmvein::Sensor> open_example(std::string_view uri) {
  const std::string text(uri);
  constexpr std::string_view kPalmKey = "example:?palm=";
  std::uint64_t palm = 1;
  if (uri.starts_with(kPalmKey)) {
    const std::string digits(uri.substr(kPalmKey.size()));
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 9)
      throw palmvein::InvalidArgument("sensor URI '" + text + "': palm must be a number");
    palm = std::stoull(digits);
  } else if (uri != "example:") {
    throw palmvein::InvalidArgument("sensor URI '" + text + "': expected example: or example:?palm=N");
  }
  return std::make_unique<ExampleSensor>(text, palm);
}

// 3. The enumerator: the sensors of this driver that can be opened now.
std::vector<palmvein::SensorInfo> enumerate_example() {
  return {{.uri = "example:", .driver = "example", .name = "Example palm sensor", .serial = "EX0001", .firmware = "1.0"}};
}

}  // namespace

int main() {
  try {
    // 4. Register the driver; the scheme is served while `registration` lives.
    const palmvein::SensorDriverRegistration registration =
        palmvein::register_sensor_driver("example", open_example, enumerate_example);

    bool listed = false;
    for (const auto& info : palmvein::enumerate_sensors()) listed = listed || info.uri == "example:";
    std::printf("enumerate_sensors lists example: %s\n", listed ? "yes" : "no");

    // 5. Use it as any sensor: open by URI, stream, grab, extract.
    const auto sensor = palmvein::open_sensor("example:?palm=7");
    sensor->start();
    const palmvein::TemplateExtractor extractor;
    std::vector<palmvein::Template> templates;
    for (int attempt = 0; attempt < 10 && templates.size() < 2; ++attempt) {
      const palmvein::Frame frame = sensor->grab(std::chrono::milliseconds(1000));
      auto result = extractor.extract(frame.image, palmvein::ImageKind::FullHand);
      if (result.ok()) {
        templates.push_back(std::move(*result.templ));
      } else {
        const std::string_view advice = palmvein::guidance(result.roi.failure());
        std::printf("frame %llu: %.*s\n", static_cast<unsigned long long>(frame.counter),
                    static_cast<int>(advice.size()), advice.data());
      }
    }
    sensor->stop();
    if (!listed || templates.size() < 2) {
      std::fprintf(stderr, "my_driver: %s\n", listed ? "fewer than two usable frames" : "example: not enumerated");
      return 1;
    }
    const double score = palmvein::match(templates[0], templates[1]);
    const auto threshold = palmvein::DecisionThreshold::at_fmr(1e-4);
    std::printf("%s: two frames, score %.3f, threshold %.3f: %s\n", sensor->info().name.c_str(), score,
                threshold.score, score >= threshold.score ? "same palm" : "different palms");
    return score >= threshold.score ? 0 : 1;
  } catch (const palmvein::Error& e) {
    std::fprintf(stderr, "my_driver: %s\n", e.what());
    return 2;
  }
}

// SPDX-License-Identifier: Apache-2.0
// The virtual sensor: synthetic NIR palms behind the ordinary Sensor interface, with pacing,
// exposure/illumination control and fault injection, so that every consumer of the SDK can be
// tested without hardware (cf. libfprint's virtual devices). Query keys: docs/sensors.md.
#include <atomic>
#include <cctype>
#include <cstdint>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <optional>
#include <string>

#include "driver_table.hpp"
#include "palmvein/synthetic.hpp"
#include "wait_gate.hpp"

namespace palmvein::drivers {
namespace {

enum class Fault { None, Timeout, Unplug };

constexpr std::uint32_t kDefaultExposureUs = 4000;
constexpr int kDefaultFps = 60;

class VirtualSensor final : public Sensor {
 public:
  explicit VirtualSensor(const SensorUri& uri) {
    uri.reject_unknown_keys({"palm", "hand", "seed", "width", "height", "fps", "rotate", "exposure", "gain",
                             "illum", "illum850", "noise", "blur", "vary", "empty", "fault", "fault_after",
                             "start", "serial"});
    if (!uri.path.empty())
      throw InvalidArgument("sensor URI '" + uri.text + "': virtual: takes no path, only a query (virtual:?palm=1)");
    id_.palm = static_cast<std::uint64_t>(uri.get_int("palm", 1, 0, INT64_MAX));
    const std::string hand = uri.get("hand").value_or("L");
    if (hand != "L" && hand != "R" && hand != "l" && hand != "r")
      throw InvalidArgument("sensor URI '" + uri.text + "': hand must be L or R");
    id_.hand = parse_hand(hand);
    id_.seed = static_cast<std::uint64_t>(uri.get_int("seed", 0, 0, INT64_MAX));
    settings_.width = static_cast<int>(uri.get_int("width", 640, 64, 4096));
    settings_.height = static_cast<int>(uri.get_int("height", 480, 48, 4096));
    fps_ = uri.get_double("fps", kDefaultFps, 0, 1000);
    settings_.rotate_deg = uri.get_double("rotate", 0, -360, 360);
    settings_.exposure_us = static_cast<std::uint32_t>(
        uri.get_int("exposure", kDefaultExposureUs, kSyntheticExposureMinUs, kSyntheticExposureMaxUs));
    settings_.gain = static_cast<float>(uri.get_double("gain", 1, 1, 16));
    settings_.illumination_940 = static_cast<int>(uri.get_int("illum", 7, 0, kSyntheticIlluminationLevels - 1));
    settings_.illumination_850 = static_cast<int>(uri.get_int("illum850", 0, 0, kSyntheticIlluminationLevels - 1));
    const double vary = uri.get_double("vary", 1, 0, 3);
    SyntheticVariation& v = settings_.variation;
    v.translate *= vary, v.scale *= vary, v.rotate_deg *= vary, v.tilt_deg *= vary, v.spread *= vary;
    v.exposure *= vary;
    v.noise = uri.get_double("noise", v.noise, 0, 20);
    v.blur_max = uri.get_double("blur", v.blur_max * std::min(vary, 1.0), 0, 10);
    settings_.hand_present = !uri.get_bool("empty", false);
    const std::string fault = uri.get("fault").value_or("none");
    if (fault == "timeout") fault_ = Fault::Timeout;
    else if (fault == "unplug") fault_ = Fault::Unplug;
    else if (fault == "busy") throw DeviceError(DeviceFault::Busy, "virtual sensor '" + uri.text + "' is busy (injected fault)");
    else if (fault != "none")
      throw InvalidArgument("sensor URI '" + uri.text + "': fault must be timeout, unplug, busy or none");
    fault_after_ = static_cast<std::uint64_t>(uri.get_int("fault_after", 0, 0, INT64_MAX));
    next_index_ = first_index_ = static_cast<std::uint64_t>(uri.get_int("start", 0, 0, INT64_MAX));
    info_.uri = uri.text;
    info_.driver = "virtual";
    info_.name = "palmvein virtual NIR palm sensor";
    info_.serial = uri.get("serial").value_or("VIRTUAL-" + std::to_string(id_.palm) + std::string(to_string(id_.hand)));
    info_.firmware = "synthetic-1";
    palm_.emplace(id_, settings_.width, settings_.height);
  }

  SensorInfo info() const override { return info_; }

  SensorCapabilities capabilities() const override {
    SensorCapabilities caps;
    caps.width = settings_.width;
    caps.height = settings_.height;
    caps.bit_depth = 8;
    caps.wavelengths_nm = {850, 940};
    caps.illumination_levels = kSyntheticIlluminationLevels;
    caps.exposure_min_us = kSyntheticExposureMinUs;
    caps.exposure_max_us = kSyntheticExposureMaxUs;
    caps.max_fps = fps_ > 0 ? fps_ : 1000;
    return caps;
  }

  void start() override {
    check_present();
    gate_.clear();
    std::lock_guard lock(mutex_);
    if (streaming_) return;
    streaming_ = true;
    clock_start_ = WaitGate::Clock::now();
    frames_since_start_ = 0;
  }

  void stop() override {
    std::lock_guard lock(mutex_);
    streaming_ = false;
  }

  Frame grab(std::chrono::milliseconds timeout) override {
    const auto deadline = WaitGate::deadline_after(timeout);
    check_present();
    SyntheticFrameSettings settings;
    std::uint64_t index = 0;
    WaitGate::Clock::time_point due;
    {
      std::lock_guard lock(mutex_);
      if (!streaming_) throw DeviceError(DeviceFault::Io, "virtual sensor: grab() called before start()");
      settings = settings_;
      index = next_index_;
      due = fps_ > 0 ? clock_start_ + std::chrono::duration_cast<WaitGate::Clock::duration>(
                                          std::chrono::duration<double>(frames_since_start_ / fps_))
                     : WaitGate::Clock::time_point::min();
    }
    const std::uint64_t delivered = index - first_index_;
    if (fault_ != Fault::None && delivered >= fault_after_) {
      if (fault_ == Fault::Unplug) {
        removed_ = true;
        throw DeviceError(DeviceFault::Removed, "virtual sensor: device removed (injected unplug after " +
                                                    std::to_string(fault_after_) + " frames)");
      }
      gate_.wait(WaitGate::Clock::time_point::max(), deadline, "virtual sensor");
      throw DeviceError(DeviceFault::Timeout, "virtual sensor: no frame within " + std::to_string(timeout.count()) +
                                                  " ms (injected timeout)");
    }
    if (!gate_.wait(due, deadline, "virtual sensor"))
      throw DeviceError(DeviceFault::Timeout,
                        "virtual sensor: no frame within " + std::to_string(timeout.count()) + " ms");
    Frame frame;
    frame.image = palm_->render(index, settings);
    frame.timestamp = WaitGate::Clock::now();
    frame.counter = index;
    frame.exposure_us = settings.exposure_us;
    frame.gain = settings.gain;
    const bool use_850 = settings.illumination_850 > settings.illumination_940;
    frame.illumination_level = use_850 ? settings.illumination_850 : settings.illumination_940;
    frame.wavelength_nm = use_850 ? 850 : 940;
    std::lock_guard lock(mutex_);
    ++next_index_;
    ++frames_since_start_;
    // A consumer slower than the frame rate gets the newest frame, not a backlog (like a camera).
    if (fps_ > 0) {
      const double behind = std::chrono::duration<double>(WaitGate::Clock::now() - clock_start_).count() * fps_;
      if (behind > frames_since_start_ + 1) frames_since_start_ = static_cast<std::uint64_t>(behind);
    }
    return frame;
  }

  void cancel() override { gate_.cancel(); }

  void set_illumination(int wavelength_nm, int level) override {
    check_present();
    if (wavelength_nm != 850 && wavelength_nm != 940)
      throw DeviceError(DeviceFault::Unsupported,
                        "virtual sensor has 850 and 940 nm illumination, not " + std::to_string(wavelength_nm) + " nm");
    if (level < 0 || level >= kSyntheticIlluminationLevels)
      throw InvalidArgument("virtual sensor: illumination level " + std::to_string(level) + " is outside 0.." +
                            std::to_string(kSyntheticIlluminationLevels - 1));
    std::lock_guard lock(mutex_);
    (wavelength_nm == 850 ? settings_.illumination_850 : settings_.illumination_940) = level;
  }

  void set_exposure(std::uint32_t exposure_us, float gain) override {
    check_present();
    if (exposure_us < kSyntheticExposureMinUs || exposure_us > kSyntheticExposureMaxUs || !(gain >= 1 && gain <= 16))
      throw InvalidArgument("virtual sensor: exposure " + std::to_string(exposure_us) + " us / gain " +
                            std::to_string(gain) + " outside " + std::to_string(kSyntheticExposureMinUs) + ".." +
                            std::to_string(kSyntheticExposureMaxUs) + " us / 1..16");
    std::lock_guard lock(mutex_);
    settings_.exposure_us = exposure_us;
    settings_.gain = gain;
  }

 private:
  void check_present() const {
    if (removed_) throw DeviceError(DeviceFault::Removed, "virtual sensor: device was removed; reopen it");
  }

  SensorInfo info_;
  SyntheticPalmId id_;
  std::optional<SyntheticPalm> palm_;
  double fps_ = kDefaultFps;
  Fault fault_ = Fault::None;
  std::uint64_t fault_after_ = 0;
  std::uint64_t first_index_ = 0;
  std::atomic<bool> removed_{false};
  WaitGate gate_;
  mutable std::mutex mutex_;  // guards the fields below against set_*() racing a grab()
  SyntheticFrameSettings settings_;
  bool streaming_ = false;
  std::uint64_t next_index_ = 0;
  std::uint64_t frames_since_start_ = 0;
  WaitGate::Clock::time_point clock_start_{};
};

}  // namespace

std::unique_ptr<Sensor> open_virtual(const SensorUri& uri) { return std::make_unique<VirtualSensor>(uri); }

std::vector<SensorInfo> enumerate_virtual() {
  SensorInfo info;
  info.uri = "virtual:";
  info.driver = "virtual";
  info.name = "palmvein virtual NIR palm sensor";
  info.serial = "VIRTUAL-1L";
  info.firmware = "synthetic-1";
  return {info};
}

}  // namespace palmvein::drivers

// SPDX-License-Identifier: Apache-2.0
// The virtual sensor: deterministic synthetic frames, timeouts, cancel, injected faults, controls,
// auto-exposure and callback streaming.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <thread>

#include "palmvein/auto_exposure.hpp"
#include "palmvein/sensor.hpp"
#include "palmvein/synthetic.hpp"

using namespace palmvein;
using namespace std::chrono_literals;

namespace {

constexpr auto kLong = 10s;  // generous upper bounds: these tests check behaviour, not speed

std::vector<Image> grab_n(const std::string& uri, int n) {
  auto sensor = open_sensor(uri);
  sensor->start();
  std::vector<Image> frames;
  for (int i = 0; i < n; ++i) frames.push_back(sensor->grab(kLong).image);
  sensor->stop();
  return frames;
}

double mean_abs_diff(const Image& a, const Image& b) {
  EXPECT_EQ(a.width(), b.width());
  EXPECT_EQ(a.height(), b.height());
  double sum = 0;
  for (int y = 0; y < a.height(); ++y)
    for (int x = 0; x < a.width(); ++x) sum += std::abs(int(a.row8(y)[x]) - int(b.row8(y)[x]));
  return sum / (double(a.width()) * a.height());
}

double mean(const Image& a) {
  double sum = 0;
  for (int y = 0; y < a.height(); ++y)
    for (int x = 0; x < a.width(); ++x) sum += a.row8(y)[x];
  return sum / (double(a.width()) * a.height());
}

template <typename F>
DeviceFault fault_of(F&& f) {
  try {
    f();
  } catch (const DeviceError& e) {
    return e.fault();
  }
  ADD_FAILURE() << "no DeviceError thrown";
  return DeviceFault::Io;
}

}  // namespace

TEST(VirtualSensor, SameUriAndIndexGiveIdenticalPixels) {
  const auto a = grab_n("virtual:?palm=42&hand=L&fps=0", 3);
  const auto b = grab_n("virtual:?palm=42&hand=L&fps=0", 3);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(a[i] == b[i]) << "frame " << i;
  // Captures differ from each other (pose, noise), and the renderer API gives the same frames.
  EXPECT_FALSE(a[0] == a[1]);
  SyntheticPalm palm({42, Hand::Left, 0}, 640, 480);
  EXPECT_TRUE(palm.render(2, SyntheticFrameSettings{}) == a[2]);
  // start= skips to a capture index.
  EXPECT_TRUE(grab_n("virtual:?palm=42&fps=0&start=2", 1)[0] == a[2]);
}

TEST(VirtualSensor, SamePalmKeepsItsVeinsDifferentPalmsDiffer) {
  // Without pose variation and noise, two captures of one palm are the same image; another palm or
  // the other hand of the same person is clearly different.
  const std::string still = "&fps=0&vary=0&noise=0&blur=0";
  const auto same = grab_n("virtual:?palm=7" + still, 2);
  EXPECT_LT(mean_abs_diff(same[0], same[1]), 0.01);
  const auto other = grab_n("virtual:?palm=8" + still, 1);
  const auto right = grab_n("virtual:?palm=7&hand=R" + still, 1);
  const auto reseeded = grab_n("virtual:?palm=7&seed=5" + still, 1);
  EXPECT_GT(mean_abs_diff(same[0], other[0]), 5.0);
  EXPECT_GT(mean_abs_diff(same[0], right[0]), 5.0);
  EXPECT_GT(mean_abs_diff(same[0], reseeded[0]), 5.0);
  // With the default variation, captures of one palm differ (pose) but stay closer to each other in
  // brightness statistics than to an empty frame.
  const auto empty = grab_n("virtual:?empty=1&fps=0", 1);
  EXPECT_LT(mean(empty[0]), 25.0);
  EXPECT_GT(mean(same[0]), 2 * mean(empty[0]));
}

TEST(VirtualSensor, FrameSizeAndCapabilities) {
  auto sensor = open_sensor("virtual:?width=320&height=240&fps=0");
  const auto caps = sensor->capabilities();
  EXPECT_EQ(caps.width, 320);
  EXPECT_EQ(caps.height, 240);
  EXPECT_EQ(caps.wavelengths_nm, (std::vector<int>{850, 940}));
  EXPECT_GT(caps.illumination_levels, 1);
  EXPECT_EQ(sensor->info().driver, "virtual");
  sensor->start();
  const Frame f = sensor->grab(kLong);
  EXPECT_EQ(f.image.width(), 320);
  EXPECT_EQ(f.image.height(), 240);
  EXPECT_EQ(f.counter, 0u);
  EXPECT_EQ(sensor->grab(kLong).counter, 1u);
}

TEST(VirtualSensor, GrabBeforeStartIsAnError) {
  auto sensor = open_sensor("virtual:");
  EXPECT_EQ(fault_of([&] { sensor->grab(1s); }), DeviceFault::Io);
}

TEST(VirtualSensor, GrabHonoursItsTimeout) {
  auto sensor = open_sensor("virtual:?fps=0.5");  // one frame every 2 s
  sensor->start();
  sensor->grab(kLong);  // the first frame is due at once
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(fault_of([&] { sensor->grab(30ms); }), DeviceFault::Timeout);
  const auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(waited, 30ms);
  EXPECT_LT(waited, 1900ms);  // returned at the timeout, not at the next frame
}

TEST(VirtualSensor, CancelFromAnotherThreadUnblocksGrab) {
  auto sensor = open_sensor("virtual:?fps=0.1");  // next frame in 10 s
  sensor->start();
  sensor->grab(kLong);
  std::thread canceller([&] {
    std::this_thread::sleep_for(50ms);
    sensor->cancel();
  });
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(fault_of([&] { sensor->grab(60s); }), DeviceFault::Cancelled);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 9s);
  canceller.join();
  // A cancel with nobody waiting cancels the next grab (never lost in a race), then it is spent.
  sensor->cancel();
  EXPECT_EQ(fault_of([&] { sensor->grab(60s); }), DeviceFault::Cancelled);
  EXPECT_EQ(fault_of([&] { sensor->grab(20ms); }), DeviceFault::Timeout);
}

TEST(VirtualSensor, InjectedTimeout) {
  auto sensor = open_sensor("virtual:?fault=timeout&fault_after=2&fps=0");
  sensor->start();
  sensor->grab(kLong);
  sensor->grab(kLong);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(fault_of([&] { sensor->grab(40ms); }), DeviceFault::Timeout);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  // The injected timeout is also cancellable.
  sensor->cancel();
  EXPECT_EQ(fault_of([&] { sensor->grab(60s); }), DeviceFault::Cancelled);
}

TEST(VirtualSensor, InjectedUnplugIsRemovedUntilReopened) {
  auto sensor = open_sensor("virtual:?fault=unplug&fault_after=1&fps=0");
  sensor->start();
  sensor->grab(kLong);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(fault_of([&] { sensor->grab(60s); }), DeviceFault::Removed);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  EXPECT_EQ(fault_of([&] { sensor->grab(1s); }), DeviceFault::Removed);
  EXPECT_EQ(fault_of([&] { sensor->set_exposure(1000, 1); }), DeviceFault::Removed);
  EXPECT_EQ(fault_of([&] { sensor->start(); }), DeviceFault::Removed);
}

TEST(VirtualSensor, InjectedBusyFailsOpen) {
  EXPECT_EQ(fault_of([&] { open_sensor("virtual:?fault=busy"); }), DeviceFault::Busy);
}

TEST(VirtualSensor, ExposureAndIlluminationChangeTheImage) {
  auto sensor = open_sensor("virtual:?fps=0&vary=0&noise=0&blur=0");
  sensor->start();
  const double normal = mean(sensor->grab(kLong).image);
  sensor->set_exposure(2000, 1);
  const Frame half = sensor->grab(kLong);
  EXPECT_EQ(half.exposure_us, 2000u);
  EXPECT_NEAR(mean(half.image), normal / 2, normal * 0.08);
  sensor->set_exposure(2000, 2);
  EXPECT_NEAR(mean(sensor->grab(kLong).image), normal, normal * 0.08);
  sensor->set_illumination(940, 0);
  EXPECT_LT(mean(sensor->grab(kLong).image), normal * 0.1);
  sensor->set_illumination(850, 7);
  const Frame nir850 = sensor->grab(kLong);
  EXPECT_EQ(nir850.wavelength_nm, 850);
  EXPECT_GT(mean(nir850.image), normal * 0.5);
  EXPECT_EQ(fault_of([&] { sensor->set_illumination(760, 3); }), DeviceFault::Unsupported);
  EXPECT_THROW(sensor->set_illumination(940, 99), InvalidArgument);
  EXPECT_THROW(sensor->set_exposure(1, 1), InvalidArgument);
}

TEST(VirtualSensor, AutoExposureConvergesFromDarkAndFromBright) {
  for (const char* start : {"exposure=300", "exposure=30000", "exposure=4000&illum=2"}) {
    auto sensor = open_sensor(std::string("virtual:?fps=0&palm=3&") + start);
    sensor->start();
    AutoExposureOptions options;
    const AutoExposureResult result = run_auto_exposure(*sensor, options);
    EXPECT_TRUE(result.converged) << start << ": median " << result.last.median << " after " << result.iterations;
    EXPECT_LE(result.iterations, options.max_iterations);
    // A fresh frame at the chosen exposure is well exposed (up to the capture-to-capture variation of
    // distance and skin brightness, which the virtual sensor simulates).
    const ExposureMeasurement m = measure_exposure(sensor->grab(kLong).image);
    EXPECT_TRUE(m.palm_found) << start;
    EXPECT_NEAR(m.median, options.target, options.target * 0.35) << start;
    EXPECT_LE(m.saturated, 0.05) << start;
  }
}

TEST(VirtualSensor, AutoExposureNeedsExposureControl) {
  AutoExposureOptions bad;
  bad.target = 1000;
  EXPECT_THROW(bad.check(), InvalidArgument);
}

TEST(VirtualSensor, FrameStreamDeliversFramesAndStops) {
  auto sensor = open_sensor("virtual:?fps=200&width=160&height=120");
  sensor->start();
  std::atomic<int> frames{0};
  std::atomic<int> errors{0};
  {
    FrameStream stream(*sensor, [&](Frame&&) { ++frames; }, [&](const DeviceError&) { ++errors; });
    const auto until = std::chrono::steady_clock::now() + kLong;
    while (frames < 5 && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(5ms);
    stream.stop();
    EXPECT_FALSE(stream.running());
  }
  EXPECT_GE(frames.load(), 5);
  EXPECT_EQ(errors.load(), 0);  // stop() is not an error
}

TEST(VirtualSensor, FrameStreamReportsRemoval) {
  auto sensor = open_sensor("virtual:?fps=0&width=160&height=120&fault=unplug&fault_after=3");
  sensor->start();
  std::atomic<int> frames{0};
  std::atomic<int> removed{0};
  FrameStream stream(*sensor, [&](Frame&&) { ++frames; },
                     [&](const DeviceError& e) { removed += e.fault() == DeviceFault::Removed; });
  const auto until = std::chrono::steady_clock::now() + kLong;
  while (stream.running() && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(frames.load(), 3);
  EXPECT_EQ(removed.load(), 1);
}

TEST(SyntheticPalm, RejectsBadSettings) {
  EXPECT_THROW(SyntheticPalm({1, Hand::Unknown, 0}, 640, 480), InvalidArgument);
  EXPECT_THROW(SyntheticPalm({1, Hand::Left, 0}, 10, 10), InvalidArgument);
  SyntheticPalm palm({1, Hand::Left, 0}, 320, 240);
  SyntheticFrameSettings s;  // 640x480: not what the palm was built for
  EXPECT_THROW(palm.render(0, s), InvalidArgument);
  s.width = 320;
  s.height = 240;
  s.variation.rotate_deg = -1;
  EXPECT_THROW(palm.render(0, s), InvalidArgument);
}

TEST(VirtualSensor, AutoExposureDoesNotChaseAnEmptySensor) {
  auto sensor = open_sensor("virtual:?fps=0&empty=1");
  sensor->start();
  const AutoExposureResult result = run_auto_exposure(*sensor);
  EXPECT_FALSE(result.converged);
  EXPECT_FALSE(result.last.palm_found);
}

TEST(VirtualSensor, HugeTimeoutsDoNotOverflow) {
  auto sensor = open_sensor("virtual:?fps=0&width=160&height=120");
  sensor->start();
  EXPECT_EQ(sensor->grab(std::chrono::milliseconds::max()).counter, 0u);
  EXPECT_EQ(sensor->grab(std::chrono::milliseconds(-5)).counter, 1u);  // a frame that is due needs no wait
}

TEST(VirtualSensor, AThrowingFrameCallbackEndsTheStreamNotTheProcess) {
  auto sensor = open_sensor("virtual:?fps=0&width=160&height=120");
  sensor->start();
  std::atomic<int> errors{0};
  FrameStream stream(*sensor, [](Frame&&) { throw std::runtime_error("consumer failed"); },
                     [&](const DeviceError& e) { errors += e.fault() == DeviceFault::Io; });
  const auto until = std::chrono::steady_clock::now() + kLong;
  while (stream.running() && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(errors.load(), 1);
}

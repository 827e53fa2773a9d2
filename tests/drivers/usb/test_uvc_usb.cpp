// SPDX-License-Identifier: Apache-2.0
// The UVC driver (libuvc on libusb) against an emulated UVC camera, over bulk and isochronous
// endpoints, in GRAY8, YUYV and MJPEG; no hardware.
#include <gtest/gtest.h>

#include <thread>

#include "uvc/uvc_sensor.hpp"
#include "uvc_firmware.hpp"

namespace palmvein::testing {
namespace {

using namespace std::chrono_literals;
constexpr auto kGrab = 3000ms;

DeviceFault fault_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const DeviceError& e) {
    return e.fault();
  }
  ADD_FAILURE() << "no DeviceError thrown";
  return DeviceFault::Io;
}

std::unique_ptr<Sensor> open(const std::string& format, const std::string& path = "1209:000b") {
  drivers::UvcOptions o;
  o.format = format;
  o.control_timeout = 300ms;
  return drivers::open_uvc(path, "uvc:" + path, o);
}

struct Case {
  bool iso;
  std::string format;
};

class UvcStreaming : public ::testing::TestWithParam<Case> {};

TEST_P(UvcStreaming, FramesArrivePixelForPixel) {
  UsbTestbed bed;
  auto camera = std::make_shared<UvcFirmware>(GetParam().iso, /*with_illumination=*/true);
  bed.plug(camera->spec(), camera);
  auto sensor = open(GetParam().format);
  EXPECT_EQ(sensor->info().uri, "uvc:1209:000b:CAM42");
  EXPECT_EQ(sensor->info().driver, "uvc");
  EXPECT_EQ(sensor->capabilities().width, UvcFirmware::kWidth);
  EXPECT_EQ(sensor->capabilities().height, UvcFirmware::kHeight);
  sensor->start();
  for (int i = 0; i < 4; ++i) {
    const Frame f = sensor->grab(kGrab);
    const auto n = static_cast<std::uint32_t>(f.counter);  // frames assembled since start = device frame index
    const Image expected = GetParam().format == "mjpeg" ? decode_image(UvcFirmware::jpeg(n)).to_gray8()
                                                        : UvcFirmware::expected_gray(n);
    ASSERT_TRUE(f.image == expected) << "frame " << n;
  }
  {
    auto lock = camera->lock();
    EXPECT_EQ(camera->committed_format, GetParam().format == "gray8" ? 1 : GetParam().format == "yuyv" ? 2 : 3);
    EXPECT_EQ(camera->alt_setting, GetParam().iso ? 1 : 0);  // isochronous streams on alternate setting 1
  }
  sensor->stop();
}

INSTANTIATE_TEST_SUITE_P(BulkAndIso, UvcStreaming,
                         ::testing::Values(Case{false, "gray8"}, Case{false, "yuyv"}, Case{false, "mjpeg"},
                                           Case{true, "gray8"}, Case{true, "yuyv"}, Case{true, "mjpeg"}),
                         [](const auto& info) { return (info.param.iso ? "iso_" : "bulk_") + info.param.format; });

class UvcTest : public ::testing::Test {
 protected:
  void plug(bool iso, bool illumination) {
    camera = std::make_shared<UvcFirmware>(iso, illumination);
    device = bed.plug(camera->spec(), camera);
  }
  UsbTestbed bed;
  std::shared_ptr<UvcFirmware> camera;
  int device = -1;
};

TEST_F(UvcTest, AutoPicksGray8AndEnumerateListsTheCamera) {
  plug(false, false);
  const auto found = drivers::enumerate_uvc();
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].uri, "uvc:1209:000b:CAM42");
  auto sensor = open("auto", "1209:000b:CAM42");
  sensor->start();
  sensor->grab(kGrab);
  auto lock = camera->lock();
  EXPECT_EQ(camera->committed_format, 1);
}

TEST_F(UvcTest, RegistryOpensUvcUrisWithAFormat) {
  plug(true, false);
  auto sensor = open_sensor("uvc:1209:000b:CAM42?format=yuyv");
  EXPECT_EQ(sensor->info().driver, "uvc");
  sensor->start();
  const Frame f = sensor->grab(kGrab);
  EXPECT_TRUE(f.image == UvcFirmware::expected_gray(static_cast<std::uint32_t>(f.counter)));
  {
    auto lock = camera->lock();
    EXPECT_EQ(camera->committed_format, 2);
  }
  sensor.reset();
  EXPECT_THROW(open_sensor("uvc:1209:000b?format=rgb"), InvalidArgument);
  EXPECT_THROW(open_sensor("uvc:1209:000b?width=80"), InvalidArgument);
}

TEST_F(UvcTest, ExposureGainAndIlluminationReachTheCamera) {
  plug(false, true);
  auto sensor = open("gray8");
  const auto caps = sensor->capabilities();
  EXPECT_EQ(caps.exposure_min_us, 100u);
  EXPECT_EQ(caps.exposure_max_us, 50000u);
  EXPECT_EQ(caps.wavelengths_nm, (std::vector<int>{850, 940}));
  EXPECT_EQ(caps.illumination_levels, 8);
  sensor->set_exposure(12000, 2.0f);
  sensor->set_illumination(940, 5);
  EXPECT_THROW(sensor->set_illumination(940, 8), InvalidArgument);
  EXPECT_THROW(sensor->set_exposure(60000, 1.0f), InvalidArgument);
  auto lock = camera->lock();
  EXPECT_EQ(camera->ae_mode, 1);
  EXPECT_EQ(camera->exposure_100us, 120u);
  EXPECT_EQ(camera->gain, 200);
  EXPECT_EQ(camera->wavelength_nm, 940);
  EXPECT_EQ(camera->level, 5);
}

TEST_F(UvcTest, IlluminationWithoutTheExtensionUnitIsUnsupported) {
  plug(true, false);
  auto sensor = open("gray8");
  EXPECT_TRUE(sensor->capabilities().wavelengths_nm.empty());
  EXPECT_EQ(fault_of([&] { sensor->set_illumination(850, 1); }), DeviceFault::Unsupported);
}

TEST_F(UvcTest, ShortAndCorruptFramesAreDropped) {
  plug(false, false);
  {
    auto lock = camera->lock();
    camera->short_frames = {{1, true}, {2, true}};
  }
  auto gray = open("gray8");
  gray->start();
  for (int i = 0; i < 3; ++i) {
    const Frame f = gray->grab(kGrab);
    EXPECT_NE(f.counter, 1u);  // frames 1 and 2 were short
    EXPECT_NE(f.counter, 2u);
    ASSERT_TRUE(f.image == UvcFirmware::expected_gray(static_cast<std::uint32_t>(f.counter)));
  }
}

TEST_F(UvcTest, CorruptJpegIsDropped) {
  plug(true, false);
  {
    auto lock = camera->lock();
    camera->short_frames = {{0, true}};  // a truncated JPEG does not decode
  }
  auto sensor = open("mjpeg");
  sensor->start();
  const Frame f = sensor->grab(kGrab);
  EXPECT_GE(f.counter, 1u);  // frame 0 was a truncated JPEG
  ASSERT_TRUE(f.image == decode_image(UvcFirmware::jpeg(static_cast<std::uint32_t>(f.counter))).to_gray8());
}

TEST_F(UvcTest, TimeoutCancelBusyAndNotFound) {
  plug(false, false);
  auto sensor = open("gray8");
  EXPECT_EQ(fault_of([&] { open("gray8"); }), DeviceFault::Busy);
  EXPECT_EQ(fault_of([&] { open("gray8", "1209:000b:NOPE"); }), DeviceFault::NotFound);
  {
    auto lock = camera->lock();
    camera->hang = true;
  }
  sensor->start();
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(fault_of([&] { sensor->grab(150ms); }), DeviceFault::Timeout);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
  std::thread canceller([&] {
    std::this_thread::sleep_for(100ms);
    sensor->cancel();
  });
  EXPECT_EQ(fault_of([&] { sensor->grab(10s); }), DeviceFault::Cancelled);
  canceller.join();
  {
    auto lock = camera->lock();
    camera->hang = false;
  }
  EXPECT_NO_THROW(sensor->grab(kGrab));
  sensor.reset();
  auto again = open("gray8");  // the next open succeeds
}

TEST_F(UvcTest, UnplugMidStreamIsRemovedAndReplugReopens) {
  plug(true, false);
  auto sensor = open("gray8");
  sensor->start();
  EXPECT_NO_THROW(sensor->grab(kGrab));
  std::thread unplugger([&] {
    std::this_thread::sleep_for(100ms);
    bed.unplug(device);
  });
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(fault_of([&] {
              for (;;) sensor->grab(5s);
            }),
            DeviceFault::Removed);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
  unplugger.join();
  EXPECT_EQ(fault_of([&] { sensor->grab(kGrab); }), DeviceFault::Removed);
  sensor.reset();
  plug(true, false);
  auto again = open("gray8");
  again->start();
  const Frame f = again->grab(kGrab);
  EXPECT_TRUE(f.image == UvcFirmware::expected_gray(static_cast<std::uint32_t>(f.counter)));
}

}  // namespace
}  // namespace palmvein::testing

int main(int argc, char** argv) {
  {
    palmvein::testing::UsbTestbed probe;
    if (!probe.available()) {
      std::fprintf(stderr, "SKIP: umockdev preload is not active, USB emulation unavailable\n");
      return 77;
    }
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}

// SPDX-License-Identifier: Apache-2.0
// The MyID USB driver against the emulated device: real libusb, no hardware.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <chrono>
#include <thread>

#include <unistd.h>

#include "myid_firmware.hpp"
#include "myid_usb/myid_sensor.hpp"
#include "myid_usb/usb_hotplug.hpp"

namespace palmvein::testing {
namespace {

using namespace std::chrono_literals;
using drivers::open_myid_usb;

constexpr auto kGrab = 2000ms;

drivers::MyIdOptions fast_options() {
  drivers::MyIdOptions o;
  o.control_timeout = 300ms;
  o.bulk_timeout = 300ms;
  return o;
}

std::unique_ptr<Sensor> open(std::string_view path = "1209:000a") {
  return open_myid_usb(path, "usb:" + std::string(path), fast_options());
}

DeviceFault fault_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const DeviceError& e) {
    return e.fault();
  }
  ADD_FAILURE() << "no DeviceError thrown";
  return DeviceFault::Io;
}

class MyIdUsbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    firmware = std::make_shared<MyIdFirmware>();
    device = bed.plug(MyIdFirmware::spec(), firmware);
  }
  UsbTestbed bed;
  std::shared_ptr<MyIdFirmware> firmware;
  int device = -1;
};

TEST_F(MyIdUsbTest, EnumerateListsTheSensorWithItsSerial) {
  const auto found = drivers::enumerate_myid_usb();
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].uri, "usb:1209:000a:SN0001");
  EXPECT_EQ(found[0].driver, "myid-usb");
  EXPECT_EQ(found[0].serial, "SN0001");
  EXPECT_EQ(found[0].name, "MyID Palm (test id)");
}

TEST_F(MyIdUsbTest, OpenReadsInfoFirmwareAndCapabilities) {
  auto sensor = open("1209:000a:SN0001");
  const SensorInfo info = sensor->info();
  EXPECT_EQ(info.uri, "usb:1209:000a:SN0001");
  EXPECT_EQ(info.firmware, "1.4.2");
  EXPECT_EQ(info.name, "MyID Palm M1 (emulated)");
  const SensorCapabilities caps = sensor->capabilities();
  EXPECT_EQ(caps.width, 96);
  EXPECT_EQ(caps.height, 64);
  EXPECT_EQ(caps.bit_depth, 8);
  EXPECT_EQ(caps.wavelengths_nm, (std::vector<int>{850, 940}));
  EXPECT_EQ(caps.illumination_levels, 16);
  EXPECT_EQ(caps.exposure_max_us, 20000u);
  EXPECT_DOUBLE_EQ(caps.max_fps, 30.0);
}

TEST_F(MyIdUsbTest, CapturesFramesPixelForPixel) {
  auto sensor = open();
  sensor->set_illumination(940, 7);
  sensor->set_exposure(8000, 2.5f);
  sensor->start();
  for (std::uint32_t i = 0; i < 8; ++i) {
    const Frame frame = sensor->grab(kGrab);
    EXPECT_EQ(frame.counter, i);
    EXPECT_EQ(frame.wavelength_nm, 940);
    EXPECT_EQ(frame.illumination_level, 7);
    EXPECT_EQ(frame.exposure_us, 8000u);
    EXPECT_FLOAT_EQ(frame.gain, 2.5f);
    ASSERT_TRUE(frame.image == firmware->expected_image(i)) << "frame " << i << " differs";
  }
  sensor->stop();
  sensor->stop();  // twice is fine
  auto lock = firmware->lock();
  EXPECT_FALSE(firmware->streaming);
  EXPECT_EQ(firmware->wavelength_nm, 940);
  EXPECT_EQ(firmware->level, 7);
  EXPECT_EQ(firmware->gain_q8, 640);
}

TEST(MyIdUsb16Bit, CapturesSixteenBitFramesPixelForPixel) {
  UsbTestbed bed;
  auto firmware = std::make_shared<MyIdFirmware>(/*sixteen_bit=*/true);
  bed.plug(MyIdFirmware::spec(), firmware);
  auto sensor = open();
  EXPECT_EQ(sensor->capabilities().bit_depth, 12);
  sensor->start();
  for (std::uint32_t i = 0; i < 3; ++i) {
    const Frame frame = sensor->grab(kGrab);
    EXPECT_EQ(frame.image.format(), PixelFormat::Gray16);
    EXPECT_EQ(frame.image.significant_bits(), 12);
    ASSERT_TRUE(frame.image == firmware->expected_image(i));
  }
}

TEST_F(MyIdUsbTest, StallIsAProtocolErrorAndTheDeviceStaysUsable) {
  auto sensor = open();
  {
    auto lock = firmware->lock();
    firmware->stall_requests.insert(0x10);
  }
  EXPECT_EQ(fault_of([&] { sensor->set_illumination(850, 3); }), DeviceFault::Protocol);
  {
    auto lock = firmware->lock();
    firmware->stall_requests.clear();
  }
  sensor->set_illumination(850, 3);
  sensor->start();
  EXPECT_TRUE(sensor->grab(kGrab).image == firmware->expected_image(0));
}

TEST_F(MyIdUsbTest, StalledFrameEndpointIsAProtocolError) {
  auto sensor = open();
  sensor->start();
  {
    auto lock = firmware->lock();
    firmware->stall_bulk = true;
  }
  EXPECT_EQ(fault_of([&] { sensor->grab(kGrab); }), DeviceFault::Protocol);
  {
    auto lock = firmware->lock();
    firmware->stall_bulk = false;
  }
  EXPECT_NO_THROW(sensor->grab(kGrab));  // halt was cleared
}

TEST_F(MyIdUsbTest, OutOfRangeValuesAreRejectedBeforeTheWire) {
  auto sensor = open();
  EXPECT_THROW(sensor->set_illumination(780, 1), InvalidArgument);
  EXPECT_THROW(sensor->set_illumination(850, 16), InvalidArgument);
  EXPECT_THROW(sensor->set_exposure(50, 1.0f), InvalidArgument);
  EXPECT_EQ(fault_of([&] { sensor->grab(kGrab); }), DeviceFault::Io);  // not started
}

TEST_F(MyIdUsbTest, NoFramesTimesOutWithinTheTimeoutAndRecovers) {
  auto sensor = open();
  sensor->start();
  {
    auto lock = firmware->lock();
    firmware->hang_bulk = true;
  }
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(fault_of([&] { sensor->grab(150ms); }), DeviceFault::Timeout);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
  {
    auto lock = firmware->lock();
    firmware->hang_bulk = false;
  }
  EXPECT_TRUE(sensor->grab(kGrab).image == firmware->expected_image(0));
}

TEST_F(MyIdUsbTest, CorruptShortAndForeignFramesAreDroppedAndTheStreamResynchronises) {
  {
    auto lock = firmware->lock();
    firmware->frame_faults = {{1, FrameFault::Corrupt},
                              {3, FrameFault::Short},
                              {4, FrameFault::Garbage},
                              {6, FrameFault::BadVersion}};
  }
  auto sensor = open();
  sensor->start();
  std::vector<std::uint64_t> counters;
  for (int i = 0; i < 4; ++i) {
    const Frame f = sensor->grab(kGrab);
    counters.push_back(f.counter);
    ASSERT_TRUE(f.image == firmware->expected_image(static_cast<std::uint32_t>(f.counter))) << "frame " << f.counter;
  }
  EXPECT_EQ(counters, (std::vector<std::uint64_t>{0, 2, 4, 5}));
}

TEST_F(MyIdUsbTest, CancelFromAnotherThreadWakesGrab) {
  auto sensor = open();
  sensor->start();
  {
    auto lock = firmware->lock();
    firmware->hang_bulk = true;
  }
  std::thread canceller([&] {
    std::this_thread::sleep_for(100ms);
    sensor->cancel();
  });
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(fault_of([&] { sensor->grab(10s); }), DeviceFault::Cancelled);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  canceller.join();
  {
    auto lock = firmware->lock();
    firmware->hang_bulk = false;
  }
  EXPECT_NO_THROW(sensor->grab(kGrab));  // the next grab works
}

TEST_F(MyIdUsbTest, SecondOpenIsBusyUntilTheFirstCloses) {
  auto first = open();
  EXPECT_EQ(fault_of([&] { open(); }), DeviceFault::Busy);
  first.reset();
  auto second = open();
  second->start();
  EXPECT_NO_THROW(second->grab(kGrab));
}

TEST_F(MyIdUsbTest, UnplugMidStreamEndsTheStreamAndReplugReopens) {
  auto sensor = open();
  sensor->start();
  EXPECT_NO_THROW(sensor->grab(kGrab));
  {
    auto lock = firmware->lock();
    firmware->hang_bulk = true;  // a transfer is pending when the cable goes
  }
  std::thread unplugger([&] {
    std::this_thread::sleep_for(100ms);
    bed.unplug(device);
  });
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(fault_of([&] { sensor->grab(5s); }), DeviceFault::Removed);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  unplugger.join();
  EXPECT_EQ(fault_of([&] { sensor->grab(kGrab); }), DeviceFault::Removed);  // stays dead
  EXPECT_EQ(fault_of([&] { sensor->set_exposure(1000, 1.0f); }), DeviceFault::Removed);
  EXPECT_EQ(fault_of([&] { open(); }), DeviceFault::NotFound);
  sensor.reset();  // closing a dead sensor is clean

  auto replugged = std::make_shared<MyIdFirmware>();
  bed.plug(MyIdFirmware::spec(), replugged);
  auto again = open("1209:000a:SN0001");
  again->start();
  EXPECT_TRUE(again->grab(kGrab).image == replugged->expected_image(0));
}

TEST_F(MyIdUsbTest, RegistryOpensUsbUrisAndListsTheSensor) {
  const auto all = enumerate_sensors();
  const bool listed = std::any_of(all.begin(), all.end(), [](const SensorInfo& s) { return s.uri == "usb:1209:000a:SN0001"; });
  EXPECT_TRUE(listed);
  auto sensor = open_sensor("usb:1209:000a:SN0001?bulk_timeout_ms=200");
  EXPECT_EQ(sensor->info().driver, "myid-usb");
  sensor->start();
  EXPECT_TRUE(sensor->grab(kGrab).image == firmware->expected_image(0));
  EXPECT_THROW(open_sensor("usb:1209:000a?bogus=1"), InvalidArgument);
}

TEST_F(MyIdUsbTest, HotplugWatchReportsArrivalAndRemoval) {
  std::mutex mutex;
  std::condition_variable cv;
  std::vector<std::pair<HotplugEvent, std::string>> events;
  HotplugWatch watch(
      [&](HotplugEvent e, const SensorInfo& s) {
        std::lock_guard lock(mutex);
        if (s.driver == "myid-usb") events.emplace_back(e, s.uri);
        cv.notify_all();
      },
      20ms);
  const auto wait_for = [&](std::size_t n) {
    std::unique_lock lock(mutex);
    return cv.wait_for(lock, 3s, [&] { return events.size() >= n; });
  };
  ASSERT_TRUE(wait_for(1));  // present at start: reported as arrived
  bed.unplug(device);
  ASSERT_TRUE(wait_for(2));
  bed.plug(MyIdFirmware::spec("SN0002"), std::make_shared<MyIdFirmware>());
  ASSERT_TRUE(wait_for(3));
  std::lock_guard lock(mutex);
  EXPECT_EQ(events[0], std::make_pair(HotplugEvent::Arrived, std::string("usb:1209:000a:SN0001")));
  EXPECT_EQ(events[1], std::make_pair(HotplugEvent::Left, std::string("usb:1209:000a:SN0001")));
  EXPECT_EQ(events[2], std::make_pair(HotplugEvent::Arrived, std::string("usb:1209:000a:SN0002")));
}

TEST_F(MyIdUsbTest, NativeHotplugMonitorReportsArrivalRemovalAndReplug) {
  std::mutex mutex;
  std::condition_variable cv;
  std::vector<std::pair<HotplugEvent, std::string>> events;
  drivers::UsbHotplugMonitor monitor([&](HotplugEvent e, const SensorInfo& s) {
    std::lock_guard lock(mutex);
    events.emplace_back(e, s.uri);
    cv.notify_all();
  });
  const auto wait_for = [&](std::size_t n) {
    std::unique_lock lock(mutex);
    return cv.wait_for(lock, 3s, [&] { return events.size() >= n; });
  };
  ASSERT_TRUE(wait_for(1));  // present at start
  bed.unplug(device);
  ASSERT_TRUE(wait_for(2));
  bed.plug(MyIdFirmware::spec("SN0003"), std::make_shared<MyIdFirmware>());
  ASSERT_TRUE(wait_for(3));
  std::lock_guard lock(mutex);
  EXPECT_EQ(events[0], std::make_pair(HotplugEvent::Arrived, std::string("usb:1209:000a:SN0001")));
  EXPECT_EQ(events[1], std::make_pair(HotplugEvent::Left, std::string("usb:1209:000a:SN0001")));
  EXPECT_EQ(events[2], std::make_pair(HotplugEvent::Arrived, std::string("usb:1209:000a:SN0003")));
}

TEST_F(MyIdUsbTest, NoAccessToTheNodeIsAPermissionErrorThatNamesTheFix) {
  if (geteuid() == 0) GTEST_SKIP() << "root ignores file modes";
  bed.deny_access(device);
  try {
    open();
    ADD_FAILURE() << "open succeeded without access";
  } catch (const DeviceError& e) {
    EXPECT_EQ(e.fault(), DeviceFault::Permission);
    EXPECT_NE(std::string(e.what()).find("70-palmvein.rules"), std::string::npos) << e.what();
  }
  bed.deny_access(device, false);
  EXPECT_NO_THROW(open());
}

TEST_F(MyIdUsbTest, WrongIdOrSerialIsNotFoundAndBadUriIsInvalid) {
  EXPECT_EQ(fault_of([&] { open("1209:000c"); }), DeviceFault::NotFound);
  EXPECT_EQ(fault_of([&] { open("1209:000a:OTHER"); }), DeviceFault::NotFound);
  EXPECT_THROW(open("1209"), InvalidArgument);
  EXPECT_THROW(open("xyz:000a"), InvalidArgument);
  EXPECT_THROW(open("1209:000a:"), InvalidArgument);
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

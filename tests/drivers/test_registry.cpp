// SPDX-License-Identifier: Apache-2.0
// URI parsing and dispatch of open_sensor()/enumerate_sensors().
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "palmvein/sensor.hpp"
#include "sensor_uri.hpp"

using namespace palmvein;
using namespace std::chrono_literals;

TEST(SensorUri, ParsesSchemePathAndQuery) {
  const auto u = drivers::parse_sensor_uri("virtual:?palm=42&hand=L&empty");
  EXPECT_EQ(u.scheme, "virtual");
  EXPECT_EQ(u.path, "");
  EXPECT_EQ(u.query.at("palm"), "42");
  EXPECT_EQ(u.query.at("empty"), "1");
  EXPECT_EQ(u.get_int("palm", 0, 0, 100), 42);
  EXPECT_EQ(u.get_int("missing", 7, 0, 100), 7);
  const auto f = drivers::parse_sensor_uri("file:/data/set%20one/MANIFEST.csv?loop=1");
  EXPECT_EQ(f.path, "/data/set one/MANIFEST.csv");
  EXPECT_TRUE(f.get_bool("loop", false));
  const auto usb = drivers::parse_sensor_uri("usb:1209:7a1e:SN0001");
  EXPECT_EQ(usb.scheme, "usb");
  EXPECT_EQ(usb.path, "1209:7a1e:SN0001");
}

TEST(SensorUri, RejectsMalformedUris) {
  for (const char* bad : {"", "virtual", ":palm", "VIRTUAL:", "vir tual:", "virtual:?palm=1&palm=2",
                          "virtual:?=3", "virtual:?a=%zz", "virtual:?a=%4", "virtual:?a&&b", "file:%00"}) {
    EXPECT_THROW(drivers::parse_sensor_uri(bad), InvalidArgument) << "'" << bad << "'";
  }
  const auto u = drivers::parse_sensor_uri("virtual:?palm=abc&fps=1e9");
  EXPECT_THROW(u.get_int("palm", 0, 0, 10), InvalidArgument);
  EXPECT_THROW(u.get_double("fps", 0, 0, 1000), InvalidArgument);
}

TEST(Registry, OpenSensorRejectsMalformedUrisWithInvalidArgument) {
  for (const char* bad : {"", "virtual", "nosuch:thing", "virtual:?palm=-1", "virtual:?palm=x", "virtual:?hand=X",
                          "virtual:?bogus=1", "virtual:?fault=fire", "virtual:path", "virtual:?width=10",
                          "virtual:?fps=5000"}) {
    EXPECT_THROW(open_sensor(bad), InvalidArgument) << "'" << bad << "'";
  }
}

TEST(Registry, UsbSchemesAnswerWithADeviceErrorNotACrash) {
  // Until (or unless) a USB device is present, usb:/uvc: fail as devices: Unsupported where the driver
  // is not built in, NotFound where it is and nothing is plugged in.
  for (const char* uri : {"usb:ffff:fffe", "uvc:ffff:fffe"}) {
    try {
      open_sensor(uri);
      ADD_FAILURE() << uri << " opened";
    } catch (const DeviceError& e) {
      EXPECT_TRUE(e.fault() == DeviceFault::Unsupported || e.fault() == DeviceFault::NotFound ||
                  e.fault() == DeviceFault::Permission)
          << uri << ": " << e.what();
    } catch (const InvalidArgument& e) {
      ADD_FAILURE() << uri << ": " << e.what();
    }
  }
}

TEST(Registry, EnumerateListsTheVirtualSensor) {
  const auto sensors = enumerate_sensors();
  bool found = false;
  for (const auto& s : sensors) found |= s.uri == "virtual:" && s.driver == "virtual";
  EXPECT_TRUE(found);
  // Every listed sensor opens (the virtual one at least, without hardware).
  auto sensor = open_sensor("virtual:");
  EXPECT_EQ(sensor->info().uri, "virtual:");
}

TEST(Registry, HotplugWatchReportsPresentSensors) {
  std::atomic<int> arrived{0};
  {
    HotplugWatch watch([&](HotplugEvent event, const SensorInfo& info) {
      if (event == HotplugEvent::Arrived && info.uri == "virtual:") ++arrived;
    }, 20ms);
    const auto until = std::chrono::steady_clock::now() + 10s;
    while (arrived == 0 && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(5ms);
    std::this_thread::sleep_for(60ms);  // later polls must not report it again
  }
  EXPECT_EQ(arrived.load(), 1);
}

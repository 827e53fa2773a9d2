// SPDX-License-Identifier: Apache-2.0
// URI parsing and dispatch of open_sensor()/enumerate_sensors().
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

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

// --- out-of-tree drivers: register_sensor_driver() ------------------------------------------------

namespace {
// A driver that opens the virtual sensor under another scheme and counts its calls.
struct CountingDriver {
  std::shared_ptr<std::atomic<int>> opened = std::make_shared<std::atomic<int>>(0);
  SensorFactory factory() const {
    return [opened = opened](std::string_view uri) {
      ++*opened;
      EXPECT_TRUE(uri.starts_with("test-drv")) << uri;  // the whole URI, scheme included
      return open_sensor("virtual:?palm=3");
    };
  }
};

SensorEnumerator lists(const std::string& uri) {
  return [uri] { return std::vector<SensorInfo>{{.uri = uri, .driver = "test", .name = "test sensor", .serial = "", .firmware = ""}}; };
}

bool enumerated(const std::string& uri) {
  for (const auto& s : enumerate_sensors())
    if (s.uri == uri) return true;
  return false;
}
}  // namespace

TEST(DriverRegistration, ServesTheSchemeWhileTheHandleLives) {
  CountingDriver driver;
  {
    const auto registration = register_sensor_driver("test-drv1", driver.factory(), lists("test-drv1:"));
    EXPECT_EQ(registration.scheme(), "test-drv1");
    auto sensor = open_sensor("test-drv1:?anything=goes");
    ASSERT_NE(sensor, nullptr);
    sensor->start();
    EXPECT_FALSE(sensor->grab(2s).image.empty());
    EXPECT_EQ(driver.opened->load(), 1);
    EXPECT_TRUE(enumerated("test-drv1:"));
    EXPECT_TRUE(enumerated("virtual:"));  // the built-in drivers are still listed
  }
  EXPECT_FALSE(enumerated("test-drv1:"));
  try {
    open_sensor("test-drv1:");
    ADD_FAILURE() << "an unregistered scheme opened";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("unknown sensor scheme 'test-drv1:'"), std::string::npos) << e.what();
  }
  EXPECT_EQ(driver.opened->load(), 1);
}

TEST(DriverRegistration, RejectsMalformedDuplicateAndBuiltinSchemes) {
  CountingDriver driver;
  for (const char* bad : {"", ":", "Example", "ex ample", "1abc", "-abc", "ex_ample", "ex:ample", "example::"}) {
    try {
      (void)register_sensor_driver(bad, driver.factory());
      ADD_FAILURE() << "'" << bad << "' registered";
    } catch (const InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find("malformed scheme"), std::string::npos) << e.what();
    }
  }
  for (const char* builtin : {"virtual", "file:", "usb", "uvc"}) {
    try {
      (void)register_sensor_driver(builtin, driver.factory());
      ADD_FAILURE() << builtin << " registered";
    } catch (const InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find("built-in"), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW((void)register_sensor_driver("test-drv2", SensorFactory{}), InvalidArgument);
  const auto first = register_sensor_driver("test-drv2:", driver.factory());  // the ':' is optional
  EXPECT_EQ(first.scheme(), "test-drv2");
  try {
    (void)register_sensor_driver("test-drv2", driver.factory());
    ADD_FAILURE() << "a duplicate registered";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("already registered"), std::string::npos) << e.what();
  }
  // The error for an unknown scheme lists the registered ones too.
  try {
    open_sensor("nosuch:");
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("test-drv2:"), std::string::npos) << e.what();
  }
}

TEST(DriverRegistration, MoveTransfersAndResetUnregisters) {
  CountingDriver driver;
  auto a = register_sensor_driver("test-drv3", driver.factory());
  SensorDriverRegistration b = std::move(a);
  EXPECT_TRUE(a.scheme().empty());  // NOLINT(bugprone-use-after-move): a moved-from handle is empty
  EXPECT_EQ(b.scheme(), "test-drv3");
  EXPECT_NE(open_sensor("test-drv3:"), nullptr);
  b.reset();
  b.reset();  // twice is safe
  EXPECT_THROW(open_sensor("test-drv3:"), InvalidArgument);
  // The scheme is free again.
  auto c = register_sensor_driver("test-drv3", driver.factory());
  SensorDriverRegistration d;
  d = std::move(c);
  EXPECT_NE(open_sensor("test-drv3:"), nullptr);
  EXPECT_EQ(driver.opened->load(), 2);
}

TEST(DriverRegistration, AFactoryReturningNothingIsADeviceError) {
  const auto registration = register_sensor_driver("test-drv4", [](std::string_view) { return std::unique_ptr<Sensor>{}; });
  try {
    open_sensor("test-drv4:");
    ADD_FAILURE() << "opened";
  } catch (const DeviceError& e) {
    EXPECT_EQ(e.fault(), DeviceFault::NotFound);
  }
}

TEST(DriverRegistration, RegisterOpenAndUnregisterConcurrently) {
  // Threads register and unregister their own schemes while others open and enumerate: every open of
  // a registered scheme succeeds, and nothing deadlocks (the factory runs without the lock, so a
  // factory that itself calls open_sensor() is fine).
  std::atomic<int> failures{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t, &failures] {
      CountingDriver driver;
      const std::string scheme = "test-drvc" + std::to_string(t);
      for (int round = 0; round < 6; ++round) {
        const auto registration = register_sensor_driver(scheme, driver.factory(), lists(scheme + ":"));
        try {
          if (!open_sensor(scheme + ":")) ++failures;
        } catch (const Error&) {
          ++failures;
        }
      }
    });
  }
  threads.emplace_back([&stop] {
    while (!stop) (void)enumerate_sensors();
  });
  for (int t = 0; t < 4; ++t) threads[static_cast<std::size_t>(t)].join();
  stop = true;
  threads.back().join();
  EXPECT_EQ(failures.load(), 0);
}

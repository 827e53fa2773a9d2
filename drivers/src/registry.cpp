// SPDX-License-Identifier: Apache-2.0
// open_sensor()/enumerate_sensors(): a table of drivers keyed by URI scheme.
#include <array>
#include <string>

#include "driver_table.hpp"
#include "myid_usb/myid_sensor.hpp"
#include "uvc/uvc_sensor.hpp"
#include "palmvein/sensor.hpp"
#include "sensor_uri.hpp"

namespace palmvein {
inline namespace v1 {
namespace {

using OpenFn = std::unique_ptr<Sensor> (*)(const drivers::SensorUri&);
using EnumerateFn = std::vector<SensorInfo> (*)();

struct DriverEntry {
  std::string_view scheme;  // URI scheme, e.g. "virtual"
  OpenFn open;
  EnumerateFn enumerate;    // nullptr when the driver cannot list its sensors (file:)
};

// One line per driver.
constexpr std::array kDrivers{
    DriverEntry{"virtual", drivers::open_virtual, drivers::enumerate_virtual},
    DriverEntry{"file", drivers::open_file, nullptr},
    DriverEntry{"usb", drivers::open_myid_usb, drivers::enumerate_myid_usb},
    DriverEntry{"uvc", drivers::open_uvc, drivers::enumerate_uvc},
};

// Schemes whose drivers are documented but not (yet) built in: a clear "unsupported" instead of
// "unknown scheme". Remove a scheme here when its line is added above.
constexpr std::array<std::string_view, 0> kPlannedSchemes{};

std::string known_schemes() {
  std::string list;
  for (const auto& d : kDrivers) list += (list.empty() ? "" : ", ") + std::string(d.scheme) + ":";
  return list;
}

}  // namespace

std::vector<SensorInfo> enumerate_sensors() {
  std::vector<SensorInfo> all;
  for (const auto& d : kDrivers) {
    if (!d.enumerate) continue;
    try {
      auto found = d.enumerate();
      all.insert(all.end(), found.begin(), found.end());
    } catch (const Error&) {
      // A driver whose stack is unavailable (no USB permission, no libusb context) lists nothing;
      // it must not hide the sensors of the other drivers. open_sensor() reports the reason.
    }
  }
  return all;
}

std::unique_ptr<Sensor> open_sensor(std::string_view uri) {
  const drivers::SensorUri parsed = drivers::parse_sensor_uri(uri);
  for (const auto& d : kDrivers)
    if (d.scheme == parsed.scheme) return d.open(parsed);
  for (const auto scheme : kPlannedSchemes)
    if (scheme == parsed.scheme)
      throw DeviceError(DeviceFault::Unsupported, "cannot open '" + std::string(uri) + "': the " + std::string(scheme) +
                                                      ": driver is not built into this palmvein (available: " +
                                                      known_schemes() + ")");
  throw InvalidArgument("cannot open '" + std::string(uri) + "': unknown sensor scheme '" + parsed.scheme +
                        ":' (available: " + known_schemes() + ")");
}

}  // namespace v1
}  // namespace palmvein

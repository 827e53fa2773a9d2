// SPDX-License-Identifier: Apache-2.0
// open_sensor()/enumerate_sensors(): a table of drivers keyed by URI scheme, the built-in ones
// below and those an application registers (register_sensor_driver()).
#include <array>
#include <cctype>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

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

// Drivers registered by the application. Entries are shared so that a factory runs without the lock
// (it may block on a device) and survives an unregistration that races it.
struct RegisteredDriver {
  std::string scheme;
  std::uint64_t id;
  SensorFactory open;
  SensorEnumerator enumerate;
};

class RegisteredDrivers {
 public:
  static RegisteredDrivers& instance() {
    static RegisteredDrivers drivers;  // made by the first registration, so it outlives every handle
    return drivers;
  }
  std::vector<std::shared_ptr<const RegisteredDriver>> snapshot() const {
    const std::shared_lock lock(mutex_);
    return entries_;
  }
  std::shared_ptr<const RegisteredDriver> find(std::string_view scheme) const {
    const std::shared_lock lock(mutex_);
    for (const auto& e : entries_)
      if (e->scheme == scheme) return e;
    return nullptr;
  }
  std::uint64_t add(std::string scheme, SensorFactory open, SensorEnumerator enumerate) {
    const std::unique_lock lock(mutex_);
    for (const auto& e : entries_)
      if (e->scheme == scheme)
        throw InvalidArgument("register_sensor_driver: the scheme '" + scheme + ":' is already registered by the application");
    const std::uint64_t id = ++last_id_;
    entries_.push_back(std::make_shared<const RegisteredDriver>(
        RegisteredDriver{std::move(scheme), id, std::move(open), std::move(enumerate)}));
    return id;
  }
  void remove(std::uint64_t id) noexcept {
    const std::unique_lock lock(mutex_);
    std::erase_if(entries_, [id](const auto& e) { return e->id == id; });
  }

 private:
  mutable std::shared_mutex mutex_;
  std::vector<std::shared_ptr<const RegisteredDriver>> entries_;
  std::uint64_t last_id_ = 0;
};

std::string known_schemes() {
  std::string list;
  for (const auto& d : kDrivers) list += (list.empty() ? "" : ", ") + std::string(d.scheme) + ":";
  for (const auto& d : RegisteredDrivers::instance().snapshot()) list += ", " + d->scheme + ":";
  return list;
}

bool is_builtin_scheme(std::string_view scheme) {
  for (const auto& d : kDrivers)
    if (d.scheme == scheme) return true;
  for (const auto planned : kPlannedSchemes)
    if (planned == scheme) return true;
  return false;
}

// A scheme that parse_sensor_uri() accepts: lower-case letters, digits, '-'; here also a letter first.
bool is_valid_scheme(std::string_view scheme) {
  if (scheme.empty() || !std::islower(static_cast<unsigned char>(scheme.front()))) return false;
  for (const char c : scheme)
    if (!std::islower(static_cast<unsigned char>(c)) && !std::isdigit(static_cast<unsigned char>(c)) && c != '-')
      return false;
  return true;
}

}  // namespace

SensorDriverRegistration::SensorDriverRegistration(std::string scheme, std::uint64_t id) noexcept
    : scheme_(std::move(scheme)), id_(id) {}

SensorDriverRegistration::~SensorDriverRegistration() { reset(); }

SensorDriverRegistration::SensorDriverRegistration(SensorDriverRegistration&& other) noexcept
    : scheme_(std::exchange(other.scheme_, {})), id_(std::exchange(other.id_, 0)) {}

SensorDriverRegistration& SensorDriverRegistration::operator=(SensorDriverRegistration&& other) noexcept {
  if (this != &other) {
    reset();
    scheme_ = std::exchange(other.scheme_, {});
    id_ = std::exchange(other.id_, 0);
  }
  return *this;
}

void SensorDriverRegistration::reset() noexcept {
  if (id_ == 0) return;
  RegisteredDrivers::instance().remove(id_);
  id_ = 0;
  scheme_.clear();
}

SensorDriverRegistration register_sensor_driver(std::string_view scheme, SensorFactory open, SensorEnumerator enumerate) {
  const std::string_view given = scheme;
  if (scheme.ends_with(':')) scheme.remove_suffix(1);
  if (!is_valid_scheme(scheme))
    throw InvalidArgument("register_sensor_driver: malformed scheme '" + std::string(given) +
                          "' (lower-case letters, digits and '-', starting with a letter, e.g. \"example\")");
  if (!open) throw InvalidArgument("register_sensor_driver: the factory for '" + std::string(scheme) + ":' is empty");
  if (is_builtin_scheme(scheme))
    throw InvalidArgument("register_sensor_driver: the scheme '" + std::string(scheme) +
                          ":' is served by a built-in driver of palmvein");
  const std::uint64_t id = RegisteredDrivers::instance().add(std::string(scheme), std::move(open), std::move(enumerate));
  return SensorDriverRegistration(std::string(scheme), id);
}

std::vector<SensorInfo> enumerate_sensors() {
  std::vector<SensorInfo> all;
  const auto collect = [&all](const auto& enumerate) {
    try {
      auto found = enumerate();
      all.insert(all.end(), found.begin(), found.end());
    } catch (const Error&) {
      // A driver whose stack is unavailable (no USB permission, no libusb context) lists nothing;
      // it must not hide the sensors of the other drivers. open_sensor() reports the reason.
    }
  };
  for (const auto& d : kDrivers)
    if (d.enumerate) collect(d.enumerate);
  for (const auto& d : RegisteredDrivers::instance().snapshot())
    if (d->enumerate) collect(d->enumerate);
  return all;
}

std::unique_ptr<Sensor> open_sensor(std::string_view uri) {
  const drivers::SensorUri parsed = drivers::parse_sensor_uri(uri);
  for (const auto& d : kDrivers)
    if (d.scheme == parsed.scheme) return d.open(parsed);
  if (const auto registered = RegisteredDrivers::instance().find(parsed.scheme)) {
    auto sensor = registered->open(uri);
    if (!sensor)
      throw DeviceError(DeviceFault::NotFound, "cannot open '" + std::string(uri) + "': the " + parsed.scheme +
                                                   ": driver returned no sensor");
    return sensor;
  }
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

// SPDX-License-Identifier: Apache-2.0
// Native USB hotplug for the sensors in the id table (usb_ids.cpp): libusb's hotplug events, no
// polling. Reports devices present at construction as Arrived first, then arrivals and removals as
// they happen, with the same SensorInfo (uri with serial) as enumerate_sensors() gives.
// Thread-safety: construct and destroy on one thread; the callback runs on the monitor's own
// thread and must not destroy the monitor.
#pragma once

#include <functional>
#include <memory>

#include "palmvein/sensor.hpp"

namespace palmvein::drivers {

class UsbHotplugMonitor {
 public:
  using Callback = std::function<void(HotplugEvent event, const SensorInfo& sensor)>;
  // Throws DeviceError(Unsupported) where libusb has no hotplug support on this platform.
  explicit UsbHotplugMonitor(Callback on_event);
  ~UsbHotplugMonitor();
  UsbHotplugMonitor(const UsbHotplugMonitor&) = delete;
  UsbHotplugMonitor& operator=(const UsbHotplugMonitor&) = delete;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace palmvein::drivers

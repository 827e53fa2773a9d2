// SPDX-License-Identifier: Apache-2.0
// The MyID Palm USB sensor driver (vendor class, libusb-1.0). Protocol: docs/usb-protocol.md.
// Thread-safety: a MyIdSensor is used by one thread at a time; cancel() may be called from any thread.
#pragma once

#include <chrono>
#include <memory>
#include <string_view>
#include <vector>

#include "palmvein/sensor.hpp"
#include "sensor_uri.hpp"

namespace palmvein::drivers {

struct MyIdOptions {
  std::chrono::milliseconds control_timeout{500};  // every control transfer
  std::chrono::milliseconds bulk_timeout{1000};    // longest single bulk-IN transfer (a grab may use several)
  std::chrono::milliseconds stop_timeout{200};     // STOP_STREAM sent on close; errors ignored
  void check() const;                              // throws InvalidArgument
};

// Opens "usb:VID:PID[:SERIAL]" (the part after "usb:" is `path`; `uri` is used in messages).
// Throws DeviceError(NotFound, Busy, Permission, Protocol, Timeout) or InvalidArgument.
std::unique_ptr<Sensor> open_myid_usb(std::string_view path, std::string_view uri, const MyIdOptions& options = {});
// Registry entry: query keys control_timeout_ms, bulk_timeout_ms.
std::unique_ptr<Sensor> open_myid_usb(const SensorUri& uri);
// Every connected MyID sensor: known ids (usb_ids.cpp) and any device with the MyID interface triple.
std::vector<SensorInfo> enumerate_myid_usb();

}  // namespace palmvein::drivers

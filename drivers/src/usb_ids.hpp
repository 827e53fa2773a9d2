// SPDX-License-Identifier: Apache-2.0
// THE one table of USB ids palmvein knows: the drivers match devices against it, enumerate_sensors()
// lists them, and `palmvein udev-rules` turns it into udev rules so a non-root user can open them.
// A new sensor model is one line in usb_ids.cpp, nothing else.
// Thread-safety: everything here is immutable after static initialisation.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "palmvein/export.hpp"
#include "palmvein/sensor.hpp"

namespace palmvein::drivers {

enum class UsbDriver : std::uint8_t {
  MyIdUsb,  // vendor-class MyID Palm protocol (docs/usb-protocol.md), drivers/src/myid_usb
  Uvc,      // USB Video Class NIR camera, drivers/src/uvc
};

struct KnownUsbId {
  std::uint16_t vendor_id;
  std::uint16_t product_id;
  UsbDriver driver;
  std::string_view name;  // human-readable model name
  bool test_id;           // a pid.codes test id (1209:0001..000f): emulated devices, development boards
};

// pid.codes reserves 1209:0001..1209:000f for testing: never shipped, safe for emulation.
inline constexpr std::uint16_t kPidCodesVendorId = 0x1209;
inline constexpr std::uint16_t kMyIdPalmTestProductId = 0x000a;
inline constexpr std::uint16_t kUvcNirTestProductId = 0x000b;

std::span<const KnownUsbId> known_usb_ids() noexcept;
// The entry for vid:pid, or nullptr.
const KnownUsbId* find_usb_id(std::uint16_t vendor_id, std::uint16_t product_id) noexcept;
std::string_view to_string(UsbDriver driver) noexcept;  // "myid-usb", "uvc"

// udev_rules() and known_usb_sensor_count() are public (palmvein/sensor.hpp).
using palmvein::known_usb_sensor_count;
using palmvein::udev_rules;
// What a permission error on a USB sensor tells the user: the fix, in the library's words (the rules
// are installed with palmvein, cmake/PalmveinInstall.cmake; the CLI also prints them).
inline constexpr std::string_view kUdevRulesHint = "install palmvein's udev rules, 70-palmvein.rules: docs/usb-protocol.md";

}  // namespace palmvein::drivers

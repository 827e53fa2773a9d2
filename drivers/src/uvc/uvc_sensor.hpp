// SPDX-License-Identifier: Apache-2.0
// UVC NIR cameras through libuvc (on our own libusb context). Formats: GRAY8/Y800, YUYV (the Y
// plane is taken), MJPEG (decoded to grey with OpenCV); bulk and isochronous streaming (libuvc
// picks by the VS interface's alternate settings). Exposure/gain through the standard camera
// terminal and processing unit; illumination through the palmvein extension unit
// (docs/usb-protocol.md, "UVC cameras") where the camera has one, else DeviceError(Unsupported).
// Thread-safety: a UvcSensor is used by one thread at a time; cancel() may be called from any thread.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "palmvein/sensor.hpp"
#include "sensor_uri.hpp"

namespace palmvein::drivers {

// The palmvein illumination extension unit: GUID and control selectors.
inline constexpr std::array<std::uint8_t, 16> kUvcIlluminationXuGuid = {
    0x70, 0x76, 0x69, 0x6c, 0x6c, 0x75, 0x6d, 0x31, 0x9a, 0x3f, 0x4b, 0x8e, 0x50, 0x41, 0x4c, 0x4d};
inline constexpr std::uint8_t kUvcXuIllumination = 0x01;  // SET_CUR/GET_CUR 4 bytes: u16 nm, u8 level, u8 0
inline constexpr std::uint8_t kUvcXuBanks = 0x02;         // GET_CUR 10 bytes: u8 banks, u8 levels, u16 nm[4]

struct UvcOptions {
  std::string format = "auto";  // "auto" (gray8 > yuyv > mjpeg), "gray8", "yuyv" or "mjpeg"
  int width = 0;                // 0: the largest frame of the format
  int height = 0;
  int fps = 0;                  // 0: the camera's first frame rate
  std::chrono::milliseconds control_timeout{500};
  void check() const;           // throws InvalidArgument
};

// Opens "uvc:VID:PID[:SERIAL]" (`path` is the part after "uvc:"; `uri` is used in messages).
std::unique_ptr<Sensor> open_uvc(std::string_view path, std::string_view uri, const UvcOptions& options = {});
// Registry entry: query keys format, width, height, fps.
std::unique_ptr<Sensor> open_uvc(const SensorUri& uri);
// Every connected UVC camera whose id is in usb_ids.cpp (a webcam is not a palm sensor).
std::vector<SensorInfo> enumerate_uvc();

}  // namespace palmvein::drivers

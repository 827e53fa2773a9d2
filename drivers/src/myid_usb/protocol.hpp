// SPDX-License-Identifier: Apache-2.0
// MyID Palm USB protocol v1: request codes, byte layouts and their encoders/decoders.
// The normative description is docs/usb-protocol.md; the host driver and the test firmware model
// both use this header so that they cannot drift apart silently.
// Thread-safety: pure functions and value types.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace palmvein::drivers::myid {

inline constexpr std::uint8_t kInterfaceClass = 0xff;  // vendor specific
inline constexpr std::uint8_t kInterfaceSubClass = 0x50;
inline constexpr std::uint8_t kInterfaceProtocol = 0x01;
inline constexpr std::uint8_t kFrameEndpoint = 0x81;  // bulk IN
inline constexpr std::uint8_t kRequestTypeIn = 0xc1;   // vendor | interface | device-to-host
inline constexpr std::uint8_t kRequestTypeOut = 0x41;  // vendor | interface | host-to-device

enum class Request : std::uint8_t {
  GetInfo = 0x01,
  GetFirmware = 0x02,
  GetSerial = 0x03,
  SetIllumination = 0x10,
  SetExposure = 0x11,
  StartStream = 0x20,
  StopStream = 0x21,
  GetStatus = 0x30,
};

inline constexpr std::size_t kInfoSize = 64;
inline constexpr std::size_t kStringSize = 32;  // GET_FIRMWARE, GET_SERIAL: ASCII, NUL-padded
inline constexpr std::size_t kModelSize = 36;   // DeviceInfo.model: ASCII, NUL-padded
inline constexpr std::size_t kIlluminationSize = 4;
inline constexpr std::size_t kExposureSize = 8;
inline constexpr std::size_t kStatusSize = 8;
inline constexpr std::size_t kHeaderSize = 40;
inline constexpr std::uint32_t kFrameMagic = 0x31465650;  // "PVF1"
inline constexpr std::uint16_t kProtocolVersion = 1;
inline constexpr std::size_t kMaxBanks = 4;

enum class WirePixelFormat : std::uint8_t { Gray8 = 1, Gray16 = 2 };

struct DeviceInfo {
  std::uint16_t protocol_version = kProtocolVersion;
  std::uint16_t width = 0;
  std::uint16_t height = 0;
  WirePixelFormat pixel_format = WirePixelFormat::Gray8;
  std::uint8_t significant_bits = 8;
  std::uint8_t bank_count = 0;
  std::uint8_t illumination_levels = 0;
  std::array<std::uint16_t, kMaxBanks> wavelengths_nm{};
  std::uint32_t exposure_min_us = 0;
  std::uint32_t exposure_max_us = 0;
  std::uint16_t max_fps_x100 = 0;
  std::string model;  // at most kModelSize characters on the wire (a longer name is cut)

  std::size_t bytes_per_pixel() const noexcept { return pixel_format == WirePixelFormat::Gray16 ? 2 : 1; }
  std::size_t payload_size() const noexcept { return std::size_t{width} * height * bytes_per_pixel(); }
};

struct Status {
  std::uint8_t state = 0;  // 0 idle, 1 streaming, 2 error
  std::uint8_t last_error = 0;
  std::uint32_t frames_sent = 0;
};

struct FrameHeader {
  WirePixelFormat pixel_format = WirePixelFormat::Gray8;
  std::uint8_t significant_bits = 8;
  std::uint32_t frame_counter = 0;
  std::uint16_t width = 0;
  std::uint16_t height = 0;
  std::uint32_t exposure_us = 0;
  std::uint16_t gain_q8 = 256;
  std::uint16_t wavelength_nm = 0;
  std::uint8_t illumination_level = 0;
  std::uint32_t payload_size = 0;
};

// CRC-32/ISO-HDLC (zlib), continuing from `crc` (start with 0).
std::uint32_t crc32(std::span<const std::uint8_t> bytes, std::uint32_t crc = 0) noexcept;

std::array<std::uint8_t, kInfoSize> encode_info(const DeviceInfo& info);
// nullopt when the bytes are not a valid v1 DeviceInfo (wrong size, version, zero size, bad format).
std::optional<DeviceInfo> decode_info(std::span<const std::uint8_t> bytes);
// Encoders and decoders of the fixed-size string fields agree on the full field width: every string
// that decode_string returns encodes back to a field that decodes to it (fuzz/fuzz_usb_frame.cpp).
std::array<std::uint8_t, kStringSize> encode_string(const std::string& text);  // cut at kStringSize
std::string decode_string(std::span<const std::uint8_t> bytes);  // stops at NUL, keeps printable ASCII
std::array<std::uint8_t, kStatusSize> encode_status(const Status& status);
std::optional<Status> decode_status(std::span<const std::uint8_t> bytes);
std::array<std::uint8_t, kIlluminationSize> encode_illumination(std::uint16_t wavelength_nm, std::uint8_t level);
std::array<std::uint8_t, kExposureSize> encode_exposure(std::uint32_t exposure_us, std::uint16_t gain_q8);

// A whole frame as the device sends it: header (with CRC) followed by `pixels`.
std::vector<std::uint8_t> encode_frame(const FrameHeader& header, std::span<const std::uint8_t> pixels);
// Parses the 40 header bytes (no CRC check: that needs the payload). nullopt if magic/version/size are wrong.
std::optional<FrameHeader> decode_header(std::span<const std::uint8_t> bytes);

// Little-endian helpers.
inline std::uint16_t get_u16(const std::uint8_t* p) noexcept { return static_cast<std::uint16_t>(p[0] | (p[1] << 8)); }
inline std::uint32_t get_u32(const std::uint8_t* p) noexcept {
  return std::uint32_t{p[0]} | (std::uint32_t{p[1]} << 8) | (std::uint32_t{p[2]} << 16) | (std::uint32_t{p[3]} << 24);
}
inline void put_u16(std::uint8_t* p, std::uint16_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v);
  p[1] = static_cast<std::uint8_t>(v >> 8);
}
inline void put_u32(std::uint8_t* p, std::uint32_t v) noexcept {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

}  // namespace palmvein::drivers::myid

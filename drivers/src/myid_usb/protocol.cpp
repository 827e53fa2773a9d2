// SPDX-License-Identifier: Apache-2.0
#include "myid_usb/protocol.hpp"

#include <algorithm>

#include <zlib.h>

namespace palmvein::drivers::myid {

std::uint32_t crc32(std::span<const std::uint8_t> bytes, std::uint32_t crc) noexcept {
  // zlib's crc32(), as for templates (lib/src/template.cpp); uInt lengths, so in pieces.
  uLong value = crc;
  for (std::size_t at = 0; at < bytes.size();) {
    const auto n = static_cast<uInt>(std::min<std::size_t>(bytes.size() - at, 1u << 30));
    value = ::crc32(value, bytes.data() + at, n);
    at += n;
  }
  return static_cast<std::uint32_t>(value);
}

std::array<std::uint8_t, kInfoSize> encode_info(const DeviceInfo& info) {
  std::array<std::uint8_t, kInfoSize> b{};
  put_u16(&b[0], info.protocol_version);
  put_u16(&b[2], info.width);
  put_u16(&b[4], info.height);
  b[6] = static_cast<std::uint8_t>(info.pixel_format);
  b[7] = info.significant_bits;
  b[8] = info.bank_count;
  b[9] = info.illumination_levels;
  for (std::size_t i = 0; i < kMaxBanks; ++i) put_u16(&b[10 + 2 * i], info.wavelengths_nm[i]);
  put_u32(&b[18], info.exposure_min_us);
  put_u32(&b[22], info.exposure_max_us);
  put_u16(&b[26], info.max_fps_x100);
  // char[36], NUL-padded (docs/usb-protocol.md): a 36-character name fills the field, as decode_info reads it.
  std::copy_n(info.model.begin(), std::min<std::size_t>(info.model.size(), kModelSize), b.begin() + 28);
  return b;
}

std::optional<DeviceInfo> decode_info(std::span<const std::uint8_t> b) {
  if (b.size() != kInfoSize) return std::nullopt;
  DeviceInfo info;
  info.protocol_version = get_u16(&b[0]);
  info.width = get_u16(&b[2]);
  info.height = get_u16(&b[4]);
  info.pixel_format = static_cast<WirePixelFormat>(b[6]);
  info.significant_bits = b[7];
  info.bank_count = b[8];
  info.illumination_levels = b[9];
  for (std::size_t i = 0; i < kMaxBanks; ++i) info.wavelengths_nm[i] = get_u16(&b[10 + 2 * i]);
  info.exposure_min_us = get_u32(&b[18]);
  info.exposure_max_us = get_u32(&b[22]);
  info.max_fps_x100 = get_u16(&b[26]);
  info.model = decode_string(b.subspan(28, kModelSize));
  const bool format_ok = (info.pixel_format == WirePixelFormat::Gray8 && info.significant_bits == 8) ||
                         (info.pixel_format == WirePixelFormat::Gray16 && info.significant_bits >= 9 &&
                          info.significant_bits <= 16);
  if (info.protocol_version != kProtocolVersion || info.width == 0 || info.height == 0 || !format_ok ||
      info.bank_count > kMaxBanks || info.exposure_min_us > info.exposure_max_us) {
    return std::nullopt;
  }
  return info;
}

std::array<std::uint8_t, kStringSize> encode_string(const std::string& text) {
  std::array<std::uint8_t, kStringSize> b{};
  std::copy_n(text.begin(), std::min(text.size(), kStringSize), b.begin());  // NUL-padded, not NUL-terminated
  return b;
}

std::string decode_string(std::span<const std::uint8_t> bytes) {
  std::string out;
  for (std::uint8_t c : bytes) {
    if (c == 0) break;
    if (c >= 0x20 && c < 0x7f) out.push_back(static_cast<char>(c));
  }
  return out;
}

std::array<std::uint8_t, kStatusSize> encode_status(const Status& s) {
  std::array<std::uint8_t, kStatusSize> b{};
  b[0] = s.state;
  b[1] = s.last_error;
  put_u32(&b[4], s.frames_sent);
  return b;
}

std::optional<Status> decode_status(std::span<const std::uint8_t> b) {
  if (b.size() != kStatusSize || b[0] > 2) return std::nullopt;
  return Status{b[0], b[1], get_u32(&b[4])};
}

std::array<std::uint8_t, kIlluminationSize> encode_illumination(std::uint16_t wavelength_nm, std::uint8_t level) {
  std::array<std::uint8_t, kIlluminationSize> b{};
  put_u16(&b[0], wavelength_nm);
  b[2] = level;
  return b;
}

std::array<std::uint8_t, kExposureSize> encode_exposure(std::uint32_t exposure_us, std::uint16_t gain_q8) {
  std::array<std::uint8_t, kExposureSize> b{};
  put_u32(&b[0], exposure_us);
  put_u16(&b[4], gain_q8);
  return b;
}

std::vector<std::uint8_t> encode_frame(const FrameHeader& h, std::span<const std::uint8_t> pixels) {
  std::vector<std::uint8_t> out(kHeaderSize + pixels.size(), 0);
  std::uint8_t* b = out.data();
  put_u32(&b[0], kFrameMagic);
  b[4] = 1;
  b[5] = static_cast<std::uint8_t>(kHeaderSize);
  b[6] = static_cast<std::uint8_t>(h.pixel_format);
  b[7] = h.significant_bits;
  put_u32(&b[8], h.frame_counter);
  put_u16(&b[12], h.width);
  put_u16(&b[14], h.height);
  put_u32(&b[16], h.exposure_us);
  put_u16(&b[20], h.gain_q8);
  put_u16(&b[22], h.wavelength_nm);
  b[24] = h.illumination_level;
  put_u32(&b[28], static_cast<std::uint32_t>(pixels.size()));
  std::copy(pixels.begin(), pixels.end(), out.begin() + kHeaderSize);
  const std::uint32_t crc = crc32(pixels, crc32({b, 36}));
  put_u32(&b[36], crc);
  return out;
}

std::optional<FrameHeader> decode_header(std::span<const std::uint8_t> b) {
  if (b.size() < kHeaderSize || get_u32(&b[0]) != kFrameMagic || b[4] != 1 || b[5] != kHeaderSize) return std::nullopt;
  FrameHeader h;
  h.pixel_format = static_cast<WirePixelFormat>(b[6]);
  if (h.pixel_format != WirePixelFormat::Gray8 && h.pixel_format != WirePixelFormat::Gray16) return std::nullopt;
  h.significant_bits = b[7];
  h.frame_counter = get_u32(&b[8]);
  h.width = get_u16(&b[12]);
  h.height = get_u16(&b[14]);
  h.exposure_us = get_u32(&b[16]);
  h.gain_q8 = get_u16(&b[20]);
  h.wavelength_nm = get_u16(&b[22]);
  h.illumination_level = b[24];
  h.payload_size = get_u32(&b[28]);
  const std::size_t bpp = h.pixel_format == WirePixelFormat::Gray16 ? 2 : 1;
  if (h.payload_size != std::size_t{h.width} * h.height * bpp) return std::nullopt;
  return h;
}

}  // namespace palmvein::drivers::myid

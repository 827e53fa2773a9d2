// SPDX-License-Identifier: Apache-2.0
#include "myid_firmware.hpp"

#include <algorithm>
#include <cerrno>

namespace palmvein::testing {

namespace myid = drivers::myid;

MyIdFirmware::MyIdFirmware(bool sixteen_bit) {
  info.width = 96;
  info.height = 64;
  info.pixel_format = sixteen_bit ? myid::WirePixelFormat::Gray16 : myid::WirePixelFormat::Gray8;
  info.significant_bits = sixteen_bit ? 12 : 8;
  info.bank_count = 2;
  info.illumination_levels = 16;
  info.wavelengths_nm = {850, 940, 0, 0};
  info.exposure_min_us = 100;
  info.exposure_max_us = 20000;
  info.max_fps_x100 = 3000;
  info.model = "MyID Palm M1 (emulated)";
}

DeviceSpec MyIdFirmware::spec(const std::string& serial) {
  DeviceSpec s;
  s.vendor_id = 0x1209;
  s.product_id = 0x000a;
  s.serial = serial;
  s.strings = {"palmvein", "MyID Palm (test id)", serial};
  std::vector<std::uint8_t> body = interface_descriptor(0, 0, 1, 0xff, 0x50, 0x01);
  append(body, endpoint_descriptor(0x81, 0x02, 512));
  s.descriptors = device_descriptor(s.vendor_id, s.product_id);
  append(s.descriptors, config_descriptor(1, body));
  return s;
}

Image MyIdFirmware::expected_image(std::uint32_t counter) const {
  const bool wide = info.pixel_format == myid::WirePixelFormat::Gray16;
  Image img(info.width, info.height, wide ? PixelFormat::Gray16 : PixelFormat::Gray8, wide ? info.significant_bits : 0);
  for (int y = 0; y < info.height; ++y) {
    for (int x = 0; x < info.width; ++x) {
      const std::uint32_t v = static_cast<std::uint32_t>(x * 7 + y * 13) + counter * 31;
      if (wide) {
        img.row16(y)[x] = static_cast<std::uint16_t>((v * 17) & 0x0fff);
      } else {
        img.row8(y)[x] = static_cast<std::uint8_t>(v);
      }
    }
  }
  return img;
}

UrbReply MyIdFirmware::control(const ControlRequest& r) {
  const auto stall = [&](std::uint8_t error) {
    last_error = error;
    return UrbReply{-EPIPE, {}};
  };
  if (stall_requests.count(r.request)) return stall(3);
  const bool in = r.request_type == myid::kRequestTypeIn;
  if (r.request_type != (in ? myid::kRequestTypeIn : myid::kRequestTypeOut) || r.index != 0) return stall(1);
  const auto bytes = [](const auto& array) { return std::vector<std::uint8_t>(array.begin(), array.end()); };
  switch (static_cast<myid::Request>(r.request)) {
    case myid::Request::GetInfo:
      if (!in || r.length != myid::kInfoSize) return stall(1);
      return {0, bytes(myid::encode_info(info))};
    case myid::Request::GetFirmware:
      if (!in || r.length != myid::kStringSize) return stall(1);
      return {0, bytes(myid::encode_string(firmware))};
    case myid::Request::GetSerial:
      if (!in || r.length != myid::kStringSize) return stall(1);
      return {0, bytes(myid::encode_string(serial))};
    case myid::Request::GetStatus:
      if (!in || r.length != myid::kStatusSize) return stall(1);
      return {0, bytes(myid::encode_status({static_cast<std::uint8_t>(streaming ? 1 : 0), last_error, frames_sent}))};
    case myid::Request::SetIllumination: {
      if (in || r.data_out.size() != myid::kIlluminationSize) return stall(1);
      const std::uint16_t wl = myid::get_u16(&r.data_out[0]);
      const std::uint8_t lv = r.data_out[2];
      if ((wl != 850 && wl != 940) || lv >= info.illumination_levels) return stall(2);
      wavelength_nm = wl;
      level = lv;
      return {};
    }
    case myid::Request::SetExposure: {
      if (in || r.data_out.size() != myid::kExposureSize) return stall(1);
      const std::uint32_t e = myid::get_u32(&r.data_out[0]);
      const std::uint16_t g = myid::get_u16(&r.data_out[4]);
      if (e < info.exposure_min_us || e > info.exposure_max_us || g == 0) return stall(2);
      exposure_us = e;
      gain_q8 = g;
      return {};
    }
    case myid::Request::StartStream:
      if (in || r.length != 0) return stall(1);
      if (!streaming) {
        next_counter = 0;
        frames_sent = 0;
        pending_.clear();
      }
      streaming = true;
      ++start_requests;
      return {};
    case myid::Request::StopStream:
      if (in || r.length != 0) return stall(1);
      streaming = false;
      pending_.clear();
      return {};
  }
  return stall(1);
}

std::optional<UrbReply> MyIdFirmware::bulk(std::uint8_t endpoint, std::size_t capacity, std::span<const std::uint8_t>) {
  if (endpoint != myid::kFrameEndpoint) return UrbReply{-EPIPE, {}};
  if (stall_bulk) return UrbReply{-EPIPE, {}};
  if (!streaming || hang_bulk) return std::nullopt;
  if (pending_.empty()) {
    const std::uint32_t counter = next_counter++;
    const Image img = expected_image(counter);
    std::vector<std::uint8_t> pixels;
    for (int y = 0; y < img.height(); ++y) {
      for (int x = 0; x < img.width(); ++x) {
        if (img.format() == PixelFormat::Gray16) {
          pixels.push_back(static_cast<std::uint8_t>(img.row16(y)[x]));
          pixels.push_back(static_cast<std::uint8_t>(img.row16(y)[x] >> 8));
        } else {
          pixels.push_back(img.row8(y)[x]);
        }
      }
    }
    myid::FrameHeader h;
    h.pixel_format = info.pixel_format;
    h.significant_bits = info.significant_bits;
    h.frame_counter = counter;
    h.width = info.width;
    h.height = info.height;
    h.exposure_us = exposure_us;
    h.gain_q8 = gain_q8;
    h.wavelength_nm = wavelength_nm;
    h.illumination_level = level;
    pending_ = myid::encode_frame(h, pixels);
    if (auto f = frame_faults.find(counter); f != frame_faults.end()) {
      switch (f->second) {
        case FrameFault::Corrupt: pending_[myid::kHeaderSize + 123] ^= 0x40; break;
        case FrameFault::Short: pending_.resize(pending_.size() - 100); break;
        case FrameFault::BadVersion: pending_[4] = 9; break;
        case FrameFault::Garbage: {
          std::vector<std::uint8_t> junk(77, 0x5a);
          junk[10] = 'P', junk[11] = 'V', junk[12] = 'F', junk[13] = '1';
          pending_.insert(pending_.begin(), junk.begin(), junk.end());
          break;
        }
      }
    }
    ++frames_sent;
  }
  const std::size_t n = std::min(capacity, pending_.size());
  UrbReply reply{0, std::vector<std::uint8_t>(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(n))};
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(n));
  return reply;
}

}  // namespace palmvein::testing

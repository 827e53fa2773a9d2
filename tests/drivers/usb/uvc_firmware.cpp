// SPDX-License-Identifier: Apache-2.0
#include "uvc_firmware.hpp"

#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "uvc/uvc_sensor.hpp"

namespace palmvein::testing {
namespace {

void put32(std::uint8_t* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

std::vector<std::uint8_t> frame_descriptor(std::uint8_t subtype, std::uint32_t max_bytes) {
  std::vector<std::uint8_t> d(30, 0);
  d[0] = 30, d[1] = 0x24, d[2] = subtype, d[3] = 1;  // frame index 1
  d[5] = UvcFirmware::kWidth, d[7] = UvcFirmware::kHeight;
  put32(&d[9], 1000000), put32(&d[13], 100000000), put32(&d[17], max_bytes);
  put32(&d[21], 333333);  // 30 fps
  d[25] = 1;
  put32(&d[26], 333333);
  return d;
}

std::vector<std::uint8_t> uncompressed_format(std::uint8_t index, const char fourcc[4], std::uint8_t bpp) {
  // bLength, CS_INTERFACE, VS_FORMAT_UNCOMPRESSED, index, one frame, GUID (FOURCC + the standard
  // 0000-0010-8000-00AA00389B71 tail), bits per pixel, default frame 1, aspect 0:0, no interlace/protection.
  std::vector<std::uint8_t> d(27, 0);
  const std::uint8_t head[5] = {27, 0x24, 0x04, index, 1};
  const std::uint8_t tail[12] = {0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71};
  std::copy(std::begin(head), std::end(head), d.begin());
  std::copy(fourcc, fourcc + 4, d.begin() + 5);
  std::copy(std::begin(tail), std::end(tail), d.begin() + 9);
  d[21] = bpp;
  d[22] = 1;
  return d;
}

}  // namespace

UvcFirmware::UvcFirmware(bool iso, bool illumination) : isochronous(iso), with_illumination(illumination) {}

DeviceSpec UvcFirmware::spec(const std::string& serial) const {
  DeviceSpec s;
  s.vendor_id = 0x1209;
  s.product_id = 0x000b;
  s.serial = serial;
  s.strings = {"palmvein", "UVC NIR camera (emulated)", serial};
  // VideoControl: header, camera terminal (AE mode + exposure absolute), processing unit (gain),
  // optional extension unit, output terminal.
  std::vector<std::uint8_t> vc;
  append(vc, {18, 0x24, 0x02, 1, 0x01, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0x0a, 0x00, 0x00});
  append(vc, {11, 0x24, 0x05, 2, 1, 0, 0, 2, 0x00, 0x02, 0});
  std::uint8_t last = 2;
  if (with_illumination) {
    std::vector<std::uint8_t> xu{26, 0x24, 0x06, 4};
    xu.insert(xu.end(), drivers::kUvcIlluminationXuGuid.begin(), drivers::kUvcIlluminationXuGuid.end());
    append(xu, {2, 1, 2, 1, 0x03, 0});
    append(vc, xu);
    last = 4;
  }
  append(vc, {9, 0x24, 0x03, 3, 0x01, 0x01, 0, last, 0});
  const auto vc_total = static_cast<std::uint16_t>(13 + vc.size());
  std::vector<std::uint8_t> header{13, 0x24, 0x01, 0x00, 0x01, static_cast<std::uint8_t>(vc_total),
                                   static_cast<std::uint8_t>(vc_total >> 8), 0, 0, 0, 0, 1, 1};
  put32(&header[7], 48000000);

  // VideoStreaming: input header, three formats with one 80x60 frame each.
  std::vector<std::uint8_t> vs;
  append(vs, uncompressed_format(1, "Y800", 8));
  append(vs, frame_descriptor(0x05, kWidth * kHeight));
  append(vs, uncompressed_format(2, "YUY2", 16));
  append(vs, frame_descriptor(0x05, kWidth * kHeight * 2));
  append(vs, {11, 0x24, 0x06, 3, 1, 0, 1, 0, 0, 0, 0});
  append(vs, frame_descriptor(0x07, kWidth * kHeight * 2));
  const auto vs_total = static_cast<std::uint16_t>(16 + vs.size());
  std::vector<std::uint8_t> vs_header{16, 0x24, 0x01, 3, static_cast<std::uint8_t>(vs_total),
                                      static_cast<std::uint8_t>(vs_total >> 8), kEndpoint, 0, 3, 0, 0, 0, 1, 0, 0, 0};

  std::vector<std::uint8_t> body = interface_descriptor(0, 0, 0, 0x0e, 0x01, 0x00);
  append(body, header);
  append(body, vc);
  if (isochronous) {
    append(body, interface_descriptor(1, 0, 0, 0x0e, 0x02, 0x00));
    append(body, vs_header);
    append(body, vs);
    append(body, interface_descriptor(1, 1, 1, 0x0e, 0x02, 0x00));
    append(body, endpoint_descriptor(kEndpoint, 0x05, kMaxPayload, 1));
  } else {
    append(body, interface_descriptor(1, 0, 1, 0x0e, 0x02, 0x00));
    append(body, vs_header);
    append(body, vs);
    append(body, endpoint_descriptor(kEndpoint, 0x02, 512));
  }
  s.descriptors = device_descriptor(s.vendor_id, s.product_id, 0xef, 0x02, 0x01);
  append(s.descriptors, config_descriptor(2, body));
  return s;
}

Image UvcFirmware::expected_gray(std::uint32_t n) {
  Image img(kWidth, kHeight);
  for (int y = 0; y < kHeight; ++y) {
    for (int x = 0; x < kWidth; ++x) {
      // Smooth content so that JPEG keeps it recognisable; exactness comes from decoding the same bytes.
      img.row8(y)[x] = static_cast<std::uint8_t>(40 + x + y + 9 * (n % 16));
    }
  }
  return img;
}

std::vector<std::uint8_t> UvcFirmware::jpeg(std::uint32_t n) {
  const Image img = expected_gray(n);
  const cv::Mat mat(img.height(), img.width(), CV_8UC1, const_cast<std::uint8_t*>(img.data()));
  std::vector<std::uint8_t> out;
  cv::imencode(".jpg", mat, out, {cv::IMWRITE_JPEG_QUALITY, 90});
  return out;
}

void UvcFirmware::set_interface(int interface, int alt) {
  if (interface == 1) {
    alt_setting = alt;
    frame_bytes_.clear();
  }
}

UrbReply UvcFirmware::control(const ControlRequest& r) {
  const bool in = r.request_type & 0x80;
  const std::uint8_t selector = static_cast<std::uint8_t>(r.value >> 8);
  const std::uint8_t interface = static_cast<std::uint8_t>(r.index & 0xff);
  const std::uint8_t entity = static_cast<std::uint8_t>(r.index >> 8);
  if ((r.request_type & 0x7f) != 0x21) return {-EPIPE, {}};
  if (interface == 1) {  // VideoStreaming: probe (1) and commit (2), 26-byte UVC 1.0 blocks
    if ((selector != 1 && selector != 2) || r.length != 26) return {-EPIPE, {}};
    if (!in) {
      const int format = r.data_out[2];
      if (format < 1 || format > 3 || r.data_out[3] != 1) return {-EPIPE, {}};
      probe_format = format;
      if (selector == 2) {
        committed_format = format;
        next_frame = 0;
        frame_bytes_.clear();
      }
      return {};
    }
    std::vector<std::uint8_t> block(26, 0);
    block[0] = 1;  // bmHint: frame interval fixed
    block[2] = static_cast<std::uint8_t>(probe_format);
    block[3] = 1;
    put32(&block[4], 333333);
    put32(&block[18], probe_format == 1 ? kWidth * kHeight : kWidth * kHeight * 2);
    put32(&block[22], kMaxPayload);
    return {0, block};
  }
  if (interface != 0) return {-EPIPE, {}};
  std::vector<std::uint8_t> reply;
  const auto u32 = [](std::uint32_t v) {
    std::vector<std::uint8_t> b(4);
    put32(b.data(), v);
    return b;
  };
  if (entity == 1 && selector == 0x02 && r.length == 1) {  // CT auto-exposure mode
    if (!in) ae_mode = r.data_out[0];
    return {0, {ae_mode}};
  }
  if (entity == 1 && selector == 0x04 && r.length == 4) {  // CT exposure time absolute
    if (!in) {
      if (ae_mode != 1) return {-EPIPE, {}};  // only settable in manual mode, as the spec says
      exposure_100us = static_cast<std::uint32_t>(r.data_out[0] | r.data_out[1] << 8 | r.data_out[2] << 16);
      return {};
    }
    if (r.request == 0x82) return {0, u32(1)};    // GET_MIN: 100 us
    if (r.request == 0x83) return {0, u32(500)};  // GET_MAX: 50 ms
    return {0, u32(exposure_100us)};
  }
  if (entity == 2 && selector == 0x04 && r.length == 2) {  // PU gain
    if (!in) gain = static_cast<std::uint16_t>(r.data_out[0] | r.data_out[1] << 8);
    return {0, {static_cast<std::uint8_t>(gain), static_cast<std::uint8_t>(gain >> 8)}};
  }
  if (with_illumination && entity == 4) {
    if (selector == drivers::kUvcXuBanks && in && r.length == 10) {
      return {0, {2, 8, 0x52, 0x03, 0xac, 0x03, 0, 0, 0, 0}};  // 850 and 940 nm, 8 levels
    }
    if (selector == drivers::kUvcXuIllumination && r.length == 4) {
      if (!in) {
        wavelength_nm = static_cast<std::uint16_t>(r.data_out[0] | r.data_out[1] << 8);
        level = r.data_out[2];
        return {};
      }
      return {0, {static_cast<std::uint8_t>(wavelength_nm), static_cast<std::uint8_t>(wavelength_nm >> 8), level, 0}};
    }
  }
  return {-EPIPE, {}};
}

std::vector<std::uint8_t> UvcFirmware::next_payload(std::size_t capacity) {
  if (frame_bytes_.empty()) {
    const std::uint32_t n = next_frame++;
    const Image gray = expected_gray(n);
    switch (committed_format) {
      case 1: frame_bytes_.assign(gray.data(), gray.data() + kWidth * kHeight); break;
      case 2:
        for (int i = 0; i < kWidth * kHeight; ++i) {
          frame_bytes_.push_back(gray.data()[i]);
          frame_bytes_.push_back(static_cast<std::uint8_t>(i % 2 ? 0x70 : 0x90));  // U/V: ignored by the host
        }
        break;
      default: frame_bytes_ = jpeg(n); break;
    }
    if (short_frames.count(n)) frame_bytes_.resize(frame_bytes_.size() / 2);
    fid_ ^= 1;
  }
  const std::size_t n = std::min(frame_bytes_.size(), std::min<std::size_t>(capacity, kMaxPayload) - 2);
  const bool eof = n == frame_bytes_.size();
  std::vector<std::uint8_t> payload(2 + n);
  payload[0] = 2;  // bHeaderLength; bmHeaderInfo: EOH, FID, EOF
  payload[1] = static_cast<std::uint8_t>(0x80 | fid_ | (eof ? 0x02 : 0));
  std::copy(frame_bytes_.begin(), frame_bytes_.begin() + static_cast<std::ptrdiff_t>(n), payload.begin() + 2);
  frame_bytes_.erase(frame_bytes_.begin(), frame_bytes_.begin() + static_cast<std::ptrdiff_t>(n));
  return payload;
}

std::optional<UrbReply> UvcFirmware::bulk(std::uint8_t endpoint, std::size_t capacity, std::span<const std::uint8_t>) {
  if (endpoint != kEndpoint || isochronous) return UrbReply{-EPIPE, {}};
  if (!streaming() || hang) return std::nullopt;
  return UrbReply{0, next_payload(capacity)};
}

bool UvcFirmware::iso_in(std::uint8_t endpoint, std::span<usbdevfs_iso_packet_desc> packets, std::uint8_t* buffer) {
  if (endpoint != kEndpoint || !streaming() || hang) return false;
  std::size_t offset = 0;
  for (auto& p : packets) {
    const auto payload = next_payload(p.length);
    std::memcpy(buffer + offset, payload.data(), payload.size());
    p.actual_length = static_cast<unsigned>(payload.size());
    p.status = 0;
    offset += p.length;  // packets sit at their nominal offsets (libusb_get_iso_packet_buffer_simple)
  }
  return true;
}

}  // namespace palmvein::testing

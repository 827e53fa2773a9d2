// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: the MyID USB host-side parsers (drivers/src/myid_usb): the frame parser that
// reassembles frames from the bulk-IN stream, and the decoders of the control replies (GET_INFO,
// GET_STATUS, strings). Any byte stream from a device must be turned into frames, counted as
// corrupt or skipped; never a crash, an overread or unbounded memory.
//
// Input: byte 0 picks the expected geometry, byte 1 the bulk transfer size the stream is cut into,
// the rest is the stream (and, for the control decoders, the reply bytes).
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "myid_usb/frame_parser.hpp"
#include "myid_usb/protocol.hpp"

namespace {

using namespace palmvein::drivers::myid;

DeviceInfo geometry(std::uint8_t pick) {
  DeviceInfo info;
  info.bank_count = 1;
  info.wavelengths_nm[0] = 850;
  switch (pick % 4) {
    case 0: info.width = 8, info.height = 4; break;
    case 1: info.width = 4, info.height = 4, info.pixel_format = WirePixelFormat::Gray16, info.significant_bits = 12; break;
    case 2: info.width = 1, info.height = 1; break;
    default: info.width = 16, info.height = 8, info.pixel_format = WirePixelFormat::Gray16, info.significant_bits = 16; break;
  }
  return info;
}

struct Frames {
  std::vector<ParsedFrame> frames;
  bool dropped = false;  // more than the queue holds arrived in one feed
};

// Feeds `stream` in transfers of `chunk` bytes and drains the queue after each one, as the sensor does.
Frames parse_stream(const DeviceInfo& info, std::span<const std::uint8_t> stream, std::size_t chunk) {
  FrameParser parser(info);
  Frames out;
  for (std::size_t at = 0; at < stream.size(); at += chunk) {
    parser.feed(stream.subspan(at, std::min(chunk, stream.size() - at)));
    std::size_t n = 0;
    while (auto frame = parser.pop()) {
      const auto& h = frame->header;
      if (h.width != info.width || h.height != info.height || h.pixel_format != info.pixel_format ||
          h.significant_bits != info.significant_bits || h.payload_size != info.payload_size() ||
          frame->pixels.size() != info.payload_size())
        std::abort();  // only frames of the expected geometry may come out
      out.frames.push_back(std::move(*frame));
      ++n;
    }
    if (n >= 4) out.dropped = true;
  }
  return out;
}

void decode_replies(std::span<const std::uint8_t> bytes) {
  if (bytes.size() >= kInfoSize) {
    if (const auto info = decode_info(bytes.first(kInfoSize))) {
      // A decoded reply must survive encode -> decode unchanged.
      const auto again = decode_info(encode_info(*info));
      if (!again || again->width != info->width || again->height != info->height ||
          again->pixel_format != info->pixel_format || again->significant_bits != info->significant_bits ||
          again->bank_count != info->bank_count || again->wavelengths_nm != info->wavelengths_nm ||
          again->exposure_min_us != info->exposure_min_us || again->exposure_max_us != info->exposure_max_us ||
          again->model != info->model)
        std::abort();
    }
  }
  if (bytes.size() >= kStatusSize) (void)decode_status(bytes.first(kStatusSize));
  (void)decode_status(bytes);
  (void)decode_info(bytes);
  (void)decode_header(bytes);
  const auto text = decode_string(bytes.first(std::min(bytes.size(), kStringSize)));
  for (const char c : text)
    if (c < 0x20 || c >= 0x7f) std::abort();
  if (decode_string(encode_string(text)) != text) std::abort();  // GET_FIRMWARE / GET_SERIAL round trip
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const DeviceInfo info = geometry(data[0]);
  const std::size_t chunk = std::size_t{data[1]} + 1;
  const std::span<const std::uint8_t> stream(data + 2, size - 2);
  decode_replies(stream);

  // The transfer size must not change which frames come out (when none were dropped for a slow consumer).
  const Frames cut = parse_stream(info, stream, chunk);
  const Frames whole = parse_stream(info, stream, stream.size() + 1);
  if (!cut.dropped && !whole.dropped) {
    if (cut.frames.size() != whole.frames.size()) std::abort();
    for (std::size_t i = 0; i < cut.frames.size(); ++i)
      if (cut.frames[i].pixels != whole.frames[i].pixels ||
          cut.frames[i].header.frame_counter != whole.frames[i].header.frame_counter)
        std::abort();
  }
  return 0;
}

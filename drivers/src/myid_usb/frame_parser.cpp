// SPDX-License-Identifier: Apache-2.0
#include "myid_usb/frame_parser.hpp"

#include <algorithm>

namespace palmvein::drivers::myid {
namespace {

// Frames buffered but not yet grabbed are dropped beyond this: a slow consumer gets fresh frames.
constexpr std::size_t kMaxQueuedFrames = 4;

}  // namespace

FrameParser::FrameParser(const DeviceInfo& expected) : expected_(expected) {}

bool FrameParser::header_matches(const FrameHeader& h) const noexcept {
  return h.width == expected_.width && h.height == expected_.height && h.pixel_format == expected_.pixel_format &&
         h.significant_bits == expected_.significant_bits && h.payload_size == expected_.payload_size();
}

void FrameParser::feed(std::span<const std::uint8_t> bytes) {
  buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
  parse();
}

void FrameParser::parse() {
  static constexpr std::uint8_t kMagicBytes[4] = {'P', 'V', 'F', '1'};
  std::size_t pos = 0;
  while (true) {
    auto it = std::search(buffer_.begin() + static_cast<std::ptrdiff_t>(pos), buffer_.end(), std::begin(kMagicBytes),
                          std::end(kMagicBytes));
    const std::size_t found = static_cast<std::size_t>(it - buffer_.begin());
    if (it == buffer_.end()) {
      // Keep the last 3 bytes: they may be the start of a magic split across transfers.
      const std::size_t keep = std::min<std::size_t>(3, buffer_.size() - pos);
      resync_bytes_ += buffer_.size() - pos - keep;
      pos = buffer_.size() - keep;
      break;
    }
    resync_bytes_ += found - pos;
    pos = found;
    if (buffer_.size() - pos < kHeaderSize) break;  // wait for the rest of the header
    const std::span<const std::uint8_t> rest(buffer_.data() + pos, buffer_.size() - pos);
    const auto header = decode_header(rest);
    if (!header || !header_matches(*header)) {  // a false magic (in pixel data) or a foreign header
      ++pos;
      ++resync_bytes_;
      continue;
    }
    const std::size_t total = kHeaderSize + header->payload_size;
    if (rest.size() < total) break;  // wait for the pixels
    const std::uint32_t crc = crc32(rest.subspan(kHeaderSize, header->payload_size), crc32(rest.first(36)));
    if (crc != get_u32(&rest[36])) {
      // Corrupt, or a short frame overrun by the next one: drop it and look for the next magic.
      ++corrupt_frames_;
      ++pos;
      continue;
    }
    ParsedFrame frame{*header, std::vector<std::uint8_t>(rest.begin() + kHeaderSize, rest.begin() + total)};
    if (frames_.size() == kMaxQueuedFrames) frames_.pop_front();
    frames_.push_back(std::move(frame));
    pos += total;
  }
  buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(pos));
}

std::optional<ParsedFrame> FrameParser::pop() {
  if (frames_.empty()) return std::nullopt;
  ParsedFrame f = std::move(frames_.front());
  frames_.pop_front();
  return f;
}

void FrameParser::reset() {
  buffer_.clear();
  frames_.clear();
}

}  // namespace palmvein::drivers::myid

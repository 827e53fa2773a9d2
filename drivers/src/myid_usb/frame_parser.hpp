// SPDX-License-Identifier: Apache-2.0
// Reassembles MyID frames from the bulk-IN byte stream and resynchronises after corrupt, short or
// foreign data (docs/usb-protocol.md, "Host-side validation and resynchronisation").
// Thread-safety: not thread-safe; owned by one sensor.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <vector>

#include "myid_usb/protocol.hpp"

namespace palmvein::drivers::myid {

struct ParsedFrame {
  FrameHeader header;
  std::vector<std::uint8_t> pixels;  // header.payload_size bytes
};

class FrameParser {
 public:
  // Frames must match this geometry/format (from GET_INFO); anything else is a false magic.
  explicit FrameParser(const DeviceInfo& expected);

  // Appends bytes from one completed bulk transfer and extracts every complete valid frame.
  void feed(std::span<const std::uint8_t> bytes);
  // The oldest complete frame, if any.
  std::optional<ParsedFrame> pop();
  // Forgets buffered bytes and frames (after STOP_STREAM or an error).
  void reset();

  std::uint64_t corrupt_frames() const noexcept { return corrupt_frames_; }
  std::uint64_t resync_bytes() const noexcept { return resync_bytes_; }

 private:
  bool header_matches(const FrameHeader& h) const noexcept;
  void parse();

  DeviceInfo expected_;
  std::vector<std::uint8_t> buffer_;
  std::deque<ParsedFrame> frames_;
  std::uint64_t corrupt_frames_ = 0;
  std::uint64_t resync_bytes_ = 0;
};

}  // namespace palmvein::drivers::myid

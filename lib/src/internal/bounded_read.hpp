// SPDX-License-Identifier: Apache-2.0
// (Internal, namespace palmvein::io.) Reading a whole input file with a stated upper bound: a file (or /dev/zero, a FIFO) larger than
// the bound is refused after at most bound + 1 bytes, never read to the end.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string_view>
#include <vector>

#include "palmvein/export.hpp"

namespace palmvein::io {

// The bounds of palmvein's inputs (one place; documented in the public headers that read them).
inline constexpr std::uint64_t kMaxImageFileBytes = std::uint64_t{256} << 20;     // an encoded image
inline constexpr std::uint64_t kMaxTextInputBytes = std::uint64_t{64} << 20;      // manifest, calibration CSV
inline constexpr std::uint64_t kMaxScoreFileBytes = std::uint64_t{2} << 30;      // a score file of another system

// Reads all of `path`. `what` names the file in errors ("image file", "manifest"). Throws IoError:
// cannot open or read, a folder, or larger than `max_bytes` (the message states the bound).
PALMVEIN_API std::vector<std::uint8_t> read_file_bounded(const std::filesystem::path& path, std::uint64_t max_bytes,
                                                         std::string_view what);

}  // namespace palmvein::io

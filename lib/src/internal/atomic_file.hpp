// Writing files so that a failure or a crash never leaves a half-written file behind.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>

#include "palmvein/export.hpp"

namespace palmvein::internal {

// Writes to a temporary file in the same folder, flushes, then renames over `path`.
// Throws IoError. Exported for the drivers and the apps, not part of the public API.
PALMVEIN_API void write_file_atomically(const std::filesystem::path& path, std::span<const std::uint8_t> bytes);
PALMVEIN_API void write_file_atomically(const std::filesystem::path& path, std::string_view text);

}  // namespace palmvein::internal

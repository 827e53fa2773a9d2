// SPDX-License-Identifier: Apache-2.0
// Writing files so that a failure or a crash never leaves a half-written file behind.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>
#include <vector>

#include "palmvein/export.hpp"

namespace palmvein::internal {

// Writes to a temporary file in the same folder, flushes, then renames over `path`.
// Throws IoError. Exported for the drivers and the apps, not part of the public API.
PALMVEIN_API void write_file_atomically(const std::filesystem::path& path, std::span<const std::uint8_t> bytes);
PALMVEIN_API void write_file_atomically(const std::filesystem::path& path, std::string_view text);

// Outputs that appear together or not at all. stage() writes each one completely to a temporary
// file beside its destination (flushed); commit() renames them all into place, in order, once every
// one is complete. Destroyed before commit(), it removes its temporary files: a run that fails
// halfway leaves every earlier file (a previous run's scores and report) exactly as it was.
class PALMVEIN_API StagedFiles {
 public:
  StagedFiles() = default;
  StagedFiles(const StagedFiles&) = delete;
  StagedFiles& operator=(const StagedFiles&) = delete;
  ~StagedFiles();
  void stage(const std::filesystem::path& path, std::span<const std::uint8_t> bytes);  // throws IoError
  void stage(const std::filesystem::path& path, std::string_view text);
  void commit();  // throws IoError

 private:
  struct Staged {
    std::filesystem::path temp, destination;
  };
  std::vector<Staged> staged_;
};

}  // namespace palmvein::internal

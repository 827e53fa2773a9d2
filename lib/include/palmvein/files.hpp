// SPDX-License-Identifier: Apache-2.0
// Files that are never left half-written, and inputs read with a stated upper bound: what the library
// itself uses to write templates, pictures and reports and to read images, manifests and score files,
// public so that an application (palmvein's own tools among them) keeps the same guarantees.
//
// Thread-safety: the free functions may be called from any thread (two writers of the same path: the
// last rename wins, neither leaves a partial file). A StagedFiles object belongs to one thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>
#include <vector>

#include "palmvein/export.hpp"

PALMVEIN_NAMESPACE_BEGIN

// Writes `bytes` to a temporary file in the same folder, flushes it, then renames it over `path`: a
// reader sees the old file or the new one, never a part. Throws IoError (and leaves nothing behind).
PALMVEIN_API void write_file_atomically(const std::filesystem::path& path, std::span<const std::uint8_t> bytes);
// The same for text.
PALMVEIN_API void write_file_atomically(const std::filesystem::path& path, std::string_view text);

// Outputs that appear together or not at all. stage() writes each one completely to a temporary
// file beside its destination (flushed); commit() renames them all into place, in order, once every
// one is complete. Destroyed before commit(), it removes its temporary files: a run that fails
// halfway leaves every earlier file (a previous run's scores and report) exactly as it was.
class PALMVEIN_API StagedFiles {
 public:
  // No files staged.
  StagedFiles() = default;
  StagedFiles(const StagedFiles&) = delete;
  StagedFiles& operator=(const StagedFiles&) = delete;
  // Removes the temporary files of a StagedFiles that was never committed.
  ~StagedFiles();

  // Writes `bytes` to a temporary file beside `path`. Throws IoError.
  void stage(const std::filesystem::path& path, std::span<const std::uint8_t> bytes);
  // The same for text.
  void stage(const std::filesystem::path& path, std::string_view text);
  // Renames every staged file onto its destination, in the order staged. Throws IoError.
  void commit();

 private:
  struct Staged {
    std::filesystem::path temp, destination;
  };
  std::vector<Staged> staged_;
};

// The bounds of palmvein's inputs (one place; the headers that read such files refer to them).
inline constexpr std::uint64_t kMaxImageFileBytes = std::uint64_t{256} << 20;  // an encoded image or template
inline constexpr std::uint64_t kMaxTextInputBytes = std::uint64_t{64} << 20;   // a manifest, a calibration CSV
inline constexpr std::uint64_t kMaxScoreFileBytes = std::uint64_t{2} << 30;    // a score file of another system

// Reads all of `path`; a file (or /dev/zero, a FIFO) larger than `max_bytes` is refused after at most
// max_bytes + 1 bytes, never read to the end. `what` names the file in errors ("image file",
// "manifest"). Throws IoError: cannot open or read, a folder, or larger than `max_bytes` (the message
// states the bound).
PALMVEIN_API std::vector<std::uint8_t> read_file_bounded(const std::filesystem::path& path, std::uint64_t max_bytes,
                                                         std::string_view what);

PALMVEIN_NAMESPACE_END

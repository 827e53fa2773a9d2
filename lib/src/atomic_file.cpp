// SPDX-License-Identifier: Apache-2.0
#include "internal/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>
#include <string>

#include "palmvein/error.hpp"

PALMVEIN_NAMESPACE_BEGIN

namespace {

// Writes `bytes` to a new hidden sibling of `path` (same file system, so rename() is atomic),
// flushed to disk; returns its name. Throws IoError, leaving nothing behind.
std::filesystem::path write_temporary(const std::filesystem::path& path, std::span<const std::uint8_t> bytes) {
  const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  std::random_device random;
  std::string temp_name = ".";
  temp_name += path.filename().string();
  temp_name += ".tmp";
  temp_name += std::to_string(random());
  const std::filesystem::path temp = dir / temp_name;
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) throw IoError("cannot write '" + path.string() + "': " + std::strerror(errno));
  std::size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      ::unlink(temp.c_str());
      throw IoError("cannot write '" + path.string() + "': " + std::strerror(err));
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const int err = errno;
    ::unlink(temp.c_str());
    throw IoError("cannot write '" + path.string() + "': " + std::strerror(err));
  }
  return temp;
}

void rename_into_place(const std::filesystem::path& temp, const std::filesystem::path& path) {
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(temp.c_str());
    throw IoError("cannot write '" + path.string() + "': " + std::strerror(err));
  }
}

}  // namespace

void write_file_atomically(const std::filesystem::path& path, std::span<const std::uint8_t> bytes) {
  rename_into_place(write_temporary(path, bytes), path);
}

StagedFiles::~StagedFiles() {
  for (const Staged& s : staged_) ::unlink(s.temp.c_str());
}

void StagedFiles::stage(const std::filesystem::path& path, std::span<const std::uint8_t> bytes) {
  staged_.reserve(staged_.size() + 1);  // no allocation after the temporary file exists
  staged_.push_back({write_temporary(path, bytes), path});
}

void StagedFiles::stage(const std::filesystem::path& path, std::string_view text) {
  stage(path, std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

void StagedFiles::commit() {
  while (!staged_.empty()) {
    rename_into_place(staged_.front().temp, staged_.front().destination);
    staged_.erase(staged_.begin());
  }
}

void write_file_atomically(const std::filesystem::path& path, std::string_view text) {
  write_file_atomically(path, std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

PALMVEIN_NAMESPACE_END

// SPDX-License-Identifier: Apache-2.0
#include "internal/bounded_read.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "palmvein/error.hpp"

PALMVEIN_NAMESPACE_BEGIN
namespace {

struct FileDescriptor {
  int fd;
  ~FileDescriptor() {
    if (fd >= 0) ::close(fd);
  }
};

std::string size_text(std::uint64_t bytes) {
  return bytes >= (1u << 20) ? std::to_string(bytes >> 20) + " MiB" : std::to_string(bytes) + " bytes";
}

}  // namespace

std::vector<std::uint8_t> read_file_bounded(const std::filesystem::path& path, std::uint64_t max_bytes,
                                            std::string_view what) {
  const std::string name = std::string(what) + " '" + path.string() + "'";
  const FileDescriptor file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (file.fd < 0) throw IoError("cannot open " + name + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(file.fd, &st) != 0) throw IoError("cannot read " + name + ": " + std::strerror(errno));
  if (S_ISDIR(st.st_mode)) throw IoError(name + " is a folder, not a file");
  const std::string too_large = name + " is larger than the " + size_text(max_bytes) + " an input of this kind may have";
  if (S_ISREG(st.st_mode) && static_cast<std::uint64_t>(st.st_size) > max_bytes) throw IoError(too_large);
  std::vector<std::uint8_t> bytes;
  if (S_ISREG(st.st_mode)) bytes.reserve(static_cast<std::size_t>(st.st_size));
  std::uint8_t chunk[1 << 16];
  for (;;) {
    const ssize_t n = ::read(file.fd, chunk, sizeof chunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw IoError("cannot read " + name + ": " + std::strerror(errno));
    }
    if (n == 0) break;
    if (bytes.size() + static_cast<std::size_t>(n) > max_bytes) throw IoError(too_large);  // a device or a FIFO
    bytes.insert(bytes.end(), chunk, chunk + n);
  }
  return bytes;
}

PALMVEIN_NAMESPACE_END

// SPDX-License-Identifier: Apache-2.0
#include "palmvein/transparency.hpp"
#include "palmvein/version.hpp"

#include <string>

#include "palmvein/error.hpp"

namespace palmvein {
inline namespace v1 {

DirectoryTransparency::DirectoryTransparency(std::filesystem::path directory) : directory_(std::move(directory)) {
  std::error_code ec;
  std::filesystem::create_directories(directory_, ec);
  if (ec) throw IoError("cannot create dump folder '" + directory_.string() + "': " + ec.message());
}

void DirectoryTransparency::take(std::string_view stage, const Image& image) {
  write_image(directory_ / (std::string(stage) + ".png"), image);
}

const char* version_string() noexcept { return PALMVEIN_VERSION_STRING; }

}  // namespace v1
}  // namespace palmvein

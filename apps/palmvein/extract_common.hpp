// SPDX-License-Identifier: Apache-2.0
// Shared by 'palmvein extract' and 'palmvein match': the image-kind option and its default guess,
// and loading an input that is either a template (.pvt) or an image.
#pragma once

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "palmvein/files.hpp"
#include "palmvein/error.hpp"
#include "palmvein/extractor.hpp"
#include "palmvein/image.hpp"
#include "palmvein/template.hpp"

namespace palmvein::cli {

// Without --kind: an image smaller than a VGA-class sensor frame (longer side < 480) and roughly
// square (sides within 1.5x; third-party ROI crops are not exactly square) is taken for an
// already-cut ROI, anything else for a full sensor frame. Pass --kind for other cases.
inline ImageKind guess_kind(const Image& image) {
  const int lo = std::min(image.width(), image.height()), hi = std::max(image.width(), image.height());
  return (hi < 480 && lo * 3 >= hi * 2) ? ImageKind::Roi : ImageKind::FullHand;
}

inline ImageKind parse_kind(const std::string& text, const Image& image) {
  if (text.empty()) return guess_kind(image);
  if (text == "roi") return ImageKind::Roi;
  if (text == "full-hand") return ImageKind::FullHand;
  throw InvalidArgument("--kind must be 'roi' or 'full-hand', got '" + text + "'");
}

// An image or a template: bounded like an image file (palmvein/files.hpp).
inline std::vector<std::uint8_t> read_bytes(const std::filesystem::path& path) {
  return read_file_bounded(path, kMaxImageFileBytes, "input");
}

// A file is read as a template when it carries the template magic (whatever its name), so that a
// corrupt .pvt gets the template's FormatError instead of "not an image".
inline bool looks_like_template(const std::vector<std::uint8_t>& bytes, const std::filesystem::path& path) {
  static constexpr std::uint8_t kMagic[4] = {'P', 'V', 'T', 'M'};
  return (bytes.size() >= 4 && std::equal(kMagic, kMagic + 4, bytes.begin())) || path.extension() == ".pvt";
}

}  // namespace palmvein::cli

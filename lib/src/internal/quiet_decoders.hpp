// SPDX-License-Identifier: Apache-2.0
// PNG and JPEG decoding straight through libpng and libjpeg(-turbo), with their messages kept.
//
// Through cv::imdecode both libraries print to stderr ("libpng error: ...", "Corrupt JPEG data: ..."),
// which a library must never do, and a warning such as "premature end of data segment" (a file
// cut short) is lost: the image comes back partly grey. Here every message is captured and either
// becomes the FormatError's text or, for a harmless warning, is dropped silently.
#pragma once

#include <cstdint>
#include <span>

#include <opencv2/core/mat.hpp>

namespace palmvein::internal {

// A palm frame is a few megapixels; a header that claims more than this many pixels (about 33
// megapixels) is refused before anything is allocated: a 60-byte file must not cost gigabytes.
inline constexpr std::uint64_t kMaxDecodedPixels = std::uint64_t{1} << 25;
bool plausible_image_size(std::uint64_t width, std::uint64_t height);

// 8- or 16-bit grey (CV_8UC1 / CV_16UC1) from a PNG: palette, low bit depths, interlacing and
// transparency are resolved by libpng; colour is converted to grey by libpng. Throws FormatError.
cv::Mat decode_png_quietly(std::span<const std::uint8_t> bytes);

// 8-bit grey (CV_8UC1) from a baseline or progressive JPEG; colour JPEGs give their luma. A JPEG
// whose data ends early is refused; other warnings (extraneous bytes between markers) are dropped.
// Throws FormatError.
cv::Mat decode_jpeg_quietly(std::span<const std::uint8_t> bytes);

}  // namespace palmvein::internal

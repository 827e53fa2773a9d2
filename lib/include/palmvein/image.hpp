// SPDX-License-Identifier: Apache-2.0
// Grey-level images: sensor frames (8 or 16 bit) and decoded files.
// Thread-safety: Image is a plain value type; const access from many threads is safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>
#include <vector>

#include "palmvein/export.hpp"

PALMVEIN_NAMESPACE_BEGIN

enum class PixelFormat : std::uint8_t {
  Gray8,   // one byte per pixel
  Gray16,  // two bytes per pixel (native endian); significant_bits() says how many carry data
};

class PALMVEIN_API Image {
 public:
  Image() = default;
  // A zero-filled image. Throws InvalidArgument for non-positive sizes.
  Image(int width, int height, PixelFormat format = PixelFormat::Gray8, int significant_bits = 0);

  // Copies pixels from a buffer whose rows are `stride_bytes` apart.
  static Image from_gray8(int width, int height, const std::uint8_t* pixels, std::size_t stride_bytes);
  static Image from_gray16(int width, int height, const std::uint16_t* pixels, std::size_t stride_bytes,
                           int significant_bits = 16);

  int width() const noexcept { return width_; }
  int height() const noexcept { return height_; }
  bool empty() const noexcept { return width_ == 0 || height_ == 0; }
  PixelFormat format() const noexcept { return format_; }
  int bytes_per_pixel() const noexcept { return format_ == PixelFormat::Gray8 ? 1 : 2; }
  // 8 for Gray8; 1..16 for Gray16 (a 10-bit sensor stores values 0..1023).
  int significant_bits() const noexcept { return significant_bits_; }
  std::size_t stride() const noexcept { return static_cast<std::size_t>(width_) * bytes_per_pixel(); }

  std::uint8_t* data() noexcept { return bytes_.data(); }
  const std::uint8_t* data() const noexcept { return bytes_.data(); }
  std::uint8_t* row8(int y) noexcept { return bytes_.data() + y * stride(); }
  const std::uint8_t* row8(int y) const noexcept { return bytes_.data() + y * stride(); }
  std::uint16_t* row16(int y) noexcept { return reinterpret_cast<std::uint16_t*>(row8(y)); }
  const std::uint16_t* row16(int y) const noexcept { return reinterpret_cast<const std::uint16_t*>(row8(y)); }

  // An 8-bit copy; 16-bit images are scaled by their significant bits.
  Image to_gray8() const;

  friend bool operator==(const Image&, const Image&) = default;

 private:
  int width_ = 0;
  int height_ = 0;
  PixelFormat format_ = PixelFormat::Gray8;
  int significant_bits_ = 8;
  std::vector<std::uint8_t> bytes_;
};

// Decodes PNG, JPEG, BMP, PGM/PPM or TIFF bytes to a grey image (colour is converted to grey;
// 16-bit PNG/TIFF stay 16-bit). Throws FormatError for bytes that are not a decodable image of
// these formats (other formats are refused by their leading bytes), for a file cut short or with
// damaged pixel data, and for a declared size over 2^25 pixels. Prints nothing. Thread-safe.
PALMVEIN_API Image decode_image(std::span<const std::uint8_t> encoded);
// Reads and decodes a file. Throws IoError if it cannot be read, is a folder or is larger than
// 256 MiB (refused after at most that much: /dev/zero is not read to the end), FormatError if it
// is not an image.
PALMVEIN_API Image read_image(const std::filesystem::path& path);
// Encodes an image as the format of `extension` (".png" lossless, ".jpg", ".bmp", ".pgm", ".tif").
// Throws InvalidArgument for an empty image, IoError for an extension that cannot be encoded.
PALMVEIN_API std::vector<std::uint8_t> encode_image(const Image& image, std::string_view extension = ".png");
// Writes an image; the format follows the extension (.png recommended). Written atomically:
// a failure leaves no partial file. Throws IoError.
PALMVEIN_API void write_image(const std::filesystem::path& path, const Image& image);

PALMVEIN_NAMESPACE_END

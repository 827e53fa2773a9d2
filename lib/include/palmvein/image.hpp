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

// How an Image stores a pixel.
enum class PixelFormat : std::uint8_t {
  Gray8,   // one byte per pixel
  Gray16,  // two bytes per pixel (native endian); significant_bits() says how many carry data
};

// A grey image that owns its pixels: rows from top to bottom, each row left to right, rows packed
// without padding (stride() bytes apart). Copies are deep. Pixel accessors do not check bounds.
class PALMVEIN_API Image {
 public:
  // The empty image (0 x 0, Gray8).
  Image() = default;
  // A zero-filled image of width x height pixels (each 1..65536). `significant_bits` is ignored for
  // Gray8; for Gray16 it is 1..16, and 0 means 16. Throws InvalidArgument for a size or a bit depth
  // out of range.
  Image(int width, int height, PixelFormat format = PixelFormat::Gray8, int significant_bits = 0);

  // Copies 8-bit pixels from a buffer whose rows are `stride_bytes` apart (>= width). Throws
  // InvalidArgument for a null buffer, a stride below the width or a size the constructor refuses.
  static Image from_gray8(int width, int height, const std::uint8_t* pixels, std::size_t stride_bytes);
  // Copies native-endian 16-bit pixels from a buffer whose rows are `stride_bytes` bytes apart
  // (>= 2 * width), of which the low `significant_bits` (1..16) carry data; values are not checked
  // against it. Throws InvalidArgument as from_gray8() does, and for a bit depth out of range.
  static Image from_gray16(int width, int height, const std::uint16_t* pixels, std::size_t stride_bytes,
                           int significant_bits = 16);

  int width() const noexcept { return width_; }    // pixels; 0 for the empty image
  int height() const noexcept { return height_; }  // pixels; 0 for the empty image
  // True for the default-constructed image (no pixels).
  bool empty() const noexcept { return width_ == 0 || height_ == 0; }
  // Gray8 or Gray16.
  PixelFormat format() const noexcept { return format_; }
  // 1 for Gray8, 2 for Gray16.
  int bytes_per_pixel() const noexcept { return format_ == PixelFormat::Gray8 ? 1 : 2; }
  // 8 for Gray8; 1..16 for Gray16 (a 10-bit sensor stores values 0..1023).
  int significant_bits() const noexcept { return significant_bits_; }
  // Bytes from one row to the next: width() * bytes_per_pixel() (rows are packed).
  std::size_t stride() const noexcept { return static_cast<std::size_t>(width_) * bytes_per_pixel(); }

  // The first byte of row 0; height() * stride() bytes follow. May be null for the empty image.
  std::uint8_t* data() noexcept { return bytes_.data(); }
  // The first byte of row 0; height() * stride() bytes follow. May be null for the empty image.
  const std::uint8_t* data() const noexcept { return bytes_.data(); }
  // The first byte of row `y` (0 <= y < height(), not checked); for Gray8 its pixels.
  std::uint8_t* row8(int y) noexcept { return bytes_.data() + y * stride(); }
  // The first byte of row `y` (0 <= y < height(), not checked); for Gray8 its pixels.
  const std::uint8_t* row8(int y) const noexcept { return bytes_.data() + y * stride(); }
  // Row `y` (0 <= y < height(), not checked) as native-endian 16-bit pixels: Gray16 images only.
  std::uint16_t* row16(int y) noexcept { return reinterpret_cast<std::uint16_t*>(row8(y)); }
  // Row `y` (0 <= y < height(), not checked) as native-endian 16-bit pixels: Gray16 images only.
  const std::uint16_t* row16(int y) const noexcept { return reinterpret_cast<const std::uint16_t*>(row8(y)); }

  // An 8-bit copy; 16-bit images are scaled by their significant bits (value * 255 / (2^bits - 1),
  // rounded; values above 2^bits - 1 give 255). A Gray8 or empty image is copied as it is.
  Image to_gray8() const;

  // Equal when size, format, significant bits and every pixel are equal.
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
// a failure leaves no partial file. Throws InvalidArgument for an empty image, IoError when the
// image cannot be encoded as the extension or the file cannot be written.
PALMVEIN_API void write_image(const std::filesystem::path& path, const Image& image);

PALMVEIN_NAMESPACE_END

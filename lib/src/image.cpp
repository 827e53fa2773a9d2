// SPDX-License-Identifier: Apache-2.0
#include "palmvein/image.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "internal/atomic_file.hpp"
#include "internal/bounded_read.hpp"
#include "internal/cv_bridge.hpp"
#include "internal/quiet_decoders.hpp"
#include "palmvein/error.hpp"

namespace palmvein {
inline namespace v1 {

Image::Image(int width, int height, PixelFormat format, int significant_bits)
    : width_(width), height_(height), format_(format) {
  if (width <= 0 || height <= 0 || width > 65536 || height > 65536)
    throw InvalidArgument("image size " + std::to_string(width) + "x" + std::to_string(height) + " is out of range");
  significant_bits_ = format == PixelFormat::Gray8 ? 8 : (significant_bits > 0 ? significant_bits : 16);
  if (significant_bits_ < 1 || significant_bits_ > 16)
    throw InvalidArgument("significant bits must be 1..16");
  bytes_.assign(stride() * static_cast<std::size_t>(height), 0);
}

Image Image::from_gray8(int width, int height, const std::uint8_t* pixels, std::size_t stride_bytes) {
  Image image(width, height, PixelFormat::Gray8);
  if (!pixels || stride_bytes < image.stride()) throw InvalidArgument("gray8 buffer: null or stride too small");
  for (int y = 0; y < height; ++y) std::memcpy(image.row8(y), pixels + y * stride_bytes, image.stride());
  return image;
}

Image Image::from_gray16(int width, int height, const std::uint16_t* pixels, std::size_t stride_bytes,
                         int significant_bits) {
  Image image(width, height, PixelFormat::Gray16, significant_bits);
  if (!pixels || stride_bytes < image.stride()) throw InvalidArgument("gray16 buffer: null or stride too small");
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(pixels);
  for (int y = 0; y < height; ++y) std::memcpy(image.row8(y), bytes + y * stride_bytes, image.stride());
  return image;
}

Image Image::to_gray8() const {
  if (format_ == PixelFormat::Gray8 || empty()) return *this;
  return internal::image_from_mat(internal::gray8_view(*this));
}

namespace {

// OpenCV's imdecode offers the bytes to every decoder it was built with (DICOM, JPEG 2000, OpenEXR,
// WebP, HDR, Sun raster, PFM ...) and takes the first whose signature matches. Some of those readers
// abort the process on malformed input (GDCM asserts; found by fuzz/fuzz_image_decode), and a palm
// image is never one of them. So the format is fixed here from the leading bytes: PNG and JPEG go
// to libpng and libjpeg directly (internal/quiet_decoders.hpp: nothing printed, damage refused),
// BMP, PNM and TIFF to OpenCV. OpenCV tries its DICOM reader, which looks for "DICM" at byte 128,
// before the others; bytes that carry that signature are refused.
enum class EncodedFormat { Png, Jpeg, Other };

// Returns which decoder takes the bytes; throws FormatError for any format not listed in image.hpp.
EncodedFormat check_supported_format(std::span<const std::uint8_t> b) {
  const auto starts_with = [&](std::string_view magic) {
    return b.size() >= magic.size() && std::memcmp(b.data(), magic.data(), magic.size()) == 0;
  };
  const bool png = starts_with("\x89PNG\r\n\x1a\n");
  const bool jpeg = starts_with("\xFF\xD8\xFF");
  const bool bmp = starts_with("BM");
  const bool pnm = b.size() >= 3 && b[0] == 'P' && b[1] >= '1' && b[1] <= '6' && std::isspace(b[2]);
  const bool tiff = starts_with(std::string_view("II*\0", 4)) || starts_with(std::string_view("MM\0*", 4));
  if (!(png || jpeg || bmp || pnm || tiff))
    throw FormatError("cannot decode image: not a PNG, JPEG, BMP, PGM/PPM or TIFF file (unknown leading bytes)");
  if (png) return EncodedFormat::Png;
  if (jpeg) return EncodedFormat::Jpeg;
  static constexpr std::size_t kDicomMagicAt = 128;
  if (b.size() >= kDicomMagicAt + 4 && std::memcmp(b.data() + kDicomMagicAt, "DICM", 4) == 0)
    throw FormatError("cannot decode image: the bytes also carry a DICOM signature (refused)");
  return EncodedFormat::Other;
}

// BMP, PNM and TIFF go to OpenCV, which allocates what the header declares before it reads a pixel.
// The declared size is read here first and must be plausible (internal::kMaxDecodedPixels); for the
// uncompressed formats the file must also hold that many pixels.
std::uint32_t read_le32(std::span<const std::uint8_t> b, std::size_t at) {
  return std::uint32_t{b[at]} | std::uint32_t{b[at + 1]} << 8 | std::uint32_t{b[at + 2]} << 16 | std::uint32_t{b[at + 3]} << 24;
}

void check_declared_size(std::span<const std::uint8_t> b) {
  std::uint64_t width = 0, height = 0, needed_bytes = 0;
  if (b[0] == 'B') {  // BMP: BITMAPINFOHEADER (or later) width/height at 18/22, bits at 28, compression at 30
    if (b.size() < 34 || read_le32(b, 14) < 40) throw FormatError("cannot decode image: BMP header too short or of an old kind");
    const auto w = static_cast<std::int32_t>(read_le32(b, 18)), h = static_cast<std::int32_t>(read_le32(b, 22));
    width = static_cast<std::uint64_t>(w < 0 ? -static_cast<std::int64_t>(w) : w);
    height = static_cast<std::uint64_t>(h < 0 ? -static_cast<std::int64_t>(h) : h);
    const unsigned bits = std::uint32_t{b[28]} | std::uint32_t{b[29]} << 8;
    if (read_le32(b, 30) == 0) needed_bytes = (width * bits + 31) / 32 * 4 * height;  // uncompressed rows
  } else if (b[0] == 'P') {  // PNM: magic, then width, height (and maxval) as decimal tokens, '#' comments
    std::size_t at = 2;
    const auto next_number = [&]() -> std::uint64_t {
      while (at < b.size() && (std::isspace(b[at]) || b[at] == '#')) {
        if (b[at] == '#')
          while (at < b.size() && b[at] != '\n') ++at;
        else
          ++at;
      }
      std::uint64_t value = 0;
      std::size_t digits = 0;
      for (; at < b.size() && std::isdigit(b[at]) && digits < 10; ++at, ++digits) value = value * 10 + (b[at] - '0');
      if (digits == 0) throw FormatError("cannot decode image: corrupt PNM header");
      return value;
    };
    width = next_number();
    height = next_number();
    const char kind = static_cast<char>(b[1]);
    if (kind == '4') needed_bytes = (width + 7) / 8 * height;
    if (kind == '5' || kind == '6') {
      const std::uint64_t maxval = next_number();
      needed_bytes = width * height * (kind == '6' ? 3 : 1) * (maxval > 255 ? 2 : 1);
    }
  } else {  // TIFF: the first image file directory's ImageWidth (256) and ImageLength (257) tags
    const bool little = b[0] == 'I';
    const auto u16 = [&](std::size_t at) -> std::uint32_t {
      if (at + 2 > b.size()) throw FormatError("cannot decode image: TIFF directory outside the file");
      return little ? (std::uint32_t{b[at]} | std::uint32_t{b[at + 1]} << 8) : (std::uint32_t{b[at]} << 8 | b[at + 1]);
    };
    const auto u32 = [&](std::size_t at) -> std::uint32_t {
      return little ? (u16(at) | u16(at + 2) << 16) : (u16(at) << 16 | u16(at + 2));
    };
    const std::size_t directory = u32(4);
    const std::uint32_t entries = u16(directory);
    for (std::uint32_t i = 0; i < entries; ++i) {
      const std::size_t entry = directory + 2 + 12 * static_cast<std::size_t>(i);
      const std::uint32_t tag = u16(entry), type = u16(entry + 2);
      const std::uint64_t value = type == 3 ? u16(entry + 8) : u32(entry + 8);
      if (tag == 256) width = value;
      if (tag == 257) height = value;
    }
  }
  if (!internal::plausible_image_size(width, height))
    throw FormatError("cannot decode image: declared size " + std::to_string(width) + "x" + std::to_string(height) +
                      " is empty or larger than a palm image can be");
  if (needed_bytes > b.size())
    throw FormatError("truncated image: the header declares " + std::to_string(needed_bytes) +
                      " bytes of pixels, the file holds " + std::to_string(b.size()));
}

// Decoders turn a cut-off file into a partly grey image with at most a warning, and a template
// from half a palm is worse than none: a JPEG must end its last scan with an end-of-image marker
// (FF D9; inside entropy-coded data FF is always followed by 00 or a restart marker), a PNG must
// hold its IEND chunk. Other formats fail to decode when cut.
void check_complete(std::span<const std::uint8_t> b) {
  const auto find_last = [&](std::uint8_t m0, std::uint8_t m1) -> std::ptrdiff_t {
    for (std::ptrdiff_t i = static_cast<std::ptrdiff_t>(b.size()) - 2; i >= 0; --i)
      if (b[static_cast<std::size_t>(i)] == m0 && b[static_cast<std::size_t>(i) + 1] == m1) return i;
    return -1;
  };
  if (b.size() >= 2 && b[0] == 0xFF && b[1] == 0xD8) {
    const std::ptrdiff_t scan = find_last(0xFF, 0xDA), end = find_last(0xFF, 0xD9);
    if (scan < 0 || end < scan) throw FormatError("truncated JPEG (no end-of-image marker after the last scan)");
  } else if (b.size() >= 8 && std::memcmp(b.data(), "\x89PNG\r\n\x1a\n", 8) == 0) {
    static constexpr std::uint8_t kIend[] = {'I', 'E', 'N', 'D'};
    const std::size_t tail = std::min<std::size_t>(b.size(), 64);
    const auto at = std::search(b.end() - static_cast<std::ptrdiff_t>(tail), b.end(), std::begin(kIend), std::end(kIend));
    if (at == b.end()) throw FormatError("truncated PNG (no IEND chunk at the end)");
  }
}

}  // namespace

Image decode_image(std::span<const std::uint8_t> encoded) {
  if (encoded.empty()) throw FormatError("cannot decode image: no bytes");
  const EncodedFormat format = check_supported_format(encoded);
  check_complete(encoded);
  cv::Mat decoded;
  if (format == EncodedFormat::Png) {
    decoded = internal::decode_png_quietly(encoded);
  } else if (format == EncodedFormat::Jpeg) {
    decoded = internal::decode_jpeg_quietly(encoded);
  } else {
    check_declared_size(encoded);
    cv::Mat buffer(1, static_cast<int>(encoded.size()), CV_8UC1, const_cast<std::uint8_t*>(encoded.data()));
    try {
      decoded = cv::imdecode(buffer, cv::IMREAD_ANYDEPTH | cv::IMREAD_ANYCOLOR);
    } catch (const cv::Exception& e) {
      throw FormatError(std::string("cannot decode image: ") + e.what());
    }
    if (decoded.empty()) throw FormatError("cannot decode image: corrupt BMP, PNM or TIFF data");
  }
  if (decoded.channels() == 3) cv::cvtColor(decoded, decoded, cv::COLOR_BGR2GRAY);
  else if (decoded.channels() == 4) cv::cvtColor(decoded, decoded, cv::COLOR_BGRA2GRAY);
  if (decoded.depth() != CV_8U && decoded.depth() != CV_16U) {
    cv::Mat converted;
    cv::normalize(decoded, converted, 0, 255, cv::NORM_MINMAX, CV_8U);
    decoded = converted;
  }
  return internal::image_from_mat(decoded);
}

Image read_image(const std::filesystem::path& path) {
  const std::vector<std::uint8_t> bytes = io::read_file_bounded(path, io::kMaxImageFileBytes, "image file");
  try {
    return decode_image(bytes);
  } catch (const FormatError& e) {
    throw FormatError("'" + path.string() + "': " + e.what());
  }
}

std::vector<std::uint8_t> encode_image(const Image& image, std::string_view extension) {
  if (image.empty()) throw InvalidArgument("cannot encode an empty image");
  const std::string ext = extension.empty() ? std::string(".png") : std::string(extension);
  std::vector<std::uint8_t> encoded;
  bool ok = false;
  try {
    ok = cv::imencode(ext, internal::view_of(image), encoded);
  } catch (const cv::Exception& e) {
    throw IoError("cannot encode an image as '" + ext + "': " + e.what());
  }
  if (!ok) throw IoError("cannot encode an image as '" + ext + "' (unsupported extension?)");
  return encoded;
}

void write_image(const std::filesystem::path& path, const Image& image) {
  if (image.empty()) throw InvalidArgument("cannot write an empty image to '" + path.string() + "'");
  std::vector<std::uint8_t> encoded;
  try {
    encoded = encode_image(image, path.extension().string());
  } catch (const IoError& e) {
    throw IoError("'" + path.string() + "': " + e.what());
  }
  internal::write_file_atomically(path, encoded);
}

cv::Mat view_of(const Image& image) {
  if (image.empty()) return {};
  const int type = image.format() == PixelFormat::Gray8 ? CV_8UC1 : CV_16UC1;
  return cv::Mat(image.height(), image.width(), type, const_cast<std::uint8_t*>(image.data()), image.stride());
}

cv::Mat gray8_view(const Image& image) {
  cv::Mat view = view_of(image);
  if (image.format() == PixelFormat::Gray8 || view.empty()) return view;
  cv::Mat out;
  const double max_value = static_cast<double>((1u << image.significant_bits()) - 1u);
  view.convertTo(out, CV_8U, 255.0 / max_value);
  return out;
}

Image image_from_mat(const cv::Mat& mat, int significant_bits) {
  if (mat.empty()) return {};
  if (mat.type() == CV_8UC1) return Image::from_gray8(mat.cols, mat.rows, mat.ptr<std::uint8_t>(), mat.step);
  if (mat.type() == CV_16UC1)
    return Image::from_gray16(mat.cols, mat.rows, mat.ptr<std::uint16_t>(), mat.step,
                              significant_bits > 0 ? significant_bits : 16);
  throw InvalidArgument("image_from_mat: only 8- and 16-bit single-channel images are supported");
}

}  // namespace v1
}  // namespace palmvein

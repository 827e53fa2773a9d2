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
#include "internal/cv_bridge.hpp"
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
// image is never one of them. So the format is fixed here from the leading bytes, and only the
// formats documented in image.hpp reach OpenCV. OpenCV tries its DICOM reader, which looks for "DICM"
// at byte 128, before its PNG reader; bytes that carry that signature are refused too.
void check_supported_format(std::span<const std::uint8_t> b) {
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
  static constexpr std::size_t kDicomMagicAt = 128;
  if (b.size() >= kDicomMagicAt + 4 && std::memcmp(b.data() + kDicomMagicAt, "DICM", 4) == 0)
    throw FormatError("cannot decode image: the bytes also carry a DICOM signature (refused)");
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

// Decoders allocate the whole image from the size in its header before they read a pixel, so a
// 50-byte PPM that claims 888 x 988855 pixels made OpenCV allocate 2.6 GB (found by
// fuzz/fuzz_image_decode). The size is therefore read from the header here, for each documented
// format the way its decoder reads it, and refused beyond kMaxDecodedPixels or the limits of Image
// before any decoder runs. A header that cannot be read is refused too: its decoder would fail on it.
constexpr std::uint64_t kMaxDecodedPixels = std::uint64_t{1} << 26;  // 8192 x 8192; sensors give ~0.3-5 MP

struct HeaderSize {
  std::uint64_t width = 0, height = 0;
};

std::uint32_t be16(const std::uint8_t* p) { return (std::uint32_t{p[0]} << 8) | p[1]; }
std::uint32_t le16(const std::uint8_t* p) { return (std::uint32_t{p[1]} << 8) | p[0]; }
std::uint32_t be32(const std::uint8_t* p) { return (be16(p) << 16) | be16(p + 2); }
std::uint32_t le32(const std::uint8_t* p) { return (le16(p + 2) << 16) | le16(p); }

std::optional<HeaderSize> png_size(std::span<const std::uint8_t> b) {
  // The IHDR chunk must come first: length 13, "IHDR", width, height (big endian).
  if (b.size() < 24 || std::memcmp(b.data() + 12, "IHDR", 4) != 0) return std::nullopt;
  return HeaderSize{be32(&b[16]), be32(&b[20])};
}

std::optional<HeaderSize> jpeg_size(std::span<const std::uint8_t> b) {
  // Walk the marker segments to the first start-of-frame (SOF0..SOF15 but DHT, JPG and DAC).
  std::size_t at = 2;
  while (at + 1 < b.size()) {
    if (b[at] != 0xFF) {  // stray bytes before a marker: libjpeg skips them with a warning
      ++at;
      continue;
    }
    const std::uint8_t marker = b[at + 1];
    if (marker == 0xFF) {  // fill byte
      ++at;
      continue;
    }
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {  // no length field
      at += 2;
      continue;
    }
    if (marker == 0xD9 || marker == 0xDA || at + 4 > b.size()) return std::nullopt;  // pixels before a frame
    const std::size_t length = be16(&b[at + 2]);
    if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC) {
      if (length < 8 || at + 9 > b.size()) return std::nullopt;
      return HeaderSize{be16(&b[at + 7]), be16(&b[at + 5])};  // precision, height, width
    }
    if (length < 2) return std::nullopt;
    at += 2 + length;
  }
  return std::nullopt;
}

std::optional<HeaderSize> bmp_size(std::span<const std::uint8_t> b) {
  if (b.size() < 26) return std::nullopt;
  if (le32(&b[14]) == 12) return HeaderSize{le16(&b[18]), le16(&b[20])};  // OS/2 core header
  const auto width = static_cast<std::int32_t>(le32(&b[18]));
  const auto height = static_cast<std::int32_t>(le32(&b[22]));  // negative: top-down rows
  const auto magnitude = [](std::int32_t v) {
    const auto wide = static_cast<std::int64_t>(v);  // -INT32_MIN fits
    return static_cast<std::uint64_t>(wide < 0 ? -wide : wide);
  };
  return HeaderSize{magnitude(width), magnitude(height)};
}

std::optional<HeaderSize> pnm_size(std::span<const std::uint8_t> b) {
  // "Pn", then width and height as decimal numbers separated by white space and '#' comments, read
  // as OpenCV's ReadNumber() reads them.
  std::size_t at = 2;
  const auto number = [&]() -> std::optional<std::uint64_t> {
    while (at < b.size()) {
      if (b[at] == '#') {
        while (at < b.size() && b[at] != '\n' && b[at] != '\r') ++at;
      } else if (std::isspace(b[at])) {
        ++at;
      } else {
        break;
      }
    }
    if (at >= b.size() || !std::isdigit(b[at])) return std::nullopt;
    std::uint64_t v = 0;
    while (at < b.size() && std::isdigit(b[at])) {
      v = v * 10 + static_cast<std::uint64_t>(b[at++] - '0');
      if (v > (std::uint64_t{1} << 32)) return std::nullopt;  // far beyond any accepted size
    }
    ++at;  // OpenCV's reader consumes the byte that ends a number, whatever it is ("888=988855": two)
    return v;
  };
  const auto width = number();
  if (!width) return std::nullopt;
  const auto height = number();
  if (!height) return std::nullopt;
  return HeaderSize{*width, *height};
}

std::optional<HeaderSize> tiff_size(std::span<const std::uint8_t> b) {
  // The first image file directory: its ImageWidth (256) and ImageLength (257) entries.
  if (b.size() < 8) return std::nullopt;
  const bool little = b[0] == 'I';
  const auto u16 = [&](std::size_t at) { return little ? le16(&b[at]) : be16(&b[at]); };
  const auto u32 = [&](std::size_t at) { return little ? le32(&b[at]) : be32(&b[at]); };
  const std::size_t ifd = u32(4);
  if (ifd > b.size() || b.size() - ifd < 2) return std::nullopt;
  const std::size_t entries = u16(ifd);
  if ((b.size() - ifd - 2) / 12 < entries) return std::nullopt;
  std::optional<std::uint64_t> width, height;
  for (std::size_t i = 0; i < entries; ++i) {
    const std::size_t e = ifd + 2 + 12 * i;
    const std::uint32_t tag = u16(e), type = u16(e + 2);
    if (tag != 256 && tag != 257) continue;
    std::uint64_t value = 0;
    if (type == 1) value = b[e + 8];         // BYTE
    else if (type == 3) value = u16(e + 8);  // SHORT
    else if (type == 4) value = u32(e + 8);  // LONG
    else return std::nullopt;
    auto& field = tag == 256 ? width : height;
    field = std::max(field.value_or(0), value);  // duplicate entries: the largest, whichever libtiff keeps
  }
  if (!width || !height) return std::nullopt;
  return HeaderSize{*width, *height};
}

void check_header_size(std::span<const std::uint8_t> b) {
  std::optional<HeaderSize> size;
  const char* format = "";
  if (b[0] == 0x89) size = png_size(b), format = "PNG";
  else if (b[0] == 0xFF) size = jpeg_size(b), format = "JPEG";
  else if (b[0] == 'B') size = bmp_size(b), format = "BMP";
  else if (b[0] == 'P') size = pnm_size(b), format = "PGM/PPM";
  else size = tiff_size(b), format = "TIFF";  // check_supported_format admitted nothing else
  if (!size) throw FormatError(std::string("cannot decode image: no readable image size in the ") + format + " header");
  if (size->width == 0 || size->height == 0 || size->width > 65536 || size->height > 65536 ||
      size->width * size->height > kMaxDecodedPixels)
    throw FormatError("cannot decode image: the " + std::string(format) + " header claims " + std::to_string(size->width) +
                      " x " + std::to_string(size->height) + " pixels (at most " + std::to_string(kMaxDecodedPixels) +
                      " and 65536 a side are decoded)");
}

}  // namespace

Image decode_image(std::span<const std::uint8_t> encoded) {
  if (encoded.empty()) throw FormatError("cannot decode image: no bytes");
  check_supported_format(encoded);
  check_complete(encoded);
  check_header_size(encoded);
  cv::Mat buffer(1, static_cast<int>(encoded.size()), CV_8UC1, const_cast<std::uint8_t*>(encoded.data()));
  cv::Mat decoded;
  try {
    decoded = cv::imdecode(buffer, cv::IMREAD_ANYDEPTH | cv::IMREAD_ANYCOLOR);
  } catch (const cv::Exception& e) {
    throw FormatError(std::string("cannot decode image: ") + e.what());
  }
  if (decoded.empty()) throw FormatError("cannot decode image: not a PNG, JPEG, BMP, PGM or TIFF image, or corrupt");
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
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw IoError("'" + path.string() + "' is a folder, not an image file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot open image file '" + path.string() + "'");
  std::vector<std::uint8_t> bytes;
  try {
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  } catch (const std::exception& e) {
    throw IoError("cannot read image file '" + path.string() + "': " + e.what());
  }
  try {
    return decode_image(bytes);
  } catch (const FormatError& e) {
    throw FormatError("'" + path.string() + "': " + e.what());
  }
}

void write_image(const std::filesystem::path& path, const Image& image) {
  if (image.empty()) throw InvalidArgument("cannot write an empty image to '" + path.string() + "'");
  std::vector<std::uint8_t> encoded;
  std::string ext = path.extension().string();
  if (ext.empty()) ext = ".png";
  bool ok = false;
  try {
    ok = cv::imencode(ext, internal::view_of(image), encoded);
  } catch (const cv::Exception& e) {
    throw IoError("cannot encode '" + path.string() + "': " + e.what());
  }
  if (!ok) throw IoError("cannot encode '" + path.string() + "' (unsupported extension?)");
  internal::write_file_atomically(path, encoded);
}

}  // namespace v1

namespace internal {

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

}  // namespace internal
}  // namespace palmvein

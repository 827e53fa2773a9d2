// SPDX-License-Identifier: Apache-2.0
// Template serialisation: see docs/template-format.md for the byte layout.
//
// CRC-32 is the IEEE 802.3 / zlib polynomial (reflected 0xEDB88320), computed with a small table
// here rather than by linking zlib: palmvein_core does not otherwise depend on zlib (OpenCV only
// carries it privately), and 20 lines are cheaper than a new link dependency for every consumer.
#include "palmvein/template.hpp"

#include <zlib.h>

#include <array>
#include <cstring>
#include <string>

#include "algorithm/algorithms.hpp"
#include "palmvein/error.hpp"
#include "palmvein/version.hpp"
#include "template_data.hpp"

namespace palmvein {
namespace detail {

namespace {

constexpr std::array<std::uint8_t, 4> kMagic{'P', 'V', 'T', 'M'};
constexpr std::uint16_t kFormatVersion = 1;
constexpr std::size_t kHeaderSize = 16;   // magic, version, algorithm, roi_size, orientations, max_shift, payload size
constexpr std::size_t kCodeHeaderSize = 8;
constexpr std::size_t kCrcSize = 4;
constexpr int kMaxGrid = 64;     // the matcher packs one code row into one 64-bit word
constexpr int kMaxPlanes = 16;


class Writer {
 public:
  void u8(std::uint8_t v) { out.push_back(v); }
  void u16(std::uint16_t v) { for (int i = 0; i < 2; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i))); }
  void u32(std::uint32_t v) { for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i))); }
  void u64(std::uint64_t v) { for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i))); }
  std::vector<std::uint8_t> out;
};

// Reads little-endian fields; every read is bounds-checked.
class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> b) : bytes(b) {}
  std::uint64_t read(int n, const char* what) {
    if (pos + static_cast<std::size_t>(n) > bytes.size())
      throw FormatError(std::string("template is truncated (in ") + what + ")");
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i) v |= std::uint64_t{bytes[pos + static_cast<std::size_t>(i)]} << (8 * i);
    pos += static_cast<std::size_t>(n);
    return v;
  }
  std::span<const std::uint8_t> bytes;
  std::size_t pos = 0;
};

void write_code(Writer& w, const BitCode& c) {
  w.u16(c.width);
  w.u16(c.height);
  w.u16(c.planes);
  w.u16(0);  // reserved
  for (auto v : c.mask) w.u64(v);
  for (auto v : c.bits) w.u64(v);
}

BitCode read_code(Reader& r, const char* name, std::size_t payload_end) {
  BitCode c;
  const std::string n(name);
  c.width = static_cast<std::uint16_t>(r.read(2, name));
  c.height = static_cast<std::uint16_t>(r.read(2, name));
  c.planes = static_cast<std::uint16_t>(r.read(2, name));
  if (r.read(2, name) != 0) throw FormatError("template " + n + " code: reserved field is not zero");
  if (c.width < 1 || c.width > kMaxGrid || c.height < 1 || c.height > kMaxGrid)
    throw FormatError("template " + n + " code: grid " + std::to_string(c.width) + "x" + std::to_string(c.height) +
                      " is out of range (1..64)");
  if (c.planes < 1 || c.planes > kMaxPlanes)
    throw FormatError("template " + n + " code: " + std::to_string(c.planes) + " planes is out of range (1..16)");
  const std::size_t wpp = c.words_per_plane();
  const std::size_t need = 8 * wpp * (1 + std::size_t{c.planes});
  if (r.pos + need > payload_end) throw FormatError("template " + n + " code is longer than the payload");
  c.mask.resize(wpp);
  for (auto& v : c.mask) v = r.read(8, name);
  c.bits.resize(wpp * c.planes);
  for (auto& v : c.bits) v = r.read(8, name);
  // Canonical form: no bits beyond the grid, no code bits on invalid cells.
  const std::size_t cells = std::size_t{c.width} * c.height;
  const std::uint64_t tail = cells % 64 == 0 ? ~std::uint64_t{0} : ((std::uint64_t{1} << (cells % 64)) - 1);
  if (c.mask[wpp - 1] & ~tail) throw FormatError("template " + n + " code: mask has bits beyond the grid");
  for (std::size_t p = 0; p < c.planes; ++p)
    for (std::size_t w = 0; w < wpp; ++w)
      if (c.bits[p * wpp + w] & ~c.mask[w])
        throw FormatError("template " + n + " code: code bits set on invalid cells");
  return c;
}

}  // namespace

std::uint32_t crc32(std::span<const std::uint8_t> bytes) {
  // zlib's crc32(), the CRC that docs/template-format.md defines (one implementation for templates
  // and USB frames; the golden files in tests/core/golden/ hold its values).
  uLong crc = ::crc32(0L, Z_NULL, 0);
  for (std::size_t at = 0; at < bytes.size();) {
    const auto n = static_cast<uInt>(std::min<std::size_t>(bytes.size() - at, 1u << 30));
    crc = ::crc32(crc, bytes.data() + at, n);
    at += n;
  }
  return static_cast<std::uint32_t>(crc);
}

std::vector<std::uint8_t> serialize(const TemplateData& d) {
  Writer w;
  for (auto m : kMagic) w.u8(m);
  w.u16(kFormatVersion);
  w.u16(d.algorithm);
  w.u16(d.params.roi_size);
  w.u8(d.params.orientations);
  w.u8(d.params.max_shift);
  const std::size_t payload = 2 * kCodeHeaderSize + 8 * (d.orientation.mask.size() + d.orientation.bits.size() +
                                                         d.lines.mask.size() + d.lines.bits.size());
  w.u32(static_cast<std::uint32_t>(payload));
  write_code(w, d.orientation);
  write_code(w, d.lines);
  w.u32(crc32(w.out));
  return w.out;
}

TemplateData deserialize(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < kHeaderSize + kCrcSize)
    throw FormatError("template is truncated: " + std::to_string(bytes.size()) + " bytes, a header alone is " +
                      std::to_string(kHeaderSize + kCrcSize));
  if (std::memcmp(bytes.data(), kMagic.data(), kMagic.size()) != 0)
    throw FormatError("not a palmvein template (wrong magic; expected 'PVTM')");
  Reader r(bytes);
  r.pos = 4;
  const auto version = r.read(2, "header");
  if (version != kFormatVersion)
    throw FormatError("unsupported template format version " + std::to_string(version) + " (this library reads " +
                      std::to_string(kFormatVersion) + ")");
  const auto algorithm = static_cast<std::uint16_t>(r.read(2, "header"));
  TemplateData d;
  d.params.roi_size = static_cast<std::uint16_t>(r.read(2, "header"));
  d.params.orientations = static_cast<std::uint8_t>(r.read(1, "header"));
  d.params.max_shift = static_cast<std::uint8_t>(r.read(1, "header"));
  const std::uint64_t payload = r.read(4, "header");
  if (payload != bytes.size() - kHeaderSize - kCrcSize)
    throw FormatError("template length mismatch: header announces a " + std::to_string(payload) +
                      "-byte payload, the data holds " + std::to_string(bytes.size() - kHeaderSize - kCrcSize) +
                      " (truncated or trailing bytes)");
  const std::size_t end = bytes.size() - kCrcSize;
  std::uint32_t stored = 0;
  for (int i = 0; i < 4; ++i) stored |= std::uint32_t{bytes[end + static_cast<std::size_t>(i)]} << (8 * i);
  if (stored != crc32(bytes.first(end))) throw FormatError("template checksum mismatch (corrupt bytes)");
  if (!algo::find_algorithm(algorithm))
    throw FormatError("template of algorithm " + std::to_string(algorithm) + ", which this library (" +
                      version_string() + ", algorithm " + std::to_string(algo::default_algorithm().id) +
                      ") does not know: re-enrol the palm with this library");
  d.algorithm = algorithm;
  if (d.params.roi_size < 32 || d.params.roi_size > 1024)
    throw FormatError("template ROI size " + std::to_string(d.params.roi_size) + " is out of range (32..1024)");
  if (d.params.max_shift > 8)
    throw FormatError("template shift radius " + std::to_string(d.params.max_shift) + " is out of range (0..8)");
  d.orientation = read_code(r, "orientation", end);
  d.lines = read_code(r, "line", end);
  if (d.orientation.planes != d.params.orientations)
    throw FormatError("template orientation code has " + std::to_string(d.orientation.planes) + " planes, header says " +
                      std::to_string(d.params.orientations));
  if (d.lines.planes != 1) throw FormatError("template line code must have 1 plane");
  if (r.pos != end) throw FormatError("template payload has " + std::to_string(end - r.pos) + " unexpected trailing bytes");
  return d;
}

}  // namespace detail

inline namespace v1 {

Template Template::from_bytes(std::span<const std::uint8_t> bytes) {
  return Template(std::make_shared<const detail::TemplateData>(detail::deserialize(bytes)));
}

std::vector<std::uint8_t> Template::to_bytes() const { return detail::serialize(*data_); }

std::uint16_t Template::algorithm() const noexcept { return data_->algorithm; }

std::size_t Template::serialized_size() const { return to_bytes().size(); }

}  // namespace v1
}  // namespace palmvein

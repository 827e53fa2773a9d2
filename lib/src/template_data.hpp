// SPDX-License-Identifier: Apache-2.0
// Internal feature representation of a Template (see palmvein/template.hpp and docs/template-format.md).
//
// LAYOUT (stable; the 1:N gallery index builds on it):
//   A template holds two binary codes over a regular grid laid on the 128x128 palm ROI:
//   * `orientation`: the orientation-coding family (BOCV, Guo et al. 2009 - one bit plane per Gabor
//     orientation, bit = sign of the real Gabor response), `planes` bit planes;
//   * `lines`: the vein-line family (wide line detector, Huang et al. 2010), one bit plane
//     (bit = pixel lies on a dark line).
//   Each BitCode stores `planes` bit planes of width x height bits. A plane is a FLAT, row-major,
//   LSB-first bit stream: the bit of grid cell (x, y) is bit (i % 64) of word (i / 64), i = y*width + x.
//   Planes follow each other in `bits` (plane p starts at word p * words_per_plane()); unused tail
//   bits of the last word of a plane are zero. `mask` is one plane of the same geometry: bit set =
//   cell valid (inside the ROI and with enough filter energy); invalid cells have their code bits
//   cleared to zero as well.
// Thread-safety: plain immutable data once built.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace palmvein::inline v1::detail {

// Algorithm ids stored in templates. A template from a different algorithm id is incompatible.
inline constexpr std::uint16_t kAlgorithmBocvWld = 1;  // BOCV orientation code + wide-line vein code

struct BitCode {
  std::uint16_t width = 0;   // grid cells per row
  std::uint16_t height = 0;  // grid rows
  std::uint16_t planes = 0;  // number of bit planes
  std::vector<std::uint64_t> bits;  // planes * words_per_plane()
  std::vector<std::uint64_t> mask;  // words_per_plane(); bit set = valid cell

  std::size_t words_per_plane() const noexcept { return (std::size_t{width} * height + 63) / 64; }
  const std::uint64_t* plane(std::size_t p) const noexcept { return bits.data() + p * words_per_plane(); }
  bool bit(std::size_t p, int x, int y) const noexcept {
    const std::size_t i = static_cast<std::size_t>(y) * width + static_cast<std::size_t>(x);
    return (plane(p)[i / 64] >> (i % 64)) & 1u;
  }
  bool valid(int x, int y) const noexcept {
    const std::size_t i = static_cast<std::size_t>(y) * width + static_cast<std::size_t>(x);
    return (mask[i / 64] >> (i % 64)) & 1u;
  }
  bool operator==(const BitCode&) const = default;
};

// Parameters that are part of the algorithm and recorded in the template (the matcher checks that
// two templates agree on them before comparing).
struct AlgorithmParams {
  std::uint16_t roi_size = 128;     // side of the ROI the features were computed on
  std::uint8_t orientations = 6;    // Gabor orientations (= orientation planes)
  std::uint8_t max_shift = 5;       // the extracting library's matcher search radius, grid cells
                                    // (informational: the matcher uses its own, see algorithm/shift_search.hpp)
  bool operator==(const AlgorithmParams&) const = default;
};

struct TemplateData {
  std::uint16_t algorithm = kAlgorithmBocvWld;
  AlgorithmParams params;
  BitCode orientation;  // family 1
  BitCode lines;        // family 2
  bool operator==(const TemplateData&) const = default;
};

}  // namespace palmvein::v1::detail

#include <span>

namespace palmvein::inline v1::detail {
// Serialisation (template.cpp). deserialize() throws FormatError.
std::vector<std::uint8_t> serialize(const TemplateData& data);
TemplateData deserialize(std::span<const std::uint8_t> bytes);
// CRC-32 (IEEE 802.3 / zlib polynomial) of `bytes`.
std::uint32_t crc32(std::span<const std::uint8_t> bytes);
}  // namespace palmvein::v1::detail

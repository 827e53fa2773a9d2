// SPDX-License-Identifier: Apache-2.0
// Row access to the flat, row-major bit planes of a template (lib/src/template_data.hpp): one grid row
// of up to 64 cells as one 64-bit word. Shared by the matcher, the 1:N index and the mosaic galleries.
#pragma once

#include <cstddef>
#include <cstdint>

namespace palmvein::inline v1::detail {

// Cells [y*width, (y+1)*width) of `plane` as the low `width` bits of a word (width <= 64).
inline std::uint64_t get_row(const std::uint64_t* plane, int width, int y) {
  const std::size_t start = static_cast<std::size_t>(y) * static_cast<std::size_t>(width);
  const std::size_t w = start / 64, off = start % 64;
  std::uint64_t v = plane[w] >> off;
  if (off + static_cast<std::size_t>(width) > 64) v |= plane[w + 1] << (64 - off);
  return width == 64 ? v : (v & ((std::uint64_t{1} << width) - 1));
}

// ORs `row` (low `width` bits) into row y of `plane`.
inline void or_row(std::uint64_t* plane, int width, int y, std::uint64_t row) {
  const std::size_t start = static_cast<std::size_t>(y) * static_cast<std::size_t>(width);
  const std::size_t w = start / 64, off = start % 64;
  plane[w] |= row << off;
  if (off != 0 && off + static_cast<std::size_t>(width) > 64) plane[w + 1] |= row >> (64 - off);
}

}  // namespace palmvein::inline v1::detail

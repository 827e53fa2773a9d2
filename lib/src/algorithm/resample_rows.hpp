// SPDX-License-Identifier: Apache-2.0
// The loops of PoseResampler::apply (row_code.hpp), inlined into one kernel per instruction-set
// path (kernel_portable.cpp, kernel_avx2.cpp): plain loops that the compiler vectorises for that
// path's registers (with AVX2 also the per-row shifts of the horizontal shear and the row gather
// of the scale). Integer bit operations only: every path gives the same bits.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "algorithm/row_code.hpp"

namespace palmvein::inline v1::detail::algo {

[[gnu::always_inline]] inline void PoseResampler::apply_rows(const std::uint32_t* in, std::uint32_t* out,
                                                             std::size_t planes) const noexcept {
  constexpr int kFrame = kMaxShear;  // zero rows above and below a plane's rows
  const int h = height_;
  const std::uint32_t full = full_;
  const int* right = right_.data();
  const int* left = left_.data();
  const int* source_row = source_row_.data();
  for (std::size_t plane = 0; plane < planes; ++plane, in += h, out += h) {
    std::uint32_t framed[kMaxGridRows + 2 * kFrame];  // row y at kFrame + y
    std::fill_n(framed, kFrame, 0u);
    std::copy_n(in, h, framed + kFrame);
    std::fill_n(framed + kFrame + h, kFrame, 0u);
    std::uint32_t sheared[kMaxGridRows + 2 * kFrame];
    const std::uint32_t* rows = framed;
    if (shear_) {
      // Vertical shear: cell (x, y) from (x, y - offset(x)), one masked pass per offset.
      std::uint32_t v[kMaxGridRows];
      for (std::size_t i = 0; i < column_mask_.size(); ++i) {
        const std::uint32_t* from = framed + kFrame - (first_offset_ + static_cast<int>(i));
        const std::uint32_t m = column_mask_[i];
        if (i == 0)
          for (int y = 0; y < h; ++y) v[y] = from[y] & m;
        else
          for (int y = 0; y < h; ++y) v[y] |= from[y] & m;
      }
      // Horizontal shear: cell (x, y) from (x + shift(y), y).
      std::fill_n(sheared, kFrame, 0u);
      for (int y = 0; y < h; ++y) sheared[kFrame + y] = ((v[y] >> right[y]) << left[y]) & full;
      std::fill_n(sheared + kFrame + h, kFrame, 0u);
      rows = sheared;
    }
    if (!scale_) {
      for (int y = 0; y < h; ++y) out[y] = rows[kFrame + y] & full;
      continue;
    }
    // Scale: each output row from its source row (row 0 of the frame, zero, when outside), then
    // each group of columns from its source columns. columns_ is not empty: the centre column maps
    // into the grid at every scale. The first group assigns, the others add.
    std::uint32_t source[kMaxGridRows];
    for (int y = 0; y < h; ++y) source[y] = rows[source_row[y]];
    for (std::size_t i = 0; i < columns_.size(); ++i) {
      const int shift = columns_[i].shift;
      const std::uint32_t mask = columns_[i].mask;
      if (shift >= 0 && i == 0)
        for (int y = 0; y < h; ++y) out[y] = (source[y] >> shift) & mask;
      else if (i == 0)
        for (int y = 0; y < h; ++y) out[y] = (source[y] << -shift) & mask;
      else if (shift >= 0)
        for (int y = 0; y < h; ++y) out[y] |= (source[y] >> shift) & mask;
      else
        for (int y = 0; y < h; ++y) out[y] |= (source[y] << -shift) & mask;
    }
  }
}

}  // namespace palmvein::v1::detail::algo

// SPDX-License-Identifier: Apache-2.0
#include "algorithm/row_code.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "features/bit_rows.hpp"
#include "palmvein/error.hpp"

namespace palmvein::inline v1::detail::algo {

namespace {

std::uint32_t row_of(const std::uint64_t* plane, int width, int y) {
  return static_cast<std::uint32_t>(get_row(plane, width, y));
}

}  // namespace

void check_row_packable(const BitCode& code, const char* family) {
  if (code.width < 1 || code.width > kMaxRowCells || code.height < 1 || code.height > kMaxGridRows ||
      code.planes < 1 || code.planes > kMaxCodePlanes)
    throw InvalidArgument(std::string("matcher: ") + family + " code grid " + std::to_string(code.width) + "x" +
                          std::to_string(code.height) + " with " + std::to_string(code.planes) + " planes is not supported (width 1.." +
                          std::to_string(kMaxRowCells) + ", height 1.." + std::to_string(kMaxGridRows) + ", 1.." +
                          std::to_string(kMaxCodePlanes) + " planes)");
  if (code.bits.size() != code.words_per_plane() * code.planes || code.mask.size() != code.words_per_plane())
    throw InvalidArgument(std::string("matcher: ") + family + " code has inconsistent sizes");
}

void plane_rows(const BitCode& code, std::size_t p, std::uint32_t* rows) {
  const std::uint64_t* plane = p < code.planes ? code.plane(p) : code.mask.data();
  if (code.width == 32) {  // the flat plane is already row-packed (little-endian words)
    std::memcpy(rows, plane, std::size_t{code.height} * sizeof(std::uint32_t));
    return;
  }
  for (int y = 0; y < code.height; ++y) rows[y] = row_of(plane, code.width, y);
}


void write_record(const BitCode& code, std::uint32_t* out) {
  const std::size_t rows = record_rows(code.height);
  for (std::size_t p = 0; p <= code.planes; ++p) plane_rows(code, p, out + p * rows);
}

PoseResampler::PoseResampler(int width, int height, double scale, double degrees)
    : height_(height), full_(row_cells(width)) {
  if (width < 1 || width > kMaxRowCells || height < 1 || height > kMaxGridRows || !(scale >= 0.5 && scale <= 2) ||
      !(degrees >= -20 && degrees <= 20))
    throw InvalidArgument("matcher: pose variant out of range (scale 0.5..2, degrees -20..20)");
  const double s = std::sin(degrees * 3.14159265358979323846 / 180.0);
  const double cx = (width - 1) / 2.0, cy = (height - 1) / 2.0;
  // Rotation (inverse map, small angle): source = (x + s (y - cy), y - s (x - cx)).
  std::vector<int> offset(static_cast<std::size_t>(width));
  for (int x = 0; x < width; ++x) offset[static_cast<std::size_t>(x)] = static_cast<int>(std::lround(s * (x - cx)));
  const auto [lo, hi] = std::minmax_element(offset.begin(), offset.end());
  first_offset_ = *lo;
  column_mask_.assign(static_cast<std::size_t>(*hi - *lo + 1), 0);
  for (int x = 0; x < width; ++x)
    column_mask_[static_cast<std::size_t>(offset[static_cast<std::size_t>(x)] - first_offset_)] |= std::uint32_t{1} << x;
  shear_ = *lo != 0 || *hi != 0;
  for (int y = 0; y < height; ++y) {
    const int a = static_cast<int>(std::lround(s * (y - cy)));  // cell (x, y) from (x + a, y); |a| <= 11
    right_.push_back(std::max(a, 0));
    left_.push_back(std::max(-a, 0));
    shear_ = shear_ || a != 0;
  }
  if (std::max(-*lo, *hi) > kMaxShear) throw InvalidArgument("matcher: pose variant shears too far");
  // Scale (inverse map): source = centre + (p - centre) / scale.
  for (int y = 0; y < height; ++y) {
    const int sy = static_cast<int>(std::lround(cy + (y - cy) / scale));
    source_row_.push_back(sy >= 0 && sy < height ? kMaxShear + sy : 0);
    scale_ = scale_ || sy != y;
  }
  for (int x = 0; x < width; ++x) {
    const int sx = static_cast<int>(std::lround(cx + (x - cx) / scale));
    scale_ = scale_ || sx != x;
    if (sx < 0 || sx >= width) continue;
    const auto same = [&](const MaskedShift& m) { return m.shift == sx - x; };
    auto it = std::find_if(columns_.begin(), columns_.end(), same);
    if (it == columns_.end()) it = columns_.insert(columns_.end(), MaskedShift{sx - x, 0});
    it->mask |= std::uint32_t{1} << x;
  }
}

void PoseResampler::apply(const std::uint32_t* in, std::uint32_t* out, std::size_t planes) const noexcept {
  best_kernels().resample(*this, in, out, planes);
}

ShiftedRows::ShiftedRows(const BitCode& code, int radius, const PoseResampler* pose)
    : radius_(radius), planes_(code.planes), rows_(record_rows(code.height)), pad_(static_cast<std::size_t>(radius)) {
  if (radius < 0 || radius > kMaxShiftRadius)
    throw InvalidArgument("matcher: shift radius must be 0.." + std::to_string(kMaxShiftRadius));
  stride_ = rows_ + 2 * pad_;
  const std::size_t variant = (planes_ + 1) * stride_;
  data_.resize(static_cast<std::size_t>(2 * radius + 1) * variant);
  const std::uint32_t cells = row_cells(code.width);
  std::uint32_t rows[kMaxGridRows];
  for (std::size_t p = 0; p <= planes_; ++p) {
    plane_rows(code, p, rows);
    if (pose) {
      std::uint32_t moved[kMaxGridRows];
      pose->apply(rows, moved);
      std::copy_n(moved, code.height, rows);
    }
    for (int dx = -radius; dx <= radius; ++dx)
      translate_rows(rows, code.height, cells, dx,
                     data_.data() + static_cast<std::size_t>(dx + radius) * variant + p * stride_ + pad_);
  }
}

}  // namespace palmvein::v1::detail::algo

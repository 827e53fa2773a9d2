// SPDX-License-Identifier: Apache-2.0
// Row-packed codes: the form in which the kernels (kernels.hpp) read a feature family's code.
//
// A template stores each family as flat bit planes (template_data.hpp). For comparison each grid
// row (at most kMaxRowCells cells) becomes one 32-bit word, LSB = cell x = 0; a plane is `rows`
// such words (the grid height rounded up to whole 512-bit blocks, zero rows below the grid).
// For the 32-cell grids of the default algorithm the flat plane and the row-packed plane are the
// same bytes.
//
// A probe is prepared once as ShiftedRows: one copy per horizontal shift dx, each plane framed by
// `pad` zero rows above and below, so that the probe translated by (dx, dy) is read in place at a
// row offset. That is 2r+1 copies instead of the (2r+1)^2 fully shifted ones, and a comparison
// builds nothing per shift.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "algorithm/aligned_array.hpp"
#include "algorithm/kernels.hpp"
#include "template_data.hpp"

namespace palmvein::inline v1::detail::algo {

inline constexpr int kMaxRowCells = 32;   // grid width the row-packed kernels handle
inline constexpr int kMaxGridRows = 64;   // grid height (the template format's limit)
inline constexpr int kMaxCodePlanes = 16;  // the template format's limit
inline constexpr int kMaxShiftRadius = 16;
inline constexpr std::size_t kMaxShifts = (2 * kMaxShiftRadius + 1) * (2 * kMaxShiftRadius + 1);

// Rows per plane of a record for a grid of `height` rows.
constexpr std::size_t record_rows(int height) noexcept {
  return (static_cast<std::size_t>(height) + kRowsPerBlock - 1) / kRowsPerBlock * kRowsPerBlock;
}
// Rows of a whole record (code planes, then the mask plane).
constexpr std::size_t record_size(const BitCode& code) noexcept {
  return (std::size_t{code.planes} + 1) * record_rows(code.height);
}

// Throws InvalidArgument when the kernels cannot read `code` (too wide, too tall, inconsistent).
void check_row_packable(const BitCode& code, const char* family);

// Writes `code` row-packed into `out` (record_size(code) rows, zero-filled by the caller).
void write_record(const BitCode& code, std::uint32_t* out);

// The `height` rows of plane `p` of `code` (p == code.planes: the mask plane), row-packed.
void plane_rows(const BitCode& code, std::size_t p, std::uint32_t* rows);

// The cells of a row of a grid `width` cells wide.
constexpr std::uint32_t row_cells(int width) noexcept {
  return width >= 32 ? ~std::uint32_t{0} : ((std::uint32_t{1} << width) - 1);
}

// Rows [0, height) of one plane translated horizontally by `dx` cells: cell x of out takes cell
// x - dx of `rows`; cells shifted in from outside the grid are 0. `cells` = row_cells(width).
inline void translate_rows(const std::uint32_t* rows, int height, std::uint32_t cells, int dx, std::uint32_t* out) noexcept {
  // One tight loop per direction (the shift count is loop-invariant: vectorised by the compiler).
  if (dx >= 0)
    for (int y = 0; y < height; ++y) out[y] = (rows[y] << dx) & cells;
  else
    for (int y = 0; y < height; ++y) out[y] = rows[y] >> (-dx);
}

// A change of pose of row-packed planes (nearest cell, about the grid centre): a small in-plane
// rotation as two shears (a vertical one, one column mask per offset, then a horizontal one, one
// shift per row; exact up to cos(angle), 1 % at 8 degrees), then a scale (source row per row, and
// source column per column as one masked shift per distinct column offset). Cells taken from
// outside the grid are 0, so a resampled mask marks them invalid. A step that moves nothing (no
// rotation, scale 1) is skipped. Immutable once built; apply() may run concurrently.
class PoseResampler {
 public:
  // scale > 1 draws the pattern larger; degrees in [-20, 20].
  PoseResampler(int width, int height, double scale, double degrees);
  // out[0 .. height) from in[0 .. height) (not overlapping); `planes` planes of height rows, back
  // to back. Runs the best kernel path's resample_* (kernels.hpp): the same bits on every path.
  void apply(const std::uint32_t* in, std::uint32_t* out, std::size_t planes = 1) const noexcept;

 private:
  // The loops of apply(), inlined into each path's kernel (resample_rows.hpp).
  void apply_rows(const std::uint32_t* in, std::uint32_t* out, std::size_t planes) const noexcept;
  friend void resample_portable(const PoseResampler&, const std::uint32_t*, std::uint32_t*, std::size_t) noexcept;
  friend void resample_avx2(const PoseResampler&, const std::uint32_t*, std::uint32_t*, std::size_t) noexcept;

  // out |= (shift >= 0 ? in >> shift : in << -shift) & mask: the cells `mask` take from `shift`
  // cells to their left (negative: right).
  struct MaskedShift {
    int shift;
    std::uint32_t mask;
  };
  static constexpr int kMaxShear = 16;  // |vertical shear| in rows (6 at 20 degrees on 32 columns)

  int height_;
  std::uint32_t full_;
  bool shear_ = false, scale_ = false;      // whether each step moves anything
  int first_offset_ = 0;                    // vertical shear: column_mask_[i] holds the columns moved by
  std::vector<std::uint32_t> column_mask_;  // first_offset_ + i rows
  std::vector<int> right_, left_;           // horizontal shear per row: >> right_[y], then << left_[y]
  std::vector<int> source_row_;             // scale: output row -> row of the zero-framed rows (0: outside)
  std::vector<MaskedShift> columns_;        // scale: output columns by offset to their source column
};

// Every horizontal translate of one code within +-radius cells (cells shifted in from outside the
// grid are invalid), each plane padded with `pad` = radius zero rows above and below.
class ShiftedRows {
 public:
  ShiftedRows() = default;
  // `pose` (may be null: the code as it is) resamples every plane first.
  ShiftedRows(const BitCode& code, int radius, const PoseResampler* pose = nullptr);

  int radius() const noexcept { return radius_; }
  std::size_t planes() const noexcept { return planes_; }
  std::size_t rows() const noexcept { return rows_; }      // rows counted per plane (record_rows)
  std::size_t stride() const noexcept { return stride_; }  // rows from one plane to the next
  // Row 0 of plane 0 of the code translated by (dx, dy): cell (x, y) then holds the code's cell
  // (x - dx, y - dy). |dx|, |dy| <= radius().
  const std::uint32_t* at(int dx, int dy) const noexcept {
    return data_.data() + static_cast<std::size_t>(dx + radius_) * (planes_ + 1) * stride_ + pad_ - dy;
  }

 private:
  int radius_ = 0;
  std::size_t planes_ = 0, rows_ = 0, pad_ = 0, stride_ = 0;
  AlignedRows data_;
};

}  // namespace palmvein::v1::detail::algo

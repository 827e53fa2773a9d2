// SPDX-License-Identifier: Apache-2.0
#include "identification/layout.hpp"

#include <algorithm>
#include <cstring>
#include <string>

#include "features/bit_rows.hpp"
#include "features/feature_config.hpp"
#include "identification/tuning.hpp"
#include "palmvein/error.hpp"

namespace palmvein::inline v1::detail::ident {

namespace {

using algo::kLanes;

// Cell x of the result takes the value of cell x - dx (rows of up to 64 cells).
std::uint64_t shift_row(std::uint64_t row, int dx, int width) {
  const std::uint64_t full = width == 64 ? ~std::uint64_t{0} : ((std::uint64_t{1} << width) - 1);
  if (dx >= 0) return (row << dx) & full;
  return row >> (-dx);
}

// Every translate of a (coarse) code within +-radius, as records back to back: the code planes then
// the mask plane, flat bit planes; cells shifted in from outside are invalid.
void write_shifted(const BitCode& code, int radius, std::uint64_t* out) {
  const std::size_t words = code.words_per_plane(), rec = (std::size_t{code.planes} + 1) * words;
  std::size_t k = 0;
  for (int dy = -radius; dy <= radius; ++dy)
    for (int dx = -radius; dx <= radius; ++dx, ++k) {
      std::uint64_t* variant = out + k * rec;
      for (int y = 0; y < code.height; ++y) {
        const int sy = y - dy;
        if (sy < 0 || sy >= code.height) continue;
        for (std::size_t p = 0; p <= code.planes; ++p) {
          const std::uint64_t* plane = p < code.planes ? code.plane(p) : code.mask.data();
          or_row(variant + p * words, code.width, y, shift_row(get_row(plane, code.width, sy), dx, code.width));
        }
      }
    }
}

void set_cell(std::uint64_t* plane, std::size_t i) { plane[i / 64] |= std::uint64_t{1} << (i % 64); }

// Cells 0, 2, 4, ... of a row of up to 64 cells, packed into the low 32 bits.
std::uint64_t even_cells(std::uint64_t x) {
  x &= 0x5555555555555555u;
  x = (x | (x >> 1)) & 0x3333333333333333u;
  x = (x | (x >> 2)) & 0x0F0F0F0F0F0F0F0Fu;
  x = (x | (x >> 4)) & 0x00FF00FF00FF00FFu;
  x = (x | (x >> 8)) & 0x0000FFFF0000FFFFu;
  return (x | (x >> 16)) & 0x00000000FFFFFFFFu;
}

// The four cells of each 2x2 block of two rows, one bit lane per block: a = (x, y), b = (x+1, y),
// c = (x, y+1), d = (x+1, y+1).
struct BlockCells {
  std::uint64_t a, b, c, d;
  BlockCells(std::uint64_t row0, std::uint64_t row1)
      : a(even_cells(row0)), b(even_cells(row0 >> 1)), c(even_cells(row1)), d(even_cells(row1 >> 1)) {}
  BlockCells(std::uint64_t a_, std::uint64_t b_, std::uint64_t c_, std::uint64_t d_) : a(a_), b(b_), c(c_), d(d_) {}
  std::uint64_t at_least_1() const { return a | b | c | d; }
  std::uint64_t at_least_2() const { return (a & b) | (c & d) | ((a | b) & (c | d)); }
  std::uint64_t at_least_3() const { return (a & b & (c | d)) | (c & d & (a | b)); }
};

// The block rule of downsample() for a 2x2 block, bit-sliced over a coarse row (up to 32 blocks at
// once): valid when at least 2 of the 4 cells are, the majority of the valid bits, a tie taking the
// first valid cell's bit (order a, b, c, d). Equal to the cell-by-cell rule below (test
// FastDownsampleEqualsReference covers all 256 block states); it is most of what adding a template
// to an index costs, so it matters for loading a large gallery.
static_assert(IdentTuning::kCoarseMinValidCells == 2, "the bit-sliced block rule assumes 2 of 4 valid cells");
std::uint64_t block_valid(const BlockCells& m) { return m.at_least_2(); }
std::uint64_t block_bit(const BlockCells& m, const BlockCells& v) {
  const BlockCells ones(m.a & v.a, m.b & v.b, m.c & v.c, m.d & v.d);
  const BlockCells zeros(m.a & ~v.a, m.b & ~v.b, m.c & ~v.c, m.d & ~v.d);
  const std::uint64_t o1 = ones.at_least_1(), o2 = ones.at_least_2(), o3 = ones.at_least_3();
  const std::uint64_t z1 = zeros.at_least_1(), z2 = zeros.at_least_2(), z3 = zeros.at_least_3();
  const std::uint64_t more_ones = (o1 & ~z1) | (o2 & ~z2);                // ones > zeros (at most 4 cells)
  const std::uint64_t tie = (o1 & ~o2 & z1 & ~z2) | (o2 & ~o3 & z2 & ~z3);  // 1:1 or 2:2
  const std::uint64_t first = ones.a | (~m.a & (ones.b | (~m.b & (ones.c | (~m.c & ones.d)))));
  return block_valid(m) & (more_ones | (tie & first));
}

}  // namespace

BitCode downsample(const BitCode& code, int f, bool allow_fast) {
  BitCode c;
  c.width = static_cast<std::uint16_t>((code.width + f - 1) / f);
  c.height = static_cast<std::uint16_t>((code.height + f - 1) / f);
  c.planes = code.planes;
  const std::size_t cw = c.words_per_plane();
  c.bits.assign(cw * c.planes, 0);
  c.mask.assign(cw, 0);
  if (allow_fast && f == 2 && code.width % 2 == 0 && code.height % 2 == 0 && code.width <= 64) {
    // Fast path (every block whole): the rule, bit-sliced over each coarse row.
    const std::uint64_t* mask = code.mask.data();
    for (int cy = 0; cy < c.height; ++cy) {
      const BlockCells m(get_row(mask, code.width, 2 * cy), get_row(mask, code.width, 2 * cy + 1));
      or_row(c.mask.data(), c.width, cy, block_valid(m));
      for (std::size_t p = 0; p < c.planes; ++p) {
        const std::uint64_t* plane = code.plane(p);
        const BlockCells v(get_row(plane, code.width, 2 * cy), get_row(plane, code.width, 2 * cy + 1));
        or_row(c.bits.data() + p * cw, c.width, cy, block_bit(m, v));
      }
    }
    return c;
  }
  for (int cy = 0; cy < c.height; ++cy)
    for (int cx = 0; cx < c.width; ++cx) {
      int n = 0, cells = 0, first_x = -1, first_y = -1;
      for (int y = cy * f; y < std::min<int>(code.height, (cy + 1) * f); ++y)
        for (int x = cx * f; x < std::min<int>(code.width, (cx + 1) * f); ++x) {
          ++cells;
          if (!code.valid(x, y)) continue;
          if (n++ == 0) first_x = x, first_y = y;
        }
      if (n < std::min(cells, IdentTuning::kCoarseMinValidCells)) continue;
      const std::size_t i = static_cast<std::size_t>(cy) * c.width + static_cast<std::size_t>(cx);
      set_cell(c.mask.data(), i);
      for (std::size_t p = 0; p < c.planes; ++p) {
        int ones = 0;
        for (int y = cy * f; y < std::min<int>(code.height, (cy + 1) * f); ++y)
          for (int x = cx * f; x < std::min<int>(code.width, (cx + 1) * f); ++x)
            if (code.valid(x, y) && code.bit(p, x, y)) ++ones;
        const bool bit = 2 * ones > n || (2 * ones == n && code.bit(p, first_x, first_y));
        if (bit) set_cell(c.bits.data() + p * cw, i);
      }
    }
  return c;
}

Layout::Layout(const TemplateData& first, CoarseParams coarse)
    : reference_(algo::prepare_probe(first)),  // validates the codes as the matcher does
      o_width_(first.orientation.width),
      o_height_(first.orientation.height) {
  const int f = coarse.factor;
  if (f < 1 || f > 8) throw InvalidArgument("identification: coarse factor must be 1..8");
  c_factor_ = f;
  c_width_ = (o_width_ + f - 1) / f;
  c_height_ = (o_height_ + f - 1) / f;
  const int o_radius = reference_.search.orientation_radius();
  c_radius_ = coarse.radius >= 0 ? coarse.radius : o_radius / f;
  const std::size_t cwords = (static_cast<std::size_t>(c_width_) * c_height_ + 63) / 64;
  const auto code_planes = static_cast<std::size_t>(first.orientation.planes);
  if (c_width_ > 64 || cwords > 8 || code_planes > 16 || c_radius_ > 16)
    throw InvalidArgument("identification: code too large for the coarse filter (use a larger coarse factor)");
  if (coarse.planes < 1) throw InvalidArgument("identification: the coarse filter needs at least one plane");
  const std::size_t planes = std::min(code_planes, static_cast<std::size_t>(coarse.planes));
  for (std::size_t i = 0; i < planes; ++i) c_planes_.push_back(i * code_planes / planes);
  const auto side = static_cast<std::size_t>(2 * c_radius_ + 1);
  coarse_ = {planes, cwords, side * side};
  min_c_ = static_cast<std::size_t>(default_feature_config().min_overlap_fraction * c_width_ * c_height_);
}

void Layout::check_compatible(const TemplateData& t) const { algo::check_comparable(reference_, t); }

BitCode Layout::coarse_code(const TemplateData& t) const {
  BitCode c = downsample(t.orientation, c_factor_);
  if (c_planes_.size() == c.planes) return c;
  const std::size_t pw = c.words_per_plane();
  std::vector<std::uint64_t> bits(c_planes_.size() * pw);
  for (std::size_t p = 0; p < c_planes_.size(); ++p)
    std::copy_n(c.bits.begin() + static_cast<std::ptrdiff_t>(c_planes_[p] * pw), pw, bits.begin() + static_cast<std::ptrdiff_t>(p * pw));
  c.bits = std::move(bits);
  c.planes = static_cast<decltype(c.planes)>(c_planes_.size());
  return c;
}

void Layout::write_coarse(const TemplateData& t, std::uint64_t* block, std::size_t lane) const {
  const BitCode c = coarse_code(t);
  const std::size_t pw = coarse_.words;
  for (std::size_t p = 0; p < coarse_.planes; ++p)
    for (std::size_t w = 0; w < pw; ++w) block[(p * pw + w) * kLanes + lane] = c.bits[p * pw + w];
  for (std::size_t w = 0; w < pw; ++w) block[(coarse_.planes * pw + w) * kLanes + lane] = c.mask[w];
}

PreparedSearchProbe Layout::prepare(const TemplateData& probe) const {
  check_compatible(probe);
  PreparedSearchProbe out;
  out.fine = algo::prepare_probe(probe);
  out.coarse.resize(coarse_.shifts * coarse_.record_words());
  write_shifted(coarse_code(probe), c_radius_, out.coarse.data());
  return out;
}

}  // namespace palmvein::v1::detail::ident

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

// The 2x2 block rule as a table: index bits 0-3 = validity of the cells (x,y), (x+1,y), (x,y+1),
// (x+1,y+1); bits 4-7 = their code bits. Result bit 0 = coarse cell valid, bit 1 = coarse bit.
struct Block2Table {
  std::uint8_t t[256];
  constexpr Block2Table() : t{} {
    for (int i = 0; i < 256; ++i) {
      int n = 0, ones = 0, first = -1;
      for (int c = 0; c < 4; ++c)
        if ((i >> c) & 1) {
          ++n;
          const int bit = (i >> (4 + c)) & 1;
          ones += bit;
          if (first < 0) first = bit;
        }
      const bool valid = n >= IdentTuning::kCoarseMinValidCells;
      const bool bit = valid && (2 * ones > n || (2 * ones == n && first == 1));
      t[i] = static_cast<std::uint8_t>((valid ? 1 : 0) | (bit ? 2 : 0));
    }
  }
};
constexpr Block2Table kBlock2{};

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
    // Fast path (every block whole): the rule above, looked up per block.
    const std::uint64_t* mask = code.mask.data();
    std::vector<std::uint8_t> mbits(static_cast<std::size_t>(c.width) * c.height);
    for (int cy = 0; cy < c.height; ++cy) {
      const std::uint64_t m0 = get_row(mask, code.width, 2 * cy), m1 = get_row(mask, code.width, 2 * cy + 1);
      for (int cx = 0; cx < c.width; ++cx) {
        const auto m = static_cast<std::uint8_t>(((m0 >> (2 * cx)) & 3) | (((m1 >> (2 * cx)) & 3) << 2));
        const std::size_t i = static_cast<std::size_t>(cy) * c.width + static_cast<std::size_t>(cx);
        mbits[i] = m;
        if (kBlock2.t[m] & 1) set_cell(c.mask.data(), i);
      }
    }
    for (std::size_t p = 0; p < c.planes; ++p) {
      const std::uint64_t* plane = code.plane(p);
      std::uint64_t* out = c.bits.data() + p * cw;
      for (int cy = 0; cy < c.height; ++cy) {
        const std::uint64_t v0 = get_row(plane, code.width, 2 * cy), v1 = get_row(plane, code.width, 2 * cy + 1);
        for (int cx = 0; cx < c.width; ++cx) {
          const std::size_t i = static_cast<std::size_t>(cy) * c.width + static_cast<std::size_t>(cx);
          const unsigned idx = mbits[i] | static_cast<unsigned>(((v0 >> (2 * cx)) & 3) << 4) |
                               static_cast<unsigned>(((v1 >> (2 * cx)) & 3) << 6);
          if (kBlock2.t[idx] & 2) set_cell(out, i);
        }
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
  c_radius_ = coarse.radius >= 0 ? coarse.radius : (o_radius + f - 1) / f;
  const std::size_t cwords = (static_cast<std::size_t>(c_width_) * c_height_ + 63) / 64;
  const auto planes = static_cast<std::size_t>(first.orientation.planes);
  if (c_width_ > 64 || cwords > 8 || planes > 16 || c_radius_ > 16)
    throw InvalidArgument("identification: code too large for the coarse filter (use a larger coarse factor)");
  const auto side = static_cast<std::size_t>(2 * c_radius_ + 1);
  coarse_ = {planes, cwords, side * side};
  min_c_ = static_cast<std::size_t>(default_feature_config().min_overlap_fraction * c_width_ * c_height_);
}

void Layout::check_compatible(const TemplateData& t) const { algo::check_comparable(reference_, t); }

void Layout::write_coarse(const TemplateData& t, std::uint64_t* block, std::size_t lane) const {
  const BitCode c = downsample(t.orientation, c_factor_);
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
  write_shifted(downsample(probe.orientation, c_factor_), c_radius_, out.coarse.data());
  return out;
}

}  // namespace palmvein::v1::detail::ident

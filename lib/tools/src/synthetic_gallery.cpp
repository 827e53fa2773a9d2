// SPDX-License-Identifier: Apache-2.0
#include "palmvein_tools/synthetic_gallery.hpp"

#include <algorithm>
#include <random>
#include <string>

#include "palmvein/error.hpp"
#include "template_data.hpp"
#include "features/bit_rows.hpp"

namespace palmvein::tools {

// The mosaics are cut from the templates' feature planes (lib/src/template_data.hpp, header-only).
using detail::BitCode;
using detail::get_row;
using detail::or_row;
using detail::TemplateData;

void MosaicOptions::check() const {
  if (blocks < 1 || blocks > 64) throw InvalidArgument("mosaic: blocks must be 1..64, got " + std::to_string(blocks));
  if (max_shift < 0 || max_shift > 16)
    throw InvalidArgument("mosaic: max_shift must be 0..16, got " + std::to_string(max_shift));
}

namespace {

// Copies rows [y0, y1) of `src` into `dst` (rows there still empty), moved sideways by dx cells:
// cell x takes cell x - dx; cells from outside are invalid.
void copy_rows(const BitCode& src, BitCode& dst, int y0, int y1, int dx) {
  const int w = src.width;  // <= 64 (template format)
  const std::uint64_t full = w == 64 ? ~std::uint64_t{0} : ((std::uint64_t{1} << w) - 1);
  const auto shift = [&](std::uint64_t row) { return dx >= 0 ? (row << dx) & full : row >> (-dx); };
  const std::size_t words = src.words_per_plane();
  for (int y = y0; y < y1; ++y) {
    const std::uint64_t m = shift(get_row(src.mask.data(), w, y));
    or_row(dst.mask.data(), w, y, m);
    for (std::size_t p = 0; p < src.planes; ++p)
      or_row(dst.bits.data() + p * words, w, y, shift(get_row(src.plane(p), w, y)) & m);
  }
}

BitCode empty_like(const BitCode& c) {
  BitCode out;
  out.width = c.width;
  out.height = c.height;
  out.planes = c.planes;
  out.bits.assign(c.bits.size(), 0);
  out.mask.assign(c.mask.size(), 0);
  return out;
}

}  // namespace

MosaicMaker::MosaicMaker(std::vector<Template> sources, MosaicOptions options)
    : sources_(std::move(sources)), options_(options) {
  options_.check();
  if (sources_.size() < 2) throw InvalidArgument("mosaic: needs at least 2 source templates");
  const TemplateData& first = sources_.front().data();
  for (const Template& t : sources_) {
    const TemplateData& d = t.data();
    if (d.algorithm != first.algorithm || !(d.params == first.params) || d.orientation.width != first.orientation.width ||
        d.orientation.height != first.orientation.height || d.orientation.planes != first.orientation.planes ||
        d.lines.width != first.lines.width || d.lines.height != first.lines.height)
      throw InvalidArgument("mosaic: source templates have different algorithms or geometry");
  }
}

Template MosaicMaker::make(std::uint64_t number) const {
  std::mt19937_64 rng(number * 0x9E3779B97F4A7C15ull + 0x5851F42D4C957F2Dull);
  const TemplateData& first = sources_.front().data();
  auto out = std::make_shared<TemplateData>();
  out->algorithm = first.algorithm;
  out->params = first.params;
  out->orientation = empty_like(first.orientation);
  out->lines = empty_like(first.lines);
  // Block boundaries: random cut rows (in fractions of the height, so both families cut alike).
  std::vector<double> cuts{0.0, 1.0};
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  for (int b = 1; b < options_.blocks; ++b) cuts.push_back(unit(rng));
  std::sort(cuts.begin(), cuts.end());
  std::uniform_int_distribution<std::size_t> pick(0, sources_.size() - 1);
  std::uniform_int_distribution<int> shift(-options_.max_shift, options_.max_shift);
  std::vector<std::size_t> used;
  for (std::size_t b = 0; b + 1 < cuts.size(); ++b) {
    std::size_t s = pick(rng);
    for (int tries = 0; tries < 8 && std::find(used.begin(), used.end(), s) != used.end(); ++tries) s = pick(rng);
    used.push_back(s);
    const int dx = shift(rng);
    const TemplateData& src = sources_[s].data();
    const auto rows = [&](const BitCode& c, double f) { return static_cast<int>(f * c.height + 0.5); };
    copy_rows(src.orientation, out->orientation, rows(src.orientation, cuts[b]), rows(src.orientation, cuts[b + 1]),
              dx);
    const int ldx = dx * src.lines.width / std::max<int>(1, src.orientation.width);
    copy_rows(src.lines, out->lines, rows(src.lines, cuts[b]), rows(src.lines, cuts[b + 1]), ldx);
  }
  return Template(std::move(out));
}

}  // namespace palmvein::tools

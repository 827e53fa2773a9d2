#include "features/code_match.hpp"

#include <algorithm>
#include <bit>
#include <string>

#include "palmvein/error.hpp"

namespace palmvein::inline v1::detail {

namespace {

std::uint64_t get_row(const std::uint64_t* plane, int width, int y) {
  const std::size_t start = static_cast<std::size_t>(y) * static_cast<std::size_t>(width);
  const std::size_t w = start / 64, off = start % 64;
  std::uint64_t v = plane[w] >> off;
  if (off + static_cast<std::size_t>(width) > 64) v |= plane[w + 1] << (64 - off);
  return width == 64 ? v : (v & ((std::uint64_t{1} << width) - 1));
}

void or_row(std::uint64_t* plane, int width, int y, std::uint64_t row) {
  const std::size_t start = static_cast<std::size_t>(y) * static_cast<std::size_t>(width);
  const std::size_t w = start / 64, off = start % 64;
  plane[w] |= row << off;
  if (off != 0 && off + static_cast<std::size_t>(width) > 64) plane[w + 1] |= row >> (64 - off);
}

std::uint64_t shift_row(std::uint64_t row, int dx, int width) {
  const std::uint64_t full = width == 64 ? ~std::uint64_t{0} : ((std::uint64_t{1} << width) - 1);
  if (dx >= 0) return (row << dx) & full;  // cell x takes the value of cell x - dx
  return row >> (-dx);
}

// Counts over one shift: common valid cells and differing bits (summed over planes).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("arch=x86-64-v3", "popcnt", "default")))
#endif
void count_hamming(const std::uint64_t* pb, const std::uint64_t* pm, const std::uint64_t* cb,
                   const std::uint64_t* cm, std::size_t words, int planes, std::uint32_t& valid,
                   std::uint32_t& diff) {
  std::uint32_t v = 0, d = 0;
  for (std::size_t w = 0; w < words; ++w) v += static_cast<std::uint32_t>(std::popcount(pm[w] & cm[w]));
  for (int p = 0; p < planes; ++p) {
    const std::uint64_t* a = pb + static_cast<std::size_t>(p) * words;
    const std::uint64_t* b = cb + static_cast<std::size_t>(p) * words;
    for (std::size_t w = 0; w < words; ++w)
      d += static_cast<std::uint32_t>(std::popcount((a[w] ^ b[w]) & pm[w] & cm[w]));
  }
  valid = v;
  diff = d;
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("arch=x86-64-v3", "popcnt", "default")))
#endif
void count_dice(const std::uint64_t* pb, const std::uint64_t* pm, const std::uint64_t* cb, const std::uint64_t* cm,
                std::size_t words, std::uint32_t& valid, std::uint32_t& a_count, std::uint32_t& b_count,
                std::uint32_t& both) {
  std::uint32_t v = 0, a = 0, b = 0, ab = 0;
  for (std::size_t w = 0; w < words; ++w) {
    const std::uint64_t m = pm[w] & cm[w];
    v += static_cast<std::uint32_t>(std::popcount(m));
    a += static_cast<std::uint32_t>(std::popcount(pb[w] & m));
    b += static_cast<std::uint32_t>(std::popcount(cb[w] & m));
    ab += static_cast<std::uint32_t>(std::popcount(pb[w] & cb[w] & m));
  }
  valid = v;
  a_count = a;
  b_count = b;
  both = ab;
}

void check_compatible(const ShiftedCode& probe, const BitCode& candidate) {
  if (probe.width != candidate.width || probe.height != candidate.height || probe.planes != candidate.planes ||
      candidate.bits.size() != probe.words * static_cast<std::size_t>(probe.planes) ||
      candidate.mask.size() != probe.words)
    throw InvalidArgument("templates have incompatible code geometry");
}

}  // namespace

ShiftedCode build_shifted(const BitCode& code, int radius) {
  if (code.width == 0 || code.width > 64 || code.height == 0) throw InvalidArgument("code width must be 1..64");
  ShiftedCode s;
  s.radius = radius;
  s.width = code.width;
  s.height = code.height;
  s.planes = code.planes;
  s.words = code.words_per_plane();
  const auto n = static_cast<std::size_t>(s.shifts());
  s.bits.assign(n * s.words * static_cast<std::size_t>(s.planes), 0);
  s.mask.assign(n * s.words, 0);
  std::size_t k = 0;
  for (int dy = -radius; dy <= radius; ++dy)
    for (int dx = -radius; dx <= radius; ++dx, ++k) {
      std::uint64_t* mask = s.mask.data() + k * s.words;
      std::uint64_t* bits = s.bits.data() + k * s.words * static_cast<std::size_t>(s.planes);
      for (int y = 0; y < s.height; ++y) {
        const int sy = y - dy;
        if (sy < 0 || sy >= s.height) continue;
        or_row(mask, s.width, y, shift_row(get_row(code.mask.data(), s.width, sy), dx, s.width));
        for (int p = 0; p < s.planes; ++p)
          or_row(bits + static_cast<std::size_t>(p) * s.words, s.width, y,
                 shift_row(get_row(code.plane(static_cast<std::size_t>(p)), s.width, sy), dx, s.width));
      }
    }
  return s;
}

double hamming_similarity(const ShiftedCode& probe, const BitCode& candidate, std::size_t min_overlap) {
  check_compatible(probe, candidate);
  double best = 0;
  const std::size_t plane_words = probe.words * static_cast<std::size_t>(probe.planes);
  for (int k = 0; k < probe.shifts(); ++k) {
    std::uint32_t valid = 0, diff = 0;
    count_hamming(probe.bits.data() + static_cast<std::size_t>(k) * plane_words,
                  probe.mask.data() + static_cast<std::size_t>(k) * probe.words, candidate.bits.data(),
                  candidate.mask.data(), probe.words, probe.planes, valid, diff);
    if (valid < min_overlap || valid == 0) continue;
    const double sim = 1.0 - static_cast<double>(diff) / (static_cast<double>(valid) * probe.planes);
    best = std::max(best, sim);
  }
  return best;
}

double dice_similarity(const ShiftedCode& probe, const BitCode& candidate, std::size_t min_overlap) {
  check_compatible(probe, candidate);
  double best = 0;
  for (int k = 0; k < probe.shifts(); ++k) {
    std::uint32_t valid = 0, a = 0, b = 0, ab = 0;
    count_dice(probe.bits.data() + static_cast<std::size_t>(k) * probe.words,
               probe.mask.data() + static_cast<std::size_t>(k) * probe.words, candidate.bits.data(),
               candidate.mask.data(), probe.words, valid, a, b, ab);
    if (valid < min_overlap || valid == 0 || a + b == 0) continue;
    best = std::max(best, 2.0 * ab / static_cast<double>(a + b));
  }
  return best;
}

}  // namespace palmvein::v1::detail

namespace palmvein::inline v1::detail {

PreparedProbe prepare_probe(const TemplateData& probe, const FeatureConfig& cfg) {
  (void)cfg;
  PreparedProbe p;
  p.algorithm = probe.algorithm;
  p.params = probe.params;
  p.orientation = build_shifted(probe.orientation, probe.params.max_shift);
  // The line grid may differ from the orientation grid: scale the radius to the same ROI distance.
  const int line_radius = (probe.params.max_shift * probe.lines.width + probe.orientation.width / 2) /
                          std::max<int>(1, probe.orientation.width);
  p.lines = build_shifted(probe.lines, line_radius);
  return p;
}

double score_prepared(const PreparedProbe& probe, const TemplateData& candidate, const FeatureConfig& cfg) {
  if (candidate.algorithm != probe.algorithm || !(candidate.params == probe.params))
    throw InvalidArgument("templates come from different algorithms or parameters (ids " +
                          std::to_string(probe.algorithm) + " and " + std::to_string(candidate.algorithm) + ")");
  const auto min_o = static_cast<std::size_t>(cfg.min_overlap_fraction * probe.orientation.width * probe.orientation.height);
  const auto min_l = static_cast<std::size_t>(cfg.min_overlap_fraction * probe.lines.width * probe.lines.height);
  const double so = hamming_similarity(probe.orientation, candidate.orientation, min_o);
  if (cfg.orientation_weight >= 1.0) return so;
  const double sl = dice_similarity(probe.lines, candidate.lines, min_l);
  return cfg.orientation_weight * so + (1.0 - cfg.orientation_weight) * sl;
}

}  // namespace palmvein::v1::detail

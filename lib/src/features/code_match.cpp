#include "features/code_match.hpp"

#include <algorithm>
#include <bit>
#include <string>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

#include "palmvein/error.hpp"
#include "features/bit_rows.hpp"

namespace palmvein::inline v1::detail {

namespace {

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
  if (cfg.max_shift < 0 || cfg.max_shift > 8) throw InvalidArgument("matcher: max_shift must be 0..8");
  PreparedProbe p;
  p.algorithm = probe.algorithm;
  p.params = probe.params;
  // The search radius is the matcher's (cfg), not the template's recorded one, so that templates
  // extracted under an earlier radius still compare with today's, symmetrically.
  p.orientation = build_shifted(probe.orientation, cfg.max_shift);
  // The line grid may differ from the orientation grid: scale the radius to the same ROI distance.
  const int line_radius = (cfg.max_shift * probe.lines.width + probe.orientation.width / 2) /
                          std::max<int>(1, probe.orientation.width);
  p.lines = build_shifted(probe.lines, line_radius);
  return p;
}

namespace {

struct ShiftCounts {
  std::uint32_t o_valid, o_diff, l_valid, l_a, l_b, l_ab;
};

// Portable kernel: counts of one shift.
ShiftCounts counts_portable(const PreparedProbe& p, const TemplateData& c, int k) {
  ShiftCounts r{};
  const std::size_t ow = p.orientation.words, lw = p.lines.words;
  const auto planes = static_cast<std::size_t>(p.orientation.planes);
  count_hamming(p.orientation.bits.data() + static_cast<std::size_t>(k) * ow * planes,
                p.orientation.mask.data() + static_cast<std::size_t>(k) * ow, c.orientation.bits.data(),
                c.orientation.mask.data(), ow, p.orientation.planes, r.o_valid, r.o_diff);
  count_dice(p.lines.bits.data() + static_cast<std::size_t>(k) * lw, p.lines.mask.data() + static_cast<std::size_t>(k) * lw,
             c.lines.bits.data(), c.lines.mask.data(), lw, r.l_valid, r.l_a, r.l_b, r.l_ab);
  return r;
}

#if defined(__x86_64__) && defined(__GNUC__)
#define PALMVEIN_AVX512 __attribute__((target("avx512f,avx512vl,avx512dq,avx512vpopcntdq,popcnt")))

PALMVEIN_AVX512 inline std::uint64_t hsum(__m512i v) {
  // Not _mm512_reduce_add_epi64: GCC 12's header trips -Wuninitialized.
  const __m256i h = _mm256_add_epi64(_mm512_maskz_extracti64x4_epi64(0xff, v, 0), _mm512_maskz_extracti64x4_epi64(0xff, v, 1));
  const __m128i q = _mm_add_epi64(_mm256_castsi256_si128(h), _mm256_maskz_extracti64x2_epi64(0x3, h, 1));
  return static_cast<std::uint64_t>(_mm_cvtsi128_si64(q)) + static_cast<std::uint64_t>(_mm_extract_epi64(q, 1));
}

// AVX-512 VPOPCNTDQ kernel for codes of 16 words per plane (32x32 grids) and up to 8 orientation
// planes: the candidate stays in registers, each shift costs its probe loads, one vpternlogq and one
// vpopcntq per 8 words.
PALMVEIN_AVX512 void counts_avx512_16(const PreparedProbe& p, const TemplateData& c, const int* ks, int n,
                                      ShiftCounts* out) {
  constexpr std::size_t W = 16;
  const std::size_t planes = p.orientation.planes;
  __m512i cm[2], cl[2], clm[2], cb[8][2];
  for (int h = 0; h < 2; ++h) {
    cm[h] = _mm512_loadu_si512(c.orientation.mask.data() + 8 * h);
    cl[h] = _mm512_loadu_si512(c.lines.bits.data() + 8 * h);
    clm[h] = _mm512_loadu_si512(c.lines.mask.data() + 8 * h);
    for (std::size_t q = 0; q < planes; ++q) cb[q][h] = _mm512_loadu_si512(c.orientation.bits.data() + q * W + 8 * h);
  }
  for (int i = 0; i < n; ++i) {
    const int k = ks[i];
    const std::uint64_t* pm = p.orientation.mask.data() + static_cast<std::size_t>(k) * W;
    const std::uint64_t* pb = p.orientation.bits.data() + static_cast<std::size_t>(k) * W * planes;
    const std::uint64_t* pl = p.lines.bits.data() + static_cast<std::size_t>(k) * W;
    const std::uint64_t* plm = p.lines.mask.data() + static_cast<std::size_t>(k) * W;
    __m512i v = _mm512_setzero_si512(), d = v, lv = v, la = v, lb = v, lab = v;
    for (int h = 0; h < 2; ++h) {
      const __m512i m = _mm512_and_si512(cm[h], _mm512_loadu_si512(pm + 8 * h));
      v = _mm512_add_epi64(v, _mm512_popcnt_epi64(m));
      for (std::size_t q = 0; q < planes; ++q) {
        // (a ^ b) & m as one ternary op: truth table 0x28 for (A ^ B) & C.
        const __m512i x = _mm512_ternarylogic_epi64(_mm512_loadu_si512(pb + q * W + 8 * h), cb[q][h], m, 0x28);
        d = _mm512_add_epi64(d, _mm512_popcnt_epi64(x));
      }
      const __m512i ml = _mm512_and_si512(clm[h], _mm512_loadu_si512(plm + 8 * h));
      const __m512i a = _mm512_and_si512(_mm512_loadu_si512(pl + 8 * h), ml);
      const __m512i b = _mm512_and_si512(cl[h], ml);
      lv = _mm512_add_epi64(lv, _mm512_popcnt_epi64(ml));
      la = _mm512_add_epi64(la, _mm512_popcnt_epi64(a));
      lb = _mm512_add_epi64(lb, _mm512_popcnt_epi64(b));
      lab = _mm512_add_epi64(lab, _mm512_popcnt_epi64(_mm512_and_si512(a, b)));
    }
    // Each lane count is < 2^13, so four 16-bit fields can share one horizontal sum.
    const __m512i x = _mm512_or_si512(_mm512_or_si512(v, _mm512_maskz_slli_epi64(0xff, d, 16)),
                                      _mm512_or_si512(_mm512_maskz_slli_epi64(0xff, lv, 32), _mm512_maskz_slli_epi64(0xff, la, 48)));
    const __m512i y = _mm512_or_si512(lb, _mm512_maskz_slli_epi64(0xff, lab, 16));
    const std::uint64_t sx = hsum(x), sy = hsum(y);
    out[i] = ShiftCounts{static_cast<std::uint32_t>(sx & 0xFFFF), static_cast<std::uint32_t>((sx >> 16) & 0xFFFF),
                         static_cast<std::uint32_t>((sx >> 32) & 0xFFFF), static_cast<std::uint32_t>(sx >> 48),
                         static_cast<std::uint32_t>(sy & 0xFFFF), static_cast<std::uint32_t>((sy >> 16) & 0xFFFF)};
  }
}

bool cpu_has_avx512_popcount() {
  static const bool ok = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
                         __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vpopcntdq");
  return ok;
}
#endif

}  // namespace

bool fast_kernel_applies(const PreparedProbe& p) {
#if defined(__x86_64__) && defined(__GNUC__)
  return cpu_has_avx512_popcount() && p.orientation.words == 16 && p.lines.words == 16 && p.orientation.planes <= 8 &&
         p.orientation.radius == p.lines.radius;
#else
  (void)p;
  return false;
#endif
}

double score_prepared(const PreparedProbe& probe, const TemplateData& candidate, const FeatureConfig& cfg,
                      bool allow_fast) {
  // The recorded shift radius is informational (see prepare_probe); everything else must agree.
  if (candidate.algorithm != probe.algorithm || candidate.params.roi_size != probe.params.roi_size ||
      candidate.params.orientations != probe.params.orientations)
    throw InvalidArgument("templates come from different algorithms or parameters (ids " +
                          std::to_string(probe.algorithm) + " and " + std::to_string(candidate.algorithm) + ")");
  check_compatible(probe.orientation, candidate.orientation);
  check_compatible(probe.lines, candidate.lines);
  const auto min_o = static_cast<std::uint32_t>(cfg.min_overlap_fraction * probe.orientation.width * probe.orientation.height);
  const auto min_l = static_cast<std::uint32_t>(cfg.min_overlap_fraction * probe.lines.width * probe.lines.height);
  const double w = cfg.orientation_weight;
  const int radius = probe.orientation.radius, side = 2 * radius + 1;
  double so = 0, sl = 0;
  auto family_scores = [&](const ShiftCounts& r, double& o, double& l) {
    o = (r.o_valid >= min_o && r.o_valid > 0)
            ? 1.0 - static_cast<double>(r.o_diff) / (static_cast<double>(r.o_valid) * probe.orientation.planes)
            : 0.0;
    l = (r.l_valid >= min_l && r.l_valid > 0 && r.l_a + r.l_b > 0) ? 2.0 * r.l_ab / static_cast<double>(r.l_a + r.l_b)
                                                                      : 0.0;
  };
  const bool fast = allow_fast && fast_kernel_applies(probe);
  auto run = [&](const int* ks, int n, ShiftCounts* out) {
#if defined(__x86_64__) && defined(__GNUC__)
    if (fast) {
      counts_avx512_16(probe, candidate, ks, n, out);
      return;
    }
#endif
    for (int i = 0; i < n; ++i) out[i] = counts_portable(probe, candidate, ks[i]);
  };
  if (probe.orientation.radius != probe.lines.radius) {  // unusual geometry: independent full searches
    return w * hamming_similarity(probe.orientation, candidate.orientation, min_o) +
           (1.0 - w) * dice_similarity(probe.lines, candidate.lines, min_l);
  }
  // Coarse-to-fine shift search (the codes are smooth at the scale of one cell): every shift with
  // even dx and dy, then the 8 neighbours of the best coarse shift(s). The visited set for (b, a) is
  // the mirror image of that for (a, b), so the score is exactly symmetric.
  constexpr int kMaxShifts = (2 * 8 + 1) * (2 * 8 + 1);  // max_shift <= 8 (template format)
  int ks[kMaxShifts] = {};
  ShiftCounts counts[kMaxShifts];
  double fused[kMaxShifts];
  int n = 0;
  for (int dy = -(radius / 2) * 2; dy <= radius; dy += 2)
    for (int dx = -(radius / 2) * 2; dx <= radius; dx += 2) ks[n++] = (dy + radius) * side + (dx + radius);
  run(ks, n, counts);
  double best = -1;
  for (int i = 0; i < n; ++i) {
    double o = 0, l = 0;
    family_scores(counts[i], o, l);
    so = std::max(so, o);
    sl = std::max(sl, l);
    fused[i] = w * o + (1.0 - w) * l;
    best = std::max(best, fused[i]);
  }
  bool visited[kMaxShifts] = {};
  for (int i = 0; i < n; ++i) visited[ks[i]] = true;
  int m = 0;
  int refine[kMaxShifts] = {};
  for (int i = 0; i < n; ++i) {
    if (fused[i] != best) continue;
    const int cy = ks[i] / side - radius, cx = ks[i] % side - radius;
    for (int dy = cy - 1; dy <= cy + 1; ++dy)
      for (int dx = cx - 1; dx <= cx + 1; ++dx) {
        if (dx < -radius || dx > radius || dy < -radius || dy > radius) continue;
        const int k = (dy + radius) * side + (dx + radius);
        if (!visited[k]) {
          visited[k] = true;
          refine[m++] = k;
        }
      }
  }
  if (m > 0) {
    run(refine, m, counts);
    for (int i = 0; i < m; ++i) {
      double o = 0, l = 0;
      family_scores(counts[i], o, l);
      so = std::max(so, o);
      sl = std::max(sl, l);
    }
  }
  return w * so + (1.0 - w) * sl;
}

}  // namespace palmvein::v1::detail

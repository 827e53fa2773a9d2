// SPDX-License-Identifier: Apache-2.0
// AVX-512 VPOPCNTDQ kernel (Ice Lake, Zen 4 and later): one 512-bit popcount per 64 bytes, the
// (a XOR b) AND m of each code word in one vpternlogq.
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#include "algorithm/kernels.hpp"

#define PALMVEIN_TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vpopcntdq,popcnt")))

namespace palmvein::inline v1::detail::algo {

namespace {

// Sum of the eight 64-bit lanes (not _mm512_reduce_add_epi64: GCC 12's header trips -Wuninitialized).
PALMVEIN_TARGET_AVX512 inline std::uint64_t hsum(__m512i v) {
  const __m256i h = _mm256_add_epi64(_mm512_maskz_extracti64x4_epi64(0xff, v, 0), _mm512_maskz_extracti64x4_epi64(0xff, v, 1));
  const __m128i q = _mm_add_epi64(_mm256_castsi256_si128(h), _mm256_maskz_extracti64x2_epi64(0x3, h, 1));
  return static_cast<std::uint64_t>(_mm_cvtsi128_si64(q)) + static_cast<std::uint64_t>(_mm_extract_epi64(q, 1));
}

// kShiftBlock shifts at a time share the candidate's loads. Probe rows sit at any 32-bit offset
// (a vertical shift is a row offset): unaligned loads; candidate records are 64-byte aligned.
template <std::size_t kShiftBlock, bool kBoth>
PALMVEIN_TARGET_AVX512 inline void block(const CountsTask& t, const std::uint32_t* cand, std::size_t s0,
                                         std::uint32_t* diff, std::uint32_t* valid, std::uint32_t* both) {
  const std::uint32_t* cmask = cand + t.planes * t.rows;
  const std::size_t pmask = t.planes * t.probe_stride;
  __m512i accd[kShiftBlock], accv[kShiftBlock], accb[kShiftBlock];
  const std::uint32_t* pv[kShiftBlock];
  for (std::size_t k = 0; k < kShiftBlock; ++k) {
    accd[k] = accv[k] = accb[k] = _mm512_setzero_si512();
    pv[k] = t.probe[s0 + k];
  }
  for (std::size_t r = 0; r < t.rows; r += kRowsPerBlock) {
    const __m512i cm = _mm512_load_si512(cmask + r);
    __m512i m[kShiftBlock];
    for (std::size_t k = 0; k < kShiftBlock; ++k) {
      m[k] = _mm512_and_si512(cm, _mm512_loadu_si512(pv[k] + pmask + r));
      accv[k] = _mm512_add_epi64(accv[k], _mm512_popcnt_epi64(m[k]));
    }
    for (std::size_t p = 0; p < t.planes; ++p) {
      const __m512i c = _mm512_load_si512(cand + p * t.rows + r);
      for (std::size_t k = 0; k < kShiftBlock; ++k) {
        const __m512i a = _mm512_loadu_si512(pv[k] + p * t.probe_stride + r);
        // 0x28 = (A ^ B) & C, 0x80 = A & B & C
        accd[k] = _mm512_add_epi64(accd[k], _mm512_popcnt_epi64(_mm512_ternarylogic_epi64(c, a, m[k], 0x28)));
        if constexpr (kBoth)
          accb[k] = _mm512_add_epi64(accb[k], _mm512_popcnt_epi64(_mm512_ternarylogic_epi64(c, a, m[k], 0x80)));
      }
    }
  }
  // One horizontal sum for the three counts: each total is below 32 * rows * planes < 2^21
  // (kernels.hpp), so 21-bit fields of the lanes add without carries between them. (The masked
  // shift: GCC 12 trips -Wuninitialized in the unmasked one.)
  for (std::size_t k = 0; k < kShiftBlock; ++k) {
    __m512i packed = _mm512_or_si512(accv[k], _mm512_maskz_slli_epi64(0xff, accd[k], 21));
    if constexpr (kBoth) packed = _mm512_or_si512(packed, _mm512_maskz_slli_epi64(0xff, accb[k], 42));
    const std::uint64_t sum = hsum(packed);
    constexpr std::uint64_t kField = (std::uint64_t{1} << 21) - 1;
    valid[s0 + k] = static_cast<std::uint32_t>(sum & kField);
    diff[s0 + k] = static_cast<std::uint32_t>((sum >> 21) & kField);
    if constexpr (kBoth) both[s0 + k] = static_cast<std::uint32_t>(sum >> 42);
  }
}

template <bool kBoth>
PALMVEIN_TARGET_AVX512 void run(const CountsTask& t) {
  const std::size_t rec = (t.planes + 1) * t.rows;
  for (std::size_t c = 0; c < t.count; ++c) {
    const std::uint32_t* cand = t.cands + c * rec;
    if (c + 1 < t.count)
      for (std::size_t off = 0; off < rec; off += kRowsPerBlock)
        _mm_prefetch(reinterpret_cast<const char*>(cand + rec + off), _MM_HINT_T0);
    std::uint32_t* diff = t.diff + c * t.shifts;
    std::uint32_t* valid = t.valid + c * t.shifts;
    std::uint32_t* both = kBoth ? t.both + c * t.shifts : nullptr;
    std::size_t s = 0;
    for (; s + 4 <= t.shifts; s += 4) block<4, kBoth>(t, cand, s, diff, valid, both);
    for (; s < t.shifts; ++s) block<1, kBoth>(t, cand, s, diff, valid, both);
  }
}

}  // namespace

PALMVEIN_TARGET_AVX512 void counts_avx512(const CountsTask& t) {
  if (t.both)
    run<true>(t);
  else
    run<false>(t);
}

// Both families of one candidate for 32-row planes (two 512-bit blocks) and up to 8 orientation
// planes: the candidate's rows are loaded once; per shift the probe's rows, one vpternlogq and one
// vpopcntq per block and plane, and one horizontal sum for all five counts.
PALMVEIN_TARGET_AVX512 void pair_avx512(const PairTask& t) {
  if (t.o_rows != 32 || t.l_rows != 32 || t.o_planes < 1 || t.o_planes > 8) {
    pair_by_counts(t, counts_avx512);
    return;
  }
  const std::size_t planes = t.o_planes;
  __m512i oc[9][2], lcode[2], lmask[2];
  for (std::size_t q = 0; q <= planes; ++q)
    for (std::size_t h = 0; h < 2; ++h)
      oc[q][h] = _mm512_loadu_si512((q < planes ? t.o_code + q * 32 : t.o_mask) + 16 * h);
  for (std::size_t h = 0; h < 2; ++h) {
    lcode[h] = _mm512_loadu_si512(t.l_code + 16 * h);
    lmask[h] = _mm512_loadu_si512(t.l_mask + 16 * h);
  }
  for (std::size_t s = 0; s < t.shifts; ++s) {
    const std::uint32_t* po = t.o_probe[s];
    const std::uint32_t* pl = t.l_probe[s];
    __m512i ov = _mm512_setzero_si512(), od = ov, lv = ov, ld = ov, lb = ov;
    for (std::size_t h = 0; h < 2; ++h) {
      const __m512i m = _mm512_and_si512(oc[planes][h], _mm512_loadu_si512(po + planes * t.o_stride + 16 * h));
      ov = _mm512_add_epi64(ov, _mm512_popcnt_epi64(m));
      for (std::size_t q = 0; q < planes; ++q)
        od = _mm512_add_epi64(od, _mm512_popcnt_epi64(_mm512_ternarylogic_epi64(
                                      oc[q][h], _mm512_loadu_si512(po + q * t.o_stride + 16 * h), m, 0x28)));
      const __m512i ml = _mm512_and_si512(lmask[h], _mm512_loadu_si512(pl + t.l_stride + 16 * h));
      const __m512i a = _mm512_loadu_si512(pl + 16 * h);
      lv = _mm512_add_epi64(lv, _mm512_popcnt_epi64(ml));
      ld = _mm512_add_epi64(ld, _mm512_popcnt_epi64(_mm512_ternarylogic_epi64(lcode[h], a, ml, 0x28)));
      lb = _mm512_add_epi64(lb, _mm512_popcnt_epi64(_mm512_ternarylogic_epi64(lcode[h], a, ml, 0x80)));
    }
    // Totals: valid <= 1024 (12-bit fields), orientation diff <= 8 * 1024 (15 bits): fields
    // [0,12) ov, [12,27) od, [27,39) lv, [39,51) ld, [51,63) lb add without carries.
    const __m512i packed = _mm512_or_si512(
        _mm512_or_si512(ov, _mm512_maskz_slli_epi64(0xff, od, 12)),
        _mm512_or_si512(_mm512_maskz_slli_epi64(0xff, lv, 27),
                        _mm512_or_si512(_mm512_maskz_slli_epi64(0xff, ld, 39), _mm512_maskz_slli_epi64(0xff, lb, 51))));
    const std::uint64_t sum = hsum(packed);
    t.ov[s] = static_cast<std::uint32_t>(sum & 0xFFF);
    t.od[s] = static_cast<std::uint32_t>((sum >> 12) & 0x7FFF);
    t.lv[s] = static_cast<std::uint32_t>((sum >> 27) & 0xFFF);
    t.ld[s] = static_cast<std::uint32_t>((sum >> 39) & 0xFFF);
    t.lb[s] = static_cast<std::uint32_t>(sum >> 51);
  }
}

namespace {

// Keeps, per lane, the counts of shift (d, v) if it qualifies and has a strictly lower ratio than the
// best so far (earlier shifts win ties). Ratios compared by cross-multiplication: d <= 16 * 512 and
// v <= 512 (kernels.hpp limits), so the 32 x 32-bit products of vpmuludq are exact. (Masked forms:
// GCC 12 trips -Wmaybe-uninitialized in the unmasked ones.)
PALMVEIN_TARGET_AVX512 inline void keep_best(__m512i d, __m512i v, __m512i min_valid, __m512i& bd, __m512i& bv) {
  const __mmask8 ok = _mm512_cmpge_epu64_mask(v, min_valid);
  const __mmask8 none = _mm512_cmpeq_epi64_mask(bv, _mm512_setzero_si512());
  const __mmask8 lower = _mm512_cmplt_epu64_mask(_mm512_maskz_mul_epu32(0xff, d, bv), _mm512_maskz_mul_epu32(0xff, bd, v));
  const __mmask8 take = ok & (none | lower);
  bd = _mm512_mask_blend_epi64(take, bd, d);
  bv = _mm512_mask_blend_epi64(take, bv, v);
}

PALMVEIN_TARGET_AVX512 inline __m512i bcast(const std::uint64_t* p) { return _mm512_set1_epi64(static_cast<long long>(*p)); }

// Counts of K consecutive shifts from s: each candidate vector is loaded once for the K shifts (the
// probe words are broadcast operands), K independent accumulator chains.
template <std::size_t P, std::size_t W, std::size_t K>
PALMVEIN_TARGET_AVX512 inline void count_shifts(const std::uint64_t* block, const std::uint64_t* probe, std::size_t s,
                                                __m512i (&d)[K], __m512i (&v)[K]) {
  constexpr std::size_t rec = (P + 1) * W;
  for (std::size_t k = 0; k < K; ++k) d[k] = v[k] = _mm512_setzero_si512();
  for (std::size_t w = 0; w < W; ++w) {
    const __m512i cm = _mm512_load_si512(block + (P * W + w) * kLanes);
    __m512i m[K];
    for (std::size_t k = 0; k < K; ++k) {
      m[k] = _mm512_and_si512(cm, bcast(probe + (s + k) * rec + P * W + w));
      v[k] = _mm512_add_epi64(v[k], _mm512_popcnt_epi64(m[k]));
    }
    for (std::size_t p = 0; p < P; ++p) {
      const __m512i c = _mm512_load_si512(block + (p * W + w) * kLanes);
      for (std::size_t k = 0; k < K; ++k)  // 0x28 = (A ^ B) & C
        d[k] = _mm512_add_epi64(
            d[k], _mm512_popcnt_epi64(_mm512_ternarylogic_epi64(c, bcast(probe + (s + k) * rec + p * W + w), m[k], 0x28)));
    }
  }
}

// A fixed geometry (the coarse codes of 32x32 cells downsampled 2x2: 6, 4, 3 or 2 planes of 4 words): the loops unroll completely and
// two shifts share each candidate load. On Zen 5 about 1.3x faster than coarse_any on one core
// (the whole pass: 1.5x less CPU at 1M, benchmarks/bench_coarse.cpp).
template <std::size_t P, std::size_t W>
PALMVEIN_TARGET_AVX512 void coarse_fixed(const CoarseTask& t) {
  constexpr std::size_t rec = (P + 1) * W;
  const __m512i min_valid = _mm512_set1_epi64(t.min_valid);
  const __m512i zero = _mm512_setzero_si512();
  for (std::size_t b = 0; b < t.block_count; ++b) {
    const std::uint64_t* block = t.blocks + b * rec * kLanes;
    if (b + 1 < t.block_count)
      for (std::size_t off = 0; off < rec * kLanes; off += 8)
        _mm_prefetch(reinterpret_cast<const char*>(block + rec * kLanes + off), _MM_HINT_T0);
    __m512i bd = _mm512_set1_epi64(1), bv = zero;
    std::size_t s = 0;
    for (; s + 2 <= t.shifts; s += 2) {
      __m512i d[2], v[2];
      count_shifts<P, W, 2>(block, t.probe, s, d, v);
      keep_best(d[0], v[0], min_valid, bd, bv);
      keep_best(d[1], v[1], min_valid, bd, bv);
    }
    if (s < t.shifts) {
      __m512i d[1], v[1];
      count_shifts<P, W, 1>(block, t.probe, s, d, v);
      keep_best(d[0], v[0], min_valid, bd, bv);
    }
    bd = _mm512_maskz_mov_epi64(_mm512_cmpneq_epi64_mask(bv, zero), bd);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(t.best_diff + b * kLanes), _mm512_maskz_cvtepi64_epi32(0xff, bd));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(t.best_valid + b * kLanes), _mm512_maskz_cvtepi64_epi32(0xff, bv));
  }
}

// Any geometry: the probe words are broadcast per shift, the candidate's re-read per shift.
PALMVEIN_TARGET_AVX512 void coarse_any(const CoarseTask& t) {
  const std::size_t pw = t.plane_words, rec = (t.planes + 1) * pw;
  const __m512i min_valid = _mm512_set1_epi64(t.min_valid);
  const __m512i zero = _mm512_setzero_si512();
  for (std::size_t b = 0; b < t.block_count; ++b) {
    const std::uint64_t* block = t.blocks + b * rec * kLanes;
    if (b + 1 < t.block_count)
      for (std::size_t off = 0; off < rec * kLanes; off += 8)
        _mm_prefetch(reinterpret_cast<const char*>(block + rec * kLanes + off), _MM_HINT_T0);
    __m512i bd = _mm512_set1_epi64(1), bv = zero;
    for (std::size_t s = 0; s < t.shifts; ++s) {
      const std::uint64_t* pv = t.probe + s * rec;
      __m512i m[8];
      __m512i accv = zero, accd = zero;
      for (std::size_t w = 0; w < pw; ++w) {
        m[w] = _mm512_and_si512(_mm512_load_si512(block + (t.planes * pw + w) * kLanes),
                                _mm512_set1_epi64(static_cast<long long>(pv[t.planes * pw + w])));
        accv = _mm512_add_epi64(accv, _mm512_popcnt_epi64(m[w]));
      }
      for (std::size_t p = 0; p < t.planes; ++p)
        for (std::size_t w = 0; w < pw; ++w) {
          const __m512i x = _mm512_ternarylogic_epi64(_mm512_load_si512(block + (p * pw + w) * kLanes),
                                                      _mm512_set1_epi64(static_cast<long long>(pv[p * pw + w])), m[w], 0x28);
          accd = _mm512_add_epi64(accd, _mm512_popcnt_epi64(x));
        }
      keep_best(accd, accv, min_valid, bd, bv);
    }
    bd = _mm512_maskz_mov_epi64(_mm512_cmpneq_epi64_mask(bv, zero), bd);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(t.best_diff + b * kLanes), _mm512_maskz_cvtepi64_epi32(0xff, bd));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(t.best_valid + b * kLanes), _mm512_maskz_cvtepi64_epi32(0xff, bv));
  }
}

}  // namespace

PALMVEIN_TARGET_AVX512 void coarse_avx512(const CoarseTask& t) {
  if (t.plane_words == 4 && t.planes == 6)
    coarse_fixed<6, 4>(t);
  else if (t.plane_words == 4 && t.planes == 4)
    coarse_fixed<4, 4>(t);
  else if (t.plane_words == 4 && t.planes == 3)
    coarse_fixed<3, 4>(t);
  else if (t.plane_words == 4 && t.planes == 2)
    coarse_fixed<2, 4>(t);
  else
    coarse_any(t);
}

}  // namespace palmvein::v1::detail::algo
#endif

// SPDX-License-Identifier: Apache-2.0
// AVX2 kernel: no vector popcount instruction, so bytes are counted with the nibble lookup of
// Mula, Kurz & Lemire, "Faster Population Counts Using AVX2 Instructions" (Computer Journal 2018),
// then summed to 64-bit lanes with vpsadbw.
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#include "algorithm/kernels.hpp"
#include "algorithm/resample_rows.hpp"

#define PALMVEIN_TARGET_AVX2 __attribute__((target("avx2,popcnt")))

namespace palmvein::inline v1::detail::algo {

namespace {

PALMVEIN_TARGET_AVX2 inline __m256i popcount_bytes(__m256i v) {
  const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,  //
                                       0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
  const __m256i low = _mm256_set1_epi8(0x0f);
  const __m256i lo = _mm256_and_si256(v, low);
  const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), low);
  return _mm256_add_epi8(_mm256_shuffle_epi8(lut, lo), _mm256_shuffle_epi8(lut, hi));
}

PALMVEIN_TARGET_AVX2 inline std::uint64_t hsum(__m256i v) {
  const __m128i s = _mm_add_epi64(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  return static_cast<std::uint64_t>(_mm_cvtsi128_si64(s)) + static_cast<std::uint64_t>(_mm_extract_epi64(s, 1));
}

}  // namespace

PALMVEIN_TARGET_AVX2 void counts_avx2(const CountsTask& t) {
  const std::size_t rec = (t.planes + 1) * t.rows;
  const __m256i zero = _mm256_setzero_si256();
  for (std::size_t c = 0; c < t.count; ++c) {
    const std::uint32_t* cand = t.cands + c * rec;
    const std::uint32_t* cmask = cand + t.planes * t.rows;
    for (std::size_t s = 0; s < t.shifts; ++s) {
      const std::uint32_t* pv = t.probe[s];  // any 32-bit offset: unaligned loads
      const std::uint32_t* pmask = pv + t.planes * t.probe_stride;
      __m256i accd = zero, accv = zero, accb = zero;
      // Per 32-byte step a byte counter gains at most 8 per plane; flushed to 64-bit lanes every 16 planes.
      for (std::size_t r = 0; r < t.rows; r += 8) {
        const __m256i m = _mm256_and_si256(_mm256_load_si256(reinterpret_cast<const __m256i*>(cmask + r)),
                                           _mm256_loadu_si256(reinterpret_cast<const __m256i*>(pmask + r)));
        accv = _mm256_add_epi64(accv, _mm256_sad_epu8(popcount_bytes(m), zero));
        __m256i bytes = zero, bytes_both = zero;
        for (std::size_t p = 0; p < t.planes; ++p) {
          const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(pv + p * t.probe_stride + r));
          const __m256i b = _mm256_load_si256(reinterpret_cast<const __m256i*>(cand + p * t.rows + r));
          bytes = _mm256_add_epi8(bytes, popcount_bytes(_mm256_and_si256(_mm256_xor_si256(a, b), m)));
          if (t.both) bytes_both = _mm256_add_epi8(bytes_both, popcount_bytes(_mm256_and_si256(_mm256_and_si256(a, b), m)));
          if ((p & 15) == 15) {  // a byte counter holds at most 16 * 8 = 128 < 256
            accd = _mm256_add_epi64(accd, _mm256_sad_epu8(bytes, zero));
            accb = _mm256_add_epi64(accb, _mm256_sad_epu8(bytes_both, zero));
            bytes = bytes_both = zero;
          }
        }
        accd = _mm256_add_epi64(accd, _mm256_sad_epu8(bytes, zero));
        accb = _mm256_add_epi64(accb, _mm256_sad_epu8(bytes_both, zero));
      }
      t.diff[c * t.shifts + s] = static_cast<std::uint32_t>(hsum(accd));
      t.valid[c * t.shifts + s] = static_cast<std::uint32_t>(hsum(accv));
      if (t.both) t.both[c * t.shifts + s] = static_cast<std::uint32_t>(hsum(accb));
    }
  }
}

void pair_avx2(const PairTask& t) { pair_by_counts(t, counts_avx2); }

// PoseResampler's loops compiled for AVX2 (vectorised by the compiler, resample_rows.hpp).
PALMVEIN_TARGET_AVX2 void resample_avx2(const PoseResampler& pose, const std::uint32_t* in, std::uint32_t* out,
                                        std::size_t planes) noexcept {
  pose.apply_rows(in, out, planes);
}

PALMVEIN_TARGET_AVX2 void coarse_avx2(const CoarseTask& t) {
  const std::size_t pw = t.plane_words, rec = (t.planes + 1) * pw;
  const __m256i zero = _mm256_setzero_si256();
  const __m256i min_minus_1 = _mm256_set1_epi64x(static_cast<long long>(t.min_valid) - 1);
  for (std::size_t b = 0; b < t.block_count; ++b) {
    const std::uint64_t* block = t.blocks + b * rec * kLanes;
    for (std::size_t half = 0; half < kLanes; half += 4) {
      __m256i bd = _mm256_set1_epi64x(1), bv = zero;
      for (std::size_t s = 0; s < t.shifts; ++s) {
        const std::uint64_t* pv = t.probe + s * rec;
        __m256i m[8];
        __m256i accv = zero, accd = zero;
        for (std::size_t w = 0; w < pw; ++w) {
          m[w] = _mm256_and_si256(_mm256_load_si256(reinterpret_cast<const __m256i*>(block + (t.planes * pw + w) * kLanes + half)),
                                  _mm256_set1_epi64x(static_cast<long long>(pv[t.planes * pw + w])));
          accv = _mm256_add_epi64(accv, _mm256_sad_epu8(popcount_bytes(m[w]), zero));
        }
        for (std::size_t p = 0; p < t.planes; ++p)
          for (std::size_t w = 0; w < pw; ++w) {
            const __m256i c = _mm256_load_si256(reinterpret_cast<const __m256i*>(block + (p * pw + w) * kLanes + half));
            const __m256i x = _mm256_and_si256(_mm256_xor_si256(c, _mm256_set1_epi64x(static_cast<long long>(pv[p * pw + w]))), m[w]);
            accd = _mm256_add_epi64(accd, _mm256_sad_epu8(popcount_bytes(x), zero));
          }
        // Counts are < 2^32, so 32x32->64 products (vpmuludq) are exact; signed 64-bit compares are
        // safe for values < 2^63.
        const __m256i ok = _mm256_cmpgt_epi64(accv, min_minus_1);
        const __m256i none = _mm256_cmpeq_epi64(bv, zero);
        const __m256i lower = _mm256_cmpgt_epi64(_mm256_mul_epu32(bd, accv), _mm256_mul_epu32(accd, bv));
        const __m256i take = _mm256_and_si256(ok, _mm256_or_si256(none, lower));
        bd = _mm256_blendv_epi8(bd, accd, take);
        bv = _mm256_blendv_epi8(bv, accv, take);
      }
      alignas(32) std::uint64_t d[4], v[4];
      _mm256_store_si256(reinterpret_cast<__m256i*>(d), bd);
      _mm256_store_si256(reinterpret_cast<__m256i*>(v), bv);
      for (std::size_t i = 0; i < 4; ++i) {
        t.best_diff[b * kLanes + half + i] = static_cast<std::uint32_t>(v[i] ? d[i] : 0);
        t.best_valid[b * kLanes + half + i] = static_cast<std::uint32_t>(v[i]);
      }
    }
  }
}

}  // namespace palmvein::v1::detail::algo
#endif

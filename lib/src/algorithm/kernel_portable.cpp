// SPDX-License-Identifier: Apache-2.0
// Portable popcount kernel: plain C++20, any CPU. The reference the SIMD paths are tested against.
#include <bit>
#include <cstring>

#include "algorithm/kernels.hpp"
#include "algorithm/resample_rows.hpp"

namespace palmvein::inline v1::detail::algo {

namespace {
// Two rows as one 64-bit word (probe rows sit at any 32-bit offset).
inline std::uint64_t two_rows(const std::uint32_t* p) {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
}  // namespace

// Not under ThreadSanitizer: the ifunc resolver that target_clones makes is instrumented too, and the
// dynamic loader runs it before the TSan runtime is initialised, which crashes every program at load.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_THREAD__)
__attribute__((target_clones("arch=x86-64-v3", "popcnt", "default")))
#endif
// Internal linkage: GCC gives the resolver of an external target_clones function default visibility
// whatever -fvisibility says, which would export it from libpalmvein.so (scripts/shared.sh checks).
static void counts_portable_cloned(const CountsTask& t) {
  const std::size_t rec = (t.planes + 1) * t.rows;
  for (std::size_t c = 0; c < t.count; ++c) {
    const std::uint32_t* cand = t.cands + c * rec;
    const std::uint32_t* cmask = cand + t.planes * t.rows;
    for (std::size_t s = 0; s < t.shifts; ++s) {
      const std::uint32_t* pv = t.probe[s];
      const std::uint32_t* pmask = pv + t.planes * t.probe_stride;
      std::uint64_t d = 0, v = 0, b = 0;
      for (std::size_t r = 0; r < t.rows; r += 2) {
        const std::uint64_t m = two_rows(pmask + r) & two_rows(cmask + r);
        v += static_cast<std::uint64_t>(std::popcount(m));
        for (std::size_t p = 0; p < t.planes; ++p) {
          const std::uint64_t x = two_rows(pv + p * t.probe_stride + r), y = two_rows(cand + p * t.rows + r);
          d += static_cast<std::uint64_t>(std::popcount((x ^ y) & m));
          if (t.both) b += static_cast<std::uint64_t>(std::popcount(x & y & m));
        }
      }
      t.diff[c * t.shifts + s] = static_cast<std::uint32_t>(d);
      t.valid[c * t.shifts + s] = static_cast<std::uint32_t>(v);
      if (t.both) t.both[c * t.shifts + s] = static_cast<std::uint32_t>(b);
    }
  }
}

void counts_portable(const CountsTask& t) { counts_portable_cloned(t); }

void pair_portable(const PairTask& t) { pair_by_counts(t, counts_portable); }

void resample_portable(const PoseResampler& pose, const std::uint32_t* in, std::uint32_t* out, std::size_t planes) noexcept {
  pose.apply_rows(in, out, planes);
}

void coarse_portable(const CoarseTask& t) {
  const std::size_t pw = t.plane_words, rec = (t.planes + 1) * pw;
  for (std::size_t b = 0; b < t.block_count; ++b) {
    const std::uint64_t* block = t.blocks + b * rec * kLanes;
    for (std::size_t lane = 0; lane < kLanes; ++lane) {
      std::uint64_t bd = 1, bv = 0;
      for (std::size_t s = 0; s < t.shifts; ++s) {
        const std::uint64_t* pv = t.probe + s * rec;
        std::uint64_t d = 0, v = 0;
        for (std::size_t w = 0; w < pw; ++w) {
          const std::uint64_t m = block[(t.planes * pw + w) * kLanes + lane] & pv[t.planes * pw + w];
          v += static_cast<std::uint64_t>(std::popcount(m));
          for (std::size_t p = 0; p < t.planes; ++p)
            d += static_cast<std::uint64_t>(std::popcount((block[(p * pw + w) * kLanes + lane] ^ pv[p * pw + w]) & m));
        }
        if (v >= t.min_valid && (bv == 0 || d * bv < bd * v)) bd = d, bv = v;
      }
      t.best_diff[b * kLanes + lane] = static_cast<std::uint32_t>(bv ? bd : 0);
      t.best_valid[b * kLanes + lane] = static_cast<std::uint32_t>(bv);
    }
  }
}

}  // namespace palmvein::v1::detail::algo

// Portable popcount kernel: plain C++20, any CPU. The reference the SIMD paths are tested against.
#include <bit>

#include "identification/kernels.hpp"

namespace palmvein::inline v1::detail::ident {

void counts_portable(const CountsTask& t) {
  const std::size_t rec = (t.planes + 1) * t.words;
  for (std::size_t c = 0; c < t.count; ++c) {
    const std::uint64_t* cand = t.cands + c * rec;
    const std::uint64_t* cmask = cand + t.planes * t.words;
    for (std::size_t s = 0; s < t.shifts; ++s) {
      const std::uint64_t* pv = t.probe + (t.shift_list ? t.shift_list[s] : s) * rec;
      const std::uint64_t* pmask = pv + t.planes * t.words;
      std::uint64_t d = 0, v = 0, b = 0;
      for (std::size_t w = 0; w < t.words; ++w) {
        const std::uint64_t m = pmask[w] & cmask[w];
        v += static_cast<std::uint64_t>(std::popcount(m));
        for (std::size_t p = 0; p < t.planes; ++p) {
          const std::uint64_t x = pv[p * t.words + w], y = cand[p * t.words + w];
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

}  // namespace palmvein::v1::detail::ident

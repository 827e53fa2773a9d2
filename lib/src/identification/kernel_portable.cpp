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

}  // namespace palmvein::v1::detail::ident

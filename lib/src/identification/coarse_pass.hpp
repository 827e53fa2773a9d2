// SPDX-License-Identifier: Apache-2.0
// The coarse pre-filter of CoarseToFine search over a whole gallery: the coarse kernel
// (algorithm/kernels.hpp) over every block, each lane keeping its own best `m`, then one merge.
// Internal (detail): IdentificationIndex runs it, and benchmarks/bench_coarse.cpp times it alone
// against FAISS and the memory bandwidth.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "algorithm/kernels.hpp"
#include "identification/layout.hpp"
#include "internal/thread_pool.hpp"

namespace palmvein::inline v1::detail::ident {

// A pre-filter result: the lowest diff/valid ratio over the coarse shifts (valid = 0: none).
struct CoarseHit {
  std::uint32_t diff, valid;
  std::size_t entry;
};
// True when a ranks before b: lower ratio (exact cross-multiplication), no valid shift last, then
// the earlier entry.
inline bool coarse_better(const CoarseHit& a, const CoarseHit& b) noexcept {
  if (a.valid == 0 || b.valid == 0) {
    if ((a.valid == 0) != (b.valid == 0)) return b.valid == 0;
  } else {
    const std::uint64_t l = std::uint64_t{a.diff} * b.valid, r = std::uint64_t{b.diff} * a.valid;
    if (l != r) return l < r;
  }
  return a.entry < b.entry;
}

// The coarse records of a gallery: `count` entries in blocks of kLanes (padding lanes zero).
struct CoarseGallery {
  const std::uint64_t* blocks = nullptr;
  std::size_t count = 0;
  FamilyShape shape;
  std::uint32_t min_valid = 1;
};

// The `m` best entries (coarse_better), best first, of the probe variants `probe`
// (shape.shifts x shape.record_words() words) against every entry, split over `lanes` lanes of
// `pool`. Results do not depend on `lanes` or the kernel.
std::vector<CoarseHit> coarse_pass(const CoarseGallery& gallery, const std::uint64_t* probe, std::size_t m,
                                   algo::CoarseKernel kernel, internal::ThreadPool& pool, unsigned lanes);

}  // namespace palmvein::v1::detail::ident

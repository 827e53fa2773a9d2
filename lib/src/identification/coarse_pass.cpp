// SPDX-License-Identifier: Apache-2.0
#include "identification/coarse_pass.hpp"

#include <algorithm>
#include <atomic>

#include "identification/tuning.hpp"

namespace palmvein::inline v1::detail::ident {

namespace {

// One lane's best `m`. A lane claims chunks in increasing entry order, so a new hit has a larger
// entry than every kept one and, once `m` are kept, can only matter with a strictly lower ratio than
// the m-th best so far (or a valid shift where that one has none): coarse_better(new, m-th) without
// the entry tie-break, tested inline. Hits that pass are appended; when 2m are held, nth_element
// keeps the best m and raises the bar (amortised O(1) per hit, where a heap pays O(log m) per hit
// and does so for the many early ones: measured 4.9 % of a 1M search's samples in heap pushes).
class LaneTop {
 public:
  explicit LaneTop(std::size_t m) : m_(m) { hits_.reserve(std::min<std::size_t>(2 * m, std::size_t{1} << 16)); }

  void push(std::uint32_t diff, std::uint32_t valid, std::size_t entry) {
    if (have_bar_) {
      if (valid == 0) return;
      if (bar_valid_ != 0 && std::uint64_t{diff} * bar_valid_ >= std::uint64_t{bar_diff_} * valid) return;
    }
    hits_.push_back({diff, valid, entry});
    if (hits_.size() == 2 * m_) shrink();
  }
  // The best m (or fewer), unordered.
  std::vector<CoarseHit>& items() {
    if (hits_.size() > m_) shrink();
    return hits_;
  }

 private:
  void shrink() {
    std::nth_element(hits_.begin(), hits_.begin() + static_cast<std::ptrdiff_t>(m_ - 1), hits_.end(), coarse_better);
    hits_.resize(m_);
    // The m-th best: now the bar (hits_[m-1] after nth_element).
    bar_diff_ = hits_[m_ - 1].diff, bar_valid_ = hits_[m_ - 1].valid, have_bar_ = true;
  }
  std::size_t m_;
  std::vector<CoarseHit> hits_;
  bool have_bar_ = false;
  std::uint32_t bar_diff_ = 0, bar_valid_ = 0;
};

}  // namespace

std::vector<CoarseHit> coarse_pass(const CoarseGallery& g, const std::uint64_t* probe, std::size_t m,
                                   algo::CoarseKernel kernel, internal::ThreadPool& pool, unsigned lanes) {
  constexpr std::size_t kChunk = IdentTuning::kCoarseChunk, kLanes = algo::kLanes;
  static_assert(kChunk % kLanes == 0);
  m = std::min(m, g.count);
  if (m == 0) return {};
  const std::size_t block_words = g.shape.record_words() * kLanes;
  std::vector<LaneTop> tops(lanes, LaneTop(m));
  std::atomic<std::size_t> next{0};
  pool.parallel_for(lanes, [&](unsigned lane) {
    std::uint32_t diff[kChunk], valid[kChunk];
    LaneTop& top = tops[lane];
    for (;;) {
      const std::size_t begin = next.fetch_add(kChunk, std::memory_order_relaxed);
      if (begin >= g.count) break;
      const std::size_t n = std::min(kChunk, g.count - begin);
      algo::CoarseTask t;
      t.probe = probe;
      t.shifts = g.shape.shifts;
      t.planes = g.shape.planes;
      t.plane_words = g.shape.words;
      t.min_valid = g.min_valid;
      t.blocks = g.blocks + begin / kLanes * block_words;
      t.block_count = (n + kLanes - 1) / kLanes;
      t.best_diff = diff;
      t.best_valid = valid;
      kernel(t);
      for (std::size_t i = 0; i < n; ++i) top.push(diff[i], valid[i], begin + i);
    }
  });
  // Merge: every lane's best m, then the best m of those (a total order: entries are distinct).
  std::vector<CoarseHit> all;
  std::size_t total = 0;
  for (LaneTop& t : tops) total += t.items().size();
  all.reserve(total);
  for (LaneTop& t : tops) all.insert(all.end(), t.items().begin(), t.items().end());
  if (all.size() > m) {
    std::nth_element(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(m - 1), all.end(), coarse_better);
    all.resize(m);
  }
  std::sort(all.begin(), all.end(), coarse_better);
  return all;
}

}  // namespace palmvein::v1::detail::ident

// SPDX-License-Identifier: Apache-2.0
// IdentificationIndex: structure-of-arrays storage, exhaustive and coarse-to-fine 1:N search.
#include <algorithm>
#include <atomic>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "algorithm/comparison.hpp"
#include "algorithm/kernels.hpp"
#include "identification/coarse_pass.hpp"
#include "identification/layout.hpp"
#include "identification/tuning.hpp"
#include "internal/thread_pool.hpp"
#include "palmvein/error.hpp"
#include "palmvein/identification.hpp"

namespace palmvein {
inline namespace v1 {

using detail::algo::AlignedRows;
using detail::algo::AlignedWords;
using detail::algo::Isa;
using detail::ident::CoarseHit;
using detail::ident::IdentTuning;
using detail::ident::Layout;
using detail::ident::PreparedSearchProbe;

std::string_view to_string(SearchStrategy strategy) noexcept {
  switch (strategy) {
    case SearchStrategy::Exhaustive: return "exhaustive";
    case SearchStrategy::CoarseToFine: return "coarse-to-fine";
  }
  return "unknown";
}

std::string_view to_string(PopcountKernel kernel) noexcept {
  switch (kernel) {
    case PopcountKernel::Auto: return "auto";
    case PopcountKernel::Portable: return "portable";
    case PopcountKernel::Avx2: return "avx2";
    case PopcountKernel::Avx512: return "avx512-vpopcntdq";
  }
  return "unknown";
}

namespace {

PopcountKernel from_isa(Isa isa) {
  switch (isa) {
    case Isa::Avx512: return PopcountKernel::Avx512;
    case Isa::Avx2: return PopcountKernel::Avx2;
    case Isa::Portable: break;
  }
  return PopcountKernel::Portable;
}

Isa to_isa(PopcountKernel k) {
  switch (k) {
    case PopcountKernel::Auto: return detail::algo::best_isa();
    case PopcountKernel::Portable: return Isa::Portable;
    case PopcountKernel::Avx2: return Isa::Avx2;
    case PopcountKernel::Avx512: return Isa::Avx512;
  }
  return Isa::Portable;
}

// An entry found by a search: score, then the tie-breaks (smaller id, earlier entry).
struct Hit {
  double score;
  std::uint64_t id;
  std::size_t entry;
};
// True when a ranks before b.
bool better(const Hit& a, const Hit& b) noexcept {
  if (a.score != b.score) return a.score > b.score;
  if (a.id != b.id) return a.id < b.id;
  return a.entry < b.entry;
}

// The best `k` items seen so far; `worse_than_all(x)` tells whether x cannot enter.
template <class T, class Better>
class TopK {
 public:
  TopK(std::size_t k, Better b) : k_(k), better_(b) { heap_.reserve(k); }
  // Heap order: the worst kept item on top.
  bool full() const noexcept { return heap_.size() >= k_; }
  const T& worst() const noexcept { return heap_.front(); }
  bool would_enter(const T& x) const noexcept { return k_ > 0 && (!full() || better_(x, worst())); }
  void push(const T& x) {
    if (!would_enter(x)) return;
    if (full()) {
      std::pop_heap(heap_.begin(), heap_.end(), better_);
      heap_.back() = x;
    } else {
      heap_.push_back(x);
    }
    std::push_heap(heap_.begin(), heap_.end(), better_);
  }
  std::vector<T> sorted() && {
    std::sort(heap_.begin(), heap_.end(), better_);
    return std::move(heap_);
  }
  std::vector<T>& items() noexcept { return heap_; }

 private:
  std::size_t k_;
  Better better_;
  std::vector<T> heap_;
};

using HitTopK = TopK<Hit, bool (*)(const Hit&, const Hit&) noexcept>;

}  // namespace

void IdentificationOptions::check() const {
  if (threads > 1024) throw InvalidArgument("identification: threads must be 0..1024, got " + std::to_string(threads));
  if (strategy != SearchStrategy::Exhaustive && strategy != SearchStrategy::CoarseToFine)
    throw InvalidArgument("identification: unknown search strategy");
  if (kernel != PopcountKernel::Auto && kernel != PopcountKernel::Portable && kernel != PopcountKernel::Avx2 &&
      kernel != PopcountKernel::Avx512)
    throw InvalidArgument("identification: unknown popcount kernel");
  if (coarse_factor < 0 || coarse_factor > 8)
    throw InvalidArgument("identification: coarse_factor must be 0..8, got " + std::to_string(coarse_factor));
  if (coarse_radius < -1 || coarse_radius > 16)
    throw InvalidArgument("identification: coarse_radius must be -1..16, got " + std::to_string(coarse_radius));
  if (coarse_planes < 0 || coarse_planes > 16)
    throw InvalidArgument("identification: coarse_planes must be 0..16, got " + std::to_string(coarse_planes));
}

std::vector<PopcountKernel> available_popcount_kernels() {
  std::vector<PopcountKernel> out;
  for (Isa isa : detail::algo::available_isas()) out.push_back(from_isa(isa));
  return out;
}

struct IdentificationIndex::Impl {
  explicit Impl(const IdentificationOptions& o)
      : lanes(o.threads ? o.threads : std::max(1u, std::thread::hardware_concurrency())),
        pool(lanes - 1),
        isa(to_isa(o.kernel)),
        kernels(detail::algo::kernels_for(isa)),
        coarse_kernel(detail::algo::coarse_kernel_for(isa)),
        coarse_params{o.coarse_factor ? o.coarse_factor : IdentTuning::kCoarseFactor, o.coarse_radius,
                      o.coarse_planes ? o.coarse_planes : IdentTuning::kCoarsePlanes} {}

  mutable std::shared_mutex mutex;
  unsigned lanes;
  mutable internal::ThreadPool pool;
  Isa isa;
  detail::algo::Kernels kernels;
  detail::algo::CoarseKernel coarse_kernel;
  detail::ident::CoarseParams coarse_params;

  std::optional<Layout> layout;
  std::size_t count = 0;
  std::size_t reserved = 0;  // reserve() before the first template: applied when the record sizes are known
  std::vector<std::uint64_t> ids;
  AlignedRows orientation, lines;  // count x record rows each (layout.hpp)
  AlignedWords coarse;              // blocks of kLanes entries (algorithm/kernels.hpp), zero-padded

  static constexpr std::size_t kLanes = detail::algo::kLanes;
  std::size_t coarse_block_words() const { return layout->coarse().record_words() * kLanes; }
  void reserve_records(std::size_t entries) {
    orientation.reserve(entries * layout->orientation_rows());
    lines.reserve(entries * layout->line_rows());
    coarse.reserve((entries + kLanes - 1) / kLanes * coarse_block_words());
  }
  void grow_to(std::size_t n) {
    orientation.resize(n * layout->orientation_rows());
    lines.resize(n * layout->line_rows());
    coarse.resize((n + kLanes - 1) / kLanes * coarse_block_words());
  }
  // Moves entry `from`'s coarse lane to entry `to` (to < from), zeroing the old lane.
  void move_coarse(std::size_t from, std::size_t to) {
    const std::size_t rec = layout->coarse().record_words();
    std::uint64_t* src = coarse.data() + (from / kLanes) * coarse_block_words() + from % kLanes;
    std::uint64_t* dst = coarse.data() + (to / kLanes) * coarse_block_words() + to % kLanes;
    for (std::size_t w = 0; w < rec; ++w) dst[w * kLanes] = src[w * kLanes], src[w * kLanes] = 0;
  }

  const std::uint32_t* orientation_record(std::size_t entry) const {
    return orientation.data() + entry * layout->orientation_rows();
  }
  const std::uint32_t* line_record(std::size_t entry) const { return lines.data() + entry * layout->line_rows(); }

  // Per-lane scratch for the exact comparison of one run of entries.
  struct FineScratch {
    std::vector<std::uint32_t> diff, valid, ldiff, lvalid, lboth;
  };

  // Exact scores of entries [begin, begin + n) pushed into `top`: the first shifts of the whole run
  // in one kernel call per family, then each candidate's refinement (algorithm/comparison.hpp).
  void score_run(const PreparedSearchProbe& probe, std::size_t begin, std::size_t n, FineScratch& s,
                 HitTopK& top) const {
    const detail::algo::PreparedProbe& fine = probe.fine;
    const std::size_t no = fine.o_first.size(), nl = fine.l_first.size();
    s.diff.resize(n * no);
    s.valid.resize(n * no);
    s.ldiff.resize(n * nl);
    s.lvalid.resize(n * nl);
    s.lboth.resize(n * nl);
    detail::algo::count_first(fine, orientation_record(begin), line_record(begin), n, kernels, s.diff.data(),
                              s.valid.data(), s.ldiff.data(), s.lvalid.data(), s.lboth.data());
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t entry = begin + i;
      const detail::algo::ShiftSearch::FirstCounts c{s.diff.data() + i * no, s.valid.data() + i * no,
                                                     s.ldiff.data() + i * nl, s.lvalid.data() + i * nl,
                                                     s.lboth.data() + i * nl};
      top.push(Hit{detail::algo::finish_score(fine, detail::algo::record_rows(fine, orientation_record(entry), line_record(entry)),
                                              kernels, c),
                   ids[entry], entry});
    }
  }

  std::vector<Hit> merge(std::vector<HitTopK>& tops, std::size_t k) const {
    HitTopK all(k, better);
    for (auto& t : tops)
      for (const Hit& h : t.items()) all.push(h);
    return std::move(all).sorted();
  }

  std::vector<Hit> exhaustive(const PreparedSearchProbe& probe, std::size_t k) const {
    std::vector<HitTopK> tops(lanes, HitTopK(k, better));
    std::atomic<std::size_t> next{0};
    pool.parallel_for(lanes, [&](unsigned lane) {
      FineScratch scratch;
      for (;;) {
        const std::size_t begin = next.fetch_add(IdentTuning::kFineChunk, std::memory_order_relaxed);
        if (begin >= count) break;
        score_run(probe, begin, std::min(IdentTuning::kFineChunk, count - begin), scratch, tops[lane]);
      }
    });
    return merge(tops, k);
  }

  std::size_t shortlist_size(std::size_t requested) const {
    const std::size_t s =
        requested ? requested : std::max(IdentTuning::kMinShortlist, count / IdentTuning::kShortlistDivisor);
    return std::min(s, count);
  }

  // The `m` best entries of the pre-filter, best first (identification/coarse_pass.hpp).
  std::vector<CoarseHit> coarse_pass(const PreparedSearchProbe& probe, std::size_t m) const {
    const detail::ident::CoarseGallery g{coarse.data(), count, layout->coarse(), layout->coarse_min_valid()};
    return detail::ident::coarse_pass(g, probe.coarse.data(), m, coarse_kernel, pool, lanes);
  }

  std::vector<Hit> coarse_to_fine(const PreparedSearchProbe& probe, std::size_t k, std::size_t requested) const {
    std::vector<std::size_t> shortlist;
    for (const CoarseHit& h : coarse_pass(probe, shortlist_size(requested))) shortlist.push_back(h.entry);
    // Memory order for the exact pass.
    std::sort(shortlist.begin(), shortlist.end());
    // 2. Exact scores of the shortlist.
    std::vector<HitTopK> tops(lanes, HitTopK(k, better));
    std::atomic<std::size_t> next_fine{0};
    pool.parallel_for(lanes, [&](unsigned lane) {
      FineScratch scratch;
      for (;;) {
        const std::size_t i = next_fine.fetch_add(1, std::memory_order_relaxed);
        if (i >= shortlist.size()) break;
        score_run(probe, shortlist[i], 1, scratch, tops[lane]);
      }
    });
    return merge(tops, k);
  }
};

IdentificationIndex::IdentificationIndex(IdentificationOptions options) : options_(options) {
  options_.check();
  impl_ = std::make_unique<Impl>(options_);
}

IdentificationIndex::~IdentificationIndex() = default;

void IdentificationIndex::add(std::uint64_t id, const Template& templ) {
  std::unique_lock lock(impl_->mutex);
  const auto& data = templ.data();
  if (!impl_->layout) {
    impl_->layout.emplace(data, impl_->coarse_params);
    // Whole arrays at once: growing a 10M gallery by halves would hold old and new copies together.
    impl_->reserve_records(impl_->reserved);
  }
  const Layout& layout = *impl_->layout;
  layout.check_compatible(data);
  const std::size_t e = impl_->count;
  impl_->grow_to(e + 1);
  impl_->ids.push_back(id);
  layout.write_orientation(data, impl_->orientation.data() + e * layout.orientation_rows());
  layout.write_lines(data, impl_->lines.data() + e * layout.line_rows());
  layout.write_coarse(data, impl_->coarse.data() + e / Impl::kLanes * impl_->coarse_block_words(), e % Impl::kLanes);
  impl_->count = e + 1;
}

std::size_t IdentificationIndex::remove(std::uint64_t id) {
  std::unique_lock lock(impl_->mutex);
  if (!impl_->layout) return 0;
  // Stable compaction: entries keep their relative order (tie-breaks stay meaningful).
  const Layout& layout = *impl_->layout;
  std::size_t out = 0;
  for (std::size_t e = 0; e < impl_->count; ++e) {
    if (impl_->ids[e] == id) continue;
    if (out != e) {
      impl_->ids[out] = impl_->ids[e];
      for (auto [arr, w] : {std::pair{&impl_->orientation, layout.orientation_rows()},
                            std::pair{&impl_->lines, layout.line_rows()}})
        std::copy_n(arr->data() + e * w, w, arr->data() + out * w);
      impl_->move_coarse(e, out);
    }
    ++out;
  }
  const std::size_t removed = impl_->count - out;
  // Zero the freed lanes of the last block (padding lanes must stay empty: valid = 0).
  for (std::size_t e = out; e < impl_->count && e % Impl::kLanes != 0; ++e) {
    const std::size_t rec = layout.coarse().record_words();
    std::uint64_t* lane = impl_->coarse.data() + e / Impl::kLanes * impl_->coarse_block_words() + e % Impl::kLanes;
    for (std::size_t w = 0; w < rec; ++w) lane[w * Impl::kLanes] = 0;
  }
  impl_->count = out;
  impl_->ids.resize(out);
  impl_->grow_to(out);
  return removed;
}

void IdentificationIndex::reserve(std::size_t entries) {
  std::unique_lock lock(impl_->mutex);
  impl_->ids.reserve(entries);
  impl_->reserved = std::max(impl_->reserved, entries);
  if (impl_->layout) impl_->reserve_records(entries);  // else at the first add(): record sizes come from it
}

void IdentificationIndex::clear() {
  std::unique_lock lock(impl_->mutex);
  impl_->count = 0;
  impl_->ids.clear();
  impl_->orientation.clear();
  impl_->lines.clear();
  impl_->coarse.clear();
}

std::size_t IdentificationIndex::size() const {
  std::shared_lock lock(impl_->mutex);
  return impl_->count;
}

std::size_t IdentificationIndex::bytes_per_template() const {
  std::shared_lock lock(impl_->mutex);
  if (!impl_->layout) return 0;
  const Layout& l = *impl_->layout;
  return (l.orientation_rows() + l.line_rows()) * sizeof(std::uint32_t) +
         l.coarse().record_words() * sizeof(std::uint64_t) + sizeof(std::uint64_t);  // id
}

std::size_t IdentificationIndex::shortlist_size() const {
  std::shared_lock lock(impl_->mutex);
  return impl_->shortlist_size(options_.shortlist);
}

PopcountKernel IdentificationIndex::kernel() const noexcept { return from_isa(impl_->isa); }

std::vector<Candidate> IdentificationIndex::search(const Template& probe, std::size_t k) const {
  return search(probe, k, options_.strategy);
}

std::vector<Candidate> IdentificationIndex::search(const Template& probe, std::size_t k,
                                                   SearchStrategy strategy) const {
  std::shared_lock lock(impl_->mutex);
  if (impl_->count == 0 || k == 0) return {};
  const PreparedSearchProbe prepared = impl_->layout->prepare(probe.data());
  const std::vector<Hit> hits = strategy == SearchStrategy::Exhaustive
                                    ? impl_->exhaustive(prepared, k)
                                    : impl_->coarse_to_fine(prepared, k, options_.shortlist);
  std::vector<Candidate> out;
  out.reserve(hits.size());
  for (const Hit& h : hits) out.push_back(Candidate{h.id, h.score});
  return out;
}

std::vector<Candidate> IdentificationIndex::prefilter(const Template& probe, std::size_t m) const {
  std::shared_lock lock(impl_->mutex);
  if (impl_->count == 0 || m == 0) return {};
  const PreparedSearchProbe prepared = impl_->layout->prepare(probe.data());
  std::vector<Candidate> out;
  const double planes = static_cast<double>(impl_->layout->coarse().planes);
  for (const CoarseHit& h : impl_->coarse_pass(prepared, std::min(m, impl_->count)))
    out.push_back(Candidate{impl_->ids[h.entry], h.valid ? 1.0 - h.diff / (h.valid * planes) : 0.0});
  return out;
}

std::optional<Candidate> IdentificationIndex::identify(const Template& probe, double threshold) const {
  const auto best = search(probe, 1);
  if (best.empty() || best.front().score < threshold) return std::nullopt;
  return best.front();
}

}  // namespace v1
}  // namespace palmvein

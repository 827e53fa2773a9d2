// SPDX-License-Identifier: Apache-2.0
// 1:N identification benchmarks (docs/identification.md).
//   BM_Search/<strategy>/<gallery>/<threads>: one search over an in-memory gallery (rendered synthetic
//     palms filled up with mosaics of their codes, lib/tools/include/palmvein_tools/bench_gallery.hpp);
//     real time, process CPU time, and comparisons/s.
//   BM_Prefilter/<gallery>/<threads>: the coarse pre-filter pass alone (prefilter(), m = shortlist).
//   BM_Kernel/<isa>: the popcount kernel alone (orientation code, the matcher's first 9 shifts), one
//     thread, comparisons/s per instruction-set path: a ratio between paths in the same run.
// Run e.g.: bench_identify --benchmark_filter='BM_Search' --benchmark_repetitions=5
#include <benchmark/benchmark.h>

#include <algorithm>
#include <map>
#include <memory>
#include <random>

#include "algorithm/aligned_array.hpp"
#include "palmvein_tools/bench_gallery.hpp"
#include "algorithm/kernels.hpp"
#include "palmvein/identification.hpp"
#include "palmvein/synthetic.hpp"

using namespace palmvein;

namespace {

struct Cached {
  std::size_t size = 0;
  unsigned threads = 0;
  std::unique_ptr<IdentificationIndex> index;
  tools::BenchGallery gallery;
  std::string source;
};

// One gallery at a time (a million entries take ~1.4 GB).
Cached& gallery(std::size_t size, unsigned threads) {
  static Cached c;
  if (c.index && c.size == size && c.threads == threads) return c;
  c.index.reset();
  IdentificationOptions o;
  o.threads = threads;
  c.index = std::make_unique<IdentificationIndex>(o);
  tools::BenchGalleryOptions go;
  go.size = size;
  go.probes = 8;
  go.source_palms = 200;
  try {
    go.kind = ImageKind::FullHand;
    c.gallery = tools::build_bench_gallery(*c.index, go, [](std::uint64_t palm, std::uint64_t capture) {
      const SyntheticFrameSettings s;
      return SyntheticPalm(SyntheticPalmId{palm, Hand::Left, 0}, s.width, s.height).render(capture, s);
    });
    c.source = "synthetic";
  } catch (const std::exception&) {  // renders that give no template: the documented stand-in
    go.kind = ImageKind::Roi;
    c.gallery = tools::build_bench_gallery(*c.index, go, tools::drawn_palm_roi);
    c.source = "drawn";
  }
  c.size = size;
  c.threads = threads;
  return c;
}

void BM_Search(benchmark::State& state, SearchStrategy strategy) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto threads = static_cast<unsigned>(state.range(1));
  Cached& c = gallery(n, threads);
  std::size_t p = 0;
  for (auto _ : state) {
    auto r = c.index->search(c.gallery.probes[p], 10, strategy);
    benchmark::DoNotOptimize(r);
    p = (p + 1) % c.gallery.probes.size();
  }
  state.counters["comparisons_per_s"] =
      benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["bytes_per_template"] = static_cast<double>(c.index->bytes_per_template());
  state.SetLabel(c.source + " sources");
}

void search_args(benchmark::internal::Benchmark* b) {
  for (long n : {10'000L, 100'000L, 1'000'000L})
    for (long t : {1L, 2L}) b->Args({n, t});
  b->ArgNames({"gallery", "threads"})->UseRealTime()->MeasureProcessCPUTime()->Unit(benchmark::kMillisecond);
}

BENCHMARK_CAPTURE(BM_Search, coarse_to_fine, SearchStrategy::CoarseToFine)->Apply(search_args);
BENCHMARK_CAPTURE(BM_Search, exhaustive, SearchStrategy::Exhaustive)->Apply(search_args)->Iterations(5);

// The coarse pre-filter alone (IdentificationIndex::prefilter: the coarse pass of a CoarseToFine
// search, m = the default shortlist) on the same galleries: the share of BM_Search it takes.
void BM_Prefilter(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto threads = static_cast<unsigned>(state.range(1));
  Cached& c = gallery(n, threads);
  std::size_t p = 0;
  for (auto _ : state) {
    auto r = c.index->prefilter(c.gallery.probes[p], c.index->shortlist_size());
    benchmark::DoNotOptimize(r);
    p = (p + 1) % c.gallery.probes.size();
  }
  state.counters["entries_per_s"] = benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(c.source + " sources");
}
BENCHMARK(BM_Prefilter)->Apply(search_args);

// Not a timing: the coarse fractional distances (1 - prefilter score, best of the 25 shifts) that
// an index over the coarse codes (e.g. multi-index hashing) would have to search within: the mate's,
// the shortlist's bar (the m-th best entry: an exact shortlist needs every entry up to it) and the
// median entry's, medians over the probes (docs/identification.md, "Multi-index hashing").
void BM_CoarseDistances(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  Cached& c = gallery(n, 2);
  std::vector<double> mate, bar, median;
  for (auto _ : state) {
    mate.clear(), bar.clear(), median.clear();
    for (std::size_t p = 0; p < c.gallery.probes.size(); ++p) {
      const auto all = c.index->prefilter(c.gallery.probes[p], n);
      for (const Candidate& x : all)
        if (x.id == c.gallery.mate_ids[p]) mate.push_back(1 - x.score);
      bar.push_back(1 - all[std::min(all.size(), c.index->shortlist_size()) - 1].score);
      median.push_back(1 - all[all.size() / 2].score);
    }
  }
  const auto med = [](std::vector<double> v) {
    if (v.empty()) return 0.0;
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
    return v[v.size() / 2];
  };
  state.counters["mate"] = med(mate);
  state.counters["shortlist_bar"] = med(bar);
  state.counters["median_entry"] = med(median);
  state.SetLabel(c.source + " sources, " + std::to_string(c.gallery.probes.size()) + " probes");
}
BENCHMARK(BM_CoarseDistances)->Arg(100'000)->ArgName("gallery")->Iterations(1)->Unit(benchmark::kMillisecond);

void BM_Kernel(benchmark::State& state) {
  namespace algo = palmvein::detail::algo;
  const auto isas = algo::available_isas();
  const auto which = static_cast<std::size_t>(state.range(0));
  if (which >= isas.size()) {
    state.SkipWithError("path not available on this CPU");
    return;
  }
  const algo::Isa isa = isas[which];
  // A 6-plane 32x32 code (the default orientation family), 9 shifts of a +-3 probe.
  constexpr std::size_t kPlanes = 6, kRows = 32, kCount = 1024, kRadius = 3, kStride = kRows + 2 * kRadius;
  const std::size_t rec = (kPlanes + 1) * kRows;
  algo::AlignedRows probe((2 * kRadius + 1) * (kPlanes + 1) * kStride), cands(kCount * rec);
  std::mt19937 rng(1);
  for (std::size_t i = 0; i < probe.size(); ++i) probe.data()[i] = rng();
  for (std::size_t i = 0; i < cands.size(); ++i) cands.data()[i] = rng();
  std::vector<const std::uint32_t*> list;
  for (int dy = -2; dy <= 2; dy += 2)
    for (int dx = -2; dx <= 2; dx += 2)
      list.push_back(probe.data() + static_cast<std::size_t>(dx + 3) * (kPlanes + 1) * kStride + kRadius - dy);
  std::vector<std::uint32_t> d(kCount * list.size()), v(d.size());
  algo::CountsTask t;
  t.probe = list.data();
  t.probe_stride = kStride;
  t.shifts = list.size();
  t.rows = kRows;
  t.planes = kPlanes;
  t.cands = cands.data();
  t.count = kCount;
  t.diff = d.data();
  t.valid = v.data();
  const auto kernel = algo::kernel_for(isa);
  for (auto _ : state) {
    kernel(t);
    benchmark::DoNotOptimize(d.data());
  }
  state.counters["comparisons_per_s"] = benchmark::Counter(static_cast<double>(kCount), benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(std::string(algo::to_string(isa)));
}
BENCHMARK(BM_Kernel)->DenseRange(0, 2);

}  // namespace

BENCHMARK_MAIN();

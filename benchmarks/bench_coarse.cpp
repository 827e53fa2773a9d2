// SPDX-License-Identifier: Apache-2.0
// The coarse pre-filter pass of CoarseToFine search, alone, against its peers in one run
// (docs/identification.md, "The coarse pass against FAISS and the memory bandwidth"):
//   BM_CoarsePass/<N>:            palmvein's coarse pass (identification/coarse_pass.hpp: the kernel
//                                 over N coarse records, 128 bytes each, and the per-lane top-m),
//                                 m = the default shortlist max(1024, N / 128), one probe;
//   BM_CoarsePassBefore/<N>:      the same with the kernel and top-m selection as they were before
//                                 this benchmark existed (copied below): the old/new ratio;
//   BM_StreamRead/<N>:            a 512-bit XOR-reduce over the same N x 128 bytes: what merely reading
//                                 the bytes the coarse pass touches costs;
//   BM_FaissBinaryFlat/<N>/<B>:   FAISS IndexBinaryFlat, one query, k = m, over N random B-byte codes
//                                 (B = 1184: codes of a template's size, as issue #9 measured; B = 128: the coarse code's
//                                 size), as FAISS runs one query (one thread), and split over
//                                 `threads` shards (IndexBinaryShards, one thread each).
// Every case runs on kThreads threads (FAISS's single-index search: one). The program then prints
// the ratios FAISS(1184 B, same threads) / coarse pass and coarse pass / stream read, and old/new.
// Run: bench_coarse --benchmark_repetitions=5 (ratios of the medians).
// Built only when FAISS is found (Debian libfaiss-dev); N = 100k and 1M (1M: ~1.6 GB in all).
#include <benchmark/benchmark.h>
#include <faiss/IndexBinaryFlat.h>
#include <faiss/IndexShards.h>
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "algorithm/aligned_array.hpp"
#include "algorithm/kernels.hpp"
#include "identification/coarse_pass.hpp"
#include "internal/thread_pool.hpp"
#include "identification/tuning.hpp"

namespace algo = palmvein::detail::algo;
using FaissIdx = faiss::IndexBinary::idx_t;  // faiss::idx_t in later FAISS releases
namespace ident = palmvein::detail::ident;

namespace {

constexpr unsigned kThreads = 2;
// The default geometry: 16x16 coarse cells, 3 planes (IdentTuning::kCoarsePlanes); shift radius
// floor(max_shift 5 / factor 2) = 2 coarse cells, i.e. 5 x 5 = 25 probe variants (layout.cpp).
constexpr std::size_t kPlanes = 3, kWords = 4, kShifts = 25, kRecordWords = (kPlanes + 1) * kWords;
constexpr std::size_t kCoarseBytes = kRecordWords * 8;  // 128
// "Codes of the template's size": the code size of issue #9's side-by-side measurement (the index
// holds 1288 bytes per template, 1152 of them fine records).
constexpr std::size_t kTemplateBytes = 1184;
static_assert(kCoarseBytes == 128 && kPlanes == ident::IdentTuning::kCoarsePlanes);

std::size_t shortlist(std::size_t n) {
  return std::min(n, std::max(ident::IdentTuning::kMinShortlist, n / ident::IdentTuning::kShortlistDivisor));
}

// Random coarse records (codes uniform, about 1 in 16 cells invalid) and one probe's kShifts variants.
struct CoarseData {
  std::size_t n = 0;
  algo::AlignedWords blocks, probe;
  explicit CoarseData(std::size_t count) : n(count) {
    const std::size_t nblocks = (n + algo::kLanes - 1) / algo::kLanes;
    blocks.resize(nblocks * kRecordWords * algo::kLanes);
    probe.resize(kShifts * kRecordWords);
    std::mt19937_64 rng(7);
    for (std::size_t b = 0; b < nblocks; ++b)
      for (std::size_t w = 0; w < kRecordWords; ++w)
        for (std::size_t l = 0; l < algo::kLanes; ++l) {
          const bool mask = w >= kPlanes * kWords;
          blocks.data()[(b * kRecordWords + w) * algo::kLanes + l] =
              b * algo::kLanes + l >= n ? 0 : mask ? rng() | rng() | rng() | rng() : rng();
        }
    for (std::size_t i = 0; i < probe.size(); ++i) probe.data()[i] = i % kRecordWords >= kPlanes * kWords ? rng() | rng() | rng() | rng() : rng();
  }
  ident::CoarseGallery gallery() const {
    return {blocks.data(), n, ident::FamilyShape{kPlanes, kWords, kShifts}, 26};
  }
};

CoarseData& coarse_data(std::size_t n) {
  static std::unique_ptr<CoarseData> d;
  if (!d || d->n != n) d.reset(), d = std::make_unique<CoarseData>(n);
  return *d;
}

palmvein::internal::ThreadPool& pool() {
  static palmvein::internal::ThreadPool p(kThreads - 1);
  return p;
}

// --- The coarse pass before (kept verbatim as the reference of the old/new ratio) --------------
#define BEFORE_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vpopcntdq,popcnt")))
BEFORE_TARGET void coarse_avx512_before(const algo::CoarseTask& t) {
  using algo::kLanes;
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
      const __mmask8 ok = _mm512_cmpge_epu64_mask(accv, min_valid);
      const __mmask8 none = _mm512_cmpeq_epi64_mask(bv, zero);
      const __mmask8 lower = _mm512_cmplt_epu64_mask(_mm512_mullo_epi64(accd, bv), _mm512_mullo_epi64(bd, accv));
      const __mmask8 take = ok & (none | lower);
      bd = _mm512_mask_blend_epi64(take, bd, accd);
      bv = _mm512_mask_blend_epi64(take, bv, accv);
    }
    bd = _mm512_maskz_mov_epi64(_mm512_cmpneq_epi64_mask(bv, zero), bd);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(t.best_diff + b * kLanes), _mm512_maskz_cvtepi64_epi32(0xff, bd));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(t.best_valid + b * kLanes), _mm512_maskz_cvtepi64_epi32(0xff, bv));
  }
}

// The old per-lane selection: a generic top-k heap behind a function pointer, every hit pushed.
template <class T, class Better>
class TopKBefore {
 public:
  TopKBefore(std::size_t k, Better b) : k_(k), better_(b) { heap_.reserve(k); }
  bool full() const noexcept { return heap_.size() >= k_; }
  bool would_enter(const T& x) const noexcept { return k_ > 0 && (!full() || better_(x, heap_.front())); }
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
  std::vector<T>& items() noexcept { return heap_; }
  std::vector<T> sorted() && {
    std::sort(heap_.begin(), heap_.end(), better_);
    return std::move(heap_);
  }

 private:
  std::size_t k_;
  Better better_;
  std::vector<T> heap_;
};
bool coarse_better_before(const ident::CoarseHit& a, const ident::CoarseHit& b) noexcept { return ident::coarse_better(a, b); }
using CoarseTopKBefore = TopKBefore<ident::CoarseHit, bool (*)(const ident::CoarseHit&, const ident::CoarseHit&) noexcept>;

std::vector<ident::CoarseHit> coarse_pass_before(const ident::CoarseGallery& g, const std::uint64_t* probe, std::size_t m) {
  constexpr std::size_t kChunk = ident::IdentTuning::kCoarseChunk;
  const std::size_t block_words = g.shape.record_words() * algo::kLanes;
  std::vector<CoarseTopKBefore> ctops(kThreads, CoarseTopKBefore(m, coarse_better_before));
  std::atomic<std::size_t> next{0};
  pool().parallel_for(kThreads, [&](unsigned lane) {
    std::vector<std::uint32_t> diff(kChunk), valid(kChunk);
    CoarseTopKBefore& top = ctops[lane];
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
      t.blocks = g.blocks + begin / algo::kLanes * block_words;
      t.block_count = (n + algo::kLanes - 1) / algo::kLanes;
      t.best_diff = diff.data();
      t.best_valid = valid.data();
      coarse_avx512_before(t);
      for (std::size_t i = 0; i < n; ++i) top.push(ident::CoarseHit{diff[i], valid[i], begin + i});
    }
  });
  CoarseTopKBefore all(m, coarse_better_before);
  for (auto& t : ctops)
    for (const ident::CoarseHit& h : t.items()) all.push(h);
  return std::move(all).sorted();
}

bool have_avx512() {
  const auto isas = algo::available_isas();
  return std::find(isas.begin(), isas.end(), algo::Isa::Avx512) != isas.end();
}

void BM_CoarsePass(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  CoarseData& d = coarse_data(n);
  const auto kernel = algo::coarse_kernel_for(algo::best_isa());
  const std::size_t m = shortlist(n);
  // The new pass must give the old pass's shortlist, hit for hit.
  if (have_avx512()) {
    const auto a = ident::coarse_pass(d.gallery(), d.probe.data(), m, kernel, pool(), kThreads);
    const auto b = coarse_pass_before(d.gallery(), d.probe.data(), m);
    const bool same = a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](const auto& x, const auto& y) {
                        return x.diff == y.diff && x.valid == y.valid && x.entry == y.entry;
                      });
    if (!same) {
      state.SkipWithError("the coarse pass differs from the reference");
      return;
    }
  }
  for (auto _ : state) benchmark::DoNotOptimize(ident::coarse_pass(d.gallery(), d.probe.data(), m, kernel, pool(), kThreads));
  state.counters["entries_per_s"] = benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["bytes_per_s"] = benchmark::Counter(static_cast<double>(n * kCoarseBytes), benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(std::string(algo::to_string(algo::best_isa())) + ", m=" + std::to_string(m));
}

void BM_CoarsePassBefore(benchmark::State& state) {
  if (!have_avx512()) {
    state.SkipWithError("the reference is the AVX-512 kernel");
    return;
  }
  const auto n = static_cast<std::size_t>(state.range(0));
  CoarseData& d = coarse_data(n);
  const std::size_t m = shortlist(n);
  for (auto _ : state) benchmark::DoNotOptimize(coarse_pass_before(d.gallery(), d.probe.data(), m));
  state.counters["entries_per_s"] = benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate);
}

// The bytes the coarse pass reads, read once: each thread XOR-reduces its half with 512-bit loads.
BEFORE_TARGET std::uint64_t xor_reduce(const std::uint64_t* p, std::size_t words) {
  __m512i a = _mm512_setzero_si512(), b = a, c = a, e = a;
  std::size_t i = 0;
  for (; i + 32 <= words; i += 32) {
    a = _mm512_xor_si512(a, _mm512_load_si512(p + i));
    b = _mm512_xor_si512(b, _mm512_load_si512(p + i + 8));
    c = _mm512_xor_si512(c, _mm512_load_si512(p + i + 16));
    e = _mm512_xor_si512(e, _mm512_load_si512(p + i + 24));
  }
  alignas(64) std::uint64_t out[8];
  _mm512_store_si512(out, _mm512_xor_si512(_mm512_xor_si512(a, b), _mm512_xor_si512(c, e)));
  std::uint64_t x = 0;
  for (std::uint64_t v : out) x ^= v;
  for (; i < words; ++i) x ^= p[i];
  return x;
}

void BM_StreamRead(benchmark::State& state) {
  if (!have_avx512()) {
    state.SkipWithError("512-bit loads need AVX-512");
    return;
  }
  const auto n = static_cast<std::size_t>(state.range(0));
  CoarseData& d = coarse_data(n);
  const std::size_t words = d.blocks.size(), half = words / 2 / 8 * 8;
  std::uint64_t sink[kThreads] = {};
  for (auto _ : state) {
    pool().parallel_for(kThreads, [&](unsigned lane) {
      sink[lane] ^= lane == 0 ? xor_reduce(d.blocks.data(), half) : xor_reduce(d.blocks.data() + half, words - half);
    });
    benchmark::DoNotOptimize(sink);
  }
  state.counters["bytes_per_s"] = benchmark::Counter(static_cast<double>(words * 8), benchmark::Counter::kIsIterationInvariantRate);
}

// FAISS codes: N random codes of `bytes` bytes, in one index or in kThreads shards (one layout at a
// time: 1M codes of 1184 bytes take 1.2 GB).
struct FaissData {
  std::size_t n = 0, bytes = 0;
  bool sharded = false;
  std::vector<std::unique_ptr<faiss::IndexBinaryFlat>> parts;
  std::unique_ptr<faiss::IndexBinaryShards> shards;
  std::vector<std::uint8_t> query;
  faiss::IndexBinary& index() { return sharded ? static_cast<faiss::IndexBinary&>(*shards) : *parts.front(); }
};
FaissData& faiss_data(std::size_t n, std::size_t bytes, bool sharded) {
  static FaissData f;
  if (!f.parts.empty() && f.n == n && f.bytes == bytes && f.sharded == sharded) return f;
  f = FaissData{};
  const auto d = static_cast<int>(bytes * 8);
  std::mt19937_64 rng(3);
  const unsigned parts = sharded ? kThreads : 1;
  if (sharded) f.shards = std::make_unique<faiss::IndexBinaryShards>(d, /*threaded=*/true, /*successive_ids=*/true);
  std::vector<std::uint8_t> chunk;
  for (unsigned s = 0; s < parts; ++s) {
    f.parts.push_back(std::make_unique<faiss::IndexBinaryFlat>(d));
    const std::size_t lo = n * s / parts, hi = n * (s + 1) / parts;
    for (std::size_t i = lo; i < hi; i += 65536) {
      const std::size_t c = std::min<std::size_t>(65536, hi - i);
      chunk.resize(c * bytes);
      for (std::size_t j = 0; j < chunk.size(); j += 8) {
        const std::uint64_t r = rng();
        std::memcpy(chunk.data() + j, &r, std::min<std::size_t>(8, chunk.size() - j));
      }
      f.parts.back()->add(static_cast<FaissIdx>(c), chunk.data());
    }
    if (sharded) f.shards->add_shard(f.parts.back().get());
  }
  f.query.resize(bytes);
  for (auto& b : f.query) b = static_cast<std::uint8_t>(rng());
  f.n = n;
  f.bytes = bytes;
  f.sharded = sharded;
  return f;
}

void BM_FaissBinaryFlat(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0)), bytes = static_cast<std::size_t>(state.range(1));
  const bool sharded = state.range(2) != 0;
  FaissData& f = faiss_data(n, bytes, sharded);
  const auto k = static_cast<FaissIdx>(shortlist(n));
  std::vector<std::int32_t> dist(static_cast<std::size_t>(k));
  std::vector<FaissIdx> labels(static_cast<std::size_t>(k));
  // One query runs on one thread in FAISS (its OpenMP loops are over queries): more OpenMP threads
  // only spin idle beside it (libgomp's active wait) and take a core from the other cases. The
  // sharded index gets its kThreads threads from IndexBinaryShards itself.
  omp_set_num_threads(1);
  faiss::IndexBinary& index = f.index();
  for (auto _ : state) {
    index.search(1, f.query.data(), k, dist.data(), labels.data());
    benchmark::DoNotOptimize(labels.data());
  }
  state.counters["bytes_per_s"] = benchmark::Counter(static_cast<double>(n * bytes), benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(sharded ? std::to_string(kThreads) + " shards, one thread each" : "one index (one query: one thread)");
}

void sizes(benchmark::internal::Benchmark* b) {
  for (long n : {100'000L, 1'000'000L}) b->Arg(n);
  b->ArgName("entries")->UseRealTime()->MeasureProcessCPUTime()->Unit(benchmark::kMillisecond);
}
BENCHMARK(BM_CoarsePass)->Apply(sizes);
BENCHMARK(BM_CoarsePassBefore)->Apply(sizes);
BENCHMARK(BM_StreamRead)->Apply(sizes);
BENCHMARK(BM_FaissBinaryFlat)
    ->ArgsProduct({{100'000L, 1'000'000L}, {static_cast<long>(kTemplateBytes), static_cast<long>(kCoarseBytes)}, {0, 1}})
    ->ArgNames({"entries", "bytes", "sharded"})
    ->UseRealTime()
    ->MeasureProcessCPUTime()
    ->Unit(benchmark::kMillisecond);

// Collects each case's real and CPU time (ms): the median of the repetitions when there are several
// (--benchmark_repetitions), else the one run, for the ratios printed at the end.
class Collector : public benchmark::ConsoleReporter {
 public:
  struct Times {
    double real = 0, cpu = 0;
  };
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      if (r.error_occurred) continue;
      const bool median = r.run_type == Run::RT_Aggregate && r.aggregate_name == "median";
      if (median || (r.run_type == Run::RT_Iteration && !medians.count(r.run_name.str())))
        ms[r.run_name.str()] = {r.GetAdjustedRealTime(), r.GetAdjustedCPUTime()};  // Unit: ms
      if (median) medians.insert(r.run_name.str());
    }
    ConsoleReporter::ReportRuns(runs);
  }
  std::map<std::string, Times> ms;
  std::set<std::string> medians;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  Collector reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  std::printf("\nRatios, same run, %u threads: real time (CPU time of all threads in brackets; on a shared machine\n"
              "the real times include waiting for a core):\n", kThreads);
  for (long n : {100'000L, 1'000'000L}) {
    const std::string e = "/entries:" + std::to_string(n);
    const auto get = [&](const std::string& name) {
      const auto it = reporter.ms.find(name + "/process_time/real_time");
      return it == reporter.ms.end() ? Collector::Times{} : it->second;
    };
    const auto ratio = [](const char* what, Collector::Times a, Collector::Times b, const char* target) {
      if (a.real > 0 && b.real > 0) std::printf("    %-58s %6.2fx (%.2fx)%s\n", what, a.real / b.real, a.cpu / b.cpu, target);
    };
    const auto pass = get("BM_CoarsePass" + e);
    if (pass.real <= 0) continue;
    const std::string f = "BM_FaissBinaryFlat" + e + "/bytes:";
    const std::string tb = std::to_string(kTemplateBytes), cb = std::to_string(kCoarseBytes);
    std::printf("  N=%ld: coarse pass %.2f ms (CPU %.2f ms)\n", n, pass.real, pass.cpu);
    ratio("old / new coarse pass", get("BM_CoarsePassBefore" + e), pass, "");
    ratio(("FAISS binary flat, " + tb + "-byte codes, 2 shards / coarse pass").c_str(), get(f + tb + "/sharded:1"), pass, "  target >= 3");
    ratio(("FAISS binary flat, " + tb + "-byte codes, 1 index / coarse pass").c_str(), get(f + tb + "/sharded:0"), pass, "");
    ratio(("FAISS binary flat, " + cb + "-byte codes, 2 shards / coarse pass").c_str(), get(f + cb + "/sharded:1"), pass, "");
    ratio(("FAISS binary flat, " + cb + "-byte codes, 1 index / coarse pass").c_str(), get(f + cb + "/sharded:0"), pass, "");
    ratio("coarse pass / stream read of the same bytes", pass, get("BM_StreamRead" + e), "  target <= 2");
  }
  benchmark::Shutdown();
  return 0;
}

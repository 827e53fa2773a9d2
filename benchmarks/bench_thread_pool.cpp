// SPDX-License-Identifier: Apache-2.0
// The one thread pool: palmvein's own (lib/src/internal/thread_pool.hpp) against OpenCV's
// cv::parallel_for_ (TBB backend in Debian 12), with the same loop bodies, in the same run.
//
// * BM_FanOut: an empty parallel loop of `lanes` lanes: the fixed cost a 1:N search pays per
//   pass (a search makes two: coarse pass, exact re-scoring).
// * BM_Search100k: a loop shaped like the 1:N coarse pass at 100 k entries: lanes claim chunks of
//   1024 entries from an atomic counter and XOR-popcount an 8-word record per entry at 5 shifts
//   (a few ms on 2 threads, the order of a real 100 k search: 14.5 ms, docs/identification.md),
//   keeping the best per lane; then a second, short pass (the shortlist). Its latency is what a
//   search pays for its fan-out on top of the kernel work.
// * BM_EvalThroughput: evaluate()-shaped work: 256 independent items of ~1 ms CPU work, claimed
//   one by one; throughput.
// Run: build/benchmarks/bench_thread_pool --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstdint>
#include <limits>
#include <random>
#include <thread>
#include <vector>

#include <opencv2/core/utility.hpp>

#include "internal/thread_pool.hpp"

namespace {

using palmvein::internal::ThreadPool;

unsigned hardware_lanes() { return std::max(1u, std::thread::hardware_concurrency()); }

// The two candidates behind one call shape: run body(lane) for lane = 0 .. lanes-1.
enum class Pool { Palmvein, OpenCv };

struct Runner {
  Pool kind;
  unsigned lanes;
  ThreadPool pool;
  Runner(Pool k, unsigned l) : kind(k), lanes(l), pool(k == Pool::Palmvein ? l - 1 : 0) {
    if (kind == Pool::OpenCv) cv::setNumThreads(static_cast<int>(lanes));
  }
  template <class Body>
  void run(const Body& body) {
    if (kind == Pool::Palmvein) {
      pool.parallel_for(lanes, body);
    } else {
      cv::parallel_for_(cv::Range(0, static_cast<int>(lanes)), [&](const cv::Range& r) {
        for (int lane = r.start; lane < r.end; ++lane) body(static_cast<unsigned>(lane));
      }, static_cast<double>(lanes));
    }
  }
};

Pool pool_of(const benchmark::State& state) { return state.range(0) == 0 ? Pool::Palmvein : Pool::OpenCv; }
const char* name_of(Pool p) { return p == Pool::Palmvein ? "palmvein" : "opencv"; }

void BM_FanOut(benchmark::State& state) {
  Runner runner(pool_of(state), hardware_lanes());
  std::atomic<unsigned> sink{0};
  for (auto _ : state) runner.run([&](unsigned lane) { sink.fetch_add(lane, std::memory_order_relaxed); });
  state.SetLabel(name_of(runner.kind));
  benchmark::DoNotOptimize(sink.load());
}

constexpr std::size_t kEntries = 100000, kWords = 8, kShifts = 5, kChunk = 1024, kShortlist = 1000;

struct Gallery {
  std::vector<std::uint64_t> records = std::vector<std::uint64_t>(kEntries * kWords);
  std::vector<std::uint64_t> probe = std::vector<std::uint64_t>(kWords + kShifts);
  Gallery() {
    std::mt19937_64 rng(7);
    for (auto& w : records) w = rng();
    for (auto& w : probe) w = rng();
  }
};

std::uint32_t best_distance(const Gallery& g, std::size_t entry) {
  const std::uint64_t* r = &g.records[entry * kWords];
  std::uint32_t best = std::numeric_limits<std::uint32_t>::max();
  for (std::size_t s = 0; s < kShifts; ++s) {
    std::uint32_t d = 0;
    for (std::size_t w = 0; w < kWords; ++w) d += static_cast<std::uint32_t>(std::popcount(r[w] ^ g.probe[w + s]));
    best = std::min(best, d);
  }
  return best;
}

void BM_Search100k(benchmark::State& state) {
  static const Gallery gallery;
  Runner runner(pool_of(state), hardware_lanes());
  std::vector<std::uint32_t> best(runner.lanes);
  for (auto _ : state) {
    std::atomic<std::size_t> next{0};
    runner.run([&](unsigned lane) {
      std::uint32_t b = std::numeric_limits<std::uint32_t>::max();
      for (;;) {
        const std::size_t begin = next.fetch_add(kChunk, std::memory_order_relaxed);
        if (begin >= kEntries) break;
        for (std::size_t i = begin; i < std::min(begin + kChunk, kEntries); ++i) b = std::min(b, best_distance(gallery, i));
      }
      best[lane] = b;
    });
    std::atomic<std::size_t> next_fine{0};  // the shortlist pass: one entry at a time
    runner.run([&](unsigned lane) {
      for (;;) {
        const std::size_t i = next_fine.fetch_add(1, std::memory_order_relaxed);
        if (i >= kShortlist) break;
        best[lane] = std::min(best[lane], best_distance(gallery, i * 97));
      }
    });
    benchmark::DoNotOptimize(best.data());
  }
  state.SetLabel(name_of(runner.kind));
}

void BM_EvalThroughput(benchmark::State& state) {
  static const Gallery gallery;
  Runner runner(pool_of(state), hardware_lanes());
  constexpr std::size_t kItems = 256, kEntriesPerItem = 600;  // ~1 ms each
  std::atomic<std::uint64_t> sink{0};
  for (auto _ : state) {
    std::atomic<std::size_t> next{0};
    runner.run([&](unsigned) {
      for (std::size_t item = next++; item < kItems; item = next++) {
        std::uint32_t b = 0;
        for (std::size_t i = 0; i < kEntriesPerItem; ++i) b += best_distance(gallery, (item * kEntriesPerItem + i) % kEntries);
        sink.fetch_add(b, std::memory_order_relaxed);
      }
    });
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kItems));
  state.SetLabel(name_of(runner.kind));
}

// Arg 0: palmvein's pool, 1: cv::parallel_for_. Interleaved so that both see the same machine load.
BENCHMARK(BM_FanOut)->Arg(0)->Arg(1)->Arg(0)->Arg(1)->UseRealTime();
BENCHMARK(BM_Search100k)->Arg(0)->Arg(1)->Arg(0)->Arg(1)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EvalThroughput)->Arg(0)->Arg(1)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();

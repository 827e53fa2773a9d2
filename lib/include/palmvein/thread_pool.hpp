// SPDX-License-Identifier: Apache-2.0
// The one thread pool of palmvein: a small fixed pool of worker threads for data-parallel loops, used
// by the 1:N index (a fan-out per search), evaluate(), the benchmark galleries and the tools
// (`palmvein bench`, `synth`). Public so that tools built on the library share it instead of adding
// their own. Chosen over OpenCV's
// cv::parallel_for_ (TBB) by measurement (benchmarks/bench_thread_pool.cpp, docs/identification.md)
// and because OpenCV's thread count is one process-wide setting: evaluate() sets it to 1 while it
// times single-threaded extraction, and a caller's cv::setNumThreads() would silently change how
// many threads an index searches with, while IdentificationOptions::threads is per index.
// Thread-safety: parallel_for() may be called from many threads at once; each call waits only for
// its own work. The caller takes part in its own loop, so a call never waits on a busy pool.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "palmvein/export.hpp"

PALMVEIN_NAMESPACE_BEGIN

// A fixed set of worker threads that run the lanes of parallel_for() loops; joined on destruction.
class PALMVEIN_API ThreadPool {
 public:
  // `workers` extra threads (0: every parallel_for runs on the caller alone).
  explicit ThreadPool(unsigned workers);
  // Stops and joins the workers (after the loops in progress have finished).
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // The number of worker threads (not counting callers, who take part in their own loops).
  unsigned workers() const noexcept { return static_cast<unsigned>(threads_.size()); }
  // The lanes a loop of `requested` threads runs on: `requested`, or the hardware's threads when 0.
  static unsigned lanes_for(unsigned requested) noexcept;

  // Runs body(lane) for lane = 0 .. lanes-1, lane 0 on the calling thread, the others on workers
  // when free. Returns when every lane has finished; rethrows the first exception of a lane.
  void parallel_for(unsigned lanes, const std::function<void(unsigned lane)>& body);

 private:
  void run_worker(std::stop_token stop);

  std::mutex mutex_;
  std::condition_variable_any wake_;
  std::deque<std::function<void()>> queue_;
  std::vector<std::jthread> threads_;
};

PALMVEIN_NAMESPACE_END

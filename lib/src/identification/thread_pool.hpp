// SPDX-License-Identifier: Apache-2.0
// A small fixed pool of worker threads for data-parallel loops.
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

namespace palmvein::inline v1::detail::ident {

class ThreadPool {
 public:
  // `workers` extra threads (0: every parallel_for runs on the caller alone).
  explicit ThreadPool(unsigned workers);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  unsigned workers() const noexcept { return static_cast<unsigned>(threads_.size()); }

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

}  // namespace palmvein::v1::detail::ident

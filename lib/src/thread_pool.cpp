// SPDX-License-Identifier: Apache-2.0
#include "internal/thread_pool.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <memory>

PALMVEIN_NAMESPACE_BEGIN

unsigned ThreadPool::lanes_for(unsigned requested) noexcept {
  return requested ? requested : std::max(1u, std::thread::hardware_concurrency());
}

ThreadPool::ThreadPool(unsigned workers) {
  threads_.reserve(workers);
  for (unsigned i = 0; i < workers; ++i)
    threads_.emplace_back([this](std::stop_token stop) { run_worker(stop); });
}

ThreadPool::~ThreadPool() {
  for (auto& t : threads_) t.request_stop();
  wake_.notify_all();
  threads_.clear();  // joins
}

void ThreadPool::run_worker(std::stop_token stop) {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(mutex_);
      if (!wake_.wait(lock, stop, [this] { return !queue_.empty(); })) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    job();
  }
}

namespace {
struct LoopState {
  std::mutex mutex;
  std::condition_variable done_cv;
  unsigned pending = 0;
  std::exception_ptr error;
};
}  // namespace

void ThreadPool::parallel_for(unsigned lanes, const std::function<void(unsigned)>& body) {
  if (lanes == 0) return;
  if (lanes == 1 || threads_.empty()) {
    for (unsigned lane = 0; lane < lanes; ++lane) body(lane);
    return;
  }
  // Lanes 1.. are queued; a lane not yet picked up by a worker is run by the caller itself
  // (claimed through `claimed`), so concurrent callers never wait on each other's work.
  auto state = std::make_shared<LoopState>();
  auto claimed = std::make_shared<std::vector<std::atomic<bool>>>(lanes);
  state->pending = lanes;
  auto run_lane = [state, claimed, &body](unsigned lane) {
    if ((*claimed)[lane].exchange(true)) return;
    try {
      body(lane);
    } catch (...) {
      std::lock_guard lock(state->mutex);
      if (!state->error) state->error = std::current_exception();
    }
    std::lock_guard lock(state->mutex);
    if (--state->pending == 0) state->done_cv.notify_all();
  };
  {
    std::lock_guard lock(mutex_);
    for (unsigned lane = 1; lane < lanes; ++lane) queue_.emplace_back([run_lane, lane] { run_lane(lane); });
  }
  wake_.notify_all();
  for (unsigned lane = 0; lane < lanes; ++lane) run_lane(lane);  // lane 0, then any still unclaimed
  std::unique_lock lock(state->mutex);
  state->done_cv.wait(lock, [&] { return state->pending == 0; });
  if (state->error) std::rethrow_exception(state->error);
}

PALMVEIN_NAMESPACE_END

// SPDX-License-Identifier: Apache-2.0
// The one thread pool (internal/thread_pool.hpp): every lane runs once, lane 0 on the caller, the
// first exception comes back, concurrent callers do not wait for each other's work.
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

#include "internal/thread_pool.hpp"

namespace palmvein::internal {
namespace {

TEST(ThreadPool, RunsEveryLaneOnceWithLaneZeroOnTheCaller) {
  for (const unsigned workers : {0u, 1u, 3u}) {
    ThreadPool pool(workers);
    EXPECT_EQ(pool.workers(), workers);
    for (const unsigned lanes : {1u, 2u, 4u, 9u}) {
      std::vector<std::atomic<int>> runs(lanes);
      std::thread::id lane0;
      pool.parallel_for(lanes, [&](unsigned lane) {
        ++runs[lane];
        if (lane == 0) lane0 = std::this_thread::get_id();
      });
      for (auto& r : runs) EXPECT_EQ(r.load(), 1);
      EXPECT_EQ(lane0, std::this_thread::get_id());
    }
  }
}

TEST(ThreadPool, RethrowsALanesExceptionAfterAllLanesFinished) {
  ThreadPool pool(2);
  std::atomic<int> finished{0};
  EXPECT_THROW(pool.parallel_for(3,
                                 [&](unsigned lane) {
                                   if (lane == 1) throw std::runtime_error("lane 1");
                                   ++finished;
                                 }),
               std::runtime_error);
  EXPECT_EQ(finished.load(), 2);
  pool.parallel_for(2, [&](unsigned) { ++finished; });  // still usable
  EXPECT_EQ(finished.load(), 4);
}

TEST(ThreadPool, ConcurrentCallersEachFinishTheirOwnLoop) {
  ThreadPool pool(1);
  std::atomic<int> total{0};
  std::vector<std::jthread> callers;
  for (int c = 0; c < 4; ++c)
    callers.emplace_back([&] {
      for (int k = 0; k < 50; ++k) pool.parallel_for(3, [&](unsigned) { ++total; });
    });
  callers.clear();
  EXPECT_EQ(total.load(), 4 * 50 * 3);
}

TEST(ThreadPool, LanesForZeroIsTheHardware) {
  EXPECT_EQ(ThreadPool::lanes_for(5), 5u);
  EXPECT_GE(ThreadPool::lanes_for(0), 1u);
}

}  // namespace
}  // namespace palmvein::internal

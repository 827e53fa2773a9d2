// SPDX-License-Identifier: Apache-2.0
// The blocking part of grab() shared by the software sensors: wait for a due time or a deadline,
// woken early by cancel() from another thread. A cancel() with nobody waiting is kept for the next
// wait, so that a cancel racing a grab is never lost.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>

#include "palmvein/sensor.hpp"

namespace palmvein::drivers {

class WaitGate {
 public:
  using Clock = std::chrono::steady_clock;

  // now + timeout, with negative timeouts as 0 and huge ones capped (no overflow of the clock).
  static Clock::time_point deadline_after(std::chrono::milliseconds timeout) {
    constexpr auto kMax = std::chrono::hours(24 * 365);
    return Clock::now() + std::clamp<std::chrono::milliseconds>(timeout, std::chrono::milliseconds(0), kMax);
  }

  // Returns true when `due` was reached, false when `deadline` came first (due > deadline).
  // Throws DeviceError(Cancelled) naming `who` when cancelled.
  bool wait(Clock::time_point due, Clock::time_point deadline, const std::string& who) {
    std::unique_lock lock(mutex_);
    const auto until = std::min(due, deadline);
    if (until > Clock::now()) cv_.wait_until(lock, until, [&] { return cancelled_; });
    if (cancelled_) {
      cancelled_ = false;
      throw DeviceError(DeviceFault::Cancelled, who + ": grab cancelled");
    }
    return due <= deadline;
  }

  void cancel() {
    {
      std::lock_guard lock(mutex_);
      cancelled_ = true;
    }
    cv_.notify_all();
  }

  void clear() {
    std::lock_guard lock(mutex_);
    cancelled_ = false;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool cancelled_ = false;
};

}  // namespace palmvein::drivers

// SPDX-License-Identifier: Apache-2.0
// FrameStream (callback streaming over grab()) and HotplugWatch (polling enumerate_sensors()).
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "palmvein/sensor.hpp"

namespace palmvein {
inline namespace v1 {

struct FrameStream::Impl {
  Sensor& sensor;
  FrameCallback on_frame;
  StreamErrorCallback on_error;
  std::chrono::milliseconds timeout;
  std::atomic<bool> stopping{false};
  std::atomic<bool> running{true};
  std::mutex join_mutex;
  std::thread thread;

  Impl(Sensor& s, FrameCallback f, StreamErrorCallback e, std::chrono::milliseconds t)
      : sensor(s), on_frame(std::move(f)), on_error(std::move(e)), timeout(t) {}

  void loop() {
    while (!stopping) {
      try {
        on_frame(sensor.grab(timeout));
      } catch (const DeviceError& error) {
        if (error.fault() == DeviceFault::Timeout && !stopping) continue;
        if (!(stopping && error.fault() == DeviceFault::Cancelled) && on_error) on_error(error);
        break;
      } catch (const std::exception& error) {  // a throwing callback ends the stream, never the process
        if (on_error) on_error(DeviceError(DeviceFault::Io, std::string("frame stream: ") + error.what()));
        break;
      }
    }
    running = false;
  }
};

FrameStream::FrameStream(Sensor& sensor, FrameCallback on_frame, StreamErrorCallback on_error,
                         std::chrono::milliseconds grab_timeout)
    : impl_(std::make_unique<Impl>(sensor, std::move(on_frame), std::move(on_error), grab_timeout)) {
  if (!impl_->on_frame) throw InvalidArgument("FrameStream needs a frame callback");
  if (grab_timeout.count() <= 0) throw InvalidArgument("FrameStream: the grab timeout must be positive");
  impl_->thread = std::thread([impl = impl_.get()] { impl->loop(); });
}

FrameStream::~FrameStream() { stop(); }

void FrameStream::stop() {
  std::lock_guard lock(impl_->join_mutex);
  if (!impl_->thread.joinable()) return;
  impl_->stopping = true;
  impl_->sensor.cancel();
  impl_->thread.join();
}

bool FrameStream::running() const noexcept { return impl_->running; }

struct HotplugWatch::Impl {
  HotplugCallback on_event;
  std::chrono::milliseconds interval;
  std::mutex mutex;
  std::condition_variable cv;
  bool stopping = false;
  std::thread thread;

  void loop() {
    std::map<std::string, SensorInfo> present;
    std::unique_lock lock(mutex);
    while (!stopping) {
      lock.unlock();
      std::map<std::string, SensorInfo> now;
      for (auto& info : enumerate_sensors()) now.emplace(info.uri, std::move(info));
      try {
        for (const auto& [uri, info] : present)
          if (!now.count(uri)) on_event(HotplugEvent::Left, info);
        for (const auto& [uri, info] : now)
          if (!present.count(uri)) on_event(HotplugEvent::Arrived, info);
      } catch (const std::exception&) {
        // A throwing callback must not take the process down; the event is dropped.
      }
      present = std::move(now);
      lock.lock();
      cv.wait_for(lock, interval, [&] { return stopping; });
    }
  }
};

HotplugWatch::HotplugWatch(HotplugCallback on_event, std::chrono::milliseconds poll_interval)
    : impl_(std::make_unique<Impl>()) {
  if (!on_event) throw InvalidArgument("HotplugWatch needs a callback");
  if (poll_interval.count() <= 0) throw InvalidArgument("HotplugWatch: the poll interval must be positive");
  impl_->on_event = std::move(on_event);
  impl_->interval = poll_interval;
  impl_->thread = std::thread([impl = impl_.get()] { impl->loop(); });
}

HotplugWatch::~HotplugWatch() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->cv.notify_all();
  impl_->thread.join();
}

}  // namespace v1
}  // namespace palmvein

// SPDX-License-Identifier: Apache-2.0
// Sensor benchmarks: synthetic rendering speed and capture + quality-assessment throughput of the
// virtual sensor at 640x480 (target: >= 30 frames/s with quality assessment on).
// Run: build-*/benchmarks/bench_sensors --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <condition_variable>
#include <deque>
#include <mutex>

#include "palmvein/auto_exposure.hpp"
#include "palmvein/roi.hpp"
#include "palmvein/sensor.hpp"
#include "palmvein/synthetic.hpp"

using namespace palmvein;
using namespace std::chrono_literals;

static void BM_SyntheticPalmBuild(benchmark::State& state) {
  std::uint64_t palm = 0;
  for (auto _ : state) benchmark::DoNotOptimize(SyntheticPalm({++palm, Hand::Left, 0}, 640, 480));
}
BENCHMARK(BM_SyntheticPalmBuild)->Unit(benchmark::kMillisecond);

static void BM_SyntheticRender(benchmark::State& state) {
  const int width = static_cast<int>(state.range(0)), height = width * 3 / 4;
  SyntheticPalm palm({42, Hand::Left, 0}, width, height);
  SyntheticFrameSettings settings;
  settings.width = width;
  settings.height = height;
  std::uint64_t index = 0;
  for (auto _ : state) benchmark::DoNotOptimize(palm.render(index++, settings));
  state.SetItemsProcessed(state.iterations());  // items = frames
}
BENCHMARK(BM_SyntheticRender)->Arg(640)->Arg(1280)->Unit(benchmark::kMillisecond);

static void BM_RoiQuality(benchmark::State& state) {
  SyntheticPalm palm({42, Hand::Left, 0}, 640, 480);
  const Image frame = palm.render(0, SyntheticFrameSettings{});
  const RoiExtractor extractor;
  for (auto _ : state) benchmark::DoNotOptimize(extractor.extract(frame, ImageKind::FullHand));
}
BENCHMARK(BM_RoiQuality)->Unit(benchmark::kMillisecond);

static void BM_MeasureExposure(benchmark::State& state) {
  SyntheticPalm palm({42, Hand::Left, 0}, 640, 480);
  const Image frame = palm.render(0, SyntheticFrameSettings{});
  for (auto _ : state) benchmark::DoNotOptimize(measure_exposure(frame));
}
BENCHMARK(BM_MeasureExposure)->Unit(benchmark::kMicrosecond);

// One thread: grab (render) then assess, like a naive capture loop.
static void BM_CaptureQualitySerial(benchmark::State& state) {
  auto sensor = open_sensor("virtual:?palm=42&fps=0");
  sensor->start();
  const RoiExtractor extractor;
  for (auto _ : state) {
    const Frame frame = sensor->grab(5s);
    benchmark::DoNotOptimize(extractor.extract(frame.image, ImageKind::FullHand));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CaptureQualitySerial)->Unit(benchmark::kMillisecond)->UseRealTime();

// As `palmvein capture` does it: a FrameStream grabs on its own thread while the caller assesses.
static void BM_CaptureQualityPipelined(benchmark::State& state) {
  auto sensor = open_sensor("virtual:?palm=42&fps=0");
  sensor->start();
  const RoiExtractor extractor;
  std::mutex mutex;
  std::condition_variable cv;
  std::deque<Frame> queue;
  FrameStream stream(*sensor, [&](Frame&& f) {
    std::unique_lock lock(mutex);
    cv.wait(lock, [&] { return queue.size() < 2; });
    queue.push_back(std::move(f));
    cv.notify_all();
  });
  for (auto _ : state) {
    Frame frame;
    {
      std::unique_lock lock(mutex);
      cv.wait(lock, [&] { return !queue.empty(); });
      frame = std::move(queue.front());
      queue.pop_front();
      cv.notify_all();
    }
    benchmark::DoNotOptimize(extractor.extract(frame.image, ImageKind::FullHand));
  }
  {
    std::lock_guard lock(mutex);
    queue.clear();
  }
  cv.notify_all();
  sensor->cancel();
  stream.stop();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CaptureQualityPipelined)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();

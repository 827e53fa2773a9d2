// SPDX-License-Identifier: Apache-2.0
// ROI extraction time per frame, one thread, frame already decoded (shared/PROTOCOL.md "Speed").
//   build/benchmarks/bench_roi --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
// BM_RoiCasia940 uses the real frames when $PALMVEIN_DATA_DIR (or ../shared/data) holds them.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <vector>

#include <opencv2/core.hpp>

#include "palmvein_tools/synthetic_hand.hpp"
#include "internal/cv_bridge.hpp"
#include "palmvein/roi.hpp"

namespace {

using namespace palmvein;

void BM_RoiSyntheticHand768x576(benchmark::State& state) {
  cv::setNumThreads(1);
  palmvein::testing::HandPose pose;
  pose.centre = {384, 300};
  pose.radius = 110;
  pose.angle = 20;
  const Image frame = internal::image_from_mat(palmvein::testing::render_hand(pose, 768, 576, 3));
  const RoiExtractor extractor;
  for (auto _ : state) benchmark::DoNotOptimize(extractor.extract(frame));
}
BENCHMARK(BM_RoiSyntheticHand768x576)->Unit(benchmark::kMillisecond);

void BM_RoiCasia940(benchmark::State& state) {
  cv::setNumThreads(1);
  const char* env = std::getenv("PALMVEIN_DATA_DIR");
  const std::filesystem::path dir = std::filesystem::path(env && *env ? env : "../shared/data") / "casia940-fullhand";
  std::vector<Image> frames;
  if (std::filesystem::exists(dir))
    for (const auto& entry : std::filesystem::directory_iterator(dir))
      if (entry.path().extension() == ".jpg" && frames.size() < 60) frames.push_back(read_image(entry.path()));
  if (frames.empty()) {
    state.SkipWithError("no casia940-fullhand frames (set PALMVEIN_DATA_DIR)");
    return;
  }
  const RoiExtractor extractor;
  std::size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(extractor.extract(frames[i++ % frames.size()]));
}
BENCHMARK(BM_RoiCasia940)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();

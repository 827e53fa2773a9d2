// SPDX-License-Identifier: Apache-2.0
// Recognition-core speed (PROTOCOL.md "Speed"): one thread, images already decoded.
//   extraction: full frame -> template, and the feature share alone (ROI -> template);
//   comparison: one 1:1 comparison with the shift search, prepared Matcher and match();
//   template (de)serialisation.
// Real frames are read from $PALMVEIN_DATA_DIR (default <repo>/../shared/data) when present;
// otherwise those benchmarks are skipped and the synthetic ones still run.
//   build-*/benchmarks/bench_core --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "palmvein_tools/synthetic_palm.hpp"
#include "algorithm/comparison.hpp"
#include "features/features.hpp"
#include "internal/cv_bridge.hpp"
#include "palmvein/extractor.hpp"
#include "palmvein/matcher.hpp"
#include "palmvein/synthetic.hpp"
#include "palmvein/template.hpp"
#include "template_data.hpp"

namespace {

namespace fs = std::filesystem;
using namespace palmvein;

fs::path data_dir() {
  if (const char* d = std::getenv("PALMVEIN_DATA_DIR")) return d;
  return fs::path(__FILE__).parent_path().parent_path().parent_path() / "shared" / "data";  // <repo>/../shared/data
}

// Up to `n` images of a development set, decoded once.
std::vector<Image> real_images(const std::string& set, std::size_t n) {
  std::vector<Image> out;
  std::error_code ec;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(data_dir() / set, ec))
    if (e.path().extension() == ".jpg" || e.path().extension() == ".png") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    if (out.size() == n) break;
    out.push_back(read_image(f));
  }
  return out;
}

Image synthetic_roi(std::uint32_t palm) { return internal::image_from_mat(testing::render_palm(palm)); }

Template synthetic_template(std::uint32_t palm, double dx = 0) {
  return Template(std::make_shared<const detail::TemplateData>(
      detail::compute_features(testing::render_palm(palm, dx, -dx, 2, palm + 1))));
}

void run_extract(benchmark::State& state, const std::vector<Image>& images, ImageKind kind) {
  if (images.empty()) {
    state.SkipWithError("images not available (set PALMVEIN_DATA_DIR)");
    return;
  }
  const TemplateExtractor extractor;
  std::size_t i = 0, failed = 0;
  for (auto _ : state) {
    ExtractResult r = extractor.extract(images[i++ % images.size()], kind);
    failed += !r.ok();
    benchmark::DoNotOptimize(r);
  }
  state.counters["fta"] = static_cast<double>(failed);
}

// The whole pipeline on synthetic 640x480 full-hand frames (the virtual sensor's renderer).
void BM_Extract_FullHand_Synthetic(benchmark::State& state) {
  static const std::vector<Image> frames = [] {
    std::vector<Image> v;
    SyntheticFrameSettings settings;
    for (std::uint64_t p = 1; p <= 8; ++p) v.push_back(SyntheticPalm({p, Hand::Left, 7}, 640, 480).render(0, settings));
    return v;
  }();
  run_extract(state, frames, ImageKind::FullHand);
}
BENCHMARK(BM_Extract_FullHand_Synthetic)->Unit(benchmark::kMillisecond);

// The whole pipeline on real 768x576 CASIA 940 nm frames.
void BM_Extract_FullHand_Casia940(benchmark::State& state) {
  static const std::vector<Image> frames = real_images("casia940-fullhand", 24);
  run_extract(state, frames, ImageKind::FullHand);
}
BENCHMARK(BM_Extract_FullHand_Casia940)->Unit(benchmark::kMillisecond);

// Feature share: an already-cut ROI to a template (kind=roi: resize + features).
void BM_Extract_Roi_PolyU(benchmark::State& state) {
  static const std::vector<Image> rois = real_images("polyu-nir-roi", 24);
  run_extract(state, rois, ImageKind::Roi);
}
BENCHMARK(BM_Extract_Roi_PolyU)->Unit(benchmark::kMillisecond);

void BM_Extract_Roi_Synthetic(benchmark::State& state) {
  static const std::vector<Image> rois = [] {
    std::vector<Image> v;
    for (std::uint32_t p = 1; p <= 8; ++p) v.push_back(synthetic_roi(p));
    return v;
  }();
  run_extract(state, rois, ImageKind::Roi);
}
BENCHMARK(BM_Extract_Roi_Synthetic)->Unit(benchmark::kMillisecond);

// One 1:1 comparison with the shift search, probe prepared once (how 1:N and verify use it).
void BM_Match_Prepared(benchmark::State& state) {
  const Template a = synthetic_template(1), b = synthetic_template(1, 5), c = synthetic_template(2);
  const Matcher m(a);
  bool flip = false;
  for (auto _ : state) {
    benchmark::DoNotOptimize(m.score(flip ? b : c));
    flip = !flip;
  }
}
BENCHMARK(BM_Match_Prepared)->Unit(benchmark::kNanosecond);

// The same with the portable (non-SIMD) kernel, for the ratio.
void BM_Match_Prepared_Portable(benchmark::State& state) {
  const Template a = synthetic_template(1), b = synthetic_template(1, 5), c = synthetic_template(2);
  const detail::algo::PreparedProbe p = detail::algo::prepare_probe(a.data());
  const auto portable = detail::algo::kernels_for(detail::algo::Isa::Portable);
  bool flip = false;
  for (auto _ : state) {
    benchmark::DoNotOptimize(detail::algo::score(p, (flip ? b : c).data(), portable));
    flip = !flip;
  }
}
BENCHMARK(BM_Match_Prepared_Portable)->Unit(benchmark::kNanosecond);

// match(a, b): a one-off comparison, the probe prepared only as far as it needs; the same pairs
// as BM_Match_Prepared, for the ratio.
void BM_Match_Unprepared(benchmark::State& state) {
  const Template a = synthetic_template(1), b = synthetic_template(1, 5), c = synthetic_template(2);
  bool flip = false;
  for (auto _ : state) {
    benchmark::DoNotOptimize(match(a, flip ? b : c));
    flip = !flip;
  }
}
BENCHMARK(BM_Match_Unprepared)->Unit(benchmark::kMicrosecond);

void BM_Template_FromBytes(benchmark::State& state) {
  const std::vector<std::uint8_t> bytes = synthetic_template(3).to_bytes();
  state.counters["bytes"] = static_cast<double>(bytes.size());
  for (auto _ : state) benchmark::DoNotOptimize(Template::from_bytes(bytes));
}
BENCHMARK(BM_Template_FromBytes)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();

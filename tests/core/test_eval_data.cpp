// SPDX-License-Identifier: Apache-2.0
// The evaluation protocol on the real development sets (../shared/data, or $PALMVEIN_DATA_DIR), with
// accuracy floors a little looser than the project's targets, so that a regression of the
// recognition pipeline fails here. Exits 77 (skipped) when the data is absent.
// Runs in Release in well under a minute per set on 2 cores; labelled "data".
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "palmvein/evaluation.hpp"
#include "palmvein/extractor.hpp"

using namespace palmvein;
namespace fs = std::filesystem;

namespace {

fs::path data_dir() {
  if (const char* env = std::getenv("PALMVEIN_DATA_DIR"); env && *env) return env;
  return PALMVEIN_TEST_DATA_DIR;
}

// The floors, all in one place. Each is a little looser than the target it guards (see
// docs/evaluation.md for the figures measured when they were set).
struct Floor {
  const char* set;
  double max_fta_rate;
  double max_eer;
  double max_fnmr_at_1e3;
  double min_rank1;
};
// Regression floors, a little looser than issue #2's targets (polyu EER <= 0.02 %, FNMR@1e-3 <= 0.02 %;
// casia850 EER <= 2 %, FNMR@1e-3 <= 6 %; casia940 whole pipeline EER <= 1 %, FNMR@1e-3 <= 3 %,
// FTA <= 1 %). Measured at the time of writing: 0.018/0.000 %, 1.37/3.47 %, 0.13/0.13 %, FTA 0.
// casia850 tightened with the pose search of issue #7 (measured 0.93/1.87 %; its validate half
// 1.07/1.07 %, docs/evaluation.md), so that losing the pose search fails here.
constexpr Floor kFloors[] = {
    // set                max FTA  max EER  max FNMR@1e-3  min rank-1
    {"polyu-nir-roi",      0.000,   0.0004,  0.0005,        0.999},
    {"casia850-roi",       0.000,   0.013,   0.03,          0.98},
    {"casia940-fullhand",  0.010,   0.012,   0.035,         0.98},
};

void check_set(const Floor& floor) {
  const fs::path manifest_path = data_dir() / floor.set / "MANIFEST.csv";
  if (!fs::exists(manifest_path)) GTEST_SKIP() << manifest_path << " absent";
  const Manifest manifest = Manifest::load(manifest_path);
  const EvaluationResult r = evaluate(manifest, TemplateExtractor{});
  const double fta_rate = static_cast<double>(r.fta) / static_cast<double>(manifest.size());
  std::printf("%s: images %zu fta %zu EER %.4f%% FNMR@1e-3 %.4f%% rank-1 %.4f%% (%.1f s)\n", floor.set,
              manifest.size(), r.fta, 100 * r.overall.eer, 100 * r.overall.at(1e-3).fnmr, 100 * r.rank1.accuracy(),
              r.wall_seconds);
  EXPECT_LE(fta_rate, floor.max_fta_rate);
  EXPECT_LE(r.overall.eer, floor.max_eer);
  EXPECT_LE(r.overall.at(1e-3).fnmr, floor.max_fnmr_at_1e3);
  EXPECT_GE(r.rank1.accuracy(), floor.min_rank1);
  // Internal consistency of the run.
  EXPECT_EQ(r.scores.pairs(), manifest.size() * (manifest.size() - 1) / 2);
  EXPECT_EQ(r.overall.genuine_pairs + r.overall.impostor_pairs, r.scores.pairs());
  if (manifest.has_sessions()) {
    ASSERT_TRUE(r.cross_session.has_value());
    EXPECT_LT(r.cross_session->genuine_pairs, r.overall.genuine_pairs);
  }
}

}  // namespace

TEST(EvalData, PolyuNirRoi) { check_set(kFloors[0]); }
TEST(EvalData, Casia850Roi) { check_set(kFloors[1]); }
TEST(EvalData, Casia940FullHand) { check_set(kFloors[2]); }

int main(int argc, char** argv) {
  if (!fs::is_directory(data_dir())) {
    std::printf("skipped: no development data at %s\n", data_dir().c_str());
    return 77;
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}

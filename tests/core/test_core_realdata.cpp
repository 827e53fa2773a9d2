// SPDX-License-Identifier: Apache-2.0
// Accuracy regression on small slices of the real development sets (read at run time, never copied
// into the repository). Exits 77 (ctest: skipped) when the data are absent.
// Data: $PALMVEIN_DATA_DIR, else the configured PALMVEIN_TEST_DATA_DIR (<repo>/../shared/data).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "palmvein/extractor.hpp"
#include "palmvein/matcher.hpp"

namespace {

namespace fs = std::filesystem;

fs::path data_dir() {
  if (const char* d = std::getenv("PALMVEIN_DATA_DIR")) return d;
  return PALMVEIN_TEST_DATA_DIR;
}

struct Sample {
  std::string path, palm;
};

// The first `palms` palms of a manifest (path,subject,hand,...).
std::vector<Sample> read_manifest(const fs::path& manifest, std::size_t palms) {
  std::ifstream in(manifest);
  std::string line;
  std::getline(in, line);
  std::vector<Sample> out;
  std::vector<std::string> seen;
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    std::string path, subject, hand;
    std::getline(ss, path, ',');
    std::getline(ss, subject, ',');
    std::getline(ss, hand, ',');
    const std::string palm = subject + "/" + hand;
    if (std::find(seen.begin(), seen.end(), palm) == seen.end()) {
      if (seen.size() == palms) break;
      seen.push_back(palm);
    }
    out.push_back({(manifest.parent_path() / path).string(), palm});
  }
  return out;
}

// EER of all pairs (threshold sweep), and the mean genuine / impostor scores.
struct Rates {
  double eer = 1, genuine_mean = 0, impostor_mean = 0;
};

Rates all_pairs(const std::vector<Sample>& samples) {
  const palmvein::TemplateExtractor extractor;
  std::vector<palmvein::Template> t;
  for (const auto& s : samples) {
    auto r = extractor.extract(palmvein::read_image(s.path), palmvein::ImageKind::Roi);
    EXPECT_TRUE(r.ok()) << s.path;
    if (!r.ok()) return {};
    t.push_back(*r.templ);
  }
  std::vector<double> gen, imp;
  for (std::size_t i = 0; i < t.size(); ++i) {
    const palmvein::Matcher m(t[i]);
    for (std::size_t j = i + 1; j < t.size(); ++j)
      (samples[i].palm == samples[j].palm ? gen : imp).push_back(m.score(t[j]));
  }
  Rates r;
  for (double g : gen) r.genuine_mean += g / static_cast<double>(gen.size());
  for (double s : imp) r.impostor_mean += s / static_cast<double>(imp.size());
  std::sort(gen.begin(), gen.end());
  std::sort(imp.begin(), imp.end());
  double best_gap = 2;
  for (double th : gen) {
    const double fnmr = static_cast<double>(std::lower_bound(gen.begin(), gen.end(), th) - gen.begin()) / static_cast<double>(gen.size());
    const double fmr = static_cast<double>(imp.end() - std::lower_bound(imp.begin(), imp.end(), th)) / static_cast<double>(imp.size());
    if (std::abs(fnmr - fmr) < best_gap) {
      best_gap = std::abs(fnmr - fmr);
      r.eer = 0.5 * (fnmr + fmr);
    }
  }
  return r;
}

TEST(RealData, PolyUSliceSeparates) {
  const Rates r = all_pairs(read_manifest(data_dir() / "polyu-nir-roi" / "MANIFEST.csv", 25));
  std::printf("PolyU 25 palms: EER %.3f%%, genuine mean %.3f, impostor mean %.3f\n", 100 * r.eer, r.genuine_mean, r.impostor_mean);
  EXPECT_LE(r.eer, 0.005);  // the full set measures 0.018 %
  EXPECT_GT(r.genuine_mean - r.impostor_mean, 0.15);
}

TEST(RealData, Casia850SliceSeparates) {
  const Rates r = all_pairs(read_manifest(data_dir() / "casia850-roi" / "MANIFEST.csv", 25));
  std::printf("CASIA850 25 palms: EER %.3f%%, genuine mean %.3f, impostor mean %.3f\n", 100 * r.eer, r.genuine_mean, r.impostor_mean);
  EXPECT_LE(r.eer, 0.05);  // the full set measures 1.3 %
  EXPECT_GT(r.genuine_mean - r.impostor_mean, 0.1);
}

}  // namespace

int main(int argc, char** argv) {
  for (const char* set : {"polyu-nir-roi", "casia850-roi"})
    if (!fs::exists(data_dir() / set / "MANIFEST.csv")) {
      std::printf("skipped: %s not found under %s (set PALMVEIN_DATA_DIR)\n", set, data_dir().string().c_str());
      return 77;
    }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}

// SPDX-License-Identifier: Apache-2.0
// ROI on the real development frames (read at run time, never copied): failure to acquire on
// casia940-fullhand must stay at or below 2 %, and the close-up samples must give an ROI.
// Exits 77 (ctest: skipped) when the data folder is absent. Folder: $PALMVEIN_DATA_DIR, else the
// build's PALMVEIN_TEST_DATA_DIR (<repo>/../shared/data).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "palmvein/roi.hpp"

namespace fs = std::filesystem;
using namespace palmvein;

namespace {

fs::path data_dir() {
  if (const char* env = std::getenv("PALMVEIN_DATA_DIR"); env && *env) return env;
  return PALMVEIN_TEST_DATA_DIR;
}

// (path, kind) of every row of a MANIFEST.csv.
std::vector<std::pair<fs::path, std::string>> manifest(const fs::path& dir) {
  std::vector<std::pair<fs::path, std::string>> rows;
  std::ifstream in(dir / "MANIFEST.csv");
  std::string line;
  const auto next_line = [&in](std::string& l) {
    if (!std::getline(in, l)) return false;
    if (!l.empty() && l.back() == '\r') l.pop_back();  // CRLF manifests
    return true;
  };
  next_line(line);
  std::vector<std::string> header;
  {
    std::stringstream ss(line);
    for (std::string f; std::getline(ss, f, ',');) header.push_back(f);
  }
  while (next_line(line)) {
    std::stringstream ss(line);
    std::vector<std::string> fields;
    for (std::string f; std::getline(ss, f, ',');) fields.push_back(f);
    std::string path, kind = "full-hand";
    for (std::size_t i = 0; i < header.size() && i < fields.size(); ++i) {
      if (header[i] == "path") path = fields[i];
      if (header[i] == "kind") kind = fields[i];
    }
    if (!path.empty()) rows.emplace_back(dir / path, kind);
  }
  return rows;
}

struct Tally {
  int total = 0;
  int failed = 0;
};

Tally run(const fs::path& dir) {
  Tally t;
  const RoiExtractor extractor;
  for (const auto& [path, kind] : manifest(dir)) {
    const RoiResult r = extractor.extract(read_image(path), kind == "roi" ? ImageKind::Roi : ImageKind::FullHand);
    ++t.total;
    if (!r.ok()) {
      ++t.failed;
      std::cout << "  no ROI: " << path.filename().string() << " (" << to_string(r.failure()) << ")\n";
    }
  }
  return t;
}

}  // namespace

TEST(RoiData, Casia940FullHandFailureToAcquireAtMost2Percent) {
  const fs::path dir = data_dir() / "casia940-fullhand";
  if (!fs::exists(dir / "MANIFEST.csv")) GTEST_SKIP() << "no " << dir;
  const Tally t = run(dir);
  ASSERT_GT(t.total, 0);
  const double fta = 100.0 * t.failed / t.total;
  std::cout << "casia940-fullhand: " << t.failed << " of " << t.total << " without ROI, FTA " << fta << " %\n";
  EXPECT_LE(fta, 2.0);
}

TEST(RoiData, CloseUpSamplesGiveAnRoi) {
  for (const char* set : {"scut-sample", "put-sample"}) {
    const fs::path dir = data_dir() / set;
    if (!fs::exists(dir / "MANIFEST.csv")) continue;
    const Tally t = run(dir);
    std::cout << set << ": " << t.failed << " of " << t.total << " without ROI\n";
    EXPECT_LE(t.failed * 5, t.total) << set;  // at least 80 % of these few frames
  }
}

int main(int argc, char** argv) {
  if (!fs::exists(data_dir() / "casia940-fullhand" / "MANIFEST.csv")) {
    std::cout << "skipped: no development data in " << data_dir() << "\n";
    return 77;
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}

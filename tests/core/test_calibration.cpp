// SPDX-License-Identifier: Apache-2.0
// Score <-> FMR calibration: table checks, interpolation, inverse consistency, the builtin table.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include "palmvein/calibration.hpp"
#include "palmvein/error.hpp"

using namespace palmvein;
namespace fs = std::filesystem;

namespace {
Calibration example() { return Calibration({{0.1, 1.0}, {0.2, 1e-1}, {0.3, 1e-2}, {0.4, 1e-4}, {0.5, 0.0}}); }
}  // namespace

TEST(Calibration, TablePointsAreExact) {
  const Calibration c = example();
  EXPECT_DOUBLE_EQ(c.threshold_for_fmr(1e-2), 0.3);
  EXPECT_DOUBLE_EQ(c.threshold_for_fmr(1e-4), 0.4);
  EXPECT_DOUBLE_EQ(c.fmr_at(0.3), 1e-2);
  EXPECT_DOUBLE_EQ(c.fmr_at(0.2), 1e-1);
}

TEST(Calibration, InterpolatesInLogFmr) {
  const Calibration c = example();
  EXPECT_NEAR(c.threshold_for_fmr(1e-3), 0.35, 1e-12);  // halfway between 1e-2 and 1e-4 in log10
  EXPECT_NEAR(c.fmr_at(0.35), 1e-3, 1e-15);
  EXPECT_NEAR(c.fmr_at(0.25), std::sqrt(1e-1 * 1e-2), 1e-12);
}

TEST(Calibration, InverseIsConsistentAndMonotone) {
  const Calibration c = example();
  double last_threshold = -1;
  for (double fmr = 0.9; fmr > 2e-4; fmr /= 1.7) {
    const double t = c.threshold_for_fmr(fmr);
    EXPECT_GT(t, last_threshold);
    last_threshold = t;
    EXPECT_NEAR(std::log10(c.fmr_at(t)), std::log10(fmr), 1e-9);
  }
  double last_fmr = 2;
  for (double s = 0.0; s <= 0.6; s += 0.01) {
    const double f = c.fmr_at(s);
    EXPECT_LE(f, last_fmr);
    last_fmr = f;
  }
}

TEST(Calibration, OutsideTheTable) {
  const Calibration c = example();
  EXPECT_DOUBLE_EQ(c.fmr_at(-5), 1.0);
  EXPECT_DOUBLE_EQ(c.fmr_at(0.9), 0.0);
  EXPECT_THROW(c.fmr_at(std::nan("")), InvalidArgument);
  // The calibrated range is [lowest measured non-zero FMR, highest FMR] of the table.
  EXPECT_EQ(c.fmr_range(), std::make_pair(1e-4, 1.0));
  EXPECT_DOUBLE_EQ(c.threshold_for_fmr(1e-4), 0.4);  // its ends are in it
  EXPECT_NEAR(c.threshold_for_fmr(0.99), 0.1, 1e-3);
}

// A target FMR is checked in one place: threshold_for_fmr refuses what the table cannot answer, with
// one message that the CLI prints as it is.
TEST(Calibration, RefusesFalseMatchRatesOutsideTheCalibratedRange) {
  const Calibration c = example();
  for (const double bad : {std::nan(""), std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(),
                           0.0, -0.1, 1.0, 1.5, 1e-8, 9.9e-5, std::numeric_limits<double>::denorm_min()}) {
    try {
      c.threshold_for_fmr(bad);
      ADD_FAILURE() << "accepted fmr " << bad;
    } catch (const InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find("outside the calibrated range"), std::string::npos) << e.what();
    }
  }
  // A table that does not start at FMR 1 is not extrapolated upwards either.
  const Calibration narrow({{0.3, 1e-2}, {0.4, 1e-4}});
  EXPECT_EQ(narrow.fmr_range(), std::make_pair(1e-4, 1e-2));
  EXPECT_THROW(narrow.threshold_for_fmr(0.1), InvalidArgument);
  // The builtin table: its range is where models/score_calibration.csv has impostor measurements.
  const auto [low, high] = Calibration::builtin().fmr_range();
  EXPECT_GT(low, 0);
  EXPECT_LT(low, 1e-5);
  EXPECT_EQ(high, 1.0);
  EXPECT_THROW(Calibration::builtin().threshold_for_fmr(low / 2), InvalidArgument);
  EXPECT_NO_THROW(Calibration::builtin().threshold_for_fmr(low));
}

TEST(Calibration, RejectsTablesThatAreNotMonotone) {
  EXPECT_THROW(Calibration({}), InvalidArgument);
  EXPECT_THROW(Calibration({{0.1, 0.5}, {0.1, 0.4}}), InvalidArgument);  // score not increasing
  EXPECT_THROW(Calibration({{0.1, 0.5}, {0.2, 0.5}}), InvalidArgument);  // fmr not decreasing
  EXPECT_THROW(Calibration({{0.1, 1.5}}), InvalidArgument);
}

TEST(Calibration, LoadsCsvAndReportsBadLines) {
  const fs::path path = fs::temp_directory_path() / ("palmvein_test_calibration_" + std::to_string(::getpid()) + ".csv");
  {
    std::ofstream out(path);
    out << "# comment\nscore,fmr\n0.1,1\n0.2,0.01\r\n0.3,0\n";
  }
  const Calibration c = Calibration::load(path);
  ASSERT_EQ(c.points().size(), 3u);
  EXPECT_DOUBLE_EQ(c.threshold_for_fmr(0.01), 0.2);
  {
    std::ofstream out(path);
    out << "score,fmr\n0.1,1\n0.2;0.5\n";
  }
  try {
    Calibration::load(path);
    FAIL() << "no error";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("line 3"), std::string::npos) << e.what();
  }
  {
    std::ofstream out(path);
    out << "score,fmr\n0.2,0.1\n0.1,0.01\n";
  }
  EXPECT_THROW(Calibration::load(path), FormatError);
  fs::remove(path);
  EXPECT_THROW(Calibration::load(path), IoError);
}

TEST(Calibration, BuiltinTableMatchesModelsCsv) {
  const Calibration& b = Calibration::builtin();
  ASSERT_GE(b.points().size(), 2u);
  const Calibration file = Calibration::load(PALMVEIN_MODELS_CSV);
  ASSERT_EQ(file.points().size(), b.points().size());
  for (std::size_t i = 0; i < b.points().size(); ++i) {
    EXPECT_EQ(file.points()[i].score, b.points()[i].score);
    EXPECT_EQ(file.points()[i].fmr, b.points()[i].fmr);
  }
  EXPECT_DOUBLE_EQ(b.points().front().fmr, 1.0);  // the table starts where every impostor is accepted
  EXPECT_DOUBLE_EQ(b.points().back().fmr, 0.0);   // and ends above the highest impostor
  // Usable operating points exist and are ordered.
  EXPECT_LT(b.threshold_for_fmr(1e-2), b.threshold_for_fmr(1e-4));
}

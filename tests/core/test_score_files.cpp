// SPDX-License-Identifier: Apache-2.0
// Score files of other systems (bob.measure four-column, a,b,score + manifest), the development /
// evaluation threshold transfer (hand-computed figures), the CMC from score records, and the plots
// of `palmvein metrics` (size, something drawn in the plot area, axis labels and title drawn).
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include <functional>
#include <random>
#include <string>
#include <vector>

#include "palmvein/error.hpp"
#include "palmvein/evaluation.hpp"

using namespace palmvein;

namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const FormatError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(FourColumn, RoundTripKeepsIdsLabelsAndExactScores) {
  const std::vector<ScoreRecord> in{{"m1", "m1", "probe_a.png", "", 0.1 + 0.2},
                                    {"m1", "m2", "probe_b.png", "", -3.25e-7},
                                    {"subject/L", "subject/R", "s/2.png", "", 1234.5}};
  const std::string text = format_four_column(in);
  const std::vector<ScoreRecord> out = parse_four_column(text, "t");
  ASSERT_EQ(out.size(), in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ(out[i].claimed_id, in[i].claimed_id);
    EXPECT_EQ(out[i].real_id, in[i].real_id);
    EXPECT_EQ(out[i].test_label, in[i].test_label);
    EXPECT_EQ(out[i].score, in[i].score) << "scores must read back as the same double";
  }
  EXPECT_TRUE(out[0].genuine());
  EXPECT_FALSE(out[1].genuine());
}

TEST(FourColumn, ReadsBlanksTabsCommentsAndCrlfAsBobDoes) {
  const auto r = parse_four_column("# a comment\n\n  a\tb  x.png   0.5\r\nc c y.png -1e-3\n", "t");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].claimed_id, "a");
  EXPECT_EQ(r[0].real_id, "b");
  EXPECT_EQ(r[0].test_label, "x.png");
  EXPECT_EQ(r[0].score, 0.5);
  EXPECT_EQ(r[1].score, -1e-3);
}

TEST(FourColumn, MalformedLineIsOneFormatErrorWithItsLineNumber) {
  const std::string three = error_of([] { parse_four_column("a a x 0.5\n\nb b y\n", "scores.txt"); });
  EXPECT_NE(three.find("scores.txt line 3"), std::string::npos) << three;
  EXPECT_NE(three.find("3 fields, expected 4"), std::string::npos) << three;
  const std::string word = error_of([] { parse_four_column("a a x 0.5\na b y high\n", "s"); });
  EXPECT_NE(word.find("s line 2"), std::string::npos) << word;
  EXPECT_NE(word.find("'high'"), std::string::npos) << word;
  EXPECT_NE(error_of([] { parse_four_column("a a x 0.5junk\n", "s"); }).find("line 1"), std::string::npos);
  EXPECT_NE(error_of([] { parse_four_column("a a x nan\n", "s"); }).find("line 1"), std::string::npos);
  EXPECT_NE(error_of([] { parse_four_column("a a x 0.5 extra\n", "s"); }).find("5 fields"), std::string::npos);
  EXPECT_NE(error_of([] { parse_four_column("# only a comment\n", "s"); }).find("no comparisons"), std::string::npos);
  EXPECT_THROW(format_four_column(std::vector<ScoreRecord>{{"a b", "a", "x", "", 1}}), InvalidArgument);
  EXPECT_THROW(format_four_column(std::vector<ScoreRecord>{{"a", "a", "", "", 1}}), InvalidArgument);
}

TEST(PairScoreCsv, LabelsRowsByTheManifestAndMatchesTheEvaluationRecords) {
  const Manifest manifest(".", {{"a.png", "1", Hand::Left, "1", ImageKind::Roi},
                                {"b.png", "1", Hand::Left, "2", ImageKind::Roi},
                                {"c,d.png", "2", Hand::Right, "1", ImageKind::Roi}});
  PairScores scores(3);
  scores.set(0, 1, 0.75);
  scores.set(0, 2, 0.125);
  scores.set(1, 2, 0.25);
  const auto parsed = parse_pair_score_csv(format_score_csv(manifest, scores), manifest, "s");
  const auto direct = score_records(manifest, scores);
  ASSERT_EQ(parsed.size(), 3u);
  ASSERT_EQ(direct.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(parsed[i].claimed_id, direct[i].claimed_id);
    EXPECT_EQ(parsed[i].real_id, direct[i].real_id);
    EXPECT_EQ(parsed[i].test_label, direct[i].test_label);
    EXPECT_EQ(parsed[i].model_label, direct[i].model_label);
    EXPECT_EQ(parsed[i].score, direct[i].score);
  }
  EXPECT_EQ(parsed[0].claimed_id, "1/L");
  EXPECT_TRUE(parsed[0].genuine());
  EXPECT_EQ(parsed[1].test_label, "c,d.png");
  const LabelledScores l = label_records(parsed);
  EXPECT_EQ(l.genuine, std::vector<double>{0.75});
  EXPECT_EQ(l.impostor, (std::vector<double>{0.125, 0.25}));

  EXPECT_NE(error_of([&] { parse_pair_score_csv("a,b,score\na.png,x.png,1\n", manifest, "s"); }).find("s line 2: 'x.png'"),
            std::string::npos);
  EXPECT_NE(error_of([&] { parse_pair_score_csv("a,b,score\na.png,b.png,one\n", manifest, "s"); }).find("line 2"),
            std::string::npos);
  EXPECT_NE(error_of([&] { parse_pair_score_csv("a,b\na.png,b.png\n", manifest, "s"); }).find("missing column 'score'"),
            std::string::npos);
  EXPECT_NE(error_of([&] { parse_pair_score_csv("a,b,score\n", manifest, "s"); }).find("no score rows"), std::string::npos);
}

TEST(ThresholdTransfer, DevelopmentThresholdsAppliedToEvaluationByHand) {
  // Development: the sweep from high to low meets FMR = FNMR = 1/4 at t = 0.6 (gen 0.5 rejected,
  // imp 0.6 accepted): the EER threshold.
  const LabelledScores dev{{0.5, 0.7, 0.8, 0.9}, {0.1, 0.2, 0.3, 0.6}};
  // Evaluation at t = 0.6: genuine 0.55 rejected (FNMR 1/3), impostors 0.61 and 0.7 accepted (FMR 2/5).
  const LabelledScores eval{{0.55, 0.65, 0.95}, {0.05, 0.61, 0.7, 0.2, 0.3}};
  const auto t = transfer_thresholds(dev, eval);
  ASSERT_EQ(t.size(), 4u);
  EXPECT_EQ(t[0].criterion, "eer");
  EXPECT_DOUBLE_EQ(t[0].threshold, 0.6);
  EXPECT_DOUBLE_EQ(t[0].development.fmr, 0.25);
  EXPECT_DOUBLE_EQ(t[0].development.fnmr, 0.25);
  EXPECT_DOUBLE_EQ(t[0].evaluation.fmr, 2.0 / 5);
  EXPECT_DOUBLE_EQ(t[0].evaluation.fnmr, 1.0 / 3);
  EXPECT_DOUBLE_EQ(t[0].evaluation.hter(), 11.0 / 30);
  // FMR = 1e-2 with 4 development impostors allows none: just above the highest impostor, 0.6.
  EXPECT_EQ(t[1].criterion, "fmr=0.01");
  EXPECT_GT(t[1].threshold, 0.6);
  EXPECT_LT(t[1].threshold, 0.6 + 1e-9);
  EXPECT_DOUBLE_EQ(t[1].development.fmr, 0.0);
  EXPECT_DOUBLE_EQ(t[1].development.fnmr, 0.25);
  EXPECT_DOUBLE_EQ(t[1].evaluation.fmr, 2.0 / 5);
  EXPECT_DOUBLE_EQ(t[1].evaluation.fnmr, 1.0 / 3);
  EXPECT_EQ(t[3].criterion, "fmr=0.0001");
  EXPECT_THROW(transfer_thresholds(dev, LabelledScores{{}, {0.1}}), InvalidArgument);
  EXPECT_THROW(error_rates({}, std::vector<double>{0.1}, 0.5), InvalidArgument);
}

TEST(RecordSearches, CmcFromFourColumnProbes) {
  // p1 (A): its mate scores best (rank 1); p2 (B): A beats its mate (rank 2); p3 (C): C is not in
  // the gallery (non-mated, left out of the CMC).
  const std::vector<ScoreRecord> r{{"A", "A", "p1", "", 0.9}, {"B", "A", "p1", "", 0.5}, {"A", "B", "p2", "", 0.8},
                                   {"B", "B", "p2", "", 0.7}, {"A", "C", "p3", "", 0.1}, {"B", "C", "p3", "", 0.2}};
  const SearchScores s = record_searches(r, false);
  EXPECT_EQ(s.probes(), 3u);
  EXPECT_EQ(s.identities, 2u);
  const OpenSetScores o = open_set_scores(s);
  ASSERT_EQ(o.mated.size(), 2u);
  EXPECT_EQ(o.nonmated_best, std::vector<double>{0.2});
  EXPECT_EQ(cmc_curve(o, 3), (std::vector<double>{0.5, 1.0, 1.0}));
  // An all-pairs file names each pair once; both_ways makes the model image a probe as well.
  const std::vector<ScoreRecord> pairs{{"A", "A", "a2", "a1", 0.9}, {"A", "B", "b1", "a1", 0.3}, {"A", "B", "b1", "a2", 0.2}};
  EXPECT_EQ(record_searches(pairs, false).probes(), 2u);
  EXPECT_EQ(record_searches(pairs, true).probes(), 3u);
  EXPECT_EQ(open_set_scores(record_searches(pairs, true)).mated.size(), 2u);  // a1 and a2; b1 has no mate
}

// ---------------------------------------------------------------------------------------------
// Plots: decoded and looked at in the places where the frame draws the curve, labels and title.

namespace {

struct Picture {
  cv::Mat img;
  // Dark (text or axis) pixels in a rectangle.
  int dark(int x0, int y0, int x1, int y1) const {
    int n = 0;
    for (int y = y0; y < y1; ++y)
      for (int x = x0; x < x1; ++x) {
        const cv::Vec3b p = img.at<cv::Vec3b>(y, x);
        n += p[0] < 110 && p[1] < 110 && p[2] < 110;
      }
    return n;
  }
  // Coloured (curve) pixels inside the plot area: not grey.
  int coloured() const {
    int n = 0;
    for (int y = 52; y < img.rows - 72; ++y)
      for (int x = 92; x < img.cols - 32; ++x) {
        const cv::Vec3b p = img.at<cv::Vec3b>(y, x);
        n += std::max({p[0], p[1], p[2]}) - std::min({p[0], p[1], p[2]}) > 80;
      }
    return n;
  }
  // The strips where the frame writes the x label (bottom), the y label (left edge) and the title.
  int x_label() const { return dark(100, img.rows - 34, img.cols - 40, img.rows - 4); }
  int y_label() const { return dark(0, 60, 30, img.rows - 80); }
  int title() const { return dark(100, 4, img.cols - 40, 40); }
};

Picture decode(const std::vector<std::uint8_t>& png) {
  Picture p{cv::imdecode(png, cv::IMREAD_COLOR)};
  EXPECT_FALSE(p.img.empty());
  return p;
}

// Checks one plot with its labels, and that the checks see their absence (so they can fail).
void check_plot(const std::function<std::vector<std::uint8_t>(const DetPlotOptions&)>& draw, DetPlotOptions o) {
  o.width = 640;
  o.height = 480;
  const Picture with = decode(draw(o));
  ASSERT_FALSE(with.img.empty());
  EXPECT_EQ(with.img.cols, 640);
  EXPECT_EQ(with.img.rows, 480);
  EXPECT_GT(with.coloured(), 300) << o.title << ": no curve in the plot area";
  EXPECT_GT(with.x_label(), 40) << o.title << ": x axis label";
  EXPECT_GT(with.y_label(), 40) << o.title << ": y axis label";
  EXPECT_GT(with.title(), 60) << o.title << ": title";
  o.x_label = o.y_label = o.title = "";
  const Picture without = decode(draw(o));
  EXPECT_EQ(without.x_label(), 0);
  EXPECT_EQ(without.y_label(), 0);
  EXPECT_EQ(without.title(), 0);
}

LabelledScores gaussian_scores() {
  std::mt19937 rng(7);
  std::normal_distribution<double> g(0.5, 0.08), i(0.25, 0.05);
  LabelledScores s;
  for (int k = 0; k < 400; ++k) s.genuine.push_back(g(rng));
  for (int k = 0; k < 20000; ++k) s.impostor.push_back(i(rng));
  return s;
}

}  // namespace

TEST(Plots, DetOnNormalDeviateAxesRocHistogramAndCmcAreDrawnAndLabelled) {
  const LabelledScores s = gaussian_scores();
  const VerificationMetrics m = verification_metrics(s.genuine, s.impostor);
  const std::vector<DetSeries> series{{"all", det_curve(s.genuine, s.impostor), m.eer}};
  DetPlotOptions det;
  det.scale = DetScale::NormalDeviate;
  check_plot([&](const DetPlotOptions& o) { return draw_det_plot(series, o); }, det);
  DetPlotOptions roc;
  roc.title = "ROC";
  roc.y_label = "1 - FNMR";
  check_plot([&](const DetPlotOptions& o) { return draw_roc_plot(series, o); }, roc);
  const auto bins = score_histogram(s.genuine, s.impostor, 40);
  DetPlotOptions hist;
  hist.title = "Scores";
  hist.x_label = "score";
  hist.y_label = "share";
  check_plot([&](const DetPlotOptions& o) { return draw_score_histogram(bins, m.eer_threshold, o); }, hist);
  DetPlotOptions cmc;
  cmc.title = "CMC";
  cmc.x_label = "rank";
  cmc.y_label = "identification rate";
  const std::vector<double> curve{0.8, 0.9, 0.95, 0.97, 1.0};
  check_plot([&](const DetPlotOptions& o) { return draw_cmc_plot(curve, o); }, cmc);
  EXPECT_THROW(draw_cmc_plot({}, cmc), InvalidArgument);
  EXPECT_THROW(draw_roc_plot({}, roc), InvalidArgument);
}

TEST(Plots, NormalDeviateAxesStraightenGaussianScores) {
  // Equal-variance Gaussian scores give a straight DET line on normal-deviate axes (the reason NIST
  // draws it so) and a bent one on log axes: compare the curve's middle point with the chord.
  std::mt19937 rng(3);
  std::normal_distribution<double> g(4.0, 1.0), i(0.0, 1.0);
  std::vector<double> gen, imp;
  for (int k = 0; k < 200000; ++k) {
    gen.push_back(g(rng));
    imp.push_back(i(rng));
  }
  const auto curve = det_curve(gen, imp);
  const std::vector<DetSeries> series{{"g", curve, 0, false}};
  auto bend = [&](DetScale scale) {
    DetPlotOptions o;
    o.scale = scale;
    o.title = o.x_label = o.y_label = "";
    const Picture p = decode(draw_det_plot(series, o));
    // The curve's pixel row in three columns of the plot area.
    auto row_at = [&](int x) {
      for (int y = 52; y < p.img.rows - 72; ++y) {
        const cv::Vec3b v = p.img.at<cv::Vec3b>(y, x);
        if (std::max({v[0], v[1], v[2]}) - std::min({v[0], v[1], v[2]}) > 80) return y;
      }
      return -1;
    };
    const int x0 = 250, x2 = 700, x1 = (x0 + x2) / 2;
    const int y0 = row_at(x0), y1 = row_at(x1), y2 = row_at(x2);
    EXPECT_GE(y0, 0);
    EXPECT_GE(y1, 0);
    EXPECT_GE(y2, 0);
    return std::abs(y1 - (y0 + y2) / 2.0);
  };
  const double probit = bend(DetScale::NormalDeviate), log = bend(DetScale::Log);
  EXPECT_LT(probit, 6.0);
  EXPECT_GT(log, 2 * probit);
}

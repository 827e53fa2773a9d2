// SPDX-License-Identifier: Apache-2.0
// Evaluation: manifests, metrics (against hand-computed values and against tools/evalscores.py),
// score files, labelling, rank-1, DET curves and plots. No research images needed.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include <opencv2/imgcodecs.hpp>

#include "palmvein/error.hpp"
#include "palmvein/evaluation.hpp"
#include "palmvein/extractor.hpp"
#include "palmvein/image.hpp"
#include "palmvein/matcher.hpp"
#include "palmvein_tools/synthetic_palm.hpp"

using namespace palmvein;
namespace fs = std::filesystem;

namespace {

fs::path temp_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("palmvein_test_evaluation_" + name + "_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir;
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

ManifestEntry entry(std::string path, std::string subject, std::string hand, std::string session = "") {
  ManifestEntry e;
  e.path = std::move(path);
  e.subject = std::move(subject);
  e.hand = parse_hand(hand);
  e.session = std::move(session);
  return e;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Metrics against numbers worked out by hand.

TEST(VerificationMetrics, HandComputedExample) {
  // Sweep from the top: t=0.9 FNMR 3/4 FMR 0; 0.8: 2/4, 0; 0.7: 1/4, 0; 0.6: 1/4, 1/5 (|d| = 0.05,
  // the smallest); 0.5: 1/4, 2/5 -> stop. EER = (0.2 + 0.25) / 2 at threshold 0.6.
  const VerificationMetrics m = verification_metrics({0.9, 0.8, 0.7, 0.4}, {0.1, 0.2, 0.3, 0.5, 0.6});
  EXPECT_EQ(m.genuine_pairs, 4u);
  EXPECT_EQ(m.impostor_pairs, 5u);
  EXPECT_DOUBLE_EQ(m.eer, 0.225);
  EXPECT_DOUBLE_EQ(m.eer_threshold, 0.6);
  // k = int(0.01 * 5) = 0 impostors allowed: threshold just above 0.6; only 0.4 is below it.
  EXPECT_DOUBLE_EQ(m.at(1e-2).fnmr, 0.25);
  EXPECT_FALSE(m.at(1e-2).reliable);
  EXPECT_GT(m.at(1e-2).threshold, 0.6);
  EXPECT_LT(m.at(1e-2).threshold, 0.6 + 1e-9);
  ASSERT_EQ(m.fnmr_at_fmr.size(), 4u);
  EXPECT_THROW(m.at(0.5), InvalidArgument);
}

TEST(VerificationMetrics, SeparatedScoresGiveZeroRates) {
  std::vector<double> gen, imp;
  for (int i = 0; i < 100; ++i) gen.push_back(0.8 + i * 1e-3);
  for (int i = 0; i < 2000; ++i) imp.push_back(0.1 + i * 1e-4);
  const VerificationMetrics m = verification_metrics(gen, imp);
  EXPECT_EQ(m.eer, 0.0);
  for (const auto& f : m.fnmr_at_fmr) EXPECT_EQ(f.fnmr, 0.0) << f.target_fmr;
  EXPECT_TRUE(m.at(1e-2).reliable);   // 2000 * 0.01 = 20 >= 10
  EXPECT_FALSE(m.at(1e-3).reliable);  // 2 < 10
  EXPECT_GT(m.dprime, 5.0);
}

TEST(VerificationMetrics, FnmrAtFmrAllowsKImpostorsAboveThreshold) {
  // 1000 impostors 0.000..0.999; FMR 1e-2 allows k = 10 impostors at or above the threshold, so the
  // threshold sits just above the 11th highest impostor (0.989): genuine 0.985 and 0.989 fail, 0.99 passes.
  std::vector<double> imp;
  for (int i = 0; i < 1000; ++i) imp.push_back(i / 1000.0);
  const VerificationMetrics m = verification_metrics({0.985, 0.989, 0.99, 0.999}, imp);
  EXPECT_DOUBLE_EQ(m.at(1e-2).fnmr, 0.5);
  EXPECT_DOUBLE_EQ(m.at(1e-3).fnmr, 0.75);  // k = 1: threshold just above 0.998, only 0.999 passes
}

TEST(VerificationMetrics, TiesBetweenGenuineAndImpostorCount) {
  // All scores equal: at the only threshold everything is accepted: FMR 1, FNMR 0 -> EER 0.5.
  const VerificationMetrics m = verification_metrics({0.5, 0.5}, {0.5, 0.5, 0.5});
  EXPECT_DOUBLE_EQ(m.eer, 0.5);
  EXPECT_DOUBLE_EQ(m.at(1e-2).fnmr, 1.0);  // threshold just above 0.5 rejects every genuine pair
}

TEST(VerificationMetrics, RejectsEmptyOrNonFiniteInput) {
  EXPECT_THROW(verification_metrics({}, {0.1}), InvalidArgument);
  EXPECT_THROW(verification_metrics({0.1}, {}), InvalidArgument);
  EXPECT_THROW(verification_metrics({std::nan("")}, {0.1}), InvalidArgument);
}

// ---------------------------------------------------------------------------------------------
// Agreement with the independent python evaluator, bit for bit.

#ifdef PALMVEIN_EVALSCORES
namespace {

std::string shortest(double v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

nlohmann::json run_evalscores(const fs::path& scores) {
  const std::string cmd = "python3 '" + std::string(PALMVEIN_EVALSCORES) + "' '" + scores.string() + "' --json";
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (!pipe) return {};
  std::string out;
  char buf[4096];
  while (const std::size_t n = std::fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  if (::pclose(pipe) != 0) return {};
  return nlohmann::json::parse(out, nullptr, false);
}

}  // namespace

TEST(VerificationMetrics, AgreesExactlyWithEvalscoresPy) {
  if (!fs::exists(PALMVEIN_EVALSCORES) || std::system("python3 -c pass >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "python3 or " << PALMVEIN_EVALSCORES << " not available";
  const fs::path dir = temp_dir("evalscores");
  std::mt19937 rng(7);
  struct Case {
    int genuine, impostor;
    double mu_g, mu_i, step;  // step > 0 quantizes (ties), 0 keeps full doubles
  };
  for (const Case c : {Case{300, 20000, 0.45, 0.25, 0.0}, Case{500, 30000, 0.40, 0.30, 1e-3},
                       Case{2000, 40000, 0.35, 0.30, 1e-6}, Case{50, 1200, 0.6, 0.2, 1e-2}}) {
    std::normal_distribution<double> g(c.mu_g, 0.06), i(c.mu_i, 0.04);
    std::vector<double> gen, imp;
    auto q = [&](double v) { return c.step > 0 ? PairScores::value(PairScores::quantize(std::round(v / c.step) * c.step)) : v; };
    for (int k = 0; k < c.genuine; ++k) gen.push_back(q(g(rng)));
    for (int k = 0; k < c.impostor; ++k) imp.push_back(q(i(rng)));
    std::string csv = "a,b,score,genuine\n";
    for (const double v : gen) csv += "x,y," + shortest(v) + ",1\n";
    for (const double v : imp) csv += "x,z," + shortest(v) + ",0\n";
    const fs::path file = dir / "scores.csv";
    write_text(file, csv);
    const nlohmann::json py = run_evalscores(file);
    ASSERT_TRUE(py.is_object()) << "evalscores.py failed";
    const VerificationMetrics m = verification_metrics(gen, imp);
    EXPECT_EQ(py["genuine"].get<std::size_t>(), m.genuine_pairs);
    EXPECT_EQ(py["impostor"].get<std::size_t>(), m.impostor_pairs);
    EXPECT_EQ(py["eer"].get<double>(), m.eer);  // exact, not approximate
    EXPECT_EQ(py["eer_threshold"].get<double>(), m.eer_threshold);
    for (const char* key : {"1e-2", "1e-3", "1e-4", "1e-5"}) {
      const double target = std::strtod(key, nullptr);
      char name[32];
      std::snprintf(name, sizeof name, "fnmr@fmr=%g", target);
      EXPECT_EQ(py[name].get<double>(), m.at(target).fnmr) << name << " step " << c.step;
      EXPECT_EQ(py[std::string(name) + "_reliable"].get<bool>(), m.at(target).reliable) << name;
    }
    EXPECT_NEAR(py["dprime"].get<double>(), m.dprime, 1e-9 * m.dprime);
  }
  fs::remove_all(dir);
}
#endif

// ---------------------------------------------------------------------------------------------
// Manifests.

TEST(Manifest, LoadsColumnsInAnyOrderWithQuotesAndCrLf) {
  const fs::path dir = temp_dir("manifest");
  write_text(dir / "MANIFEST.csv",
             "kind,session,path,subject,hand,extra\r\n"
             "roi,1,a.png,001,L,x\r\n"
             "full-hand,2,\"b, with comma.png\",001,L,\"q\"\"q\"\r\n"
             "\r\n"
             "roi,1,sub/c.png,002,unknown,\r\n");
  const Manifest m = Manifest::load(dir / "MANIFEST.csv");
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m.entries()[1].path, "b, with comma.png");
  EXPECT_EQ(m.entries()[1].kind, ImageKind::FullHand);
  EXPECT_EQ(m.entries()[0].kind, ImageKind::Roi);
  EXPECT_EQ(m.entries()[2].hand, Hand::Unknown);
  EXPECT_EQ(m.image_path(2), dir / "sub/c.png");
  EXPECT_TRUE(m.has_sessions());
  EXPECT_TRUE(same_palm(m.entries()[0], m.entries()[1]));
  EXPECT_FALSE(same_palm(m.entries()[0], m.entries()[2]));
  fs::remove_all(dir);
}

TEST(Manifest, HandIsOneTypeReadByParseHand) {
  // The gallery's spelling and the long words name the same palm as the data sets' L/R/unknown.
  const fs::path dir = temp_dir("manifest_hands");
  write_text(dir / "M.csv", "path,subject,hand,kind\na,1,L,roi\nb,1,left,roi\nc,1,U,roi\nd,1,Unknown,roi\ne,1,r,roi\n");
  const Manifest m = Manifest::load(dir / "M.csv");
  fs::remove_all(dir);
  EXPECT_EQ(m.entries()[0].hand, Hand::Left);
  EXPECT_TRUE(same_palm(m.entries()[0], m.entries()[1]));
  EXPECT_TRUE(same_palm(m.entries()[2], m.entries()[3]));
  EXPECT_EQ(m.entries()[4].hand, Hand::Right);
}

TEST(Manifest, BadManifestsGiveOneClearError) {
  const fs::path dir = temp_dir("bad_manifest");
  auto message_of = [&](const std::string& text) -> std::string {
    write_text(dir / "M.csv", text);
    try {
      Manifest::load(dir / "M.csv");
    } catch (const FormatError& e) {
      return e.what();
    }
    return "(no error)";
  };
  EXPECT_NE(message_of("path,subject,hand\na.png,1,L\n").find("missing column 'kind'"), std::string::npos);
  EXPECT_NE(message_of("path,subject,hand,kind\na.png,1,L,palm\n").find("unknown kind 'palm'"), std::string::npos);
  EXPECT_NE(message_of("path,subject,hand,kind\na.png,1,L,roi\na.png,2,L,roi\n").find("duplicate path 'a.png'"),
            std::string::npos);
  EXPECT_NE(message_of("path,subject,hand,kind\na.png,1,L\n").find("line 2"), std::string::npos);
  EXPECT_NE(message_of("path,subject,hand,kind\n").find("no images"), std::string::npos);
  EXPECT_NE(message_of("path,subject,hand,kind\na.png,1,L,roi\nb.png,1,middle,roi\n").find("M.csv' line 3: unknown hand 'middle'"),
            std::string::npos);
  EXPECT_NE(message_of("path,subject,hand,kind\n\"a.png,1,L,roi\n").find("unterminated"), std::string::npos);
  EXPECT_THROW(Manifest::load(dir / "missing.csv"), IoError);
  fs::remove_all(dir);
}

TEST(Manifest, SessionsNeedTwoDistinctValues) {
  EXPECT_FALSE(Manifest(".", {entry("a", "1", "L", "1"), entry("b", "1", "L", "1")}).has_sessions());
  EXPECT_FALSE(Manifest(".", {entry("a", "1", "L"), entry("b", "1", "L")}).has_sessions());
  EXPECT_TRUE(Manifest(".", {entry("a", "1", "L", "1"), entry("b", "1", "L", "2")}).has_sessions());
}

// ---------------------------------------------------------------------------------------------
// Score storage and score files.

TEST(PairScores, IndexCoversEveryPairOnce) {
  for (std::size_t n : {2u, 3u, 7u, 50u}) {
    PairScores s(n);
    std::vector<int> hits(s.pairs(), 0);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = i + 1; j < n; ++j) ++hits.at(s.index(i, j));
    for (const int h : hits) EXPECT_EQ(h, 1);
    EXPECT_EQ(s.pairs(), n * (n - 1) / 2);
  }
}

TEST(PairScores, FormattedScoresParseBackToTheExactValue) {
  auto text = [](std::int32_t q) {
    char buf[32];
    return std::string(buf, format_score(buf, q));
  };
  EXPECT_EQ(text(500000), "0.5");
  EXPECT_EQ(text(1000000), "1");
  EXPECT_EQ(text(0), "0");
  EXPECT_EQ(text(1), "0.000001");
  EXPECT_EQ(text(-250000), "-0.25");
  EXPECT_EQ(text(123456789), "123.456789");
  EXPECT_EQ(text(-2000000000), "-2000");
  std::mt19937 rng(3);
  std::uniform_int_distribution<std::int32_t> any(-2000000000, 2000000000);
  for (int k = 0; k < 200000; ++k) {
    const std::int32_t q = k < 100000 ? k * 7 : any(rng);
    const std::string t = text(q);
    double parsed = 0;
    std::from_chars(t.data(), t.data() + t.size(), parsed);
    ASSERT_EQ(parsed, PairScores::value(q)) << t;  // what python's float() reads is what we measured
  }
  EXPECT_EQ(PairScores::quantize(0.1234564), 123456);
  EXPECT_EQ(PairScores::quantize(0.1234566), 123457);
  EXPECT_THROW(PairScores::quantize(std::nan("")), InvalidArgument);
  EXPECT_THROW(PairScores::quantize(5000.0), InvalidArgument);
}

TEST(PairScores, ScoreCsvHasOneRowPerPairWithManifestPaths) {
  const Manifest m(".", {entry("a.png", "1", "L"), entry("dir/b.png", "1", "L"), entry("c,1.png", "2", "L")});
  PairScores s(3);
  s.set(0, 1, 0.75);
  s.set(0, 2, 0.1);
  s.set(1, 2, 0.0);
  EXPECT_EQ(format_score_csv(m, s), "a,b,score\na.png,dir/b.png,0.75\na.png,\"c,1.png\",0.1\ndir/b.png,\"c,1.png\",0\n");
}

TEST(PairScores, LabellingCrossSessionAndRank1) {
  // Palm P (images 0,1,2: sessions 1,1,2), palm Q (3,4: sessions 1,2), palm R (5: alone).
  const Manifest m(".", {entry("0", "p", "L", "1"), entry("1", "p", "L", "1"), entry("2", "p", "L", "2"),
                         entry("3", "q", "L", "1"), entry("4", "q", "L", "2"), entry("5", "p", "R", "1")});
  PairScores s(6);
  for (std::size_t i = 0; i < 6; ++i)
    for (std::size_t j = i + 1; j < 6; ++j) s.set(i, j, 0.1);
  s.set(0, 1, 0.9);
  s.set(0, 2, 0.5);
  s.set(1, 2, 0.3);
  s.set(3, 4, 0.1);  // ties the impostors of 3 and 4: both count as not identified
  s.set(2, 5, 0.4);  // impostor above 2's genuine 1-2 (0.3) but below 0-2 (0.5): 2 still identified
  const LabelledScores all = label_scores(m, s);
  EXPECT_EQ(all.genuine.size(), 4u);
  EXPECT_EQ(all.impostor.size(), 11u);
  const LabelledScores cross = label_scores(m, s, true);
  EXPECT_EQ(cross.genuine.size(), 3u);  // 0-2, 1-2, 3-4
  EXPECT_EQ(cross.impostor.size(), 11u);
  const Rank1 r = rank1_identification(m, s);
  EXPECT_EQ(r.probes, 5u);      // image 5 has no mate
  EXPECT_EQ(r.identified, 3u);  // 0, 1, 2
  EXPECT_DOUBLE_EQ(r.accuracy(), 0.6);
}

// ---------------------------------------------------------------------------------------------
// DET curves and plots.

TEST(Det, CurvePointsAtEveryDistinctScore) {
  const auto c = det_curve({0.9, 0.7, 0.7}, {0.7, 0.2});
  ASSERT_EQ(c.size(), 3u);
  EXPECT_DOUBLE_EQ(c[0].threshold, 0.9);
  EXPECT_DOUBLE_EQ(c[0].fmr, 0.0);
  EXPECT_DOUBLE_EQ(c[0].fnmr, 2.0 / 3);
  EXPECT_DOUBLE_EQ(c[1].threshold, 0.7);
  EXPECT_DOUBLE_EQ(c[1].fmr, 0.5);
  EXPECT_DOUBLE_EQ(c[1].fnmr, 0.0);
  EXPECT_DOUBLE_EQ(c[2].fmr, 1.0);
}

TEST(Det, PlotIsADecodablePngOfTheRequestedSize) {
  std::mt19937 rng(1);
  std::normal_distribution<double> g(0.5, 0.08), i(0.25, 0.05);
  std::vector<double> gen, imp;
  for (int k = 0; k < 500; ++k) gen.push_back(g(rng));
  for (int k = 0; k < 20000; ++k) imp.push_back(i(rng));
  const VerificationMetrics m = verification_metrics(gen, imp);
  std::vector<DetSeries> series{{"all pairs", det_curve(gen, imp), m.eer}};
  DetPlotOptions options;
  options.width = 640;
  options.height = 480;
  const std::vector<std::uint8_t> png = draw_det_plot(series, options);
  const Image decoded = decode_image(png);
  EXPECT_EQ(decoded.width(), 640);
  EXPECT_EQ(decoded.height(), 480);
  // Something was drawn: the image is not blank.
  int dark = 0;
  for (int y = 0; y < decoded.height(); ++y)
    for (int x = 0; x < decoded.width(); ++x) dark += decoded.row8(y)[x] < 128;
  EXPECT_GT(dark, 2000);
  EXPECT_THROW(draw_det_plot({}), InvalidArgument);
  options.width = 10;
  EXPECT_THROW(draw_det_plot(series, options), InvalidArgument);
}

// ---------------------------------------------------------------------------------------------
// The whole protocol on synthetic palms (lib/tools/include/palmvein_tools/synthetic_palm.hpp), written to a temp folder.

namespace {

// 5 palms x 3 shifted captures, plus a black frame (likely a failure to acquire).
fs::path write_synthetic_set(const std::string& name, bool with_black) {
  const fs::path dir = temp_dir(name);
  std::string manifest = "path,subject,hand,session,kind\n";
  for (std::uint32_t palm = 1; palm <= 5; ++palm)
    for (int k = 0; k < 3; ++k) {
      const cv::Mat img = palmvein::testing::render_palm(palm, 1.5 * k, -1.0 * k, 2.0 * k, 100 * palm + k);
      char file_name[32];  // (snprintf: GCC 12 warns falsely on chained std::string +)
      std::snprintf(file_name, sizeof file_name, "p%u_%d.png", palm, k);
      const std::string file = file_name;
      cv::imwrite((dir / file).string(), img);
      manifest += file + "," + std::to_string(palm) + ",L," + (k < 2 ? "1" : "2") + ",roi\n";
    }
  if (with_black) {
    cv::imwrite((dir / "black.png").string(), cv::Mat::zeros(128, 128, CV_8U));
    manifest += "black.png,1,L,2,roi\n";
  }
  write_text(dir / "MANIFEST.csv", manifest);
  return dir;
}

}  // namespace

TEST(Evaluate, SyntheticPalmsEndToEnd) {
  const fs::path dir = write_synthetic_set("e2e", true);
  const Manifest m = Manifest::load(dir / "MANIFEST.csv");
  EvaluationOptions options;
  options.threads = 2;
  std::size_t progress_calls = 0;
  options.progress = [&](std::string_view stage, std::size_t done, std::size_t total) {
    ++progress_calls;
    EXPECT_TRUE(stage == "extract" || stage == "match");
    EXPECT_LE(done, total);
  };
  const TemplateExtractor extractor;
  const EvaluationResult r = evaluate(m, extractor, options);
  EXPECT_GE(progress_calls, 2u);
  ASSERT_EQ(r.images.size(), 16u);
  EXPECT_EQ(r.scores.pairs(), 120u);
  EXPECT_EQ(r.overall.genuine_pairs, 5u * 3 + 3);  // 3 per palm, plus black.png with palm 1's three
  EXPECT_EQ(r.overall.genuine_pairs + r.overall.impostor_pairs, 120u);
  ASSERT_TRUE(r.cross_session.has_value());
  EXPECT_EQ(r.cross_session->genuine_pairs, 5u * 2 + 2);  // session-2 image against two session-1 images
  // Synthetic palms are easy: every real palm image is identified.
  std::size_t fta = 0;
  for (std::size_t i = 0; i < r.images.size(); ++i) {
    if (!r.images[i].fta) continue;
    ++fta;
    EXPECT_NE(r.images[i].failure, RoiFailure::None);
    for (std::size_t j = 0; j < r.images.size(); ++j) {
      if (j != i) {
        EXPECT_EQ(r.scores.score(i, j), kLowestScore) << "an FTA keeps the lowest score";
      }
    }
  }
  EXPECT_EQ(r.fta, fta);
  EXPECT_EQ(r.rank1.probes, 16u);
  EXPECT_GE(r.rank1.identified, 15u - r.fta);
  EXPECT_GT(r.template_bytes, 0u);
  EXPECT_GT(r.extract_ms_median, 0.0);
  EXPECT_GT(r.match_us_median, 0.0);
  ASSERT_EQ(r.calibrated.size(), 3u);

  // Deterministic: one thread gives the very same scores.
  options.threads = 1;
  options.progress = nullptr;
  const EvaluationResult r1 = evaluate(m, extractor, options);
  for (std::size_t i = 0; i < 16; ++i)
    for (std::size_t j = i + 1; j < 16; ++j) ASSERT_EQ(r1.scores.quantized(i, j), r.scores.quantized(i, j));
  EXPECT_EQ(r1.overall.eer, r.overall.eer);
  fs::remove_all(dir);
}

TEST(Evaluate, UnreadableImagesAreErrorsNamingThePath) {
  const fs::path dir = write_synthetic_set("errors", false);
  write_text(dir / "corrupt.png", "\x89PNG definitely not");
  write_text(dir / "M1.csv", "path,subject,hand,kind\np1_0.png,1,L,roi\ncorrupt.png,1,L,roi\np2_0.png,2,L,roi\n");
  write_text(dir / "M2.csv", "path,subject,hand,kind\np1_0.png,1,L,roi\nabsent.png,1,L,roi\np2_0.png,2,L,roi\n");
  write_text(dir / "M3.csv", "path,subject,hand,kind\np1_0.png,1,L,roi\np2_0.png,2,L,roi\n");
  write_text(dir / "M4.csv", "path,subject,hand,kind\np1_0.png,1,L,roi\n");
  const TemplateExtractor extractor;
  auto error_of = [&](const char* manifest) -> std::string {
    try {
      evaluate(Manifest::load(dir / manifest), extractor);
    } catch (const Error& e) {
      return e.what();
    }
    return "(no error)";
  };
  EXPECT_NE(error_of("M1.csv").find("corrupt.png"), std::string::npos);
  EXPECT_NE(error_of("M2.csv").find("absent.png"), std::string::npos);
  EXPECT_NE(error_of("M3.csv").find("no genuine"), std::string::npos);
  EXPECT_NE(error_of("M4.csv").find("two images"), std::string::npos);
  EvaluationOptions bad;
  bad.threads = -1;
  EXPECT_THROW(bad.check(), InvalidArgument);
  fs::remove_all(dir);
}

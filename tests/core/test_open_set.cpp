// SPDX-License-Identifier: Apache-2.0
// Open-set identification: FPIR/FNIR, ranks, the CMC and the curve against hand-computed values;
// the generalised Pareto tail on samples with a known tail; drawing galleries; one- and two-hand
// searches; the FPIR/FNIR plot. No research images needed.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include <opencv2/imgcodecs.hpp>

#include "palmvein/error.hpp"
#include "palmvein/evaluation.hpp"

using namespace palmvein;

namespace {

// Three identities; three mated probes (mates 0, 1, 2) and two non-mated ones.
//   p0 [0.9, 0.5, 0.3]  mate 0: score 0.9, rank 1
//   p1 [0.7, 0.66, 0.2] mate 1: score 0.66, rank 2 (0.7 above it)
//   p2 [0.4, 0.4, 0.4]  mate 2: score 0.4, rank 3 (ties count against the mate)
//   p3 [0.5, 0.65, 0.1] non-mated: best 0.65
//   p4 [0.2, 0.3, 0.35] non-mated: best 0.35
SearchScores hand_made() {
  SearchScores s;
  s.identities = 3;
  s.probe_identity = {0, 1, 2, 3, 4};
  s.mate = {0, 1, 2, -1, -1};
  s.scores = {0.9, 0.5, 0.3, 0.7, 0.66, 0.2, 0.4, 0.4, 0.4, 0.5, 0.65, 0.1, 0.2, 0.3, 0.35};
  return s;
}

ManifestEntry entry(std::string path, std::string subject, std::string hand, std::string session) {
  ManifestEntry e;
  e.path = std::move(path);
  e.subject = std::move(subject);
  e.hand = parse_hand(hand);
  e.session = std::move(session);
  return e;
}

// `subjects` subjects x `hands` ("L", "LR") x 4 images (sessions 1, 1, 2, 2).
Manifest grid(int subjects, const std::string& hands) {
  std::vector<ManifestEntry> e;
  for (int s = 0; s < subjects; ++s)
    for (const char h : hands)
      for (int k = 0; k < 4; ++k)
      {
        char name[48];  // (snprintf: GCC 12 warns falsely on a chain of std::string operator+)
        std::snprintf(name, sizeof name, "s%d_%c_%d.png", s, h, k);
        e.push_back(entry(name, std::to_string(s), std::string(1, h), k < 2 ? "1" : "2"));
      }
  return Manifest("/nowhere", std::move(e));
}

// GPD quantiles: n scores whose upper tail is exactly the GPD(xi, sigma) above u, P(S > u) = zeta.
std::vector<double> gpd_sample(std::size_t n, double xi, double sigma) {
  std::vector<double> v;
  for (std::size_t i = 0; i < n; ++i) {
    const double q = 1 - (static_cast<double>(i) + 0.5) / static_cast<double>(n);  // P(S > x)
    v.push_back(xi == 0 ? -sigma * std::log(q) : sigma / xi * (std::pow(q, -xi) - 1));
  }
  return v;
}

}  // namespace

TEST(OpenSetScores, RanksAndBestScores) {
  const OpenSetScores s = open_set_scores(hand_made());
  ASSERT_EQ(s.mated.size(), 3u);
  EXPECT_EQ(s.mated[0].mate_score, 0.9);
  EXPECT_EQ(s.mated[0].mate_rank, 1u);
  EXPECT_EQ(s.mated[1].mate_score, 0.66);
  EXPECT_EQ(s.mated[1].mate_rank, 2u);
  EXPECT_EQ(s.mated[2].mate_rank, 3u);
  EXPECT_EQ(s.nonmated_best, (std::vector<double>{0.65, 0.35}));
  EXPECT_EQ(s.impostor, (std::vector<double>{0.5, 0.65, 0.1, 0.2, 0.3, 0.35}));  // non-mated searches only
}

TEST(OpenSetScores, RejectsABadMatrix) {
  SearchScores s = hand_made();
  s.mate[0] = 3;
  EXPECT_THROW(open_set_scores(s), InvalidArgument);
  s = hand_made();
  s.scores.pop_back();
  EXPECT_THROW(open_set_scores(s), InvalidArgument);
}

TEST(OpenSetMetrics, HandComputedExample) {
  // Two non-mated bests: FPIR 1e-2 allows int(0.02) = 0 of them, so t is just above 0.65, FPIR 0.
  // Rank-1 hits with score >= t: p0 only -> FNIR 2/3. List of 2: p0 and p1 (0.66) -> 1/3.
  const OpenSetMetrics m = open_set_metrics(open_set_scores(hand_made()), 2, 3);
  EXPECT_EQ(m.mated_probes, 3u);
  EXPECT_EQ(m.nonmated_probes, 2u);
  const FnirAtFpir& f = m.at(1e-2);
  EXPECT_GT(f.threshold, 0.65);
  EXPECT_LT(f.threshold, 0.650001);
  EXPECT_EQ(f.fpir, 0.0);
  EXPECT_DOUBLE_EQ(f.fnir, 2.0 / 3);
  EXPECT_DOUBLE_EQ(f.fnir_list, 1.0 / 3);
  EXPECT_FALSE(f.reliable);
  ASSERT_EQ(m.cmc.size(), 3u);
  EXPECT_DOUBLE_EQ(m.cmc[0], 1.0 / 3);
  EXPECT_DOUBLE_EQ(m.cmc[1], 2.0 / 3);
  EXPECT_DOUBLE_EQ(m.cmc[2], 1.0);
  EXPECT_THROW(m.at(0.5), InvalidArgument);
  EXPECT_THROW(open_set_metrics(open_set_scores(hand_made()), 0), InvalidArgument);
}

TEST(OpenSetMetrics, ThresholdAllowsTheTargetShare) {
  // 1000 non-mated bests 0.000..0.999: FPIR 1e-2 admits the top 10 (>= 0.990), so t is just above 0.989.
  OpenSetScores s;
  for (int i = 0; i < 1000; ++i) s.nonmated_best.push_back(i / 1000.0);
  s.mated = {{0.995, 1}, {0.9895, 1}, {0.999, 2}};
  const OpenSetMetrics m = open_set_metrics(s, 5);
  const FnirAtFpir& f = m.at(1e-2);
  EXPECT_GT(f.threshold, 0.989);
  EXPECT_LT(f.threshold, 0.9891);
  EXPECT_DOUBLE_EQ(f.fpir, 0.010);
  EXPECT_TRUE(f.reliable);
  EXPECT_DOUBLE_EQ(f.fnir, 1.0 / 3);       // 0.999 is at rank 2
  EXPECT_DOUBLE_EQ(f.fnir_list, 0.0);
  EXPECT_DOUBLE_EQ(m.at(1e-3).fpir, 0.001);
  EXPECT_FALSE(m.at(1e-3).reliable);
}

TEST(OpenSetCurve, HandComputedPoints) {
  // Thresholds: 0.9, 0.66, 0.65, 0.4, 0.35.
  const auto c = open_set_curve(open_set_scores(hand_made()), 2);
  ASSERT_EQ(c.size(), 5u);
  const double fpir[] = {0, 0, 0.5, 0.5, 1}, fnir[] = {2.0 / 3, 2.0 / 3, 2.0 / 3, 2.0 / 3, 2.0 / 3},
               list[] = {2.0 / 3, 1.0 / 3, 1.0 / 3, 1.0 / 3, 1.0 / 3}, t[] = {0.9, 0.66, 0.65, 0.4, 0.35};
  for (std::size_t k = 0; k < 5; ++k) {
    EXPECT_EQ(c[k].threshold, t[k]);
    EXPECT_DOUBLE_EQ(c[k].fpir, fpir[k]) << k;
    EXPECT_DOUBLE_EQ(c[k].fnir, fnir[k]) << k;
    EXPECT_DOUBLE_EQ(c[k].fnir_list, list[k]) << k;
  }
  const auto det = open_set_det(c, true);
  ASSERT_EQ(det.size(), 5u);
  EXPECT_DOUBLE_EQ(det[1].fnmr, 1.0 / 3);
  EXPECT_DOUBLE_EQ(det[2].fmr, 0.5);
}

TEST(OpenSetPlot, DrawsWithOpenSetAxes) {
  const auto c = open_set_curve(open_set_scores(hand_made()), 2);
  std::vector<DetSeries> series{{"rank 1", open_set_det(c), 0, false}, {"list", open_set_det(c, true), 0, false}};
  DetPlotOptions o;
  o.x_label = "FPIR";
  o.y_label = "FNIR";
  const auto png = draw_det_plot(series, o);
  const cv::Mat img = cv::imdecode(png, cv::IMREAD_COLOR);
  EXPECT_EQ(img.cols, o.width);
  EXPECT_EQ(img.rows, o.height);
}

TEST(TailModel, RecoversAnExponentialTail) {
  // Exponential scores: the excess over any u is exponential (xi = 0, sigma = 1).
  const TailModel m = TailModel::fit(gpd_sample(200000, 0, 1), 0.02);
  EXPECT_NEAR(m.xi(), 0, 0.03);
  EXPECT_NEAR(m.sigma(), 1, 0.03);
  EXPECT_NEAR(m.u(), -std::log(0.02), 1e-3);
  EXPECT_NEAR(m.zeta(), 0.02, 1e-4);
  // Beyond the data (largest sample: P = 2.5e-6): P(S >= 20) = e^-20.
  EXPECT_NEAR(std::log(m.tail_probability(20)), -20, 0.6);
}

TEST(TailModel, RecoversABoundedTail) {
  // xi = -0.25, sigma = 0.1: a finite end point at sigma / 0.25 = 0.4.
  const TailModel m = TailModel::fit(gpd_sample(100000, -0.25, 0.1), 0.05);
  EXPECT_NEAR(m.xi(), -0.25, 0.03);
  EXPECT_EQ(m.tail_probability(0.41), 0.0);
  EXPECT_GT(m.tail_probability(0.39), 0.0);
}

TEST(TailModel, ExponentialVariant) {
  // On a bounded tail the exponential variant keeps xi = 0 and sigma = the mean excess: heavier
  // beyond the fitted end point.
  const auto sample = gpd_sample(100000, -0.25, 0.1);
  const TailModel fitted = TailModel::fit(sample, 0.05), expo = TailModel::fit(sample, 0.05, TailShape::Exponential);
  EXPECT_EQ(expo.xi(), 0.0);
  // Excesses over u of a GPD(xi, sigma) are GPD(xi, sigma + xi u) (threshold stability); their
  // mean is (sigma + xi u) / (1 - xi).
  const double u = 0.1 / -0.25 * (std::pow(0.05, 0.25) - 1);
  EXPECT_NEAR(expo.sigma(), (0.1 - 0.25 * u) / 1.25, 1e-3);
  EXPECT_EQ(expo.u(), fitted.u());
  EXPECT_GT(expo.tail_probability(0.41), 0.0);
  EXPECT_GT(expo.threshold_for_tail(1e-9), fitted.threshold_for_tail(1e-9));
}

TEST(TailModel, InversesAndGallerySize) {
  const TailModel m = TailModel::fit(gpd_sample(50000, 0.1, 0.5), 0.04);
  for (const double p : {1e-2, 1e-4, 1e-7, 1e-10}) EXPECT_NEAR(m.tail_probability(m.threshold_for_tail(p)) / p, 1, 1e-9);
  const double t = m.threshold_for_tail(1e-4);
  EXPECT_NEAR(m.fpir(1, t), 1e-4, 1e-12);
  EXPECT_NEAR(m.fpir(1e6, t), 1 - std::pow(1 - 1e-4, 1e6), 1e-12);
  for (const double n : {1e3, 3.6e7}) EXPECT_NEAR(m.fpir(n, m.threshold_for_fpir(n, 0.01)), 0.01, 1e-9);
  // Modelled FNIR: a mate below t is missed; a mate at score s is beaten by one of N-1 impostors with
  // probability 1 - (1 - p(s))^(N-1).
  const double s = m.threshold_for_tail(1e-6);
  const std::vector<MatedSearch> mated{{t - 1, 1}, {s, 1}};
  const double n = 1000;
  EXPECT_NEAR(m.fnir(mated, n, t), (1 + (1 - std::pow(1 - 1e-6, n - 1))) / 2, 1e-9);
}

TEST(TailModel, RejectsTooFewExceedances) {
  EXPECT_THROW(TailModel::fit(gpd_sample(90, 0, 1), 0.02), InvalidArgument);  // 50 would be over half
  EXPECT_EQ(TailModel::fit(gpd_sample(1000, 0, 1), 0.02).exceedances(), 50u);  // at least 50
  EXPECT_THROW(TailModel::fit(gpd_sample(10000, 0, 1), 0.7), InvalidArgument);
  EXPECT_THROW(TailModel::fit(std::vector<double>(10000, 0.5), 0.1), InvalidArgument);  // all ties
}

TEST(DrawOpenSet, OnePalmPersons) {
  OpenSetProtocol p;
  const OpenSetDesign d = draw_open_set(grid(6, "L"), p);
  ASSERT_EQ(d.persons.size(), 6u);
  EXPECT_EQ(d.enrolled_persons(), 3u);
  for (const auto& person : d.persons) {
    const auto palm = person.palms.at(0);
    if (person.enrolled) {
      EXPECT_EQ(d.gallery_images[palm].size(), 2u);  // session 1
      EXPECT_EQ(d.probe_images[palm].size(), 2u);
      EXPECT_EQ(d.gallery_images[palm][0] % 4, 0u);
    } else {
      EXPECT_TRUE(d.gallery_images[palm].empty());
      EXPECT_EQ(d.probe_images[palm].size(), 4u);
    }
  }
  // The first k samples instead; the same seed draws the same persons, another seed others.
  p.gallery_samples = 3;
  const OpenSetDesign k3 = draw_open_set(grid(6, "L"), p);
  for (std::size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(k3.persons[i].enrolled, d.persons[i].enrolled);
    if (k3.persons[i].enrolled) {
      EXPECT_EQ(k3.gallery_images[i].size(), 3u);
    }
  }
  bool differs = false;
  for (std::uint64_t seed = 2; seed < 12 && !differs; ++seed) {
    p.seed = seed;
    const OpenSetDesign other = draw_open_set(grid(6, "L"), p);
    for (std::size_t i = 0; i < 6; ++i) differs |= other.persons[i].enrolled != d.persons[i].enrolled;
  }
  EXPECT_TRUE(differs);
}

TEST(DrawOpenSet, TwoHandPersons) {
  OpenSetProtocol p;
  p.persons = OpenSetProtocol::Persons::SubjectHands;
  const OpenSetDesign own = draw_open_set(grid(4, "LR"), p);
  ASSERT_EQ(own.persons.size(), 4u);
  for (const auto& person : own.persons) {
    ASSERT_EQ(person.palms.size(), 2u);
    const std::string l = own.palm_names[person.palms[0]], r = own.palm_names[person.palms[1]];
    EXPECT_EQ(l.substr(0, l.find('/')), r.substr(0, r.find('/')));
    EXPECT_EQ(l.back(), 'L');
    EXPECT_EQ(r.back(), 'R');
  }
  p.persons = OpenSetProtocol::Persons::Chimeric;
  const OpenSetDesign chimeric = draw_open_set(grid(9, "L"), p);
  ASSERT_EQ(chimeric.persons.size(), 4u);  // 9 palms: 4 pairs, one palm left over
  std::set<std::uint32_t> used;
  for (const auto& person : chimeric.persons) {
    ASSERT_EQ(person.palms.size(), 2u);
    EXPECT_NE(person.palms[0], person.palms[1]);
    used.insert(person.palms.begin(), person.palms.end());
  }
  EXPECT_EQ(used.size(), 8u);
}

TEST(DrawOpenSet, RejectsWhatCannotBeDrawn) {
  std::vector<ManifestEntry> e;
  for (int s = 0; s < 4; ++s)
    for (int k = 0; k < 3; ++k) e.push_back(entry(std::to_string(s) + "_" + std::to_string(k), std::to_string(s), "L", ""));
  const Manifest no_sessions("/nowhere", e);
  OpenSetProtocol p;
  EXPECT_THROW(draw_open_set(no_sessions, p), InvalidArgument);  // gallery = session 1, no sessions
  p.gallery_samples = 3;
  EXPECT_THROW(draw_open_set(no_sessions, p), InvalidArgument);  // no probes left
  p.gallery_samples = 1;
  EXPECT_NO_THROW(draw_open_set(no_sessions, p));
  p.nonmated_fraction = 1;
  EXPECT_THROW(draw_open_set(no_sessions, p), InvalidArgument);
  p.nonmated_fraction = 0.5;
  p.persons = OpenSetProtocol::Persons::SubjectHands;  // no subject has both hands
  EXPECT_THROW(draw_open_set(no_sessions, p), InvalidArgument);
}

TEST(OpenSetSearches, OneAndTwoHands) {
  const Manifest m = grid(4, "LR");  // 32 images: subject s, hand h, sample k at 8 s + 4 h + k
  PairScores scores(m.size());
  for (std::size_t i = 0; i < m.size(); ++i)
    for (std::size_t j = i + 1; j < m.size(); ++j) scores.set(i, j, static_cast<double>((i * 7 + j * 13) % 101) / 100);
  OpenSetProtocol p;
  p.persons = OpenSetProtocol::Persons::SubjectHands;
  const OpenSetDesign d = draw_open_set(m, p);
  const SearchScores left = one_hand_searches(d, scores, 0), right = one_hand_searches(d, scores, 1);
  ASSERT_EQ(left.identities, 2u);
  ASSERT_EQ(left.probes(), 2u * 2 + 2u * 4);  // enrolled: 2 probes each; held out: 4
  // An identity's score is the best over its gallery images. Probes come person by person.
  std::vector<std::size_t> probe_image, column_palm;
  for (const auto& person : d.persons) {
    for (const auto i : d.probe_images[person.palms[0]]) probe_image.push_back(i);
    if (person.enrolled) column_palm.push_back(person.palms[0]);
  }
  ASSERT_EQ(probe_image.size(), left.probes());
  for (std::size_t probe = 0; probe < left.probes(); ++probe)
    for (std::size_t c = 0; c < left.identities; ++c) {
      double best = -1;
      for (const auto g : d.gallery_images[column_palm[c]]) best = std::max(best, scores.score(probe_image[probe], g));
      EXPECT_EQ(left.at(probe, c), best);
    }
  // Two hands: the same probe order (both hands have as many probes), fused column by column.
  for (const HandFusion f : {HandFusion::Sum, HandFusion::Max, HandFusion::Min}) {
    const SearchScores both = two_hand_searches(d, scores, f);
    ASSERT_EQ(both.probes(), left.probes());
    EXPECT_EQ(both.mate, left.mate);
    for (std::size_t k = 0; k < both.scores.size(); ++k) {
      const double l = left.scores[k], r = right.scores[k];
      EXPECT_EQ(both.scores[k], f == HandFusion::Sum ? l + r : f == HandFusion::Max ? std::max(l, r) : std::min(l, r));
    }
  }
  const OpenSetDesign one = draw_open_set(m, OpenSetProtocol{});
  EXPECT_THROW(two_hand_searches(one, scores, HandFusion::Sum), InvalidArgument);
}

TEST(SubsampledFpir, WholeGalleryAndSingleIdentities) {
  const SearchScores s = hand_made();
  // Whole gallery: non-mated bests 0.65 and 0.35; at t = 0.5 one of two is accepted.
  EXPECT_DOUBLE_EQ(subsampled_fpir(s, 3, 0.5, 4, 1), 0.5);
  // One identity per search: of the 6 non-mated scores one (0.65) and 0.5 itself are >= 0.5, so
  // the mean over many draws nears 2/6.
  EXPECT_NEAR(subsampled_fpir(s, 1, 0.5, 3000, 7), 2.0 / 6, 0.03);
  EXPECT_THROW(subsampled_fpir(s, 4, 0.5, 1, 1), InvalidArgument);
  EXPECT_THROW(subsampled_fpir(s, 0, 0.5, 1, 1), InvalidArgument);
}

TEST(SplitNonmated, DisjointHalvesByIdentity) {
  // Two mated probes, six non-mated probes of three identities (two each).
  SearchScores s;
  s.identities = 2;
  s.probe_identity = {0, 1, 5, 5, 6, 6, 7, 7};
  s.mate = {0, 1, -1, -1, -1, -1, -1, -1};
  for (std::size_t p = 0; p < 8; ++p) s.scores.insert(s.scores.end(), {p / 10.0, p / 10.0 + 0.01});
  const SearchSplit split = split_nonmated(s, 3);
  EXPECT_EQ(split.fit.probes() + split.check.probes(), 8u);
  std::set<std::uint32_t> fit_ids, check_ids;
  for (std::size_t p = 0; p < split.fit.probes(); ++p)
    if (split.fit.mate[p] < 0) fit_ids.insert(split.fit.probe_identity[p]);
  for (std::size_t p = 0; p < split.check.probes(); ++p) {
    EXPECT_LT(split.check.mate[p], 0);  // only non-mated searches are checked
    check_ids.insert(split.check.probe_identity[p]);
    // Rows travel with their probe.
    const double first = split.check.at(p, 0);
    EXPECT_DOUBLE_EQ(split.check.at(p, 1), first + 0.01);
  }
  EXPECT_EQ(fit_ids.size(), 1u);  // 3 identities: 1 fitted, 2 checked
  EXPECT_EQ(check_ids.size(), 2u);
  for (const auto id : fit_ids) EXPECT_EQ(check_ids.count(id), 0u);
  EXPECT_EQ(std::count(split.fit.mate.begin(), split.fit.mate.end(), -1), 2);
  EXPECT_NO_THROW(split.fit.check());
  EXPECT_NO_THROW(split.check.check());
  SearchScores one = hand_made();
  one.probe_identity = {0, 1, 2, 3, 3};
  EXPECT_THROW(split_nonmated(one, 1), InvalidArgument);
}

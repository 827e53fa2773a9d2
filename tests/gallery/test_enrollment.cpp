// SPDX-License-Identifier: Apache-2.0
// Enrolment policy (quality gate, give-up reason, cross-check of samples, outlier re-capture) and the
// gallery search and the verify/identify flows, on synthetic palms from the virtual sensor's renderer.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "palmvein/enrollment.hpp"
#include "palmvein/matcher.hpp"
#include "palmvein/synthetic.hpp"

using namespace palmvein;

namespace {

class Enrolment : public ::testing::Test {
 protected:
  static Image frame(std::uint64_t palm, std::uint64_t index, bool hand = true) {
    SyntheticFrameSettings settings;
    settings.hand_present = hand;
    return SyntheticPalm(SyntheticPalmId{palm, Hand::Left, 0}, settings.width, settings.height).render(index, settings);
  }
  // The first capture index >= `from` whose frame yields a template (some poses fail the ROI stage).
  std::uint64_t good_index(std::uint64_t palm, std::uint64_t from) const {
    for (std::uint64_t i = from; i < from + 50; ++i)
      if (extractor_.extract(frame(palm, i), ImageKind::FullHand).ok()) return i;
    ADD_FAILURE() << "no usable capture of palm " << palm;
    return from;
  }
  Template templ(std::uint64_t palm, std::uint64_t index) const {
    return *extractor_.extract(frame(palm, index), ImageKind::FullHand).templ;
  }
  // A threshold between genuine and impostor scores of palms 1 and 2 (checked to exist).
  double separating_threshold() const {
    const auto a0 = templ(1, good_index(1, 0)), a1 = templ(1, good_index(1, 10)), b0 = templ(2, good_index(2, 0));
    const double genuine = match(a0, a1), impostor = std::max(match(a0, b0), match(a1, b0));
    EXPECT_GT(genuine, impostor) << "synthetic genuine pair does not outscore the impostor pair";
    return (genuine + impostor) / 2;
  }

  TemplateExtractor extractor_;
};

}  // namespace

TEST_F(Enrolment, CollectsConsistentSamplesOfOnePalm) {
  EnrollmentOptions options;
  options.samples = 3;
  options.consistency_threshold = separating_threshold();
  EnrollmentSession session(extractor_, options);
  int accepted = 0;
  for (std::uint64_t i = 0; i < 40 && session.state() == EnrollmentState::Collecting; ++i) {
    const auto fb = session.add(frame(1, i));
    accepted += fb.accepted;
    if (!fb.accepted) {
      EXPECT_FALSE(fb.message.empty());
    }
  }
  ASSERT_EQ(session.state(), EnrollmentState::Complete) << session.failure_reason();
  EXPECT_EQ(accepted, 3);
  ASSERT_EQ(session.templates().size(), 3u);
  ASSERT_EQ(session.template_bytes().size(), 3u);
  const auto pairs = session.pairwise_scores();
  ASSERT_EQ(pairs.size(), 3u);
  for (const double s : pairs) EXPECT_GE(s, options.consistency_threshold);
  EXPECT_THROW(session.add(frame(1, 50)), InvalidArgument);
}

TEST_F(Enrolment, GivesUpWithTheMostFrequentProblem) {
  EnrollmentOptions options;
  options.samples = 2;
  options.max_frames = 5;
  EnrollmentSession session(extractor_, options);
  FrameFeedback fb;
  for (int i = 0; i < 5; ++i) {
    fb = session.add(frame(1, static_cast<std::uint64_t>(i), false));
    EXPECT_FALSE(fb.accepted);
  }
  EXPECT_NE(fb.failure, RoiFailure::None);
  ASSERT_EQ(session.state(), EnrollmentState::Failed);
  const std::string& why = session.failure_reason();
  EXPECT_NE(why.find("gave up after 5 frames with 0 of 2 good samples"), std::string::npos) << why;
  EXPECT_NE(why.find(std::string(guidance(fb.failure))), std::string::npos) << why;
}

TEST_F(Enrolment, InputThatEndsEarlyFailsWithAReason) {
  EnrollmentSession session(extractor_, EnrollmentOptions{});
  session.add(frame(1, good_index(1, 0)));
  session.finish_input();
  ASSERT_EQ(session.state(), EnrollmentState::Failed);
  EXPECT_NE(session.failure_reason().find("input ended after 1 frame(s) with 1 of 3"), std::string::npos)
      << session.failure_reason();
}

TEST_F(Enrolment, ASingleDisagreeingSampleIsReplaced) {
  EnrollmentOptions options;
  options.samples = 3;
  options.consistency_threshold = separating_threshold();
  EnrollmentSession session(extractor_, options);
  const auto a0 = good_index(1, 0), a1 = good_index(1, a0 + 1), a2 = good_index(1, a1 + 1);
  session.add(frame(1, a0));
  session.add(frame(2, good_index(2, 0)));  // someone else's palm slips in
  const auto fb = session.add(frame(1, a1));
  EXPECT_EQ(session.state(), EnrollmentState::Collecting);
  EXPECT_NE(fb.message.find("sample 2 disagreed"), std::string::npos) << fb.message;
  EXPECT_EQ(fb.good, 2);
  session.add(frame(1, a2));
  ASSERT_EQ(session.state(), EnrollmentState::Complete) << session.failure_reason();
  // Every kept sample is palm 1.
  const Template reference = templ(1, good_index(1, a2 + 1));
  for (const auto& t : session.templates()) EXPECT_GE(match(reference, t), options.consistency_threshold);
}

TEST_F(Enrolment, DisagreeingSamplesFailTheEnrolment) {
  EnrollmentOptions options;
  options.samples = 2;  // with two samples nobody can tell which one is wrong
  options.consistency_threshold = separating_threshold();
  EnrollmentSession session(extractor_, options);
  session.add(frame(1, good_index(1, 0)));
  session.add(frame(2, good_index(2, 0)));
  ASSERT_EQ(session.state(), EnrollmentState::Failed);
  EXPECT_NE(session.failure_reason().find("the samples disagree (samples 1 and 2 score"), std::string::npos)
      << session.failure_reason();

  options.samples = 3;
  options.max_outliers = 0;
  EnrollmentSession strict(extractor_, options);
  strict.add(frame(1, good_index(1, 0)));
  strict.add(frame(1, good_index(1, 10)));
  strict.add(frame(2, good_index(2, 0)));
  EXPECT_EQ(strict.state(), EnrollmentState::Failed);
}

TEST_F(Enrolment, OptionsAreChecked) {
  EnrollmentOptions bad;
  bad.samples = 0;
  EXPECT_THROW(bad.check(), InvalidArgument);
  bad = {};
  bad.max_frames = 2;  // fewer than samples
  EXPECT_THROW(bad.check(), InvalidArgument);
  bad = {};
  bad.consistency_threshold = 1.5;
  EXPECT_THROW(EnrollmentSession(extractor_, bad), InvalidArgument);
}

TEST_F(Enrolment, GallerySearchRanksTheEnrolledPalmFirst) {
  std::vector<StoredTemplate> stored;
  std::int64_t row = 0;
  for (const std::uint64_t palm : {1, 2, 3})
    for (const std::uint64_t from : {0, 10}) {
      StoredTemplate t;
      t.row_id = ++row;
      t.id = "palm-" + std::to_string(palm);
      t.hand = Hand::Left;
      t.bytes = templ(palm, good_index(palm, from)).to_bytes();
      stored.push_back(std::move(t));
    }
  auto max_search = make_gallery_search(ScoreFusion::Max);
  auto mean_search = make_gallery_search(ScoreFusion::Mean);
  max_search->load(stored);
  mean_search->load(stored);
  EXPECT_EQ(max_search->template_count(), 6u);
  for (const std::uint64_t palm : {1, 2, 3}) {
    const Template probe = templ(palm, good_index(palm, 30));
    const auto ranked = max_search->rank(probe);
    ASSERT_EQ(ranked.size(), 3u);
    EXPECT_EQ(ranked[0].id, "palm-" + std::to_string(palm));
    EXPECT_EQ(ranked[0].templates, 2);
    EXPECT_GE(ranked[0].score, ranked[1].score);
    EXPECT_GE(ranked[0].score, mean_search->rank(probe, 1)[0].score);  // max >= mean by definition
    EXPECT_EQ(max_search->rank(probe, 1).size(), 1u);
  }
  stored[0].bytes[10] ^= 0xff;  // not a template any more
  EXPECT_THROW(max_search->load(stored), FormatError);
}

// The indexed search (Max) and the plain Matcher loop (the reference) agree on every score and order.
TEST_F(Enrolment, IndexedSearchMatchesThePlainLoop) {
  std::vector<StoredTemplate> stored;
  std::int64_t row = 0;
  for (const std::uint64_t palm : {1, 2, 3, 4})
    for (const std::uint64_t from : {0, 10, 20}) {
      if (palm == 4 && from == 20) continue;  // identities with different template counts
      StoredTemplate t;
      t.row_id = ++row;
      t.id = "palm-" + std::to_string(palm);
      t.hand = palm == 2 ? Hand::Right : Hand::Left;
      t.bytes = templ(palm, good_index(palm, from)).to_bytes();
      stored.push_back(std::move(t));
    }
  auto indexed = make_gallery_search(ScoreFusion::Max);
  indexed->load(stored);
  for (const std::uint64_t palm : {1, 4}) {
    const Template probe = templ(palm, good_index(palm, 40));
    const Matcher reference(probe);
    std::map<std::string, double> best;
    for (const auto& t : stored) {
      double& b = best[t.id];
      b = std::max(b, reference.score(Template::from_bytes(t.bytes)));
    }
    const auto ranked = indexed->rank(probe);
    ASSERT_EQ(ranked.size(), 4u);
    for (std::size_t i = 0; i < ranked.size(); ++i) {
      EXPECT_DOUBLE_EQ(ranked[i].score, best[ranked[i].id]) << ranked[i].id;
      if (i > 0) {
        EXPECT_GE(ranked[i - 1].score, ranked[i].score);
      }
    }
    EXPECT_EQ(ranked[0].id, "palm-" + std::to_string(palm));
    const auto top2 = indexed->rank(probe, 2);
    ASSERT_EQ(top2.size(), 2u);
    EXPECT_EQ(top2[1].id, ranked[1].id);
  }
  EXPECT_TRUE(make_gallery_search()->rank(templ(1, good_index(1, 0))).empty());  // nothing loaded
}

// The application flows of the library (Gallery::verify / identify, Verifier, Identifier) on a real
// gallery file: the decisions, the scores (those of Matcher), the hand, the threshold carried along.
class GalleryDecisions : public Enrolment {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("palmvein-decisions-test-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  Gallery open() const {
    GalleryOptions options;
    options.key_file = dir_ / "gallery.key";
    return Gallery::open(dir_ / "gallery.db", options);
  }
  void enrol(Gallery& gallery, std::uint64_t palm, Hand hand, std::initializer_list<std::uint64_t> from) const {
    EnrollRequest request;
    request.id = "palm-" + std::to_string(palm);
    request.hand = hand;
    for (const std::uint64_t f : from) {
      const Template t = templ(palm, good_index(palm, f));
      request.algorithm = t.algorithm();
      request.templates.push_back(t.to_bytes());
    }
    gallery.enroll(request);
  }
  std::filesystem::path dir_;
};

TEST_F(GalleryDecisions, VerifyAcceptsTheGenuinePalmAndRejectsAnImpostor) {
  Gallery gallery = open();
  enrol(gallery, 1, Hand::Left, {0, 10});
  enrol(gallery, 2, Hand::Left, {0, 10});
  const DecisionThreshold threshold = DecisionThreshold::at_score(separating_threshold());
  const Template genuine = templ(1, good_index(1, 30)), impostor = templ(2, good_index(2, 30));

  const VerificationResult yes = gallery.verify("palm-1", std::nullopt, genuine, threshold);
  EXPECT_TRUE(yes.accepted);
  EXPECT_EQ(yes.id, "palm-1");
  EXPECT_EQ(yes.hand, Hand::Left);
  EXPECT_EQ(yes.templates_compared, 2u);
  EXPECT_FALSE(yes.threshold.fmr.has_value());
  EXPECT_DOUBLE_EQ(yes.threshold.score, threshold.score);
  // The score is the best Matcher score over the identity's templates (max fusion).
  const Matcher reference(genuine);
  double best = 0;
  for (const auto& t : gallery.templates_of("palm-1")) best = std::max(best, reference.score(Template::from_bytes(t.bytes)));
  EXPECT_DOUBLE_EQ(yes.score, best);

  const VerificationResult no = gallery.verify("palm-1", Hand::Left, impostor, threshold);
  EXPECT_FALSE(no.accepted);
  EXPECT_LT(no.score, threshold.score);
  // The decision is score >= threshold, at the boundary too.
  EXPECT_TRUE(gallery.verify("palm-1", std::nullopt, genuine, DecisionThreshold::at_score(yes.score)).accepted);
}

TEST_F(GalleryDecisions, VerifyPicksTheBestHandAndRefusesWhatIsNotEnrolled) {
  Gallery gallery = open();
  enrol(gallery, 1, Hand::Left, {0});
  {
    // palm 3 enrolled as palm-1's right hand: a probe of palm 3 matches that hand.
    EnrollRequest request;
    request.id = "palm-1";
    request.hand = Hand::Right;
    const Template t = templ(3, good_index(3, 0));
    request.algorithm = t.algorithm();
    request.templates = {t.to_bytes()};
    gallery.enroll(request);
  }
  const Template probe = templ(3, good_index(3, 30));
  const DecisionThreshold threshold = DecisionThreshold::at_fmr(1e-4);
  const VerificationResult any = gallery.verify("palm-1", std::nullopt, probe, threshold);
  EXPECT_EQ(any.hand, Hand::Right);
  EXPECT_EQ(any.templates_compared, 2u);
  ASSERT_TRUE(any.threshold.fmr.has_value());
  EXPECT_DOUBLE_EQ(*any.threshold.fmr, 1e-4);
  EXPECT_DOUBLE_EQ(any.threshold.score, Calibration::builtin().threshold_for_fmr(1e-4));
  EXPECT_LT(gallery.verify("palm-1", Hand::Left, probe, threshold).score, any.score);

  try {
    (void)gallery.verify("nobody", std::nullopt, probe, threshold);
    ADD_FAILURE() << "verify of an identity that is not enrolled did not throw";
  } catch (const GalleryError& e) {
    EXPECT_EQ(e.fault(), GalleryFault::NotFound);
    EXPECT_NE(std::string(e.what()).find("'nobody'"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find("--"), std::string::npos) << "a library message names no CLI flag: " << e.what();
  }
  EXPECT_THROW((void)Verifier::load(gallery, "palm-1", Hand::Unknown), GalleryError);
  EXPECT_THROW((void)DecisionThreshold::at_score(1.5), InvalidArgument);
  EXPECT_THROW((void)DecisionThreshold::at_fmr(0.0), InvalidArgument);
}

TEST_F(GalleryDecisions, IdentifyFindsTheEnrolledPalmAndNotAStranger) {
  Gallery gallery = open();
  const Template probe = templ(2, good_index(2, 30));
  const DecisionThreshold threshold = DecisionThreshold::at_score(separating_threshold());
  const IdentificationResult empty = gallery.identify(probe, threshold, 3);
  EXPECT_FALSE(empty.found());
  EXPECT_TRUE(empty.candidates.empty());
  EXPECT_EQ(empty.templates_compared, 0u);

  for (const std::uint64_t palm : {1, 2, 3}) enrol(gallery, palm, Hand::Left, {0, 10});
  const IdentificationResult hit = gallery.identify(probe, threshold, 2);
  ASSERT_TRUE(hit.found());
  EXPECT_EQ(hit.identity->id, "palm-2");
  ASSERT_EQ(hit.candidates.size(), 2u);
  EXPECT_EQ(hit.candidates[0].id, "palm-2");
  EXPECT_GE(hit.candidates[0].score, hit.candidates[1].score);
  EXPECT_EQ(hit.templates_compared, 6u);
  // The same score as 1:1 verification of that identity (one engine's scores equal Matcher's).
  EXPECT_DOUBLE_EQ(hit.identity->score, gallery.verify("palm-2", std::nullopt, probe, threshold).score);
  EXPECT_EQ(gallery.identify(probe, threshold, 0).candidates.size(), 3u);  // 0: every identity

  // A stranger's best candidate is below the threshold: not found, but the candidates are reported.
  const IdentificationResult miss = Identifier::load(gallery).identify(templ(40, good_index(40, 0)), threshold, 1);
  EXPECT_FALSE(miss.found());
  ASSERT_EQ(miss.candidates.size(), 1u);
  EXPECT_LT(miss.candidates[0].score, threshold.score);
}

// Two hands (PersonProbe): synthetic people from the virtual sensor's renderer, each with a left and
// a right palm (a right palm is its own vein pattern).
class TwoHandDecisions : public GalleryDecisions {
 protected:
  static Image hand_frame(std::uint64_t person, Hand hand, std::uint64_t index) {
    SyntheticFrameSettings settings;
    return SyntheticPalm(SyntheticPalmId{person, hand, 0}, settings.width, settings.height).render(index, settings);
  }
  Template hand_templ(std::uint64_t person, Hand hand, std::uint64_t from) const {
    for (std::uint64_t i = from; i < from + 50; ++i) {
      auto r = extractor_.extract(hand_frame(person, hand, i), ImageKind::FullHand);
      if (r.ok()) return *r.templ;
    }
    ADD_FAILURE() << "no usable capture of person " << person << " hand " << to_string(hand);
    return *extractor_.extract(hand_frame(1, Hand::Left, 0), ImageKind::FullHand).templ;
  }
  void enrol_hand(Gallery& gallery, std::uint64_t person, Hand hand) const {
    EnrollRequest request;
    request.id = "person-" + std::to_string(person);
    request.hand = hand;
    for (const std::uint64_t f : {0, 10}) {
      const Template t = hand_templ(person, hand, f);
      request.algorithm = t.algorithm();
      request.templates.push_back(t.to_bytes());
    }
    gallery.enroll(request);
  }
  PersonProbe probe_of(std::uint64_t person) const {
    return PersonProbe{hand_templ(person, Hand::Left, 30), hand_templ(person, Hand::Right, 30)};
  }
};

TEST_F(TwoHandDecisions, FusedThresholdIsThePerHandRateOfTheSquareRoot) {
  const DecisionThreshold asked = DecisionThreshold::at_fmr(1e-6);
  const DecisionThreshold fused = two_hand_threshold(asked);
  ASSERT_TRUE(fused.fmr.has_value());
  EXPECT_DOUBLE_EQ(*fused.fmr, 1e-6);
  EXPECT_DOUBLE_EQ(fused.score, Calibration::builtin().threshold_for_fmr(1e-3));
  EXPECT_LT(fused.score, asked.score);  // each hand may score lower: both must pass
  // Two hands reach rates one hand cannot: below the calibration's lowest measured rate.
  const double below = Calibration::builtin().fmr_range().first / 10;
  EXPECT_THROW((void)DecisionThreshold::at_fmr(below), InvalidArgument);
  EXPECT_NO_THROW((void)two_hand_threshold(DecisionThreshold{1.0, below}));
  // A score threshold is applied to the fused score as given.
  const DecisionThreshold score = DecisionThreshold::at_score(0.55);
  EXPECT_DOUBLE_EQ(two_hand_threshold(score).score, 0.55);
  EXPECT_FALSE(two_hand_threshold(score).fmr.has_value());
  EXPECT_THROW((void)two_hand_threshold(DecisionThreshold{1.0, 0.0}), InvalidArgument);
  EXPECT_DOUBLE_EQ(fuse_hand_scores(0.7, 0.6), 0.6);
}

TEST_F(TwoHandDecisions, VerifyFusesBothHandsAtTheFusedThreshold) {
  Gallery gallery = open();
  for (const std::uint64_t p : {1, 2}) {
    enrol_hand(gallery, p, Hand::Left);
    enrol_hand(gallery, p, Hand::Right);
  }
  const DecisionThreshold threshold = DecisionThreshold::at_fmr(1e-4);
  const PersonProbe genuine = probe_of(1);
  const VerificationResult yes = gallery.verify("person-1", genuine, threshold);
  EXPECT_TRUE(yes.accepted);
  EXPECT_TRUE(yes.two_hands);
  EXPECT_EQ(yes.hand, Hand::Unknown);
  EXPECT_EQ(yes.templates_compared, 4u);
  ASSERT_TRUE(yes.left_score && yes.right_score);
  // Each hand's score is the one-hand verification of that hand; the fused score is their min.
  EXPECT_DOUBLE_EQ(*yes.left_score, gallery.verify("person-1", Hand::Left, *genuine.left, threshold).score);
  EXPECT_DOUBLE_EQ(*yes.right_score, gallery.verify("person-1", Hand::Right, *genuine.right, threshold).score);
  EXPECT_DOUBLE_EQ(yes.score, std::min(*yes.left_score, *yes.right_score));
  EXPECT_DOUBLE_EQ(yes.threshold.score, two_hand_threshold(threshold).score);
  ASSERT_TRUE(yes.threshold.fmr.has_value());
  EXPECT_DOUBLE_EQ(*yes.threshold.fmr, 1e-4);

  // Another person's two hands, and one's own left hand with someone else's right: rejected.
  EXPECT_FALSE(gallery.verify("person-1", probe_of(2), threshold).accepted);
  const PersonProbe mixed{genuine.left, probe_of(2).right};
  const VerificationResult half = gallery.verify("person-1", mixed, threshold);
  EXPECT_FALSE(half.accepted);
  EXPECT_DOUBLE_EQ(half.score, *half.right_score);

  // One hand presented: today's one-hand decision of that hand.
  const VerificationResult one = gallery.verify("person-1", PersonProbe{genuine.left, std::nullopt}, threshold);
  EXPECT_FALSE(one.two_hands);
  EXPECT_EQ(one.hand, Hand::Left);
  EXPECT_DOUBLE_EQ(one.score, *yes.left_score);
  EXPECT_DOUBLE_EQ(one.threshold.score, threshold.score);
  EXPECT_EQ(one.templates_compared, 2u);

  EXPECT_THROW((void)gallery.verify("person-1", PersonProbe{}, threshold), InvalidArgument);
  // A presented hand that is not enrolled is an error, not a one-hand decision.
  gallery.remove("person-2", Hand::Right);
  try {
    (void)gallery.verify("person-2", probe_of(2), threshold);
    ADD_FAILURE() << "two-hand verify of a person without a right hand did not throw";
  } catch (const GalleryError& e) {
    EXPECT_EQ(e.fault(), GalleryFault::NotFound);
    EXPECT_NE(std::string(e.what()).find("right"), std::string::npos) << e.what();
  }
  EXPECT_THROW((void)Verifier::load(gallery, "person-1", Hand::Left).verify(genuine, threshold), GalleryError);
}

TEST_F(TwoHandDecisions, IdentifySearchesThePairAndRanksByFusedScore) {
  Gallery gallery = open();
  const DecisionThreshold threshold = DecisionThreshold::at_fmr(1e-4);
  const PersonProbe probe = probe_of(2);
  const IdentificationResult empty = gallery.identify(probe, threshold, 3);
  EXPECT_FALSE(empty.found());
  EXPECT_TRUE(empty.two_hands);
  EXPECT_TRUE(empty.candidates.empty());

  for (const std::uint64_t p : {1, 2, 3, 4}) {
    enrol_hand(gallery, p, Hand::Left);
    if (p != 4) enrol_hand(gallery, p, Hand::Right);  // person 4: left hand only
  }
  const Identifier identifier = Identifier::load(gallery);
  EXPECT_EQ(identifier.template_count(), 14u);
  const IdentificationResult hit = identifier.identify(probe, threshold, 0);
  ASSERT_TRUE(hit.found());
  EXPECT_TRUE(hit.two_hands);
  EXPECT_EQ(hit.identity->id, "person-2");
  EXPECT_EQ(hit.templates_compared, 14u);
  ASSERT_EQ(hit.candidates.size(), 3u) << "person 4 has one hand: no candidate of a two-hand search";
  EXPECT_DOUBLE_EQ(hit.threshold.score, two_hand_threshold(threshold).score);
  for (std::size_t i = 0; i < hit.candidates.size(); ++i) {
    const IdentityScore& c = hit.candidates[i];
    ASSERT_TRUE(c.left_score && c.right_score);
    // The fused score is the min of the person's two one-hand verification scores.
    EXPECT_DOUBLE_EQ(*c.left_score, gallery.verify(c.id, Hand::Left, *probe.left, threshold).score);
    EXPECT_DOUBLE_EQ(*c.right_score, gallery.verify(c.id, Hand::Right, *probe.right, threshold).score);
    EXPECT_DOUBLE_EQ(c.score, std::min(*c.left_score, *c.right_score));
    if (i > 0) {
      EXPECT_GE(hit.candidates[i - 1].score, c.score);
    }
  }
  EXPECT_DOUBLE_EQ(hit.identity->score, gallery.verify("person-2", probe, threshold).score);
  // The k best are the first k of the complete fused ranking.
  const IdentificationResult top1 = identifier.identify(probe, threshold, 1);
  ASSERT_EQ(top1.candidates.size(), 1u);
  EXPECT_EQ(top1.candidates[0].id, "person-2");

  // One hand presented: that hand's gallery only (person 4's left hand is a candidate).
  const IdentificationResult left = identifier.identify(PersonProbe{probe.left, std::nullopt}, threshold, 0);
  EXPECT_FALSE(left.two_hands);
  EXPECT_EQ(left.candidates.size(), 4u);
  EXPECT_EQ(left.templates_compared, 8u);
  for (const auto& c : left.candidates) EXPECT_EQ(c.hand, Hand::Left);
  // A plain probe (hand not said) still searches every hand, as before.
  EXPECT_EQ(identifier.identify(*probe.left, threshold, 0).candidates.size(), 7u);
  EXPECT_EQ(identifier.identify(*probe.left, threshold, 2).candidates.size(), 2u);
  EXPECT_THROW((void)identifier.identify(PersonProbe{}, threshold), InvalidArgument);
  // A stranger's two hands are not found.
  EXPECT_FALSE(identifier.identify(probe_of(40), threshold, 1).found());
}

// The fused top k is exact when a hand's first candidate list cuts the person off: 70 decoys share
// person 1's right-hand templates (so they tie with it on that hand and fill the right list) and
// carry another palm as left hand.
TEST_F(TwoHandDecisions, FusedTopKIsExactWhenTheCandidateListsMustGrow) {
  Gallery gallery = open();
  enrol_hand(gallery, 1, Hand::Left);
  enrol_hand(gallery, 1, Hand::Right);
  const Template right_template = hand_templ(1, Hand::Right, 0);
  const std::vector<std::uint8_t> right = right_template.to_bytes(), left = hand_templ(5, Hand::Left, 0).to_bytes();
  std::vector<EnrollRequest> decoys;
  for (int d = 0; d < 70; ++d)
    for (const Hand hand : {Hand::Left, Hand::Right}) {
      EnrollRequest request;
      request.id = "decoy-" + std::to_string(d);
      request.hand = hand;
      request.algorithm = right_template.algorithm();
      request.templates = {hand == Hand::Left ? left : right};
      decoys.push_back(request);
    }
  gallery.enroll(decoys);
  const Identifier identifier = Identifier::load(gallery);
  const PersonProbe probe = probe_of(1);
  const DecisionThreshold threshold = DecisionThreshold::at_fmr(1e-4);
  const IdentificationResult all = identifier.identify(probe, threshold, 0);
  ASSERT_EQ(all.candidates.size(), 71u);
  EXPECT_EQ(all.candidates[0].id, "person-1");
  for (const std::size_t k : {1, 3, 70}) {
    const IdentificationResult top = identifier.identify(probe, threshold, k);
    ASSERT_EQ(top.candidates.size(), k);
    for (std::size_t i = 0; i < k; ++i) {
      EXPECT_EQ(top.candidates[i].id, all.candidates[i].id) << "k " << k << " rank " << i + 1;
      EXPECT_DOUBLE_EQ(top.candidates[i].score, all.candidates[i].score);
    }
  }
}

// The enrolment policy's real default lives in the library (not in each front end): samples must agree
// at the calibrated score for kEnrollmentConsistencyFmr, a check that is on unless a caller turns it off.
TEST(EnrollmentDefaults, ConsistencyThresholdIsTheCalibratedScore) {
  const EnrollmentOptions options;
  EXPECT_DOUBLE_EQ(options.consistency_threshold, Calibration::builtin().threshold_for_fmr(kEnrollmentConsistencyFmr));
  EXPECT_DOUBLE_EQ(options.consistency_threshold, default_consistency_threshold());
  EXPECT_GT(options.consistency_threshold, 0.0);
  // Looser than a verification threshold (FMR 1e-4), as docs/gallery.md says.
  EXPECT_LT(options.consistency_threshold, DecisionThreshold::at_fmr(1e-4).score);
  EXPECT_NO_THROW(options.check());
}

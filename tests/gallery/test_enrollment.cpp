// SPDX-License-Identifier: Apache-2.0
// Enrolment policy (quality gate, give-up reason, cross-check of samples, outlier re-capture) and the
// gallery search, on synthetic palms from the virtual sensor's renderer.
#include <gtest/gtest.h>

#include <algorithm>
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
    return SyntheticPalm(SyntheticPalmId{palm, 'L', 0}, settings.width, settings.height).render(index, settings);
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

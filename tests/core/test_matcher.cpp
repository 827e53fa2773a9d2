// Matcher: score range, symmetry, self-match, genuine above impostor, kernels agree.
#include <gtest/gtest.h>

#include <vector>

#include "features/code_match.hpp"
#include "features/features.hpp"
#include "palmvein/error.hpp"
#include "palmvein/matcher.hpp"
#include "synthetic_palm.hpp"
#include "template_data.hpp"

namespace {

using palmvein::Template;
using palmvein::detail::TemplateData;

Template make_template(std::uint32_t palm, double dx = 0, double dy = 0, double angle = 0, std::uint32_t noise = 0) {
  return Template(std::make_shared<const TemplateData>(
      palmvein::detail::compute_features(palmvein::testing::render_palm(palm, dx, dy, angle, noise))));
}

// Five palms, three captures each (moved by a few pixels, a little rotation, fresh noise).
std::vector<std::vector<Template>> sample_set() {
  std::vector<std::vector<Template>> set;
  for (std::uint32_t palm = 1; palm <= 5; ++palm)
    set.push_back({make_template(palm, 0, 0, 0, palm), make_template(palm, 5, -3, 2, palm + 100),
                   make_template(palm, -6, 4, -3, palm + 200)});
  return set;
}

TEST(Matcher, ScoresAreSymmetricBoundedAndSelfMatchIsMax) {
  const auto set = sample_set();
  std::vector<const Template*> all;
  for (const auto& palm : set)
    for (const auto& t : palm) all.push_back(&t);
  for (const Template* a : all) {
    EXPECT_DOUBLE_EQ(palmvein::match(*a, *a), 1.0);
    for (const Template* b : all) {
      const double ab = palmvein::match(*a, *b);
      EXPECT_EQ(ab, palmvein::match(*b, *a));  // exactly symmetric
      EXPECT_GE(ab, palmvein::kLowestScore);
      EXPECT_LE(ab, 1.0);
      if (a != b) {
        EXPECT_LT(ab, 1.0);
      }
    }
  }
}

TEST(Matcher, DifferentPalmsScoreLowerThanSamePalm) {
  const auto set = sample_set();
  double lowest_genuine = 1, highest_impostor = 0;
  for (std::size_t p = 0; p < set.size(); ++p)
    for (std::size_t i = 0; i < set[p].size(); ++i)
      for (std::size_t q = p; q < set.size(); ++q)
        for (std::size_t j = 0; j < set[q].size(); ++j) {
          if (p == q && j <= i) continue;
          const double s = palmvein::match(set[p][i], set[q][j]);
          if (p == q) lowest_genuine = std::min(lowest_genuine, s);
          else highest_impostor = std::max(highest_impostor, s);
        }
  EXPECT_GT(lowest_genuine, highest_impostor + 0.05) << lowest_genuine << " vs " << highest_impostor;
}

TEST(Matcher, PreparedMatcherAgreesWithMatchAndKernelsAgree) {
  const auto set = sample_set();
  const palmvein::Matcher m(set[0][0]);
  const auto probe = palmvein::detail::prepare_probe(set[0][0].data());
  for (const auto& palm : set)
    for (const auto& t : palm) {
      EXPECT_EQ(m.score(t), palmvein::match(set[0][0], t));
      // The AVX-512 kernel (when this CPU has it) and the portable one count the same bits.
      EXPECT_EQ(palmvein::detail::score_prepared(probe, t.data(), palmvein::detail::default_feature_config(), true),
                palmvein::detail::score_prepared(probe, t.data(), palmvein::detail::default_feature_config(), false));
    }
  palmvein::Matcher moved = std::move(const_cast<palmvein::Matcher&>(m));
  EXPECT_DOUBLE_EQ(moved.score(set[0][0]), 1.0);
}

TEST(Matcher, ToleratesTranslationWithinTheSearchRange) {
  const Template a = make_template(9);
  const double near = palmvein::match(a, make_template(9, 12, -12, 0, 1));  // 3 cells each way
  const double other = palmvein::match(a, make_template(10, 12, -12, 0, 1));
  EXPECT_GT(near, other + 0.1);
}

TEST(Matcher, RecordedShiftRadiusDoesNotBreakCompatibility) {
  // Templates extracted when the matcher searched another radius still compare, symmetrically.
  const Template a = make_template(3), b = make_template(3, 4, 4, 0, 7);
  TemplateData d = b.data();
  d.params.max_shift = 2;
  const Template b2(std::make_shared<const TemplateData>(d));
  EXPECT_EQ(palmvein::match(a, b2), palmvein::match(a, b));
  EXPECT_EQ(palmvein::match(b2, a), palmvein::match(a, b2));
}

TEST(Matcher, IncompatibleTemplatesThrow) {
  const Template a = make_template(1);
  TemplateData d = a.data();
  d.params.orientations = 4;
  d.orientation.planes = 4;
  d.orientation.bits.resize(4 * d.orientation.words_per_plane());
  const Template b(std::make_shared<const TemplateData>(d));
  EXPECT_THROW((void)palmvein::match(a, b), palmvein::InvalidArgument);
}

TEST(Matcher, EmptyOverlapGivesLowestScore) {
  // A candidate with no valid cells cannot be compared: lowest score, not a crash.
  const Template a = make_template(1);
  TemplateData d = a.data();
  std::fill(d.orientation.mask.begin(), d.orientation.mask.end(), 0);
  std::fill(d.orientation.bits.begin(), d.orientation.bits.end(), 0);
  std::fill(d.lines.mask.begin(), d.lines.mask.end(), 0);
  std::fill(d.lines.bits.begin(), d.lines.bits.end(), 0);
  EXPECT_EQ(palmvein::match(a, Template(std::make_shared<const TemplateData>(d))), palmvein::kLowestScore);
}

}  // namespace

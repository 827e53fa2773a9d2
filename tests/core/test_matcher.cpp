// SPDX-License-Identifier: Apache-2.0
// Matcher: score range, symmetry, self-match, genuine above impostor, kernels agree.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "algorithm/comparison.hpp"
#include "algorithm/row_code.hpp"
#include "features/features.hpp"
#include "palmvein/error.hpp"
#include "palmvein/matcher.hpp"
#include "palmvein_tools/synthetic_palm.hpp"
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

// The matcher's configuration without the pose search: translation only.
palmvein::detail::FeatureConfig translation_only() {
  palmvein::detail::FeatureConfig cfg;
  cfg.pose_variant_count = 0;
  return cfg;
}

double score_with(const Template& a, const Template& b, const palmvein::detail::FeatureConfig& cfg) {
  namespace algo = palmvein::detail::algo;
  return algo::score(algo::prepare_probe(a.data(), cfg), b.data());
}

TEST(Matcher, ScoresAreSymmetricBoundedAndSelfMatchIsMax) {
  const auto set = sample_set();
  const auto translation = translation_only();
  std::vector<const Template*> all;
  for (const auto& palm : set)
    for (const auto& t : palm) all.push_back(&t);
  for (const Template* a : all) {
    EXPECT_DOUBLE_EQ(palmvein::match(*a, *a), 1.0);
    for (const Template* b : all) {
      const double ab = palmvein::match(*a, *b);
      // The translation search is exactly symmetric; the pose search tries the probe's variants
      // only, so the full score may differ a little between the two directions.
      EXPECT_EQ(score_with(*a, *b, translation), score_with(*b, *a, translation));
      EXPECT_NEAR(ab, palmvein::match(*b, *a), 0.03);
      EXPECT_GE(ab, score_with(*a, *b, translation));  // the pose search only adds candidates
      EXPECT_GE(ab, palmvein::kLowestScore);
      EXPECT_LE(ab, 1.0);
      if (a != b) {
        EXPECT_LT(ab, 1.0);
      }
    }
  }
}

// A probe turned by 6 degrees or drawn 8 % larger than the enrolled capture (another sensor, another
// ROI cutter): the pose search finds it, and leaves an impostor an impostor.
TEST(Matcher, PoseSearchRecoversRotationAndScale) {
  const auto translation = translation_only();
  const Template enrolled = make_template(21);
  const Template impostor = make_template(22);
  const Template turned = make_template(21, 0, 0, 6, 3);
  const auto roi = palmvein::testing::render_palm(21, 0, 0, 0, 4);
  cv::Mat zoomed;
  cv::resize(roi(cv::Rect(5, 5, roi.cols - 10, roi.rows - 10)), zoomed, roi.size(), 0, 0, cv::INTER_LINEAR);
  const Template larger(std::make_shared<const TemplateData>(palmvein::detail::compute_features(zoomed)));
  for (const Template* probe : {&turned, &larger}) {
    EXPECT_GT(palmvein::match(*probe, enrolled), score_with(*probe, enrolled, translation) + 0.02);
    EXPECT_GT(palmvein::match(*probe, enrolled), palmvein::match(*probe, impostor) + 0.1);
  }
  // Below the gate nothing changes.
  const double far = score_with(turned, impostor, translation);
  if (far < palmvein::detail::default_feature_config().pose_gate) {
    EXPECT_EQ(palmvein::match(turned, impostor), far);
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
  namespace algo = palmvein::detail::algo;
  const auto set = sample_set();
  const palmvein::Matcher m(set[0][0]);
  const auto probe = algo::prepare_probe(set[0][0].data());
  for (const auto& palm : set)
    for (const auto& t : palm) {
      EXPECT_EQ(m.score(t), palmvein::match(set[0][0], t));
      // Every kernel path this CPU runs counts the same bits.
      for (algo::Isa isa : algo::available_isas())
        EXPECT_EQ(algo::score(probe, t.data(), algo::kernels_for(isa)), m.score(t)) << algo::to_string(isa);
    }
  palmvein::Matcher moved = std::move(const_cast<palmvein::Matcher&>(m));
  EXPECT_DOUBLE_EQ(moved.score(set[0][0]), 1.0);
}

// The documented translation search (docs/template-format.md, "Matching"), computed cell by cell
// from the template's flat bit planes with no packing, no kernels and no pre-shifted probe.
double reference_score(const TemplateData& a, const TemplateData& b) {
  const auto& cfg = palmvein::detail::default_feature_config();
  const int r = cfg.max_shift, w = a.orientation.width, h = a.orientation.height, planes = a.orientation.planes;
  const auto at = [](const palmvein::detail::BitCode& c, int x, int y, int p) {  // p < 0: the mask
    if (x < 0 || y < 0 || x >= c.width || y >= c.height) return false;
    return p < 0 ? c.valid(x, y) : c.bit(static_cast<std::size_t>(p), x, y);
  };
  // Family similarities at shift (dx, dy): the probe's cell (x - dx, y - dy) against cell (x, y).
  const auto sims = [&](int dx, int dy) {
    int valid = 0, diff = 0, lvalid = 0, la = 0, lb = 0, lab = 0;
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        if (at(a.orientation, x - dx, y - dy, -1) && at(b.orientation, x, y, -1)) {
          ++valid;
          for (int p = 0; p < planes; ++p) diff += at(a.orientation, x - dx, y - dy, p) != at(b.orientation, x, y, p);
        }
        if (at(a.lines, x - dx, y - dy, -1) && at(b.lines, x, y, -1)) {
          ++lvalid;
          const bool pa = at(a.lines, x - dx, y - dy, 0), pb = at(b.lines, x, y, 0);
          la += pa, lb += pb, lab += pa && pb;
        }
      }
    const double min_cells = cfg.min_overlap_fraction * w * h;
    const double o = valid >= static_cast<int>(min_cells) && valid > 0 ? 1.0 - double(diff) / (double(valid) * planes) : 0.0;
    const double l = lvalid >= static_cast<int>(min_cells) && lvalid > 0 && la + lb > 0 ? 2.0 * lab / double(la + lb) : 0.0;
    return std::pair{o, l};
  };
  const double wt = cfg.orientation_weight;
  double so = 0, sl = 0, best = -1;
  std::vector<std::pair<int, int>> coarse, best_at;
  for (int dy = -(r / 2) * 2; dy <= r; dy += 2)
    for (int dx = -(r / 2) * 2; dx <= r; dx += 2) coarse.push_back({dx, dy});
  for (auto [dx, dy] : coarse) {
    const auto [o, l] = sims(dx, dy);
    so = std::max(so, o), sl = std::max(sl, l);
    const double f = wt * o + (1 - wt) * l;
    if (f > best) best = f, best_at.clear();
    if (f == best) best_at.push_back({dx, dy});
  }
  for (auto [cx, cy] : best_at)
    for (int dy = cy - 1; dy <= cy + 1; ++dy)
      for (int dx = cx - 1; dx <= cx + 1; ++dx)
        if (std::abs(dx) <= r && std::abs(dy) <= r) {
          const auto [o, l] = sims(dx, dy);
          so = std::max(so, o), sl = std::max(sl, l);
        }
  return wt * so + (1 - wt) * sl;
}

TEST(Matcher, EqualsTheCellByCellReference) {
  const auto set = sample_set();
  for (std::size_t p = 0; p < set.size(); p += 2)
    for (const auto& palm : set)
      for (const auto& t : palm)
        EXPECT_NEAR(score_with(set[p][0], t, translation_only()), reference_score(set[p][0].data(), t.data()), 1e-12);
}

// Grids other than the default 32x32 (rows narrower than a word, heights that are not whole
// 512-bit blocks) take the general packing path: still the documented rule, cell by cell.
TEST(Matcher, OtherGridSizesEqualTheReference) {
  std::mt19937 rng(5);
  const auto random_template = [&](int w, int h, int planes, const TemplateData* like) {
    TemplateData t;
    t.params.orientations = static_cast<std::uint8_t>(planes);
    for (palmvein::detail::BitCode* c : {&t.orientation, &t.lines}) {
      *c = palmvein::detail::make_code(w, h, c == &t.orientation ? planes : 1);
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
          const bool valid = (x + y) % 7 != 0 && rng() % 8 != 0;
          palmvein::detail::set_valid(*c, x, y, valid);
          for (int p = 0; p < c->planes; ++p) {
            // Correlated with `like` (a genuine-looking pair) or independent.
            const palmvein::detail::BitCode* src = like ? (c == &t.orientation ? &like->orientation : &like->lines) : nullptr;
            const bool bit = src ? src->bit(static_cast<std::size_t>(p), x, y) != (rng() % 6 == 0) : rng() % 2 == 0;
            if (valid) palmvein::detail::set_bit(*c, static_cast<std::size_t>(p), x, y, bit);
          }
        }
    }
    return t;
  };
  for (auto [w, h] : {std::pair{20, 24}, std::pair{32, 40}, std::pair{17, 17}}) {
    const TemplateData a = random_template(w, h, 6, nullptr);
    const TemplateData b = random_template(w, h, 6, &a), c = random_template(w, h, 6, nullptr);
    const Template ta(std::make_shared<const TemplateData>(a)), tb(std::make_shared<const TemplateData>(b)),
        tc(std::make_shared<const TemplateData>(c));
    EXPECT_NEAR(score_with(ta, tb, translation_only()), reference_score(a, b), 1e-12) << w << "x" << h;
    EXPECT_NEAR(score_with(ta, tc, translation_only()), reference_score(a, c), 1e-12) << w << "x" << h;
    EXPECT_GT(palmvein::match(ta, tb), palmvein::match(ta, tc) + 0.1) << w << "x" << h;
  }
}

// A random template: `like` set: a genuine-looking copy of it (one bit in six flipped), moved by
// (dx, dy) cells; otherwise independent bits.
TemplateData random_template(std::mt19937& rng, int w, int h, int planes, const TemplateData* like = nullptr, int dx = 0,
                             int dy = 0, int lw = 0, int lh = 0) {
  TemplateData t;
  t.params.orientations = static_cast<std::uint8_t>(planes);
  for (palmvein::detail::BitCode* c : {&t.orientation, &t.lines}) {
    const bool lines = c == &t.lines;
    const int cw = lines && lw ? lw : w, ch = lines && lh ? lh : h;
    *c = palmvein::detail::make_code(cw, ch, lines ? 1 : planes);
    const palmvein::detail::BitCode* src = like ? (lines ? &like->lines : &like->orientation) : nullptr;
    for (int y = 0; y < ch; ++y)
      for (int x = 0; x < cw; ++x) {
        const int sx = x - dx, sy = y - dy;
        const bool inside = sx >= 0 && sy >= 0 && sx < cw && sy < ch;
        const bool valid = (x + y) % 7 != 0 && rng() % 8 != 0 && (!src || inside);
        palmvein::detail::set_valid(*c, x, y, valid);
        for (int p = 0; p < c->planes && valid; ++p) {
          const bool bit = src ? src->bit(static_cast<std::size_t>(p), sx, sy) != (rng() % 6 == 0) : rng() % 2 == 0;
          palmvein::detail::set_bit(*c, static_cast<std::size_t>(p), x, y, bit);
        }
      }
  }
  return t;
}

// match(a, b) makes only the probe translates and pose variants its search asks for: the same
// counts, so exactly Matcher(a).score(b), on every kernel path, for pairs that stop after the
// translation search and pairs that reach the pose search, on the default grid and on others.
TEST(Matcher, OneOffMatchEqualsThePreparedMatcherExactly) {
  namespace algo = palmvein::detail::algo;
  std::mt19937 rng(11);
  const palmvein::detail::FeatureConfig& cfg = palmvein::detail::default_feature_config();
  int posed = 0, pairs = 0;
  const auto check = [&](const TemplateData& a, const TemplateData& b) {
    const auto prepared = algo::prepare_probe(a, cfg);
    const double expected = algo::score(prepared, b);
    EXPECT_EQ(algo::score_once(a, b), expected);
    for (algo::Isa isa : algo::available_isas())
      EXPECT_EQ(algo::score_once(a, b, algo::kernels_for(isa)), algo::score(prepared, b, algo::kernels_for(isa)))
          << algo::to_string(isa);
    // Whether the pose search changed the score (then it surely ran).
    palmvein::detail::FeatureConfig translation = cfg;
    translation.pose_variant_count = 0;
    posed += algo::score(algo::prepare_probe(a, translation), b) != expected;
    ++pairs;
  };
  for (auto [w, h] : {std::pair{32, 32}, std::pair{20, 24}, std::pair{32, 40}, std::pair{17, 17}})
    for (int i = 0; i < 12; ++i) {
      const TemplateData a = random_template(rng, w, h, 6);
      const int dx = static_cast<int>(rng() % 11) - 5, dy = static_cast<int>(rng() % 11) - 5;
      check(a, random_template(rng, w, h, 6, &a, dx, dy));  // genuine-looking, moved
      check(a, random_template(rng, w, h, 6));              // impostor
    }
  // Rendered palms: turned, scaled, moved captures of the same palm and other palms.
  const auto set = sample_set();
  for (const auto& palm : set)
    for (const auto& other : set)
      for (const auto& t : other) check(palm[0].data(), t.data());
  const Template turned = make_template(21, 0, 0, 6, 3), enrolled = make_template(21);
  check(turned.data(), enrolled.data());
  check(enrolled.data(), turned.data());
  EXPECT_GT(posed, 10) << "of " << pairs << " pairs";
  // Public API: match(a, b) is Matcher(a).score(b).
  for (const auto& t : set[1]) EXPECT_EQ(palmvein::match(set[1][0], t), palmvein::Matcher(set[1][0]).score(t));
  // Line grid other than the orientation grid (each family its own shifts).
  const TemplateData a = random_template(rng, 16, 16, 6, nullptr, 0, 0, 32, 32);
  const TemplateData b = random_template(rng, 16, 16, 6, &a, 1, 0, 32, 32);
  EXPECT_EQ(algo::score_once(a, b), algo::score(algo::prepare_probe(a), b));
}

// The pose resampler against its definition (row_code.hpp), cell by cell: out(x, y) is the input at
// the scale's source cell, moved back along the horizontal then the vertical shear of the rotation;
// 0 where any step leaves the grid. Also on several planes at once, and on every kernel path.
TEST(Matcher, PoseResamplerEqualsItsDefinition) {
  namespace algo = palmvein::detail::algo;
  std::mt19937 rng(3);
  for (auto [w, h] : {std::pair{32, 32}, std::pair{20, 24}, std::pair{32, 40}, std::pair{17, 17}, std::pair{1, 1}})
    for (auto [scale, degrees] : {std::pair{0.91, 0.0}, std::pair{1.10, 0.0}, std::pair{1.0, -6.0}, std::pair{1.0, 6.0},
                                  std::pair{1.0, 0.0}, std::pair{0.5, 0.0}, std::pair{2.0, 0.0}, std::pair{1.0, 20.0},
                                  std::pair{1.0, -20.0}, std::pair{1.2, 10.0}, std::pair{0.8, -15.0}}) {
      const algo::PoseResampler pose(w, h, scale, degrees);
      const double s = std::sin(degrees * 3.14159265358979323846 / 180.0);
      const double cx = (w - 1) / 2.0, cy = (h - 1) / 2.0;
      const auto round = [](double v) { return static_cast<int>(std::lround(v)); };
      for (int trial = 0; trial < 4; ++trial) {
        std::uint32_t in[64], out[64], other[64];
        for (int y = 0; y < h; ++y) in[y] = static_cast<std::uint32_t>(rng()) & algo::row_cells(w);
        pose.apply(in, out);
        // Every kernel path resamples the same bits.
        for (algo::Isa isa : algo::available_isas()) {
          algo::kernels_for(isa).resample(pose, in, other, 1);
          ASSERT_TRUE(std::equal(out, out + h, other)) << algo::to_string(isa);
        }
        const auto inside = [&](int x, int y) { return x >= 0 && y >= 0 && x < w && y < h; };
        for (int y = 0; y < h; ++y)
          for (int x = 0; x < w; ++x) {
            bool expected = false;
            const int xs = round(cx + (x - cx) / scale), ys = round(cy + (y - cy) / scale);  // scale
            const int xh = xs + round(s * (ys - cy));                                          // horizontal shear
            if (inside(xs, ys) && inside(xh, ys)) {
              const int yv = ys - round(s * (xh - cx));  // vertical shear
              expected = inside(xh, yv) && ((in[yv] >> xh) & 1u);
            }
            ASSERT_EQ(((out[y] >> x) & 1u) != 0, expected)
                << w << "x" << h << " scale " << scale << " degrees " << degrees << " cell " << x << "," << y;
          }
        // Three planes back to back: each as on its own.
        std::uint32_t three[3 * 64], three_out[3 * 64];
        for (int p = 0; p < 3; ++p)
          for (int y = 0; y < h; ++y) three[p * h + y] = p == 1 ? in[y] : static_cast<std::uint32_t>(rng()) & algo::row_cells(w);
        pose.apply(three, three_out, 3);
        ASSERT_TRUE(std::equal(out, out + h, three_out + h));
      }
    }
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
  // Another algorithm id: refused with what to do about it.
  TemplateData other = a.data();
  other.algorithm = 2;
  try {
    (void)palmvein::match(a, Template(std::make_shared<const TemplateData>(other)));
    ADD_FAILURE() << "no exception";
  } catch (const palmvein::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("re-enrol"), std::string::npos) << e.what();
  }
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

// SPDX-License-Identifier: Apache-2.0
// The one counts-to-score rule of the algorithm: the translation search and the score fusion.
// Matcher (1:1) and IdentificationIndex (1:N) both call ShiftSearch::score with counts from the
// same kernels (kernels.hpp), so their scores are the same by construction, not by a test.
//
// For every translation (dx, dy) of the probe within the radius, on the cells valid in both codes:
//   orientation similarity = 1 - diff / (planes x valid)        (BOCV Hamming, Guo et al. 2009)
//   line similarity        = 2 |A & B| / (|A| + |B|)            (Dice; Miura et al.'s shifted overlap)
// A shift whose common valid area is below min_overlap_fraction of the grid counts 0. Each family
// keeps its best shift; score = w * orientation + (1 - w) * line (feature_config.hpp).
// Then the pose search: when the best fused score reaches pose_gate, the probe's pose variants
// (resampled at other scales and rotations) are counted at the best translation, and the best of
// them also at its 8 neighbours; their similarities join the maxima. The pose search makes the score
// probe-directed: match(a, b) and match(b, a) may differ slightly (only a's variants are tried).
// The search is coarse-to-fine (the codes are smooth at the scale of one cell): every shift with
// even dx and dy, then the 8 neighbours of the best coarse shift(s) by fused score. The visited set
// for (b, a) is the mirror image of that for (a, b), so without pose variants the score is exactly
// symmetric. When the two
// families have different radii (grids of different sizes) each is searched over all its shifts.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "algorithm/row_code.hpp"
#include "features/feature_config.hpp"
#include "template_data.hpp"

namespace palmvein::inline v1::detail::algo {

// A translation of the probe (grid cells), of the probe itself (variant 0) or of one of its pose
// variants (1..pose_variants()). No default member initialisers: an
// array of shifts is scratch space, not zeroed (Shift s{} is all 0).
struct Shift {
  int dx, dy;
  int variant;
};

// The square grid of translations {first, first + step, ...} x the same (side values each), dy
// major: the shifts at which every candidate is counted first. A value, nothing allocated.
class ShiftGrid {
 public:
  ShiftGrid() = default;
  ShiftGrid(int first, int step, int side) : first_(first), step_(step), side_(side) {}
  std::size_t size() const noexcept { return static_cast<std::size_t>(side_) * static_cast<std::size_t>(side_); }
  Shift operator[](std::size_t i) const noexcept {
    const int col = static_cast<int>(i % static_cast<std::size_t>(side_)), row = static_cast<int>(i / static_cast<std::size_t>(side_));
    return Shift{first_ + step_ * col, first_ + step_ * row, 0};
  }
  // f(i, (*this)[i]) for every i in order (without the divisions of operator[]).
  template <class F>
  void for_each(F&& f) const {
    std::size_t i = 0;
    for (int row = 0; row < side_; ++row)
      for (int col = 0; col < side_; ++col) f(i++, Shift{first_ + step_ * col, first_ + step_ * row, 0});
  }

 private:
  int first_ = 0, step_ = 1, side_ = 0;
};

class ShiftSearch {
 public:
  ShiftSearch() = default;
  // The search for probes of `probe`'s geometry (the radius is the matcher's, from cfg, not the
  // one recorded in the template). Throws InvalidArgument for a radius the matcher cannot search.
  ShiftSearch(const TemplateData& probe, const FeatureConfig& cfg);

  int orientation_radius() const noexcept { return o_radius_; }
  int line_radius() const noexcept { return l_radius_; }
  // The shifts at which every candidate is counted first.
  const ShiftGrid& first_orientation() const noexcept { return o_first_; }
  const ShiftGrid& first_lines() const noexcept { return l_first_; }
  // Each family searched over all its shifts (grids of different sizes), no pose variants.
  bool independent() const noexcept { return independent_; }

  // Counts of one candidate at the first shifts (orientation: od, ov; lines: ld, lv, lb), in the
  // order of first_orientation() / first_lines().
  struct FirstCounts {
    const std::uint32_t *od, *ov, *ld, *lv, *lb;
  };
  // Pose variants of the probe searched after the translation (FeatureConfig::pose_variants);
  // variant 0 is the probe as it is.
  int pose_variants() const noexcept { return variants_; }

  // The score of that candidate. `count(shifts, n, od, ov, ld, lv, lb)` counts both families of
  // the same candidate at n further shifts (each of the variant it names).
  template <class CountBoth>
  double score(const FirstCounts& first, CountBoth&& count) const;

 private:
  double orientation_similarity(std::uint32_t diff, std::uint32_t valid) const noexcept {
    return (valid >= min_o_ && valid > 0) ? 1.0 - static_cast<double>(diff) / (static_cast<double>(valid) * planes_)
                                          : 0.0;
  }
  // |A| + |B| = |A xor B| + 2 |A and B|
  double line_similarity(std::uint32_t diff, std::uint32_t valid, std::uint32_t both) const noexcept {
    const std::uint32_t a_plus_b = diff + 2 * both;
    return (valid >= min_l_ && valid > 0 && a_plus_b > 0) ? 2.0 * both / static_cast<double>(a_plus_b) : 0.0;
  }
  double fuse(double orientation, double line) const noexcept { return w_ * orientation + (1.0 - w_) * line; }

  int o_radius_ = 0, l_radius_ = 0;
  int planes_ = 1;
  std::uint32_t min_o_ = 0, min_l_ = 0;
  double w_ = 1;
  bool independent_ = false;
  int variants_ = 0;  // pose variants besides the probe itself
  double pose_gate_ = 0;
  ShiftGrid o_first_, l_first_;
};

template <class CountBoth>
double ShiftSearch::score(const FirstCounts& c, CountBoth&& count) const {
  double so = 0, sl = 0;
  if (independent_) {
    for (std::size_t i = 0; i < o_first_.size(); ++i) so = std::max(so, orientation_similarity(c.od[i], c.ov[i]));
    for (std::size_t i = 0; i < l_first_.size(); ++i) sl = std::max(sl, line_similarity(c.ld[i], c.lv[i], c.lb[i]));
    return fuse(so, sl);
  }
  const std::size_t n = o_first_.size();
  double fused[kMaxShifts];
  double best = -1;
  for (std::size_t i = 0; i < n; ++i) {
    const double o = orientation_similarity(c.od[i], c.ov[i]);
    const double l = line_similarity(c.ld[i], c.lv[i], c.lb[i]);
    so = std::max(so, o);
    sl = std::max(sl, l);
    fused[i] = fuse(o, l);
    best = std::max(best, fused[i]);
  }
  const int r = o_radius_, side = 2 * r + 1;
  bool visited[kMaxShifts];
  std::fill_n(visited, side * side, false);
  o_first_.for_each([&](std::size_t, const Shift& s) { visited[(s.dy + r) * side + (s.dx + r)] = true; });
  Shift refine[kMaxShifts];
  std::size_t m = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (fused[i] != best) continue;
    const Shift s = o_first_[i];
    for (int dy = s.dy - 1; dy <= s.dy + 1; ++dy)
      for (int dx = s.dx - 1; dx <= s.dx + 1; ++dx) {
        if (dx < -r || dx > r || dy < -r || dy > r) continue;
        bool& seen = visited[(dy + r) * side + (dx + r)];
        if (!seen) seen = true, refine[m++] = Shift{dx, dy, 0};
      }
  }
  // The best translation seen (the first of equals, coarse shifts before refinement).
  Shift at{};
  for (std::size_t i = 0; i < n; ++i)
    if (fused[i] == best) {
      at = o_first_[i];
      break;
    }
  std::uint32_t od[kMaxShifts], ov[kMaxShifts], ld[kMaxShifts], lv[kMaxShifts], lb[kMaxShifts];
  if (m > 0) {
    count(static_cast<const Shift*>(refine), m, od, ov, ld, lv, lb);
    for (std::size_t i = 0; i < m; ++i) {
      const double o = orientation_similarity(od[i], ov[i]), l = line_similarity(ld[i], lv[i], lb[i]);
      so = std::max(so, o);
      sl = std::max(sl, l);
      if (fuse(o, l) > best) best = fuse(o, l), at = refine[i];
    }
  }
  // Pose: when the best fused score reaches the gate, every pose variant at the best translation,
  // then the best of the variants also at its 8 neighbours (a turned or scaled probe may fit best a
  // cell away from where the probe as it is fits best).
  if (variants_ == 0 || best < pose_gate_) return fuse(so, sl);
  for (int v = 0; v < variants_; ++v) refine[v] = Shift{at.dx, at.dy, v + 1};
  count(static_cast<const Shift*>(refine), static_cast<std::size_t>(variants_), od, ov, ld, lv, lb);
  int best_variant = 1;
  double best_pose = -1;
  for (int v = 0; v < variants_; ++v) {
    const double o = orientation_similarity(od[v], ov[v]), l = line_similarity(ld[v], lv[v], lb[v]);
    so = std::max(so, o);
    sl = std::max(sl, l);
    if (fuse(o, l) > best_pose) best_pose = fuse(o, l), best_variant = v + 1;
  }
  m = 0;
  for (int dy = at.dy - 1; dy <= at.dy + 1; ++dy)
    for (int dx = at.dx - 1; dx <= at.dx + 1; ++dx)
      if ((dx != at.dx || dy != at.dy) && dx >= -r && dx <= r && dy >= -r && dy <= r)
        refine[m++] = Shift{dx, dy, best_variant};
  count(static_cast<const Shift*>(refine), m, od, ov, ld, lv, lb);
  for (std::size_t i = 0; i < m; ++i) {
    so = std::max(so, orientation_similarity(od[i], ov[i]));
    sl = std::max(sl, line_similarity(ld[i], lv[i], lb[i]));
  }
  return fuse(so, sl);
}

}  // namespace palmvein::v1::detail::algo

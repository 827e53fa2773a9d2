// The one counts-to-score rule of the algorithm: the translation search and the score fusion.
// Matcher (1:1) and IdentificationIndex (1:N) both call ShiftSearch::score with counts from the
// same kernels (kernels.hpp), so their scores are the same by construction, not by a test.
//
// For every translation (dx, dy) of the probe within the radius, on the cells valid in both codes:
//   orientation similarity = 1 - diff / (planes x valid)        (BOCV Hamming, Guo et al. 2009)
//   line similarity        = 2 |A & B| / (|A| + |B|)            (Dice; Miura et al.'s shifted overlap)
// A shift whose common valid area is below min_overlap_fraction of the grid counts 0. Each family
// keeps its best shift; score = w * orientation + (1 - w) * line (feature_config.hpp).
// The search is coarse-to-fine (the codes are smooth at the scale of one cell): every shift with
// even dx and dy, then the 8 neighbours of the best coarse shift(s) by fused score. The visited set
// for (b, a) is the mirror image of that for (a, b), so the score is exactly symmetric. When the two
// families have different radii (grids of different sizes) each is searched over all its shifts.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "algorithm/row_code.hpp"
#include "features/feature_config.hpp"
#include "template_data.hpp"

namespace palmvein::inline v1::detail::algo {

struct Shift {
  int dx = 0, dy = 0;
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
  const std::vector<Shift>& first_orientation() const noexcept { return o_first_; }
  const std::vector<Shift>& first_lines() const noexcept { return l_first_; }

  // Counts of one candidate at the first shifts (orientation: od, ov; lines: ld, lv, lb), in the
  // order of first_orientation() / first_lines().
  struct FirstCounts {
    const std::uint32_t *od, *ov, *ld, *lv, *lb;
  };
  // The score of that candidate. `count(shifts, n, od, ov, ld, lv, lb)` counts both families of the
  // same candidate at n further shifts (the refinement); it is called at most once.
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
  std::vector<Shift> o_first_, l_first_;
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
  for (const Shift& s : o_first_) visited[(s.dy + r) * side + (s.dx + r)] = true;
  Shift refine[kMaxShifts];
  std::size_t m = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (fused[i] != best) continue;
    for (int dy = o_first_[i].dy - 1; dy <= o_first_[i].dy + 1; ++dy)
      for (int dx = o_first_[i].dx - 1; dx <= o_first_[i].dx + 1; ++dx) {
        if (dx < -r || dx > r || dy < -r || dy > r) continue;
        bool& seen = visited[(dy + r) * side + (dx + r)];
        if (!seen) seen = true, refine[m++] = Shift{dx, dy};
      }
  }
  if (m > 0) {
    std::uint32_t od[kMaxShifts], ov[kMaxShifts], ld[kMaxShifts],
        lv[kMaxShifts], lb[kMaxShifts];
    count(static_cast<const Shift*>(refine), m, od, ov, ld, lv, lb);
    for (std::size_t i = 0; i < m; ++i) {
      so = std::max(so, orientation_similarity(od[i], ov[i]));
      sl = std::max(sl, line_similarity(ld[i], lv[i], lb[i]));
    }
  }
  return fuse(so, sl);
}

}  // namespace palmvein::v1::detail::algo

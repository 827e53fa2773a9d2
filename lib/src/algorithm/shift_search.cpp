// SPDX-License-Identifier: Apache-2.0
#include "algorithm/shift_search.hpp"

#include <string>

#include "palmvein/error.hpp"

namespace palmvein::inline v1::detail::algo {

ShiftSearch::ShiftSearch(const TemplateData& probe, const FeatureConfig& cfg) {
  if (cfg.max_shift < 0 || cfg.max_shift > 8) throw InvalidArgument("matcher: max_shift must be 0..8");
  const BitCode& o = probe.orientation;
  const BitCode& l = probe.lines;
  if (o.width == 0 || o.height == 0 || l.width == 0 || l.height == 0)
    throw InvalidArgument("matcher: template has an empty code");
  o_radius_ = cfg.max_shift;
  // The line grid may differ from the orientation grid: the same ROI distance in its cells.
  l_radius_ = (cfg.max_shift * l.width + o.width / 2) / std::max<int>(1, o.width);
  if (l_radius_ > kMaxShiftRadius)
    throw InvalidArgument("matcher: line grid " + std::to_string(l.width) + " is too fine for orientation grid " +
                          std::to_string(o.width));
  planes_ = o.planes;
  w_ = cfg.orientation_weight;
  min_o_ = static_cast<std::uint32_t>(cfg.min_overlap_fraction * o.width * o.height);
  min_l_ = static_cast<std::uint32_t>(cfg.min_overlap_fraction * l.width * l.height);
  independent_ = o_radius_ != l_radius_;
  if (cfg.pose_variant_count < 0 || cfg.pose_variant_count > FeatureConfig::kMaxPoseVariants)
    throw InvalidArgument("matcher: pose_variant_count must be 0.." + std::to_string(FeatureConfig::kMaxPoseVariants));
  // Pose variants need one shift radius for both families (the same grid).
  variants_ = independent_ ? 0 : cfg.pose_variant_count;
  pose_gate_ = cfg.pose_gate;
  if (independent_) {  // every shift
    o_first_ = ShiftGrid(-o_radius_, 1, 2 * o_radius_ + 1);
    l_first_ = ShiftGrid(-l_radius_, 1, 2 * l_radius_ + 1);
    return;
  }
  // Even shifts: from -(r/2)*2 up to r in steps of 2, so that the set is symmetric about 0.
  const int r = o_radius_, first = -(r / 2) * 2;
  o_first_ = ShiftGrid(first, 2, (r - first) / 2 + 1);
  l_first_ = o_first_;
}

}  // namespace palmvein::v1::detail::algo

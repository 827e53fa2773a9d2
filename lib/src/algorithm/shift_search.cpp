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
  const auto all_shifts = [](int radius) {
    std::vector<Shift> v;
    for (int dy = -radius; dy <= radius; ++dy)
      for (int dx = -radius; dx <= radius; ++dx) v.push_back(Shift{dx, dy});
    return v;
  };
  if (independent_) {
    o_first_ = all_shifts(o_radius_);
    l_first_ = all_shifts(l_radius_);
    return;
  }
  // Even shifts: from -(r/2)*2 up to r in steps of 2, so that the set is symmetric about 0.
  const int r = o_radius_;
  for (int dy = -(r / 2) * 2; dy <= r; dy += 2)
    for (int dx = -(r / 2) * 2; dx <= r; dx += 2) o_first_.push_back(Shift{dx, dy});
  l_first_ = o_first_;
}

}  // namespace palmvein::v1::detail::algo

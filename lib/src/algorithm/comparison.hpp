// SPDX-License-Identifier: Apache-2.0
// Comparison of a prepared probe with candidates: what Matcher (one candidate at a time) and the
// 1:N index (runs of candidates stored as records) share. The score is ShiftSearch's rule over the
// kernels' counts; nothing here computes a similarity of its own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "algorithm/kernels.hpp"
#include "algorithm/row_code.hpp"
#include "algorithm/shift_search.hpp"
#include "features/feature_config.hpp"
#include "template_data.hpp"

namespace palmvein::inline v1::detail::algo {

// A probe prepared for many comparisons: each family as ShiftedRows, the shift search, and the
// probe's addresses at the shifts every candidate is counted at first.
struct PreparedProbe {
  std::uint16_t algorithm = 0;
  AlgorithmParams params;
  // Geometry every candidate must share.
  int o_width = 0, o_height = 0, o_planes = 0, l_width = 0, l_height = 0;
  ShiftSearch search;
  ShiftedRows orientation, lines;
  // The pose variants of the probe (FeatureConfig::pose_variants), variant v at index v - 1, made
  // on first use (most comparisons never reach the pose search). Thread-safe.
  struct Pose {
    ShiftedRows orientation, lines;
  };
  const Pose& pose(int variant) const;
  const ShiftedRows& orientation_of(int variant) const { return variant == 0 ? orientation : pose(variant).orientation; }
  const ShiftedRows& lines_of(int variant) const { return variant == 0 ? lines : pose(variant).lines; }
  struct LazyPoses;
  std::shared_ptr<LazyPoses> poses;  // shared by moved-from copies; owns the probe's codes
  std::vector<const std::uint32_t*> o_first, l_first;  // orientation.at / lines.at of the first shifts

  std::size_t orientation_record() const noexcept { return (orientation.planes() + 1) * orientation.rows(); }
  std::size_t line_record() const noexcept { return 2 * lines.rows(); }
};

// Throws InvalidArgument for codes the matcher cannot handle.
PreparedProbe prepare_probe(const TemplateData& probe, const FeatureConfig& cfg = default_feature_config());

// Throws InvalidArgument unless `candidate` comes from the probe's algorithm, parameters and
// geometry. (The recorded shift radius is informational and may differ.)
void check_comparable(const PreparedProbe& probe, const TemplateData& candidate);

// One candidate's rows for the pair kernel: each family's code planes and its mask plane.
struct CandidateRows {
  const std::uint32_t *o_code, *o_mask, *l_code, *l_mask;
};
// The rows of a candidate stored as records (layout.hpp, write_record).
inline CandidateRows record_rows(const PreparedProbe& p, const std::uint32_t* orec, const std::uint32_t* lrec) {
  return {orec, orec + p.orientation.planes() * p.orientation.rows(), lrec, lrec + p.lines.rows()};
}

// Counts both families of one candidate at `n` shifts.
void count_at(const PreparedProbe& probe, const CandidateRows& candidate, const Kernels& kernels,
              const Shift* shifts, std::size_t n, std::uint32_t* od, std::uint32_t* ov, std::uint32_t* ld,
              std::uint32_t* lv, std::uint32_t* lb);

// The score of the candidate whose first-shift counts are `first`.
inline double finish_score(const PreparedProbe& probe, const CandidateRows& candidate, const Kernels& kernels,
                           const ShiftSearch::FirstCounts& first) {
  return probe.search.score(first, [&](const Shift* shifts, std::size_t n, std::uint32_t* od, std::uint32_t* ov,
                                       std::uint32_t* ld, std::uint32_t* lv, std::uint32_t* lb) {
    count_at(probe, candidate, kernels, shifts, n, od, ov, ld, lv, lb);
  });
}

// Counts a run of `count` candidates (records back to back) at the first shifts.
void count_first(const PreparedProbe& probe, const std::uint32_t* orecs, const std::uint32_t* lrecs, std::size_t count,
                 const Kernels& kernels, std::uint32_t* od, std::uint32_t* ov, std::uint32_t* ld, std::uint32_t* lv,
                 std::uint32_t* lb);

// The fused similarity in [0, 1] of one candidate template (checked with check_comparable).
double score(const PreparedProbe& probe, const TemplateData& candidate, const Kernels& kernels);
inline double score(const PreparedProbe& probe, const TemplateData& candidate) {
  return score(probe, candidate, best_kernels());
}

// One comparison without a PreparedProbe (match(a, b)): the probe's translates and pose variants
// are made only where this candidate's search asks for them (the first shifts need every second
// column), in a per-thread buffer, nothing allocated once that has grown. The same counts and the
// same rule as score(prepare_probe(probe, cfg), candidate, kernels), so the same score, bit for bit.
double score_once(const TemplateData& probe, const TemplateData& candidate, const Kernels& kernels,
                  const FeatureConfig& cfg = default_feature_config());
inline double score_once(const TemplateData& probe, const TemplateData& candidate) {
  return score_once(probe, candidate, best_kernels());
}

}  // namespace palmvein::v1::detail::algo

// Shift-searched comparison of bit-packed codes (layout: template_data.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "template_data.hpp"

namespace palmvein::inline v1::detail {

// Every translated copy of one code, for shifts (dx, dy) in [-radius, radius]^2, cells shifted in
// from outside marked invalid. Built once per probe so that each comparison is a flat popcount loop.
struct ShiftedCode {
  int radius = 0;
  int width = 0, height = 0, planes = 0;
  std::size_t words = 0;             // words per plane
  std::vector<std::uint64_t> bits;   // [shift][plane][word]
  std::vector<std::uint64_t> mask;   // [shift][word]
  int shifts() const noexcept { return (2 * radius + 1) * (2 * radius + 1); }
};

// Requires code.width <= 64.
ShiftedCode build_shifted(const BitCode& code, int radius);

// Similarity of two orientation codes: 1 - (lowest fractional Hamming distance over all shifts).
// Shifts whose common valid area is below min_overlap cells are skipped; 0 if none is left.
double hamming_similarity(const ShiftedCode& probe, const BitCode& candidate, std::size_t min_overlap);

// Similarity of two binary line maps: the highest Dice coefficient 2|A&B|/(|A|+|B|) of line cells
// over the common valid area, over all shifts (as in Miura et al.'s shifted template matching).
double dice_similarity(const ShiftedCode& probe, const BitCode& candidate, std::size_t min_overlap);

}  // namespace palmvein::v1::detail

#include "features/feature_config.hpp"

namespace palmvein::inline v1::detail {

// A probe template prepared for many comparisons (what Matcher holds).
struct PreparedProbe {
  std::uint16_t algorithm = 0;
  AlgorithmParams params;
  ShiftedCode orientation;
  ShiftedCode lines;
};

// Throws InvalidArgument for codes the matcher cannot handle.
PreparedProbe prepare_probe(const TemplateData& probe, const FeatureConfig& cfg = default_feature_config());
// Fused similarity in [0, 1]. Throws InvalidArgument when the templates are incompatible.
// `allow_fast` = false forces the portable kernel (tests compare both; results are identical).
double score_prepared(const PreparedProbe& probe, const TemplateData& candidate,
                      const FeatureConfig& cfg = default_feature_config(), bool allow_fast = true);
// Whether score_prepared() uses the AVX-512 kernel for this probe on this CPU.
bool fast_kernel_applies(const PreparedProbe& probe);

}  // namespace palmvein::v1::detail

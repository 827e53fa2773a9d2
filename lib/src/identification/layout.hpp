// SPDX-License-Identifier: Apache-2.0
// How the identification index lays out the features of one algorithm for fast search.
//
// Records (one per enrolled template, each family in its own array, 64-byte aligned):
//   orientation, lines: the family's code row-packed (algorithm/row_code.hpp), code planes then the
//                       mask plane, each a whole number of 512-bit blocks;
//   coarse:             the orientation code downsampled by CoarseParams::factor (planes then mask,
//                       flat bit planes, no padding), stored "vertically" in blocks of kLanes
//                       candidates (algorithm/kernels.hpp).
// Probes are prepared once per search: the very PreparedProbe that Matcher builds, plus every
// shifted copy of the coarse code. The exact score is algorithm/comparison.hpp's finish_score over
// counts of the algorithm's kernels, so the index's scores are Matcher::score's by construction.
#pragma once

#include <cstddef>
#include <algorithm>
#include <cstdint>
#include <vector>

#include "algorithm/aligned_array.hpp"
#include "algorithm/comparison.hpp"
#include "algorithm/kernels.hpp"
#include "identification/tuning.hpp"
#include "template_data.hpp"

namespace palmvein::inline v1::detail::ident {

// The coarse family's record shape.
struct FamilyShape {
  std::size_t planes = 0;  // code planes in a record
  std::size_t words = 0;   // 64-bit words per plane
  std::size_t shifts = 0;  // probe variants
  std::size_t record_words() const noexcept { return (planes + 1) * words; }
};

// A probe laid out for one search.
struct PreparedSearchProbe {
  algo::PreparedProbe fine;  // exact comparison (what Matcher holds)
  algo::AlignedWords coarse;  // coarse shifts x coarse record
};

// Downsamples a code by `f` per axis: a coarse cell is valid when at least
// min(IdentTuning::kCoarseMinValidCells, cells of its block) fine cells are valid, and its bit is the
// majority of the valid fine bits (a tie takes the first valid fine cell's bit, in row-major order).
// `allow_fast` = false forces the cell-by-cell reference (tests compare the two).
BitCode downsample(const BitCode& code, int f, bool allow_fast = true);

// The coarse pre-filter's geometry.
struct CoarseParams {
  int factor = IdentTuning::kCoarseFactor;  // downsampling per axis
  int radius = -1;                          // shift radius in coarse cells; -1: floor(fine radius / factor)
  int planes = IdentTuning::kCoarsePlanes;  // orientation planes compared, spread evenly (>= the code's: all)
};

class Layout {
 public:
  // The geometry of `first` (every later template must agree). Throws InvalidArgument for codes
  // the matcher cannot handle.
  explicit Layout(const TemplateData& first, CoarseParams coarse = {});

  // Throws InvalidArgument if `t` cannot be compared with the first template (the matcher's check).
  void check_compatible(const TemplateData& t) const;

  // Record sizes, in 32-bit rows (fine families) and 64-bit words (coarse).
  std::size_t orientation_rows() const noexcept { return reference_.orientation_record(); }
  std::size_t line_rows() const noexcept { return reference_.line_record(); }
  const FamilyShape& coarse() const noexcept { return coarse_; }

  // Write one template's records (out zero-filled by the caller).
  void write_orientation(const TemplateData& t, std::uint32_t* out) const { algo::write_record(t.orientation, out); }
  void write_lines(const TemplateData& t, std::uint32_t* out) const { algo::write_record(t.lines, out); }
  // Coarse record into lane `lane` of a block (coarse().record_words() x kLanes words).
  void write_coarse(const TemplateData& t, std::uint64_t* block, std::size_t lane) const;
  std::uint32_t coarse_min_valid() const noexcept { return static_cast<std::uint32_t>(std::max<std::size_t>(1, min_c_)); }

  PreparedSearchProbe prepare(const TemplateData& probe) const;

  // The coarse code of `t`: its orientation code downsampled, the chosen planes only.
  BitCode coarse_code(const TemplateData& t) const;

 private:
  algo::PreparedProbe reference_;  // the first template, prepared: the geometry all must share
  int o_width_, o_height_;
  int c_radius_;
  int c_width_, c_height_;
  int c_factor_ = 2;
  std::vector<std::size_t> c_planes_;  // the orientation planes in the coarse code, in order
  std::size_t min_c_ = 0;
  FamilyShape coarse_;
};

}  // namespace palmvein::v1::detail::ident

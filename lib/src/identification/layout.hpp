// How the identification index lays out the features of one algorithm (BOCV + wide-line codes,
// template_data.hpp) for fast search, and how it turns popcounts back into the matcher's score.
//
// Records (one per enrolled template, each family in its own array, 64-byte aligned):
//   orientation: `planes` code planes then the mask plane, each padded to whole 512-bit blocks;
//   lines:       1 code plane then its mask plane, padded the same way;
//   coarse:      the orientation code downsampled by CoarseParams::factor (planes then mask, no
//                padding), stored "vertically" in blocks of kLanes candidates (kernels.hpp).
// Probes are prepared once per search: every shifted copy of each family (the very shifted copies
// the matcher builds: features/code_match.cpp build_shifted) in the same padded layout, so a
// comparison is a flat popcount loop over aligned blocks.
//
// Exactness: the kernels return integer counts; fine_score() evaluates them with the same
// expressions, in the same floating-point order, as detail::score_prepared(). A unit test compares
// the two on real templates so that any drift of the matcher is caught.
#pragma once

#include <cstddef>
#include <algorithm>
#include <cstdint>
#include <vector>

#include "identification/aligned_words.hpp"
#include "identification/kernels.hpp"
#include "identification/tuning.hpp"
#include "template_data.hpp"

namespace palmvein::inline v1::detail::ident {

struct FamilyShape {
  std::size_t planes = 0;  // code planes in a record
  std::size_t words = 0;   // words per plane (fine families: a multiple of kWordsPerBlock)
  std::size_t shifts = 0;  // probe variants
  std::size_t record_words() const noexcept { return (planes + 1) * words; }
};

// A probe laid out for one search.
struct PreparedSearchProbe {
  AlignedWords orientation;  // shifts x record
  AlignedWords lines;
  AlignedWords coarse;
};

// Downsamples a code by `f` per axis: a coarse cell is valid when at least
// min(IdentTuning::kCoarseMinValidCells, cells of its block) fine cells are valid, and its bit is the
// majority of the valid fine bits (a tie takes the first valid fine cell's bit, in row-major order).
// `allow_fast` = false forces the cell-by-cell reference (tests compare the two).
BitCode downsample(const BitCode& code, int f, bool allow_fast = true);

// The coarse pre-filter's geometry.
struct CoarseParams {
  int factor = IdentTuning::kCoarseFactor;  // downsampling per axis
  int radius = -1;                          // shift radius in coarse cells; -1: ceil(fine radius / factor)
};

class Layout {
 public:
  // The geometry of `first` (every later template must agree). Throws InvalidArgument for codes
  // the matcher cannot handle.
  explicit Layout(const TemplateData& first, CoarseParams coarse = {});

  // Throws InvalidArgument if `t` comes from another algorithm, parameters or geometry.
  void check_compatible(const TemplateData& t) const;

  const FamilyShape& orientation() const noexcept { return orientation_; }
  const FamilyShape& lines() const noexcept { return lines_; }
  const FamilyShape& coarse() const noexcept { return coarse_; }

  // Write one template's records (out has record_words() words, zero-filled by the caller).
  void write_orientation(const TemplateData& t, std::uint64_t* out) const;
  void write_lines(const TemplateData& t, std::uint64_t* out) const;
  // Coarse record into lane `lane` of a block (coarse().record_words() x kLanes words).
  void write_coarse(const TemplateData& t, std::uint64_t* block, std::size_t lane) const;
  std::uint32_t coarse_min_valid() const noexcept { return static_cast<std::uint32_t>(std::max<std::size_t>(1, min_c_)); }

  PreparedSearchProbe prepare(const TemplateData& probe) const;

  // The exact score follows detail::score_prepared's shift search: every candidate is counted at
  // first_shifts() (the shifts with even dx and dy), then finish_score() visits the 8 neighbours of
  // the best of those and fuses the best orientation and line similarities. When the two families
  // have different shift radii, first_shifts() holds every shift and nothing is refined.
  const std::vector<std::uint32_t>& first_shifts_orientation() const noexcept { return o_first_; }
  const std::vector<std::uint32_t>& first_shifts_lines() const noexcept { return l_first_; }
  // Counts of one candidate at the first shifts (orientation: od, ov; lines: ld, lv, lb).
  struct FirstCounts {
    const std::uint32_t *od, *ov, *ld, *lv, *lb;
  };
  // The exact score (== detail::score_prepared) of the candidate whose records are `orec`/`lrec`.
  double finish_score(const PreparedSearchProbe& probe, const std::uint64_t* orec, const std::uint64_t* lrec,
                      CountsKernel kernel, const FirstCounts& first) const;

 private:
  std::uint16_t algorithm_;
  AlgorithmParams params_;
  int o_width_, o_height_, o_planes_;
  int l_width_, l_height_;
  int o_radius_, l_radius_, c_radius_;
  int c_width_, c_height_;
  int c_factor_ = 2;
  std::size_t min_o_ = 0, min_l_ = 0, min_c_ = 0;
  double weight_ = 1;
  bool independent_ = false;  // families searched over all their shifts independently
  std::vector<std::uint32_t> o_first_, l_first_;
  FamilyShape orientation_, lines_, coarse_;
};

}  // namespace palmvein::v1::detail::ident

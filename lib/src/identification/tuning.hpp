// SPDX-License-Identifier: Apache-2.0
// All tuning constants of the 1:N identification engine, in one place (docs/identification.md).
#pragma once

#include <cstddef>

namespace palmvein::inline v1::detail::ident {

struct IdentTuning {
  // --- Coarse pre-filter (CoarseToFine) ------------------------------------------------------
  // The orientation code is downsampled by this factor per axis (majority vote of the valid cells
  // of each block); the shift search radius shrinks by the same factor (rounded up).
  static constexpr int kCoarseFactor = 2;
  // A coarse cell is valid when at least this many of its fine cells are valid.
  static constexpr int kCoarseMinValidCells = 2;
  // Orientation planes the pre-filter compares, spread evenly over the code's planes (plane
  // i * planes / kCoarsePlanes; 16 or more: all of them). 3 of the BOCV code's 6 (0, 60, 120
  // degrees) with the shift radius floor(5 / 2) = 2 and kShortlistDivisor 128: 2.9x less pre-filter
  // work than 6 planes at radius 3 with divisor 256, for about the same mated pairs lost on the tune
  // splits (27 against 24 of 17,995; docs/identification.md, "Pre-filter planes and radius").
  static constexpr int kCoarsePlanes = 3;
  // Shortlist re-ranked exactly: max(kMinShortlist, gallery size / kShortlistDivisor), capped at
  // the gallery size. On PolyU the pre-filter rank of the exhaustive rank-1 entry is at most 12
  // (docs/identification.md); the margin covers weak mates in large galleries at ~1 us per entry
  // (7812 entries at 1M: a few ms of CPU).
  static constexpr std::size_t kMinShortlist = 1024;
  static constexpr std::size_t kShortlistDivisor = 128;

  // --- Work split ------------------------------------------------------------------------------
  // Entries one lane claims at a time (exact pass / coarse pass). Small enough that the per-chunk
  // count buffers stay in L1/L2, large enough that claiming (one atomic add) is negligible.
  static constexpr std::size_t kFineChunk = 32;
  static constexpr std::size_t kCoarseChunk = 256;
};

}  // namespace palmvein::v1::detail::ident

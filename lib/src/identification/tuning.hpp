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
  // Shortlist re-ranked exactly: max(kMinShortlist, gallery size / kShortlistDivisor), capped at
  // the gallery size. Chosen from the coarse rank of the exhaustive rank-1 template on PolyU
  // (docs/identification.md): the largest observed rank is far below kMinShortlist.
  static constexpr std::size_t kMinShortlist = 1024;
  static constexpr std::size_t kShortlistDivisor = 1024;

  // --- Work split ------------------------------------------------------------------------------
  // Entries one lane claims at a time (exact pass / coarse pass). Small enough that the per-chunk
  // count buffers stay in L1/L2, large enough that claiming (one atomic add) is negligible.
  static constexpr std::size_t kFineChunk = 32;
  static constexpr std::size_t kCoarseChunk = 256;
};

}  // namespace palmvein::v1::detail::ident

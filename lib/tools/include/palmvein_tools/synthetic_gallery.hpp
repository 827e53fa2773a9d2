// SPDX-License-Identifier: Apache-2.0
// Large synthetic galleries for benchmarks: each entry is a mosaic of row blocks cut from a few
// real-structure templates (rendered synthetic palms or extracted images), each block from another
// source and shifted sideways by a few cells. The mosaics keep the local statistics of real codes
// (vein and orientation structure, bit densities, masks) while being distinct identities, and they
// cost microseconds each, so a million entries need no million renders. Uniform random bits are
// never used: they would make a pre-filter look better than it is on real codes.
// Thread-safety: MosaicMaker is immutable after construction; make() may run concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "palmvein/template.hpp"

namespace palmvein::tools {

struct MosaicOptions {
  int blocks = 4;     // row blocks per entry (each from a different source when possible)
  int max_shift = 2;  // sideways shift of a block, cells (+-); shifted-in cells are invalid
  // Throws InvalidArgument when a field is out of range.
  void check() const;
};

class MosaicMaker {
 public:
  // `sources`: at least 2 compatible templates (same algorithm and geometry).
  MosaicMaker(std::vector<Template> sources, MosaicOptions options = {});
  // The mosaic with this number: deterministic (same number, same template).
  Template make(std::uint64_t number) const;
  std::size_t sources() const noexcept { return sources_.size(); }

 private:
  std::vector<Template> sources_;
  MosaicOptions options_;
};

}  // namespace palmvein::tools

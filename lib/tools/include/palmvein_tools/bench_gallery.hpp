// SPDX-License-Identifier: Apache-2.0
// Galleries for identification benchmarks (`palmvein bench identify`, benchmarks/bench_identify.cpp).
//
// Method (docs/identification.md): `probes` palms are rendered twice; capture 0 is enrolled, capture 1
// is the probe. `source_palms` other palms are rendered once; their templates are cut into mosaics
// (MosaicMaker: row blocks of several sources, shifted sideways) that fill the gallery up to `size`.
// The mates sit at evenly spread positions among the mosaics. Rendering is the only slow step
// (a few hundred frames); a million mosaics take seconds.
// Thread-safety: build_bench_gallery() may run concurrently with distinct arguments; `render` is
// called from several threads at once.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "palmvein_tools/synthetic_gallery.hpp"
#include "palmvein/identification.hpp"
#include "palmvein/image.hpp"
#include "palmvein/roi.hpp"

namespace palmvein::tools {

// The image of capture `capture` of palm `palm`.
using PalmRenderer = std::function<Image(std::uint64_t palm, std::uint64_t capture)>;

struct BenchGalleryOptions {
  std::size_t size = 10000;         // enrolled templates
  std::size_t probes = 20;          // palms searched for (their mates are enrolled)
  std::size_t absent_probes = 0;    // palms searched for that are not enrolled (open-set searches)
  std::size_t source_palms = 200;   // palms cut into mosaics
  unsigned threads = 0;             // rendering and building threads (0: hardware concurrency)
  ImageKind kind = ImageKind::FullHand;  // what the renderer returns
  MosaicOptions mosaic;
  // When set, only the entries whose id it accepts are added (mates and mosaics alike): one shard of
  // the gallery, the rest of which lives elsewhere (palmvein.cluster). The ids, mosaics and mates are
  // those of the whole gallery, so the union of all shards is the unfiltered gallery.
  std::function<bool(std::uint64_t id)> keep;
  // Throws InvalidArgument when a field is out of range.
  void check() const;
};

struct BenchGallery {
  std::vector<Template> probes;         // capture 1 of each probe palm
  std::vector<std::uint64_t> mate_ids;  // the id its mate (capture 0) is enrolled under
  std::vector<Template> absent_probes;  // palms with no mate in the gallery
  std::size_t failures_to_acquire = 0;  // renders that gave no template (skipped, replaced)
  double render_seconds = 0;            // rendering + extraction
  double fill_seconds = 0;              // mosaics + index insertion
};

// Fills `index` (cleared first) with options.size entries. Ids: mates get 1'000'000'000 + probe
// number, mosaics their entry number. Throws Error when too many renders fail to give a template.
BenchGallery build_bench_gallery(IdentificationIndex& index, const BenchGalleryOptions& options,
                                              const PalmRenderer& render);

// A stand-in renderer for when no synthetic sensor is at hand: a 128x128 ROI (ImageKind::Roi) with
// a bright textured background and a network of dark curved "veins" drawn with OpenCV, fixed by
// `palm`; `capture` moves the drawing by up to 2 px and draws new sensor noise. Thread-safe.
Image drawn_palm_roi(std::uint64_t palm, std::uint64_t capture);

// Resident memory of this process (VmRSS of /proc/self/status), bytes; 0 where unavailable.
std::size_t resident_bytes();

}  // namespace palmvein::tools

// SPDX-License-Identifier: Apache-2.0
// Feature extraction: image -> ROI -> enhancement -> vein features -> Template.
// Thread-safety: TemplateExtractor is immutable after construction; extract() may run concurrently.
// ExtractorOptions and ExtractResult are plain values.
#pragma once

#include <optional>

#include "palmvein/export.hpp"
#include "palmvein/image.hpp"
#include "palmvein/roi.hpp"
#include "palmvein/template.hpp"
#include "palmvein/transparency.hpp"

PALMVEIN_NAMESPACE_BEGIN

// Options of TemplateExtractor. The feature stage has none: its constants belong to the algorithm
// (default_algorithm_id()), so that all templates of one algorithm can be compared.
struct PALMVEIN_API ExtractorOptions {
  RoiOptions roi;  // ROI stage options (roi_size >= 64; the features are always computed on the ROI
                   // resampled to 128x128, so roi_size only sets the ROI image's resolution)
  // Throws InvalidArgument when a field is out of range (roi.roi_size outside 64..1024).
  void check() const;
};

// Either a template (and the ROI it came from) or the reason none could be made (failure to acquire).
struct ExtractResult {
  std::optional<Template> templ;  // set when ok()
  RoiResult roi;                  // the ROI stage's result; roi.failure() when !ok()
  // True when a template was made.
  bool ok() const noexcept { return templ.has_value(); }
};

// Makes templates from images: ROI (RoiExtractor), enhancement and the vein features of the
// library's default algorithm (default_algorithm_id()). Immutable; see the file's note on threads.
class PALMVEIN_API TemplateExtractor {
 public:
  // Throws InvalidArgument when the options fail ExtractorOptions::check().
  explicit TemplateExtractor(ExtractorOptions options = {});
  // Makes the template of one image (8- or 16-bit; `kind` says whether it is a whole sensor frame or
  // an already-cut ROI). A palm that cannot be used is a result, not an exception: !ok() with
  // roi.failure() saying why (also RoiFailure::Blurred for a ROI without enough vein texture).
  // `sink`, when given, receives the stages' images (transparency.hpp). Throws InvalidArgument for
  // an empty image, and passes on what the sink throws.
  ExtractResult extract(const Image& image, ImageKind kind, TransparencySink* sink = nullptr) const;
  // The options it was made with.
  const ExtractorOptions& options() const noexcept { return options_; }

 private:
  ExtractorOptions options_;
};

PALMVEIN_NAMESPACE_END

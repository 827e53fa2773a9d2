// SPDX-License-Identifier: Apache-2.0
// Feature extraction: image -> ROI -> enhancement -> vein features -> Template.
// Thread-safety: TemplateExtractor is immutable after construction; extract() may run concurrently.
#pragma once

#include <optional>

#include "palmvein/export.hpp"
#include "palmvein/image.hpp"
#include "palmvein/roi.hpp"
#include "palmvein/template.hpp"
#include "palmvein/transparency.hpp"

PALMVEIN_NAMESPACE_BEGIN

struct PALMVEIN_API ExtractorOptions {
  RoiOptions roi;  // ROI stage options (roi_size >= 64; the features are always computed on the ROI
                   // resampled to 128x128, so roi_size only sets the ROI image's resolution)
  // Throws InvalidArgument when a field is out of range.
  void check() const;
};

// Either a template (and the ROI it came from) or the reason none could be made (failure to acquire).
struct ExtractResult {
  std::optional<Template> templ;  // set when ok()
  RoiResult roi;                  // the ROI stage's result; roi.failure() when !ok()
  bool ok() const noexcept { return templ.has_value(); }
};

class PALMVEIN_API TemplateExtractor {
 public:
  explicit TemplateExtractor(ExtractorOptions options = {});
  ExtractResult extract(const Image& image, ImageKind kind, TransparencySink* sink = nullptr) const;
  const ExtractorOptions& options() const noexcept { return options_; }

 private:
  ExtractorOptions options_;
};

PALMVEIN_NAMESPACE_END

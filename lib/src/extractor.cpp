// SPDX-License-Identifier: Apache-2.0
// TemplateExtractor: RoiExtractor (roi*.cpp) -> enhancement + features (features/features.cpp).
#include "palmvein/extractor.hpp"

#include <memory>

#include "features/features.hpp"
#include "internal/cv_bridge.hpp"
#include "palmvein/error.hpp"
#include "template_data.hpp"

namespace palmvein {
inline namespace v1 {

void ExtractorOptions::check() const {
  roi.check();
  // The feature grids are laid on the ROI; below 64 pixels the 32-cell grids lose their meaning.
  if (roi.roi_size < 64) throw InvalidArgument("extractor: roi_size must be at least 64 for the feature grids");
}

TemplateExtractor::TemplateExtractor(ExtractorOptions options) : options_(std::move(options)) { options_.check(); }

ExtractResult TemplateExtractor::extract(const Image& image, ImageKind kind, TransparencySink* sink) const {
  if (image.empty()) throw InvalidArgument("extract: empty image");
  ExtractResult result;
  result.roi = RoiExtractor(options_.roi).extract(image, kind, sink);
  if (!result.roi.ok()) return result;
  const Image& roi = result.roi.roi().image;
  const cv::Mat roi8 = internal::gray8_view(roi);
  auto data = std::make_shared<const detail::TemplateData>(
      detail::compute_features(roi8, detail::default_feature_config(), sink));
  // A ROI without vein texture (flat, defocused, covered) would give a code that matches anything
  // featureless: report it as a failure to acquire, with the closest user guidance.
  if (!detail::has_enough_texture(*data)) {
    result.roi = RoiResult::failed(RoiFailure::Blurred);
    return result;
  }
  result.templ.emplace(std::move(data));
  return result;
}

}  // namespace v1
}  // namespace palmvein

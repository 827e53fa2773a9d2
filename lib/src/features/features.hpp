// SPDX-License-Identifier: Apache-2.0
// Feature extraction from a palm ROI: the two code families stored in a template.
#pragma once

#include <opencv2/core.hpp>

#include "features/feature_config.hpp"
#include "palmvein/transparency.hpp"
#include "template_data.hpp"

namespace palmvein::inline v1::detail {

// Computes both codes of an 8-bit single-channel ROI (any size; it is resized to cfg.roi_size).
// `sink` (may be null) receives the stages "06-enhanced", "07-orientation-code", "08-vein-lines",
// "09-valid-mask". Throws InvalidArgument for an empty or non-8-bit image.
TemplateData compute_features(const cv::Mat& roi8, const FeatureConfig& cfg = default_feature_config(),
                              TransparencySink* sink = nullptr);

// Whether enough of the orientation grid is valid for a usable template (cfg.min_valid_fraction).
bool has_enough_texture(const TemplateData& data, const FeatureConfig& cfg = default_feature_config());

// Sets bit (x, y) of plane p of `code` (helper shared by the extractor and tests).
void set_bit(BitCode& code, std::size_t plane, int x, int y, bool value);
void set_valid(BitCode& code, int x, int y, bool value);
// Allocates a zeroed code of the given geometry.
BitCode make_code(int width, int height, int planes);

}  // namespace palmvein::v1::detail

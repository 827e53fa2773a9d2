// SPDX-License-Identifier: Apache-2.0
// Conversions between palmvein::Image and cv::Mat (internal: OpenCV stays out of the public API).
#pragma once

#include <opencv2/core.hpp>

#include "palmvein/image.hpp"

namespace palmvein::internal {

// A cv::Mat header over the image's pixels (no copy). The image must outlive the Mat.
PALMVEIN_API cv::Mat view_of(const Image& image);
// An 8-bit grey cv::Mat (converted from 16-bit by significant bits; shares memory when already 8-bit).
PALMVEIN_API cv::Mat gray8_view(const Image& image);
// Copies an 8-bit (CV_8UC1) or 16-bit (CV_16UC1) Mat into an Image.
PALMVEIN_API Image image_from_mat(const cv::Mat& mat, int significant_bits = 0);

}  // namespace palmvein::internal

// SPDX-License-Identifier: Apache-2.0
// palmvein::Image and OpenCV's cv::Mat, both ways, for applications that process frames with OpenCV
// (palmvein's own tools among them). The rest of the public API does not need OpenCV: include this
// header only where OpenCV's headers are available, and link opencv_core.
//
// Thread-safety: plain functions; a view shares pixels with its Image, so the usual rules of sharing
// memory between threads apply.
#pragma once

#include <opencv2/core.hpp>

#include "palmvein/image.hpp"

PALMVEIN_NAMESPACE_BEGIN

// A cv::Mat header over the image's pixels (CV_8UC1 or CV_16UC1, no copy). The image must outlive the
// Mat; an empty image gives an empty Mat.
PALMVEIN_API cv::Mat view_of(const Image& image);
// An 8-bit grey cv::Mat: shares memory when the image is already 8-bit, otherwise converted from
// 16-bit by the image's significant bits.
PALMVEIN_API cv::Mat gray8_view(const Image& image);
// Copies an 8-bit (CV_8UC1) or 16-bit (CV_16UC1) Mat into an Image; `significant_bits` of a 16-bit
// Mat (0: 16). Throws InvalidArgument for any other type.
PALMVEIN_API Image image_from_mat(const cv::Mat& mat, int significant_bits = 0);

PALMVEIN_NAMESPACE_END

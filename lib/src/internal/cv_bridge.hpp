// SPDX-License-Identifier: Apache-2.0
// (Internal.) The library's code names the Image/cv::Mat conversions internal::…; they are public API
// now (palmvein/opencv.hpp), declared once there.
#pragma once

#include "palmvein/opencv.hpp"

namespace palmvein::internal {
using palmvein::gray8_view;
using palmvein::image_from_mat;
using palmvein::view_of;
}  // namespace palmvein::internal

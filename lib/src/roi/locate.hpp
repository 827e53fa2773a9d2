// SPDX-License-Identifier: Apache-2.0
// Internal: finding the palm in a full-hand frame (segmentation, quality measures, key points and
// the placement of the ROI square). roi.cpp turns the placement into the warped ROI.
#pragma once

#include <vector>

#include <opencv2/core.hpp>

#include "palmvein/roi.hpp"
#include "roi/roi_params.hpp"

namespace palmvein::internal {

// The ROI square in full-frame coordinates: centre, unit axes (x to the right of the ROI, y towards
// the wrist; always a proper rotation, never a mirror) and side in frame pixels.
struct RoiPlacement {
  cv::Point2d centre;
  cv::Point2d ux{1, 0};
  cv::Point2d uy{0, 1};
  double side = 0;
};

struct PalmLocation {
  RoiFailure failure = RoiFailure::None;
  RoiMethod method = RoiMethod::PalmCircle;
  RoiPlacement placement;                  // valid when failure == None
  std::vector<cv::Point2f> outline;        // hand contour, full-frame coordinates
  std::vector<cv::Point2f> key_points;     // valleys / tangent points or palm centre, full frame
  // Measurements (full-frame pixels where lengths) used for quality and guidance.
  cv::Point2d palm_centre;
  double palm_radius = 0;
  double hand_mean = 0;
  double saturated_fraction = 0;
  double edge_width = 0;
  double hand_area_fraction = 0;
  cv::Size frame_size;
};

// `gray` is the full-resolution 8-bit frame. Stages go to `sink` when it is not null.
PalmLocation locate_palm(const cv::Mat& gray, const RoiParams& params, TransparencySink* sink);

}  // namespace palmvein::internal

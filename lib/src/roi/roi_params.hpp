// SPDX-License-Identifier: Apache-2.0
// Every tuning constant of the ROI stage, in one place. Lengths are relative (to the frame, to the
// palm radius R = radius of the largest circle inscribed in the hand mask, or to the valley
// distance d) so that they hold for any sensor resolution and hand size.
//
// References
// * D. Zhang, W.-K. Kong, J. You, M. Wong, "Online palmprint identification", IEEE TPAMI 25(9),
//   2003: ROI from the tangent to the two finger gaps (index/middle and ring/little), square placed
//   perpendicular to that tangent.
// * G.K.O. Michael, T. Connie, A.B.J. Teoh, "Touch-less palm print biometrics: novel design and
//   implementation", Image and Vision Computing 26(12), 2008: contactless ROI from finger valleys
//   of a segmented hand, side proportional to the valley distance.
// * N. Otsu, "A threshold selection method from gray-level histograms", IEEE TSMC 9(1), 1979.
// * Largest inscribed circle of the palm via the Euclidean distance transform as a palm centre that
//   does not depend on fingers or wrist: e.g. Kumar, Wong, Shen, Jain, "Personal verification using
//   palmprint and hand geometry biometric", AVBPA 2003, and later contactless systems.
#pragma once

namespace palmvein::internal {

struct RoiParams {
  // --- Working copy for segmentation and key points (the ROI is warped from the full frame) ---
  int work_long_side = 320;        // long side of the downscaled working copy, pixels
  double presmooth_sigma = 1.0;    // Gaussian sigma (working pixels) before thresholding
  // Retry with Otsu's threshold on log(1 + grey) when the linear threshold gives no finger valleys.
  // The hand's grey level is illumination x skin: on sensors whose illumination falls off towards
  // the edges (close-ups, a central LED ring) the fingers are several times dimmer than the palm
  // and a linear threshold drops them with the background (the mask becomes the illumination's hot
  // spot, no valleys are found and the palm circle follows the light, not the hand). In log scale
  // the fall-off is an offset and the background, far below either, stays its own class. Not the
  // first choice: on evenly lit full-hand frames (casia940) the log threshold sits lower, in the
  // dim fringe around the hand, and the outline loses its tightness (used alone: whole-pipeline
  // EER 0.13 -> 10 %, 5 of 300 frames without ROI).
  bool log_segmentation_retry = true;

  // --- Exposure (8-bit grey levels) ---
  int dark_frame_p99 = 40;         // 99th percentile below this: the whole frame is too dark
  int bright_frame_median = 245;   // median at or above this: the frame is washed out
  int hand_dark_mean = 45;         // exposure score 0 at this hand mean: quality, "too dark" advice
  // Mean of the hand below this: refused as too dark. Below hand_dark_mean on purpose: the
  // gain-invariant feature codes still match a dim hand (casia940 tune frames darkened by gamma 1.7:
  // 13 of 25 refused at 45, none at 30, FNMR@1e-3 of their pairs 53 % -> 1.3 %; issue #7,
  // docs/evaluation.md "Ablations"). Whether the texture suffices is the features' texture gate
  // (min_abs_energy); a dark frame: dark_frame_p99.
  int hand_refuse_mean = 30;
  int saturated_level = 250;       // a pixel at or above this is saturated
  double hand_saturated_max = 0.20;  // more saturated hand pixels than this: too bright
  int good_mean_low = 70;          // hand mean inside [low, high] counts as well exposed
  int good_mean_high = 200;

  // --- Segmentation ---
  double min_separation = 4.0;     // Otsu class means this many std of the tighter class apart: a hand
                                   // (a unimodal noise frame gives about 2.7)
  double min_object_area = 0.003;  // largest component below this fraction of the frame: no hand
  double min_hand_area = 0.04;     // below this fraction (but a clear object): too far
  double too_close_area = 0.92;    // hand covers more than this fraction of the frame: too close
  double open_radius = 0.012;      // morphological opening radius, fraction of the working long side

  // --- Palm size (R relative to min(frame width, height)) ---
  double min_palm_radius = 0.07;   // below: the palm is too far (too few pixels for veins)
  double palm_core_level = 0.90;   // palm centre = centroid of the points with distance >= this x R
  double closeup_min_radius = 0.18;  // the close-up fallback needs at least this palm radius
  double cutoff_radius_ratio = 0.85; // R inside the frame / R if the hand went on: below = cut off
  // A palm cut by the border, with finger valleys: ROI length L = this x the tangent points' distance
  // (the median of sqrt(R / d) over uncut frames of the casia940-fullhand tune half: 0.917, p10-p90
  // 0.87-0.97; synthetic frames 0.953; docs/roi.md).
  double cut_palm_length_per_tangent = 0.92;

  // --- Blur: edge spread of the hand outline (contrast / steepest gradient), relative to R ---
  // NIR skin edges are soft by nature (light scatters under the skin): in focus they measure about
  // 0.06-0.09 R (CASIA 940 nm), defocused close-up sensors 0.15-0.35 R and still give usable veins.
  // Only an edge spread beyond that (strong defocus or motion) rejects the frame; the score grades.
  double blur_max_edge_width = 0.50;  // wider hand edges than this x R: blurred
  double sharp_edge_width = 0.08;     // at or below this x R the sharpness score is 1

  // --- Finger valleys (convexity defects of the hand outline) ---
  double valley_min_depth = 0.50;  // defect depth >= this x R to be a gap between fingers
  double valley_min_depth_cut = 0.30;  // ... when both fingers leave the frame (close-ups): the hull
                                   // edge is the frame border, the measured depth a lower bound
  double valley_max_angle = 100;   // degrees: angle tip-valley-tip must be narrower than this
  int border_margin = 2;           // valleys this close to the frame border (working px) are not trusted
  double spacing_min = 0.20;       // neighbouring valleys apart by [min, max] x R
  double spacing_max = 1.30;
  double spacing_ratio_max = 2.2;  // the two spacings of a triple may differ at most by this factor
  double border_gap_reach = 0.5;   // palm cut by the border, two gaps: the third's place is this x
                                   // their spacing from the border, or beyond it
  double spacing_irregularity_weight = 2.0;  // triple score: penalty per |ln(spacing1 / spacing2)|
  double middle_position_min = 0.15; // the middle valley projects between these fractions of the
  double middle_position_max = 0.85; //   way from the first to the third valley
  double middle_off_line_max = 0.50; // middle valley's distance from the outer valleys' line, x their distance
                                   // (0.35 rejected middle and ring fingers held together, whose gap
                                   // reaches far up between them; casia940 figures unchanged at 0.50)
  double centre_dist_min = 0.30;   // palm centre's distance from the valley line, x valley distance d
  double centre_dist_max = 2.50;
  double tangent_window = 0.35;    // contour points within this x R of a valley form its gap (tangent)

  // --- ROI placement (valley method), relative to L = sqrt(d R): d = distance of the two tangent
  // points, R = palm radius. d alone moves with finger spread, R alone with the thumb and wrist
  // outline; their geometric mean is steadier than either (casia940-fullhand, whole pipeline:
  // EER 0.80 % with d, 0.40 % with R, 0.13 % with L; FNMR@FMR=1e-3 1.47 / 0.80 / 0.13 %).
  // The square spans the palm's middle from just below the finger bases and stays clear of the
  // thumb's web and the palm's sides. Side and offset were chosen among side 0.85-1.3 / offset
  // 0.7-0.9 (in units of d) by whole-pipeline EER on casia940-fullhand; 0.9-1.0 were all within
  // two genuine pairs of each other.
  double roi_offset = 0.72;        // ROI centre this x L from the tangent's midpoint, into the palm
  double roi_side = 0.95;          // ROI side, x L
  double roi_min_inside = 0.95;    // fraction of the ROI square (of its part in the frame) that must lie on the hand mask
  double cut_roi_min_in_frame = 0.70;  // palm cut by the border: at least this fraction of the square in the frame
  int roi_inside_grid = 16;        // ... tested on this many x this many sample points
  int max_supersampling = 4;       // warp at up to this multiple of roi_size, then area-average

  // --- ROI placement (close-up fallback), relative to R ---
  double fallback_side = 1.30;     // ROI side x R (a square of side sqrt(2) R fits the circle)
  double axis_min_elongation = 1.50; // principal axis used only if sqrt(l1/l2) of the mask >= this
  double axis_max_residual = 30;   // degrees: larger residual rotations are not trusted (set to 0)
  double gap_min_offset = 0.5;     // finger gaps say where the fingers are when their mean is this x R from the centre
  double gap_max_axis_angle = 45;  // ... and the major axis is used for the angle within this of their direction

  // --- Quality (sub-scores ramp linearly between the "1" and the "0" values) ---
  double centring_good = 0.15;     // palm centre offset from the frame centre, x short side: score 1
  double centring_zero = 0.50;     //   ... score 0
  double size_good_low = 0.15;     // R x short side from here ...
  double size_good_high = 0.42;    // ... to here: size score 1 (0 at min_palm_radius and size_zero_high)
  double size_zero_high = 0.50;
  double advice_below = 0.5;       // advice names the weakest aspect when its score is below this
};

inline const RoiParams& roi_params() {
  static const RoiParams params;
  return params;
}

}  // namespace palmvein::internal

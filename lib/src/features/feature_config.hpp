// SPDX-License-Identifier: Apache-2.0
// All tuning constants of the feature extractor and the matcher, in one place.
// Geometry constants (roi_size, grids, orientations) are recorded in each template; changing them
// changes the algorithm id or the template parameters, and old templates are refused by the matcher.
#pragma once

namespace palmvein::inline v1::detail {

struct FeatureConfig {
  // --- Input normalisation -------------------------------------------------------------------
  int roi_size = 128;  // the ROI is brought to roi_size x roi_size before anything else
  int work_size = 64;  // features are computed on the ROI area-downsampled to work_size x work_size

  // --- Orientation family: BOCV (Guo, Zhang, Zhang, Zhang, "Palmprint verification using binary
  //     orientation co-occurrence vector", Pattern Recognition Letters 30(13), 2009) over an
  //     even-symmetric Gabor bank as in the competitive code (Kong & Zhang, ICPR 2004). ----------
  int orientations = 6;         // filters at j*pi/orientations
  int orientation_grid = 32;    // code grid (cells per side)
  double gabor_wavelength = 9;  // work-image pixels (ridge/vein spacing scale)
  double gabor_sigma = 3.5;     // Gaussian envelope sigma along the wave (work-image pixels)
  double gabor_aspect = 1.0;    // envelope sigma across / along the wave
  int gabor_half = 8;           // kernel half size (kernel is 2*half+1 square)
  // A cell is masked when its Gabor energy (sum |response| over orientations) is below this fraction
  // of the median energy of the ROI (flat, saturated or out-of-ROI cells carry no orientation).
  double low_energy_fraction = 0.15;
  // ... and below this absolute mean |response| per orientation, in grey levels (the unit-norm
  // filters give about 1 on sensor noise of 1 grey level): a flat or featureless ROI has no code.
  double min_abs_energy = 1.5;
  // An ROI with fewer valid orientation cells than this fraction yields no template.
  double min_valid_fraction = 0.25;
  // Pixels at or below this grey level in the ROI count as outside the palm (black fill).
  int outside_grey_level = 2;

  // --- Vein-line family: wide line detector (Huang, Dai, Li, Wang, "Finger-vein authentication
  //     based on wide line detector and pattern normalization", ICPR 2010). -----------------------
  int line_grid = 32;             // code grid (cells per side)
  int wld_radius = 4;             // neighbourhood radius (work-image pixels)
  double wld_t = 0.25;            // brightness threshold, in units of the work image's local std dev
  double wld_g = 0.45;            // a pixel is a line when fewer than g*area neighbours are not
                                  // brighter than it by t
  double local_norm_sigma = 8;    // local mean/std normalisation scale before WLD (work pixels)

  // --- Matcher ------------------------------------------------------------------------------
  // Translation search radius, grid cells (+-); 5 cells = 20 ROI pixels. The coarse stage visits
  // even shifts (+-4 here), the refinement reaches +-5 at no extra cost. Residual ROI translation
  // on other sensors (PUT frames through the ROI stage) needs it; PolyU/CASIA are unaffected.
  int max_shift = 5;
  double orientation_weight = 0.75;   // score = w * orientation similarity + (1-w) * line similarity
  // Overlap below this fraction of the grid gives the lowest score (too little evidence).
  double min_overlap_fraction = 0.25;
  // Pose search beyond translation (algorithm/shift_search.hpp, issue #7): after the translation
  // search, the probe's codes resampled at these scales and rotations (about the grid centre,
  // nearest cell: algorithm/row_code.hpp PoseResampler) are counted at the best translation, and
  // the best of them also at its 8 neighbours. Another sensor's or another cutter's ROI differs by a
  // few degrees and percent, which translation alone does not absorb (docs/stress.md: casia850
  // tune, ROI rotated +-6 deg: EER 8.5 % without, 3.9 % with; cropped up to 10 %: 5.3 % -> 4.8 %).
  // Chosen on the tune halves among scales {0.88..1.14} and rotations {3..8 deg}, 2 to 6 variants:
  // four measured as well as six (tune casia850 1.12 vs 1.07 %, stress rows equal) for less work.
  struct PoseVariant {
    double scale;    // > 1: the probe's pattern drawn larger
    double degrees;  // in-plane rotation
  };
  static constexpr int kMaxPoseVariants = 8;
  PoseVariant pose_variants[kMaxPoseVariants] = {{0.91, 0}, {1.10, 0}, {1, -6}, {1, 6}};
  int pose_variant_count = 4;
  // The pose search runs only when the translation search's best fused score reaches this: a pair
  // that far apart is an impostor whatever its pose. Chosen on the tune halves: 0.47 loses nothing
  // there (0.48 and above lose genuine pairs of rotated ROIs).
  double pose_gate = 0.47;
};

// The configuration the library is built with.
inline const FeatureConfig& default_feature_config() {
  static const FeatureConfig config{};
  return config;
}

}  // namespace palmvein::v1::detail

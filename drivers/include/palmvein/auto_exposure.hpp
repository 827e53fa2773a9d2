// SPDX-License-Identifier: Apache-2.0
// Auto-exposure for any Sensor: measure the palm region of live frames and adjust exposure (then
// gain) until the palm is well exposed: its median grey near a target and few saturated pixels.
// The palm region is the bright foreground of a frame whose background is dark, found by Otsu's
// threshold (N. Otsu, "A threshold selection method from gray-level histograms", IEEE SMC 1979);
// the controller is a damped proportional step in log exposure.
// Thread-safety: free functions; run_auto_exposure() uses the sensor like grab() does (one thread).
#pragma once

#include <chrono>
#include <cstdint>

#include "palmvein/image.hpp"
#include "palmvein/sensor.hpp"

PALMVEIN_NAMESPACE_BEGIN

// How run_auto_exposure() steers exposure and gain towards a well-exposed palm.
struct PALMVEIN_API AutoExposureOptions {
  double target = 128;          // wanted median grey of the palm region (8-bit scale)
  double tolerance = 14;        // converged when |median - target| <= tolerance ...
  double max_saturated = 0.01;  // ... and at most this share of palm pixels is >= 250
  int max_iterations = 15;      // exposure changes before giving up
  double damping = 0.85;        // exponent of the proportional step (1 = jump straight to the estimate)
  float max_gain = 4;           // gain is raised only once exposure is at its maximum
  int settle_frames = 3;        // frames to wait for a frame that reports the new exposure
  std::chrono::milliseconds grab_timeout{1000};  // timeout of each grab()
  // Throws InvalidArgument when a field is out of range.
  void check() const;
};

// Statistics of one frame's palm region (or of the whole frame when no palm stands out).
struct ExposureMeasurement {
  bool palm_found = false;  // a bright foreground of plausible size was found
  double median = 0;        // 8-bit grey levels
  double p05 = 0;           // 5th percentile
  double p95 = 0;           // 95th percentile
  double saturated = 0;     // share of region pixels >= 250
  double palm_fraction = 0; // share of the frame taken by the region
};

// The statistics of one frame (8- or 16-bit grey).
PALMVEIN_API ExposureMeasurement measure_exposure(const Image& frame);

// Where run_auto_exposure() ended.
struct AutoExposureResult {
  bool converged = false;       // the target was reached within max_iterations
  int iterations = 0;           // exposure changes made
  std::uint32_t exposure_us = 0;  // exposure set last
  float gain = 1;                 // gain set last
  ExposureMeasurement last;     // measurement of the last frame
};

// The sensor must be started. Throws DeviceError from the sensor (e.g. Unsupported when it has no
// exposure control), InvalidArgument for bad options.
PALMVEIN_API AutoExposureResult run_auto_exposure(Sensor& sensor, const AutoExposureOptions& options = {});

PALMVEIN_NAMESPACE_END

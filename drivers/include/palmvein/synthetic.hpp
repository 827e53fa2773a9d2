// SPDX-License-Identifier: Apache-2.0
// Synthetic near-infrared palm frames: the renderer behind the virtual sensor ("virtual:?palm=42")
// and `palmvein synth`. A palm identity (palm id, hand, seed) fixes the hand shape, the vein network
// (grown by space colonisation: Runions, Lane, Prusinkiewicz, "Modeling Trees with a Space
// Colonization Algorithm", Eurographics Workshop on Natural Phenomena 2007), palm creases and skin
// texture. Each capture index draws a pose (translation, distance, rotation, tilt, finger spread),
// exposure jitter, blur and sensor noise, so that captures of one palm differ the way real captures do
// while the veins stay the same. See docs/sensors.md for the model and its constants.
// Thread-safety: SyntheticPalm is immutable after construction; render() may run concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "palmvein/export.hpp"
#include "palmvein/hand.hpp"
#include "palmvein/image.hpp"

PALMVEIN_NAMESPACE_BEGIN

// Who the palm belongs to. Equal ids render equal palms; any field changed gives another palm.
struct PALMVEIN_API SyntheticPalmId {
  std::uint64_t palm = 0;  // palm number
  Hand hand = Hand::Left;  // Left or Right (a right hand is a mirrored shape with its own veins)
  std::uint64_t seed = 0;  // data-set seed: the same palm number under another seed is another person
  // Throws InvalidArgument when hand is Unknown.
  void check() const;
};

// How much captures of one palm vary (standard deviations unless said otherwise). The defaults
// resemble a contact-free sensor with a hand guide (cf. the CASIA multispectral full-hand frames).
struct PALMVEIN_API SyntheticVariation {
  double translate = 0.025;   // palm centre shift, fraction of the frame width
  double scale = 0.05;        // log of the apparent size (distance) change
  double rotate_deg = 8;      // in-plane rotation
  double tilt_deg = 7;        // out-of-plane tilt (perspective)
  double spread = 0.18;       // log of the finger spread angle change
  double exposure = 0.12;     // log of the brightness change (skin, ambient light)
  double blur_max = 1.8;      // defocus/motion blur sigma drawn from [0, blur_max] px (at 640x480)
  double noise = 1.3;         // sensor noise multiplier (1 = shot + read noise of a typical CMOS)
  // Throws InvalidArgument when a field is negative or absurdly large.
  void check() const;
};

// The sensor state a frame is rendered under.
struct PALMVEIN_API SyntheticFrameSettings {
  int width = 640;                   // frame size in pixels
  int height = 480;                  // frame height in pixels
  bool hand_present = true;          // false: background only (an empty sensor)
  double rotate_deg = 0;             // fixed extra in-plane rotation (sensor mounted differently)
  std::uint32_t exposure_us = 4000;  // exposure time; brightness is proportional to it
  float gain = 1;                    // analogue gain; brightness and noise scale with it
  int illumination_850 = 0;          // LED bank levels 0..kSyntheticIlluminationLevels-1
  int illumination_940 = 7;          // 940 nm bank level
  SyntheticVariation variation;      // per-capture variation
  // Throws InvalidArgument when a field is out of range.
  void check() const;
};

inline constexpr int kSyntheticIlluminationLevels = 8;         // levels per LED bank of the virtual sensor
inline constexpr std::uint32_t kSyntheticExposureMinUs = 50;     // shortest exposure of the virtual sensor
inline constexpr std::uint32_t kSyntheticExposureMaxUs = 40000;  // longest exposure of the virtual sensor

// One synthetic palm at one frame size: geometry, veins and texture are built in the constructor
// (a few milliseconds), render() then costs a few milliseconds per 640x480 frame.
class PALMVEIN_API SyntheticPalm {
 public:
  // Builds the palm `id` for frames of width x height pixels.
  SyntheticPalm(SyntheticPalmId id, int width, int height);
  ~SyntheticPalm();
  SyntheticPalm(SyntheticPalm&&) noexcept;             // moves the model
  SyntheticPalm& operator=(SyntheticPalm&&) noexcept;  // moves the model

  // Whose palm this is.
  const SyntheticPalmId& id() const noexcept;
  // The frame of capture `capture_index` under `settings` (settings.width/height must match the
  // constructor's). Deterministic: same id, index and settings give identical pixels.
  Image render(std::uint64_t capture_index, const SyntheticFrameSettings& settings) const;

 private:
  struct Model;
  std::unique_ptr<Model> model_;
};

PALMVEIN_NAMESPACE_END

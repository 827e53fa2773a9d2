// SPDX-License-Identifier: Apache-2.0
// Palm detection and region of interest (ROI): from a full-hand sensor frame to a fixed-size,
// rotation- and scale-normalised palm square. When no trustworthy ROI exists the result says why
// (a reason code that doubles as user guidance), never a garbage ROI.
// Thread-safety: RoiExtractor is immutable after construction; extract() may run concurrently.
#pragma once

#include <array>
#include <string_view>
#include <vector>

#include "palmvein/export.hpp"
#include "palmvein/image.hpp"
#include "palmvein/transparency.hpp"

PALMVEIN_NAMESPACE_BEGIN

// What an input image is: a whole sensor frame, or an already-cut palm ROI.
enum class ImageKind : std::uint8_t { FullHand, Roi };

// Why no ROI could be made. Each has a one-line user guidance message (guidance()).
enum class RoiFailure : std::uint8_t {
  None = 0,
  NoHand,         // nothing hand-like in the frame
  HandCutOff,     // the palm touches the frame border: centre the palm
  TooDark,        // under-exposed
  TooBright,      // over-exposed / saturated
  Blurred,        // motion or focus blur
  TooClose,       // palm fills more than the frame allows
  TooFar,         // palm too small for a reliable ROI
  NoKeyPoints,    // finger valleys not found and no trustworthy fallback
};

PALMVEIN_API std::string_view to_string(RoiFailure failure) noexcept;   // "no-hand", "too-dark", ...
PALMVEIN_API std::string_view guidance(RoiFailure failure) noexcept;    // "Move your palm closer", ...

struct PointF {
  float x = 0;
  float y = 0;
};

// Capture quality as live guidance: sub-scores in 0..1 (1 = good) and the one thing to fix first.
// `advice` is None when the frame is good; otherwise the weakest aspect (TooDark, TooBright, Blurred,
// HandCutOff for "not centred", TooFar, TooClose) even when an ROI could still be cut.
struct CaptureQuality {
  float exposure = 0;   // palm brightness and saturation
  float sharpness = 0;  // hand-edge sharpness (focus and motion)
  float centring = 0;   // palm centre near the frame centre, margin to the border
  float size = 0;       // palm size relative to the frame
  RoiFailure advice = RoiFailure::None;
};

// How the ROI was located.
enum class RoiMethod : std::uint8_t {
  Passthrough,    // kind=Roi: only resized
  FingerValleys,  // three finger valleys inside the frame (full hand visible)
  PalmCircle,     // close-up fallback: largest inscribed circle of the palm + principal axis
};

// A successfully located palm.
struct PalmRoi {
  Image image;                      // roi_size x roi_size, 8-bit
  std::array<PointF, 4> corners{};  // ROI square in frame coordinates (clockwise from top-left)
  std::vector<PointF> hand_outline; // hand contour in frame coordinates (may be empty for kind=roi)
  std::vector<PointF> key_points;   // FingerValleys: the two tangent points, then the middle valley;
                                    // PalmCircle: the palm centre
  float rotation_degrees = 0;       // hand rotation that was removed: counter-clockwise on screen,
                                    // 0 = fingers up (the ROI's top edge faces the fingers)
  float scale = 1;                  // frame pixels per ROI pixel
  float quality = 0;                // 0..1, higher is better (contrast, sharpness, exposure)
  CaptureQuality assessment;        // the parts of `quality`, and what to fix first
  RoiMethod method = RoiMethod::Passthrough;
};

class PALMVEIN_API RoiResult {
 public:
  static RoiResult success(PalmRoi roi) { RoiResult r; r.roi_ = std::move(roi); return r; }
  static RoiResult failed(RoiFailure why) { RoiResult r; r.failure_ = why; return r; }
  bool ok() const noexcept { return failure_ == RoiFailure::None; }
  explicit operator bool() const noexcept { return ok(); }
  RoiFailure failure() const noexcept { return failure_; }
  const PalmRoi& roi() const;  // throws Error if !ok()

 private:
  RoiFailure failure_ = RoiFailure::None;
  PalmRoi roi_;
};

struct PALMVEIN_API RoiOptions {
  int roi_size = 128;  // side of the normalised ROI in pixels (16..1024)
  // Throws InvalidArgument when a field is out of range.
  void check() const;
};

class PALMVEIN_API RoiExtractor {
 public:
  explicit RoiExtractor(RoiOptions options = {});
  // kind=Roi: the image is only normalised (grey, resized to roi_size).
  RoiResult extract(const Image& frame, ImageKind kind = ImageKind::FullHand,
                    TransparencySink* sink = nullptr) const;
  const RoiOptions& options() const noexcept { return options_; }

 private:
  RoiOptions options_;
};

// An 8-bit grey copy of `frame` with the hand outline (thin white), the key points (white discs with
// a black ring) and the ROI square (thick white edge outlined in black; its top edge, nearest the
// fingers, is drawn dashed) drawn on it, for capture feedback and debugging. `roi` must come from
// RoiExtractor::extract() on this frame. Thread-safe (pure function).
PALMVEIN_API Image draw_roi_overlay(const Image& frame, const PalmRoi& roi);

PALMVEIN_NAMESPACE_END

// SPDX-License-Identifier: Apache-2.0
// Palm detection and region of interest (ROI): from a full-hand sensor frame to a fixed-size,
// rotation- and scale-normalised palm square. When no trustworthy ROI exists the result says why
// (a reason code that doubles as user guidance), never a garbage ROI.
// Thread-safety: RoiExtractor is immutable after construction; extract() may run concurrently. The
// other types are plain values (const access from many threads is safe).
#pragma once

#include <array>
#include <string_view>
#include <vector>

#include "palmvein/export.hpp"
#include "palmvein/image.hpp"
#include "palmvein/transparency.hpp"

PALMVEIN_NAMESPACE_BEGIN

// What an input image is: a whole sensor frame, or an already-cut palm ROI.
enum class ImageKind : std::uint8_t {
  FullHand,  // a sensor frame of the open hand: the palm is found, then cut and normalised
  Roi,       // an already-cut palm square: only made grey and resized to roi_size
};

// Why no ROI could be made. Each has a one-line user guidance message (guidance()).
enum class RoiFailure : std::uint8_t {
  None = 0,       // no failure: an ROI was made
  NoHand,         // nothing hand-like in the frame
  HandCutOff,     // the palm touches the frame border: centre the palm
  TooDark,        // under-exposed
  TooBright,      // over-exposed / saturated
  Blurred,        // motion or focus blur
  TooClose,       // palm fills more than the frame allows
  TooFar,         // palm too small for a reliable ROI
  NoKeyPoints,    // finger valleys not found and no trustworthy fallback
};

// A short stable name for logs and files: "none", "no-hand", "too-dark", ...; "unknown" for a value
// outside the enum.
PALMVEIN_API std::string_view to_string(RoiFailure failure) noexcept;
// A one-line instruction for the user, in English: "Move your palm closer", ...; "Hold still" for
// None, "Try again" for a value outside the enum.
PALMVEIN_API std::string_view guidance(RoiFailure failure) noexcept;

// A point in frame pixel coordinates: x to the right, y down, (0, 0) the centre of the top-left pixel.
struct PointF {
  float x = 0;  // pixels from the left
  float y = 0;  // pixels from the top
};

// Capture quality as live guidance: sub-scores in 0..1 (1 = good) and the one thing to fix first.
// `advice` is None when the frame is good; otherwise the weakest aspect (TooDark, TooBright, Blurred,
// HandCutOff for "not centred", TooFar, TooClose) even when an ROI could still be cut.
struct CaptureQuality {
  float exposure = 0;   // palm brightness and saturation
  float sharpness = 0;  // hand-edge sharpness (focus and motion)
  float centring = 0;   // palm centre near the frame centre, margin to the border
  float size = 0;       // palm size relative to the frame
  RoiFailure advice = RoiFailure::None;  // what to fix first; None when the frame is good
};

// How the ROI was located.
enum class RoiMethod : std::uint8_t {
  Passthrough,    // kind=Roi: only resized
  FingerValleys,  // finger valleys: three in the frame, or two beside the border of a palm the border cuts
  PalmCircle,     // close-up fallback: largest inscribed circle of the palm + principal axis / finger gaps
};

// A successfully located palm.
struct PalmRoi {
  Image image;                      // roi_size x roi_size, 8-bit (kind=Roi: the input resized to a
                                    // square, its aspect ratio not kept)
  std::array<PointF, 4> corners{};  // ROI square in frame coordinates (clockwise from top-left)
  std::vector<PointF> hand_outline; // hand contour in frame coordinates (may be empty for kind=roi)
  std::vector<PointF> key_points;   // FingerValleys: the two tangent points, then the middle valley;
                                    // PalmCircle: the palm centre
  float rotation_degrees = 0;       // hand rotation that was removed: counter-clockwise on screen,
                                    // 0 = fingers up (the ROI's top edge faces the fingers)
  float scale = 1;                  // frame pixels per ROI pixel
  float quality = 0;                // 0..1, higher is better: the geometric mean of the four
                                    // sub-scores of `assessment` (one bad aspect pulls it down)
  CaptureQuality assessment;        // the parts of `quality`, and what to fix first (kind=Roi: only
                                    // exposure is measured, the others are 1)
  RoiMethod method = RoiMethod::Passthrough;  // how the palm was located
};

// What RoiExtractor::extract() gives: a located palm, or the reason (RoiFailure) why there is none.
class PALMVEIN_API RoiResult {
 public:
  // A result holding `roi`.
  static RoiResult success(PalmRoi roi) { RoiResult r; r.roi_ = std::move(roi); return r; }
  // A result without ROI; `why` must not be None (that would read as ok() without an ROI).
  static RoiResult failed(RoiFailure why) { RoiResult r; r.failure_ = why; return r; }
  // True when an ROI was made.
  bool ok() const noexcept { return failure_ == RoiFailure::None; }
  // ok().
  explicit operator bool() const noexcept { return ok(); }
  // Why no ROI was made; None when ok().
  RoiFailure failure() const noexcept { return failure_; }
  const PalmRoi& roi() const;  // throws Error if !ok()

 private:
  RoiFailure failure_ = RoiFailure::None;
  PalmRoi roi_;
};

// Options of RoiExtractor.
struct PALMVEIN_API RoiOptions {
  int roi_size = 128;  // side of the normalised ROI in pixels (16..1024)
  // Throws InvalidArgument when a field is out of range.
  void check() const;
};

// Finds the palm in a sensor frame and cuts the normalised ROI (see the file comment).
class PALMVEIN_API RoiExtractor {
 public:
  // Throws InvalidArgument when the options fail RoiOptions::check().
  explicit RoiExtractor(RoiOptions options = {});
  // Locates the palm in `frame` (8- or 16-bit) and cuts the ROI, or says why it cannot (an empty
  // frame gives NoHand). kind=Roi: the image is only normalised (grey, resized to roi_size).
  // `sink`, when given, receives the stages' images (transparency.hpp); what it throws is passed on.
  RoiResult extract(const Image& frame, ImageKind kind = ImageKind::FullHand,
                    TransparencySink* sink = nullptr) const;
  // The options it was made with.
  const RoiOptions& options() const noexcept { return options_; }

 private:
  RoiOptions options_;
};

// An 8-bit grey copy of `frame` with the hand outline (thin white), the key points (white discs with
// a black ring) and the ROI square (thick white edge outlined in black; its top edge, nearest the
// fingers, is drawn dashed) drawn on it, for capture feedback and debugging. `roi` must come from
// RoiExtractor::extract() on this frame. Throws InvalidArgument for an empty frame. Thread-safe
// (pure function).
PALMVEIN_API Image draw_roi_overlay(const Image& frame, const PalmRoi& roi);

PALMVEIN_NAMESPACE_END

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

// A successfully located palm.
struct PalmRoi {
  Image image;                      // roi_size x roi_size, 8-bit
  std::array<PointF, 4> corners{};  // ROI square in frame coordinates (clockwise from top-left)
  std::vector<PointF> hand_outline; // hand contour in frame coordinates (may be empty for kind=roi)
  std::vector<PointF> key_points;   // finger valleys or fallback points used for alignment
  float rotation_degrees = 0;       // rotation that was removed
  float scale = 1;                  // frame pixels per ROI pixel
  float quality = 0;                // 0..1, higher is better (contrast, sharpness, exposure)
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

struct RoiOptions {
  int roi_size = 128;  // side of the normalised ROI in pixels
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

PALMVEIN_NAMESPACE_END

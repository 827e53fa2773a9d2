// SPDX-License-Identifier: Apache-2.0
// "Transparency" (after SourceAFIS): each extraction stage can hand its intermediate image to a
// sink for debugging. When no sink is given nothing is copied or converted: the cost is one
// null-pointer test per stage.
#pragma once

#include <filesystem>
#include <string_view>

#include "palmvein/export.hpp"
#include "palmvein/image.hpp"

PALMVEIN_NAMESPACE_BEGIN

// Receives the intermediate images of an extraction (RoiExtractor::extract(),
// TemplateExtractor::extract()), called on the extracting thread, in stage order; the ROI stages
// come twice when the palm search retries on another grey scale (the later ones belong to the
// result). An implementation decides its own thread-safety: one sink given to concurrent
// extractions is called concurrently.
class PALMVEIN_API TransparencySink {
 public:
  virtual ~TransparencySink() = default;
  // Return false for stages you do not want; the stage image is then not even produced. The
  // default wants every stage.
  virtual bool wants(std::string_view stage) const { (void)stage; return true; }
  // Receives one stage's image, 8-bit grey, valid only during the call (copy it to keep it). The
  // stages: "01-input", "02-hand-mask" and "03-contour-keypoints" (these two for full-hand frames
  // only), "04-roi", and from TemplateExtractor "06-enhanced", "07-orientation-code",
  // "08-vein-lines", "09-valid-mask". What it throws is passed on to the caller of extract().
  virtual void take(std::string_view stage, const Image& image) = 0;
};

// Writes each stage as DIR/<stage>.png. Thread-safety: one extraction at a time per instance.
class PALMVEIN_API DirectoryTransparency : public TransparencySink {
 public:
  // Creates `directory` (and its parents) if missing; throws IoError if it cannot.
  explicit DirectoryTransparency(std::filesystem::path directory);
  // Writes DIR/<stage>.png (replacing an older file atomically); throws IoError on failure.
  void take(std::string_view stage, const Image& image) override;

 private:
  std::filesystem::path directory_;
};

PALMVEIN_NAMESPACE_END

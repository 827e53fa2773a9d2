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

class PALMVEIN_API TransparencySink {
 public:
  virtual ~TransparencySink() = default;
  // Return false for stages you do not want; the stage image is then not even produced.
  virtual bool wants(std::string_view stage) const { (void)stage; return true; }
  // Receives one stage's image, e.g. "01-input", "02-hand-mask", "05-roi", "07-orientation-code".
  virtual void take(std::string_view stage, const Image& image) = 0;
};

// Writes each stage as DIR/<stage>.png. Thread-safety: one extraction at a time per instance.
class PALMVEIN_API DirectoryTransparency : public TransparencySink {
 public:
  explicit DirectoryTransparency(std::filesystem::path directory);
  void take(std::string_view stage, const Image& image) override;

 private:
  std::filesystem::path directory_;
};

PALMVEIN_NAMESPACE_END

// SPDX-License-Identifier: Apache-2.0
// Uses only palmvein::core: extract two templates from drawn images, match them, read a threshold.
#include <cstdio>

#include <palmvein/palmvein.hpp>

int main() {
  palmvein::Image image(128, 128);
  for (int y = 0; y < image.height(); ++y)
    for (int x = 0; x < image.width(); ++x) image.row8(y)[x] = static_cast<std::uint8_t>((x * y) & 0xff);
  const palmvein::TemplateExtractor extractor;
  const auto result = extractor.extract(image, palmvein::ImageKind::Roi);
  if (!result.ok()) return 1;
  const double self = palmvein::match(*result.templ, *result.templ);
  const auto threshold = palmvein::DecisionThreshold::at_fmr(1e-4);
  std::printf("palmvein %s core only: self score %.3f, threshold %.3f\n", palmvein::version_string(), self,
              threshold.score);
  return self >= threshold.score ? 0 : 1;
}

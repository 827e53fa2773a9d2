// SPDX-License-Identifier: Apache-2.0
// Uses only the installed public API: extract a template from a drawn image, list the sensors.
#include <cstdio>

#include <palmvein/palmvein.hpp>
#include <palmvein/sensor.hpp>

int main() {
  palmvein::Image image(128, 128);
  for (int y = 0; y < image.height(); ++y)
    for (int x = 0; x < image.width(); ++x) image.row8(y)[x] = static_cast<std::uint8_t>((x * y) & 0xff);
  const palmvein::TemplateExtractor extractor;
  const auto result = extractor.extract(image, palmvein::ImageKind::Roi);
  const auto sensors = palmvein::enumerate_sensors();  // the virtual sensor is always there
  std::printf("palmvein %s: extraction %s, %zu sensor(s)\n", palmvein::version_string(),
              result.ok() ? "ok" : "failed", sensors.size());
  if (sensors.empty()) return 1;
  return result.ok() ? 0 : 1;
}

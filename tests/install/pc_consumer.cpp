// SPDX-License-Identifier: Apache-2.0
// Built by install_test.sh with nothing but `pkg-config --cflags --libs palmvein-gallery
// palmvein-drivers`: uses the gallery, the drivers and (through them) the core.
#include <cstdio>

#include <palmvein/gallery.hpp>
#include <palmvein/palmvein.hpp>
#include <palmvein/sensor.hpp>

int main() {
  const auto sensors = palmvein::enumerate_sensors();  // the virtual sensor is always there
  const auto threshold = palmvein::DecisionThreshold::at_fmr(1e-4);
  std::printf("palmvein %s: %zu sensor(s), threshold %.3f at FMR 1e-4, fault '%s'\n", palmvein::version_string(),
              sensors.size(), threshold.score, std::string(palmvein::to_string(palmvein::GalleryFault::NotFound)).c_str());
  return sensors.empty() ? 1 : 0;
}

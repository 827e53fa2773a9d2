// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: the manifest CSV parser (lib/src/evaluation/manifest.cpp) must turn any text into a
// Manifest or a FormatError. An accepted manifest must hold what the format promises.
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string_view>

#include "evaluation/manifest_csv.hpp"
#include "palmvein/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const auto manifest = palmvein::internal::parse_manifest(text, "manifest 'fuzz.csv'", "images");
    if (manifest.size() == 0) std::abort();  // "no images listed" is an error, not an empty manifest
    std::set<std::string_view> paths;
    for (std::size_t i = 0; i < manifest.size(); ++i) {
      const auto& e = manifest.entries()[i];
      if (e.path.empty() || e.subject.empty()) std::abort();
      if (!paths.insert(e.path).second) std::abort();  // duplicate paths are refused
      (void)manifest.image_path(i);
    }
    (void)manifest.has_sessions();
  } catch (const palmvein::FormatError&) {
  }
  return 0;
}

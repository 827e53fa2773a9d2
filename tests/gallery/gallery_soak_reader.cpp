// SPDX-License-Identifier: Apache-2.0
// The long-lived reader of scripts/soak.py: for --seconds it loops what `palmvein verify` and
// `palmvein identify` do, in one process, against a gallery file that other processes change:
// open the gallery read-only, capture a probe from the virtual sensor, verify it against its id,
// identify it among all templates, and identify a palm that was never enrolled. A leak anywhere on
// that path shows as resident memory that keeps growing, which the CLI's short-lived processes hide.
//
// Usage: gallery_soak_reader --db FILE --key-file FILE --palms A-B --stranger P --seconds S
// The gallery holds ids "base-<palm>" for palms A..B (scripts/soak.py enrols them). Prints one JSON
// line at the end; exit 0 when every round matched, 1 when a decision was wrong, 2 on an error.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <tuple>
#include <string>

#include "palmvein/calibration.hpp"
#include "palmvein/enrollment.hpp"
#include "palmvein/sensor.hpp"

using namespace palmvein;

namespace {

// Resident and peak resident memory of this process in KiB (VmRSS, VmHWM of /proc/self/status).
std::pair<long, long> memory_kb() {
  std::ifstream status("/proc/self/status");
  long rss = -1, hwm = -1;
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) rss = std::atol(line.c_str() + 6);
    if (line.rfind("VmHWM:", 0) == 0) hwm = std::atol(line.c_str() + 6);
  }
  return {rss, hwm};
}

// The first template from the virtual sensor, as `palmvein verify --sensor URI` captures it.
std::optional<Template> capture(const TemplateExtractor& extractor, std::uint64_t palm) {
  auto sensor = open_sensor("virtual:?palm=" + std::to_string(palm) + "&fps=0&start=60");
  sensor->start();
  for (int frame = 0; frame < 30; ++frame) {
    auto result = extractor.extract(sensor->grab(std::chrono::milliseconds(3000)).image, ImageKind::FullHand);
    if (result.ok()) return std::move(*result.templ);
  }
  return std::nullopt;
}

std::string value_of(int argc, char** argv, const std::string& flag) {
  for (int i = 1; i + 1 < argc; ++i)
    if (argv[i] == flag) return argv[i + 1];
  std::fprintf(stderr, "gallery_soak_reader: missing %s (see the usage at the top of the source)\n", flag.c_str());
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string db = value_of(argc, argv, "--db"), palms = value_of(argc, argv, "--palms");
  const std::size_t dash = palms.find('-');
  const std::uint64_t first = std::stoull(palms.substr(0, dash));
  const std::uint64_t last = dash == std::string::npos ? first : std::stoull(palms.substr(dash + 1));
  const std::uint64_t stranger = std::stoull(value_of(argc, argv, "--stranger"));
  const auto duration = std::chrono::seconds(std::stol(value_of(argc, argv, "--seconds")));

  GalleryOptions options;
  options.key_file = value_of(argc, argv, "--key-file");
  options.read_only = true;
  options.create = false;
  const double threshold = Calibration::builtin().threshold_for_fmr(1e-4);  // the CLI's default
  const TemplateExtractor extractor;

  long rounds = 0, verifies = 0, identifies = 0, strangers = 0, wrong = 0, errors = 0;
  long rss_start = 0, rss_end = 0, hwm_start = 0, hwm_end = 0;
  const auto start = std::chrono::steady_clock::now();
  for (std::uint64_t palm = first; rounds == 0 || std::chrono::steady_clock::now() - start < duration; ++rounds) {
    if (palm > last) palm = first;
    const std::string id = "base-" + std::to_string(palm);
    try {
      const Gallery gallery = Gallery::open(db, options);
      const auto probe = capture(extractor, palm);
      const auto other = capture(extractor, stranger);
      if (!probe || !other) throw Error("no usable palm from the virtual sensor");
      auto search = make_gallery_search();
      search->load(gallery.templates_of(id));
      ++verifies;
      if (search->rank(*probe, 1).at(0).score < threshold) {
        ++wrong;
        std::fprintf(stderr, "round %ld: %s was not verified\n", rounds, id.c_str());
      }
      search->load(gallery.all_templates());
      ++identifies;
      const auto found = search->rank(*probe, 1);
      if (found.empty() || found[0].id != id || found[0].score < threshold) {
        ++wrong;
        std::fprintf(stderr, "round %ld: %s was not identified\n", rounds, id.c_str());
      }
      ++strangers;
      const auto nobody = search->rank(*other, 1);
      if (!nobody.empty() && nobody[0].score >= threshold) {
        ++wrong;
        std::fprintf(stderr, "round %ld: the never-enrolled palm matched %s\n", rounds, nobody[0].id.c_str());
      }
    } catch (const std::exception& e) {
      ++errors;
      std::fprintf(stderr, "round %ld: %s\n", rounds, e.what());
    }
    ++palm;
    // The first quarter of the run warms every cache (OpenCV buffers, the calibration, SQLite's page
    // cache, one malloc arena per search thread, which a loaded machine brings into use later):
    // growth is measured from the first round that ends after it.
    if (rss_start == 0 && std::chrono::steady_clock::now() - start >= duration / 4)
      std::tie(rss_start, hwm_start) = memory_kb();
  }
  std::tie(rss_end, hwm_end) = memory_kb();
  std::printf("{\"rounds\": %ld, \"verify\": %ld, \"identify\": %ld, \"identify_stranger\": %ld, \"wrong\": %ld, "
              "\"errors\": %ld, \"rss_start_kb\": %ld, \"rss_end_kb\": %ld, \"hwm_start_kb\": %ld, \"hwm_end_kb\": %ld}\n",
              rounds, verifies, identifies, strangers, wrong, errors, rss_start, rss_end, hwm_start, hwm_end);
  return errors ? 2 : wrong ? 1 : 0;
}

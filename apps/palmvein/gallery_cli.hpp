// SPDX-License-Identifier: Apache-2.0
// Shared plumbing of the gallery subcommands (enroll, verify, identify, list, delete, demo):
// the --db/--key-file options, frame input from a sensor or image files, probe capture, thresholds.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "palmvein/enrollment.hpp"
#include "palmvein/extractor.hpp"
#include "palmvein/gallery.hpp"
#include "palmvein/image.hpp"

namespace palmvein::cli {

struct GalleryArgs {
  std::string db;
  std::string key_file;
};
void add_gallery_args(CLI::App* cmd, GalleryArgs& args);
// Opens the gallery; tells the user on stderr when a new key file was created (never the key).
Gallery open_gallery(const GalleryArgs& args, bool create);
// Opens an existing gallery for a command that only reads (verify, identify, list): read-only, so that
// a read-only file or folder works and nothing is ever written — except once after an upgrade, when
// the schema must be migrated (that needs the key and write access, as any write does).
Gallery open_gallery_for_reading(const GalleryArgs& args);

struct InputArgs {
  std::string sensor;               // --sensor URI
  std::vector<std::string> images;  // positional image files
  bool roi = false;                 // images are palm ROIs, not full-hand frames
  int max_frames = 60;              // frames to try before giving up
  int timeout_ms = 3000;            // per-frame grab timeout
};
void add_input_args(CLI::App* cmd, InputArgs& args, int default_max_frames);

// Frames from a sensor or from image files. next() returns nothing when the input is exhausted.
class FrameSource {
 public:
  virtual ~FrameSource() = default;
  virtual std::optional<Image> next() = 0;
  virtual ImageKind kind() const = 0;
  virtual std::string describe() const = 0;
};
// Throws InvalidArgument when neither or both of --sensor and images are given.
std::unique_ptr<FrameSource> open_frames(const InputArgs& args);

// Both hands of a person (--left SRC --right SRC): each SRC is a sensor URI or an image file.
struct HandSources {
  std::string left;
  std::string right;
  bool any() const noexcept { return !left.empty() || !right.empty(); }
};
// Adds --left and --right; `what` ends their help ("to identify", "to verify", "to enrol").
void add_hand_source_args(CLI::App* cmd, HandSources& sources, const std::string& what);
// Throws InvalidArgument when --left/--right are mixed with --sensor or image files.
void check_hand_sources(const HandSources& sources, const InputArgs& input);
// Frames of one hand's SRC: an image file when SRC names an existing file or has no ':' (an image
// path), otherwise a sensor URI (scheme:...). --roi and --timeout-ms of `input` apply.
std::unique_ptr<FrameSource> open_hand_source(const std::string& src, const InputArgs& input);
// The person probe of --left/--right: each given hand captured from its source in turn, left
// first, with "left hand:"/"right hand:" guidance on stderr unless quiet. Throws Error naming the
// hand when one yields no template; `frames` gets the frames used over both.
PersonProbe capture_person(const HandSources& sources, const InputArgs& input, const TemplateExtractor& extractor,
                           bool quiet, int* frames = nullptr);

// Grabs frames until one yields a template; reports guidance for bad frames on stderr unless quiet.
// Returns nothing and sets `reason` when max_frames pass or the input ends without one.
std::optional<Template> capture_probe(FrameSource& source, const TemplateExtractor& extractor, int max_frames,
                                      bool quiet, std::string& reason, int* frames_used = nullptr);

struct ThresholdArgs {
  double fmr = 1e-4;                 // target false-match rate per comparison
  std::optional<double> threshold;   // explicit score threshold (overrides --fmr)
};
void add_threshold_args(CLI::App* cmd, ThresholdArgs& args);
// --threshold if given, else the calibration's threshold at --fmr (checked either way).
DecisionThreshold resolve_threshold(const ThresholdArgs& args);
// The same for a decision on both hands: --fmr is the rate per person, which the library turns into the
// fused threshold (two_hand_threshold); it may lie below one hand's calibrated range (down to its
// square). Checked here, before any capture.
DecisionThreshold resolve_two_hand_threshold(const ThresholdArgs& args);

// One JSON document as printed by the gallery commands: non-ASCII and control characters as \u escapes
// and invalid UTF-8 (possible in a name stored by an older gallery) replaced, so that the output is
// always valid JSON and never drives a terminal.
inline std::string json_text(const nlohmann::json& j, int indent = -1) {
  return j.dump(indent, ' ', true, nlohmann::json::error_handler_t::replace);
}

// "1.0e-04" style, for messages.
std::string format_fmr(double fmr);
std::string format_score(double score);
// "hand L", or "both hands: L 0.712, R 0.690" for a two-hand decision or candidate.
std::string hands_text(const VerificationResult& result);
std::string hands_text(const IdentityScore& candidate);
// " (FMR 1.0e-04)" for a threshold read at a rate; for two hands " (FMR 1.0e-04 per person, min of
// the hands, each at 1.0e-02)"; empty for a score threshold.
std::string rule_text(const DecisionThreshold& threshold, bool two_hands);

}  // namespace palmvein::cli

// SPDX-License-Identifier: Apache-2.0
#include "gallery_cli.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "palmvein/calibration.hpp"
#include "palmvein/error.hpp"
#include "palmvein/sensor.hpp"

namespace palmvein::cli {

void add_gallery_args(CLI::App* cmd, GalleryArgs& args) {
  cmd->add_option("--db", args.db, "Gallery database file (SQLite)")->required();
  cmd->add_option("--key-file", args.key_file,
                  "Key file (exactly 64 hex digits and an optional newline, mode 0600); default $PALMVEIN_KEY_FILE, then "
                  "$XDG_CONFIG_HOME/palmvein/gallery.key (created for a new gallery)");
}

Gallery open_gallery(const GalleryArgs& args, bool create) {
  GalleryOptions options;
  options.key_file = args.key_file;
  options.create = create;
  KeyNotice notice;
  Gallery gallery = Gallery::open(args.db, options, &notice);
  if (notice.created)
    std::fprintf(stderr, "palmvein: created a new gallery key in '%s' (keep it: the gallery cannot be read without it)\n",
                 notice.key_file.c_str());
  return gallery;
}

Gallery open_gallery_for_reading(const GalleryArgs& args) {
  GalleryOptions options;
  options.key_file = args.key_file;
  options.create = false;
  options.read_only = true;
  try {
    return Gallery::open(args.db, options);
  } catch (const GalleryError& e) {
    if (e.fault() != GalleryFault::NeedsMigration) throw;
  }
  return open_gallery(args, false);  // migrates
}

void add_input_args(CLI::App* cmd, InputArgs& args, int default_max_frames) {
  args.max_frames = default_max_frames;
  cmd->add_option("--sensor", args.sensor, "Capture from this sensor URI, e.g. 'virtual:?palm=7'");
  cmd->add_option("images", args.images, "Image files to use instead of a sensor");
  cmd->add_flag("--roi", args.roi, "The images are palm ROIs rather than full-hand frames");
  cmd->add_option("--max-frames", args.max_frames, "Give up after this many frames")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--timeout-ms", args.timeout_ms, "Per-frame sensor timeout in milliseconds")
      ->capture_default_str()
      ->check(CLI::Range(1, 600000));
}

namespace {

class SensorFrames final : public FrameSource {
 public:
  SensorFrames(const std::string& uri, std::chrono::milliseconds timeout) : uri_(uri), timeout_(timeout) {
    sensor_ = open_sensor(uri);
    sensor_->start();
  }
  ~SensorFrames() override {
    try {
      sensor_->stop();
    } catch (...) {
    }
  }
  std::optional<Image> next() override { return sensor_->grab(timeout_).image; }
  ImageKind kind() const override { return ImageKind::FullHand; }
  std::string describe() const override { return "sensor '" + uri_ + "'"; }

 private:
  std::string uri_;
  std::chrono::milliseconds timeout_;
  std::unique_ptr<Sensor> sensor_;
};

class FileFrames final : public FrameSource {
 public:
  FileFrames(std::vector<std::string> files, bool roi) : files_(std::move(files)), roi_(roi) {}
  std::optional<Image> next() override {
    if (index_ >= files_.size()) return std::nullopt;
    return read_image(files_[index_++]);
  }
  ImageKind kind() const override { return roi_ ? ImageKind::Roi : ImageKind::FullHand; }
  std::string describe() const override {
    return files_.size() == 1 ? "image '" + files_[0] + "'" : std::to_string(files_.size()) + " images";
  }

 private:
  std::vector<std::string> files_;
  bool roi_;
  std::size_t index_ = 0;
};

}  // namespace

std::unique_ptr<FrameSource> open_frames(const InputArgs& args) {
  if (args.sensor.empty() == args.images.empty())
    throw InvalidArgument("give either --sensor URI or image files (not both)");
  if (!args.sensor.empty()) {
    if (args.roi) throw InvalidArgument("--roi applies to image files, not to a sensor");
    return std::make_unique<SensorFrames>(args.sensor, std::chrono::milliseconds(args.timeout_ms));
  }
  return std::make_unique<FileFrames>(args.images, args.roi);
}

std::optional<Template> capture_probe(FrameSource& source, const TemplateExtractor& extractor, int max_frames,
                                      bool quiet, std::string& reason, int* frames_used) {
  std::string last_problem;
  int frames = 0;
  for (; frames < max_frames;) {
    auto frame = source.next();
    if (!frame) break;
    ++frames;
    ExtractResult result = extractor.extract(*frame, source.kind());
    if (frames_used) *frames_used = frames;
    if (result.ok()) return std::move(*result.templ);
    last_problem = std::string(guidance(result.roi.failure()));
    if (!quiet) std::fprintf(stderr, "frame %d: %s\n", frames, last_problem.c_str());
  }
  if (frames_used) *frames_used = frames;
  reason = "no usable palm in " + std::to_string(frames) + " frame(s) from " + source.describe() +
           (last_problem.empty() ? std::string() : " (last problem: " + last_problem + ")");
  return std::nullopt;
}

void add_hand_source_args(CLI::App* cmd, HandSources& sources, const std::string& what) {
  cmd->add_option("--left", sources.left, "Left palm " + what + ": a sensor URI or an image file (with --right: both hands)");
  cmd->add_option("--right", sources.right, "Right palm " + what + ": a sensor URI or an image file (with --left: both hands)");
}

void check_hand_sources(const HandSources& sources, const InputArgs& input) {
  if (sources.any() && (!input.sensor.empty() || !input.images.empty()))
    throw InvalidArgument("give the palm either as --left/--right sources or as --sensor URI / image files, not both");
}

std::unique_ptr<FrameSource> open_hand_source(const std::string& src, const InputArgs& input) {
  namespace fs = std::filesystem;
  std::error_code ec;
  InputArgs one = input;
  one.sensor.clear();
  one.images.clear();
  if (fs::is_regular_file(src, ec) || src.find(':') == std::string::npos)
    one.images = {src};
  else
    one.sensor = src;
  return open_frames(one);
}

PersonProbe capture_person(const HandSources& sources, const InputArgs& input, const TemplateExtractor& extractor,
                           bool quiet, int* frames) {
  PersonProbe person;
  int total = 0;
  for (const bool left : {true, false}) {
    const std::string& src = left ? sources.left : sources.right;
    if (src.empty()) continue;
    const char* hand = left ? "left" : "right";
    auto source = open_hand_source(src, input);
    if (!quiet) std::fprintf(stderr, "%s hand: present the %s palm (%s)\n", hand, hand, source->describe().c_str());
    std::string reason;
    int used = 0;
    auto probe = capture_probe(*source, extractor, input.max_frames, quiet, reason, &used);
    total += used;
    if (!probe) throw Error(std::string(hand) + " hand: " + reason);
    (left ? person.left : person.right) = std::move(*probe);
  }
  if (frames) *frames = total;
  return person;
}

void add_threshold_args(CLI::App* cmd, ThresholdArgs& args) {
  // No CLI11 range check: Calibration::threshold_for_fmr checks the rate (NaN, infinities and the
  // calibrated range too) and its one message is what the user sees.
  cmd->add_option("--fmr", args.fmr,
                  "Target false-match rate per comparison (both hands: per person compared); picks the threshold from the "
                  "calibration")
      ->capture_default_str();
  cmd->add_option("--threshold", args.threshold, "Explicit score threshold in [0, 1] (overrides --fmr)")
      ->check(CLI::Range(0.0, 1.0));
}

DecisionThreshold resolve_threshold(const ThresholdArgs& args) {
  // Checked even when --threshold overrides it: a bad --fmr is bad input either way.
  const DecisionThreshold from_fmr = DecisionThreshold::at_fmr(args.fmr);
  return args.threshold ? DecisionThreshold::at_score(*args.threshold) : from_fmr;
}

DecisionThreshold resolve_two_hand_threshold(const ThresholdArgs& args) {
  DecisionThreshold asked;
  asked.fmr = args.fmr;
  (void)two_hand_threshold(asked);  // checks the rate and its per-hand square root
  return args.threshold ? DecisionThreshold::at_score(*args.threshold) : asked;
}

std::string format_fmr(double fmr) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1e", fmr);
  return buffer;
}

std::string format_score(double score) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.3f", score);
  return buffer;
}

namespace {

std::string two_hands_text(const std::optional<double>& left, const std::optional<double>& right) {
  return "both hands: L " + format_score(*left) + ", R " + format_score(*right);
}

}  // namespace

std::string hands_text(const VerificationResult& result) {
  return result.two_hands ? two_hands_text(result.left_score, result.right_score)
                          : "hand " + std::string(to_string(result.hand));
}

std::string hands_text(const IdentityScore& candidate) {
  return candidate.left_score && candidate.right_score ? two_hands_text(candidate.left_score, candidate.right_score)
                                                       : "hand " + std::string(to_string(candidate.hand));
}

std::string rule_text(const DecisionThreshold& threshold, bool two_hands) {
  if (!threshold.fmr) return two_hands ? " (min of the hands)" : "";
  if (!two_hands) return " (FMR " + format_fmr(*threshold.fmr) + ")";
  return " (FMR " + format_fmr(*threshold.fmr) + " per person, min of the hands, each at " +
         format_fmr(two_hand_per_hand_fmr(*threshold.fmr)) + ")";
}

}  // namespace palmvein::cli

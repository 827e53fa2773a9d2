// SPDX-License-Identifier: Apache-2.0
// palmvein enroll: capture K good, mutually consistent samples of one palm (sensor or image files)
// and store them in the gallery in one transaction. --replace re-enrols, --add adds templates.
#include <cstdio>
#include <filesystem>
#include <memory>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "gallery_cli.hpp"
#include "palmvein/error.hpp"

namespace palmvein::cli {
namespace {

struct EnrollArgs {
  GalleryArgs gallery;
  InputArgs input;
  std::string id;
  std::string name;
  std::string hand = "U";
  int samples = 3;
  bool replace = false;
  bool add = false;
  bool json = false;
  bool quiet = false;
  std::optional<double> consistency;
};

// Enrols into `gallery`; `created_key` is set once Gallery::open has written a new key.
int enroll_into(const EnrollArgs& a, KeyNotice& key_notice) {
  const Hand hand = parse_hand(a.hand);
  const EnrollMode mode = a.replace ? EnrollMode::Replace : a.add ? EnrollMode::Add : EnrollMode::Create;
  EnrollmentOptions options;
  options.samples = a.samples;
  options.max_frames = std::max(a.input.max_frames, a.samples);
  if (a.consistency) options.consistency_threshold = *a.consistency;  // default: the library's policy
  options.check();

  // Check the id and name, then open the gallery: a bad name, a wrong key or an existing identity
  // fails before anyone presents a palm. (Gallery::enroll checks the same again.)
  check_identity_id(a.id);
  check_display_name(a.name);
  GalleryOptions gallery_options;
  gallery_options.key_file = a.gallery.key_file;
  gallery_options.create = true;
  Gallery gallery = Gallery::open(a.gallery.db, gallery_options, &key_notice);
  if (mode == EnrollMode::Create && gallery.find(a.id, hand))
    throw GalleryError(GalleryFault::AlreadyExists, "identity '" + a.id + "' (hand " + std::string(to_string(hand)) +
                                                        ") is already enrolled; use --replace to re-enrol or --add to add templates");
  if (mode == EnrollMode::Add && !gallery.find(a.id, hand))
    throw GalleryError(GalleryFault::NotFound,
                       "identity '" + a.id + "' (hand " + std::string(to_string(hand)) + ") is not enrolled; nothing to add to");

  const TemplateExtractor extractor;
  EnrollmentSession session(extractor, options);
  auto source = open_frames(a.input);
  while (session.state() == EnrollmentState::Collecting) {
    auto frame = source->next();
    if (!frame) {
      session.finish_input();
      break;
    }
    const FrameFeedback fb = session.add(*frame, source->kind());
    if (!a.quiet && session.state() != EnrollmentState::Failed)
      std::fprintf(stderr, "frame %d: %s\n", fb.frames, fb.message.c_str());
  }
  if (session.state() != EnrollmentState::Complete) throw Error("enrolment of '" + a.id + "' failed: " + session.failure_reason());

  EnrollRequest request;
  request.id = a.id;
  request.display_name = a.name;
  request.hand = hand;
  request.mode = mode;
  request.algorithm = session.templates().front().algorithm();
  request.templates = session.template_bytes();
  const IdentityInfo info = gallery.enroll(request);
  if (key_notice.created)
    std::fprintf(stderr, "palmvein: created a new gallery key in '%s' (keep it: the gallery cannot be read without it)\n",
                 key_notice.key_file.c_str());

  const auto pairs = session.pairwise_scores();
  const double min_pair = pairs.empty() ? 1.0 : *std::min_element(pairs.begin(), pairs.end());
  if (a.json) {
    nlohmann::json j;
    j["id"] = info.id;
    j["name"] = info.display_name;
    j["hand"] = std::string(to_string(info.hand));
    j["mode"] = a.replace ? "replace" : a.add ? "add" : "create";
    j["templates_added"] = request.templates.size();
    j["templates_total"] = info.template_count;
    j["frames"] = session.frames_seen();
    j["pair_scores"] = pairs;
    j["consistency_threshold"] = options.consistency_threshold;
    std::printf("%s\n", json_text(j).c_str());
  } else {
    std::printf("enrolled '%s' (hand %s): %zu new template(s), %d in total; %d frame(s); samples agree "
                "(lowest pair score %s >= %s)\n",
                escape_text(info.id).c_str(), std::string(to_string(info.hand)).c_str(), request.templates.size(),
                info.template_count, session.frames_seen(), format_score(min_pair).c_str(),
                format_score(options.consistency_threshold).c_str());
  }
  return kExitOk;
}

// A first enrolment that fails (no palm, sensor unplugged, bad input) leaves no empty gallery and no
// unused key behind: what this run created, it removes. An existing gallery is never removed.
int run_enroll(const EnrollArgs& a) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path db(a.gallery.db);
  const bool gallery_existed = fs::exists(db, ec) && fs::file_size(db, ec) > 0;
  const bool db_file_existed = fs::exists(db, ec);
  KeyNotice key_notice;
  try {
    return enroll_into(a, key_notice);
  } catch (...) {
    if (!gallery_existed) {
      if (!db_file_existed) fs::remove(db, ec);
      for (const char* suffix : {"-wal", "-shm", "-journal"}) fs::remove(db.string() + suffix, ec);
    }
    if (key_notice.created) fs::remove(key_notice.key_file, ec);
    throw;
  }
}

}  // namespace

void add_enroll_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<EnrollArgs>();
  CLI::App* cmd = app.add_subcommand("enroll", "Enrol a palm into the gallery (from a sensor or image files)");
  add_gallery_args(cmd, args->gallery);
  cmd->add_option("--id", args->id, "Identity id, e.g. alice")->required();
  cmd->add_option("--name", args->name, "Display name");
  cmd->add_option("--hand", args->hand, "Hand: L, R or U (unknown)")->capture_default_str();
  add_input_args(cmd, args->input, 60);
  cmd->add_option("--samples", args->samples, "Good samples (templates) to keep")
      ->capture_default_str()
      ->check(CLI::Range(1, 16));
  auto* replace = cmd->add_flag("--replace", args->replace, "Re-enrol: replace the identity's templates");
  auto* add = cmd->add_flag("--add", args->add, "Template update: add to the identity's templates");
  replace->excludes(add);
  cmd->add_option("--consistency-threshold", args->consistency,
                  "Score every pair of samples must reach (default: the calibrated score at FMR 1e-2)")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_flag("--json", args->json, "Print the result as JSON");
  cmd->add_flag("-q,--quiet", args->quiet, "No per-frame progress on stderr");
  cmd->callback([args, &exit_code] { exit_code = run_enroll(*args); });
}

}  // namespace palmvein::cli

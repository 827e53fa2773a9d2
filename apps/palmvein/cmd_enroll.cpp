// SPDX-License-Identifier: Apache-2.0
// palmvein enroll: capture K good, mutually consistent samples of one palm (sensor or image files)
// and store them in the gallery in one transaction. --replace re-enrols, --add adds templates.
// --hand both enrols both palms of a person (left, then right) in one transaction: from
// --left SRC --right SRC, or from one --sensor with the person changing hands when told.
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <memory>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "gallery_cli.hpp"
#include "palmvein/error.hpp"
#include "palmvein/matcher.hpp"

namespace palmvein::cli {
namespace {

struct EnrollArgs {
  GalleryArgs gallery;
  InputArgs input;
  HandSources hands;
  std::string id;
  std::string name;
  std::string hand = "U";
  bool hand_given = false;  // --hand was on the command line
  int samples = 3;
  bool replace = false;
  bool add = false;
  bool json = false;
  bool quiet = false;
  std::optional<double> consistency;
};

bool is_both(const std::string& hand) {
  std::string lower;
  for (const char c : hand) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower == "both" || lower == "b";
}

// One hand to enrol and where its frames come from.
struct HandPlan {
  Hand hand;
  std::string source;  // a --left/--right SRC; empty: the --sensor or image files
};

// The hands to enrol, in capture order (left first), from --hand and --left/--right.
std::vector<HandPlan> plan_hands(const EnrollArgs& a) {
  check_hand_sources(a.hands, a.input);
  const bool both = is_both(a.hand);
  if (a.hands.any()) {
    std::vector<HandPlan> plan;
    if (!a.hands.left.empty()) plan.push_back({Hand::Left, a.hands.left});
    if (!a.hands.right.empty()) plan.push_back({Hand::Right, a.hands.right});
    if (both && plan.size() != 2) throw InvalidArgument("--hand both needs both --left SRC and --right SRC (or one --sensor)");
    if (a.hand_given && !both && (plan.size() != 1 || parse_hand(a.hand) != plan.front().hand))
      throw InvalidArgument("--hand " + a.hand + " contradicts the --left/--right sources given");
    return plan;
  }
  if (both) {
    if (a.input.sensor.empty())
      throw InvalidArgument("--hand both captures from one --sensor (left palm, then right) or from --left SRC --right SRC; "
                            "image files cannot say which hand they show");
    return {{Hand::Left, {}}, {Hand::Right, {}}};
  }
  return {{parse_hand(a.hand), {}}};
}

// Whether `probe` scores at least `threshold` against one of `templates`.
bool matches_any(const Template& probe, const std::vector<Template>& templates, double threshold) {
  const Matcher matcher(probe);
  return std::any_of(templates.begin(), templates.end(), [&](const Template& t) { return matcher.score(t) >= threshold; });
}


// Enrols into `gallery`; `created_key` is set once Gallery::open has written a new key.
int enroll_into(const EnrollArgs& a, KeyNotice& key_notice) {
  const std::vector<HandPlan> plan = plan_hands(a);
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
  for (const HandPlan& h : plan) {
    if (mode == EnrollMode::Create && gallery.find(a.id, h.hand))
      throw GalleryError(GalleryFault::AlreadyExists, "identity '" + a.id + "' (hand " + std::string(to_string(h.hand)) +
                                                          ") is already enrolled; use --replace to re-enrol or --add to add templates");
    if (mode == EnrollMode::Add && !gallery.find(a.id, h.hand))
      throw GalleryError(GalleryFault::NotFound,
                         "identity '" + a.id + "' (hand " + std::string(to_string(h.hand)) + ") is not enrolled; nothing to add to");
  }

  const TemplateExtractor extractor;
  const bool two = plan.size() == 2;
  std::vector<EnrollmentSession> sessions;
  std::unique_ptr<FrameSource> shared_source;  // --sensor / image files: one source for every hand
  for (const HandPlan& h : plan) {
    std::unique_ptr<FrameSource> own;
    FrameSource* source = nullptr;
    if (!h.source.empty()) {
      own = open_hand_source(h.source, a.input);
      source = own.get();
    } else {
      if (!shared_source) shared_source = open_frames(a.input);
      source = shared_source.get();
    }
    // From one sensor the person changes hands: until then frames still show the left palm, and are
    // skipped (they would fail the cross-check below).
    const bool change_hands = two && h.hand == Hand::Right && h.source.empty();
    if (two && !a.quiet)
      std::fprintf(stderr, "%s hand: %spresent the %s palm of '%s' (%s)\n", hand_name(h.hand).c_str(),
                   change_hands ? "now change hands and " : "", hand_name(h.hand).c_str(), escape_text(a.id).c_str(),
                   source->describe().c_str());
    EnrollmentSession& session = sessions.emplace_back(extractor, options);
    int skipped = 0;
    while (session.state() == EnrollmentState::Collecting) {
      auto frame = source->next();
      if (!frame) {
        session.finish_input();
        break;
      }
      ExtractResult extracted = extractor.extract(*frame, source->kind());
      if (change_hands && extracted.ok() && options.consistency_threshold > 0 &&
          matches_any(*extracted.templ, sessions.front().templates(), options.consistency_threshold)) {
        if (++skipped >= options.max_frames)
          throw Error("enrolment of '" + a.id + "' (right hand) failed: " + std::to_string(skipped) +
                      " frames still showed the left palm; change hands when told");
        if (!a.quiet) std::fprintf(stderr, "right hand: still the left palm: change hands\n");
        continue;
      }
      const FrameFeedback fb = session.add(extracted);
      if (!a.quiet && session.state() != EnrollmentState::Failed)
        std::fprintf(stderr, "%sframe %d: %s\n", two ? (hand_name(h.hand) + " hand: ").c_str() : "", fb.frames, fb.message.c_str());
    }
    if (session.state() != EnrollmentState::Complete)
      throw Error("enrolment of '" + a.id + "'" + (two ? " (" + hand_name(h.hand) + " hand)" : std::string()) +
                  " failed: " + session.failure_reason());
  }
  // Two hands are two different palms: right-hand samples that match the left ones mean the same palm
  // was presented twice (the person did not change hands).
  if (two && options.consistency_threshold > 0) {
    double worst = kLowestScore;
    for (const Template& l : sessions[0].templates()) {
      const Matcher matcher(l);
      for (const Template& r : sessions[1].templates()) worst = std::max(worst, matcher.score(r));
    }
    if (worst >= options.consistency_threshold)
      throw Error("enrolment of '" + a.id + "' failed: the right-hand samples match the left-hand ones (score " +
                  format_score(worst) + " >= " + format_score(options.consistency_threshold) +
                  "): the same palm was presented twice; present the other hand");
  }

  std::vector<EnrollRequest> requests;
  for (std::size_t i = 0; i < plan.size(); ++i) {
    EnrollRequest request;
    request.id = a.id;
    request.display_name = a.name;
    request.hand = plan[i].hand;
    request.mode = mode;
    request.algorithm = sessions[i].templates().front().algorithm();
    request.templates = sessions[i].template_bytes();
    requests.push_back(std::move(request));
  }
  const std::vector<IdentityInfo> infos = gallery.enroll(requests);  // both hands, or (error) neither
  if (key_notice.created)
    std::fprintf(stderr, "palmvein: created a new gallery key in '%s' (keep it: the gallery cannot be read without it)\n",
                 key_notice.key_file.c_str());

  nlohmann::json hands_json = nlohmann::json::array();
  for (std::size_t i = 0; i < plan.size(); ++i) {
    const IdentityInfo& info = infos[i];
    const EnrollmentSession& session = sessions[i];
    const auto pairs = session.pairwise_scores();
    const double min_pair = pairs.empty() ? 1.0 : *std::min_element(pairs.begin(), pairs.end());
    if (a.json) {
      nlohmann::json j;
      j["id"] = info.id;
      j["name"] = info.display_name;
      j["hand"] = std::string(to_string(info.hand));
      j["mode"] = a.replace ? "replace" : a.add ? "add" : "create";
      j["templates_added"] = requests[i].templates.size();
      j["templates_total"] = info.template_count;
      j["frames"] = session.frames_seen();
      j["pair_scores"] = pairs;
      j["consistency_threshold"] = options.consistency_threshold;
      hands_json.push_back(j);
    } else {
      std::printf("enrolled '%s' (hand %s): %zu new template(s), %d in total; %d frame(s); samples agree "
                  "(lowest pair score %s >= %s)\n",
                  escape_text(info.id).c_str(), std::string(to_string(info.hand)).c_str(), requests[i].templates.size(),
                  info.template_count, session.frames_seen(), format_score(min_pair).c_str(),
                  format_score(options.consistency_threshold).c_str());
    }
  }
  if (a.json) {
    // One hand: that hand's object (as before); two hands: {"id", "hands": [left, right]}.
    if (!two) {
      std::printf("%s\n", json_text(hands_json[0]).c_str());
    } else {
      nlohmann::json j;
      j["id"] = infos[0].id;
      j["name"] = infos[0].display_name;
      j["hand"] = "both";
      j["mode"] = a.replace ? "replace" : a.add ? "add" : "create";
      j["hands"] = hands_json;
      std::printf("%s\n", json_text(j).c_str());
    }
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
  cmd->add_option("--hand", args->hand,
                  "Hand: L, R, U (unknown) or both (left, then right: from one --sensor, the person changing hands when "
                  "told, or from --left/--right)")
      ->capture_default_str();
  add_input_args(cmd, args->input, 60);
  add_hand_source_args(cmd, args->hands, "to enrol");
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
  cmd->callback([args, cmd, &exit_code] {
    args->hand_given = cmd->get_option("--hand")->count() > 0;
    exit_code = run_enroll(*args);
  });
}

}  // namespace palmvein::cli

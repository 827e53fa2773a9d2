// SPDX-License-Identifier: Apache-2.0
// palmvein identify: 1:N — who is this? Exit 0 found, 1 not found, 2 error (as grep does).
// --left SRC --right SRC searches with both hands (Identifier::identify(PersonProbe)).
#include <cstdio>
#include <memory>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "gallery_cli.hpp"
#include "palmvein/error.hpp"

namespace palmvein::cli {
namespace {

struct IdentifyArgs {
  GalleryArgs gallery;
  InputArgs input;
  HandSources hands;
  ThresholdArgs threshold;
  int top = 3;
  bool json = false;
  bool quiet = false;
};

int run_identify(const IdentifyArgs& a) {
  check_hand_sources(a.hands, a.input);
  const bool both = !a.hands.left.empty() && !a.hands.right.empty();
  const DecisionThreshold threshold = both ? resolve_two_hand_threshold(a.threshold) : resolve_threshold(a.threshold);
  Gallery gallery = open_gallery_for_reading(a.gallery);
  const Identifier identifier = Identifier::load(gallery);  // decrypts everything; a tampered row is an error here

  const TemplateExtractor extractor;
  int frames = 0;
  const auto k = static_cast<std::size_t>(a.top);
  IdentificationResult result;
  if (a.hands.any()) {
    result = identifier.identify(capture_person(a.hands, a.input, extractor, a.quiet || a.json, &frames), threshold, k);
  } else {
    auto source = open_frames(a.input);
    std::string reason;
    const auto probe = capture_probe(*source, extractor, a.input.max_frames, a.quiet || a.json, reason, &frames);
    if (!probe) throw Error(reason);
    result = identifier.identify(*probe, threshold, k);
  }
  auto hand_of = [&](const IdentityScore& c) { return c.left_score && c.right_score ? std::string("both") : std::string(to_string(c.hand)); };
  if (a.json) {
    nlohmann::json j;
    j["decision"] = result.found() ? "found" : "not-found";
    j["id"] = result.identity ? nlohmann::json(result.identity->id) : nlohmann::json(nullptr);
    j["hand"] = result.identity ? nlohmann::json(hand_of(*result.identity)) : nlohmann::json(nullptr);
    j["hands_searched"] = result.two_hands ? "both" : "one";
    if (result.two_hands) j["fusion"] = "min";
    j["threshold"] = result.threshold.score;
    if (result.threshold.fmr) j["fmr"] = *result.threshold.fmr;
    j["templates_compared"] = result.templates_compared;
    j["frames"] = frames;
    nlohmann::json candidates = nlohmann::json::array();
    for (const auto& c : result.candidates) {
      nlohmann::json cj{{"id", c.id}, {"hand", hand_of(c)}, {"score", c.score}};
      if (c.left_score) cj["left_score"] = *c.left_score;
      if (c.right_score) cj["right_score"] = *c.right_score;
      candidates.push_back(cj);
    }
    j["candidates"] = candidates;
    std::printf("%s\n", json_text(j).c_str());
  } else if (result.candidates.empty()) {
    std::printf("not found: %s\n", result.two_hands ? ("nobody in the gallery '" + escape_text(a.gallery.db) +
                                                        "' is enrolled with both hands").c_str()
                                                     : ("the gallery '" + escape_text(a.gallery.db) + "' is empty").c_str());
  } else {
    const auto& best = result.candidates.front();
    std::printf("%s: '%s' (%s) score %s %s threshold %s%s\n", result.found() ? "found" : "not found",
                escape_text(best.id).c_str(), hands_text(best).c_str(), format_score(best.score).c_str(),
                result.found() ? ">=" : "<", format_score(result.threshold.score).c_str(),
                rule_text(result.threshold, result.two_hands).c_str());
    if (!result.found()) std::printf("  (best candidate shown; no identity reaches the threshold)\n");
  }
  return result.found() ? kExitOk : kExitNo;
}

}  // namespace

void add_identify_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<IdentifyArgs>();
  CLI::App* cmd = app.add_subcommand("identify", "1:N identification in the gallery (exit 0 found, 1 not found, 2 error)");
  add_gallery_args(cmd, args->gallery);
  add_input_args(cmd, args->input, 30);
  add_hand_source_args(cmd, args->hands, "to identify");
  add_threshold_args(cmd, args->threshold);
  cmd->add_option("--top", args->top, "Candidates to report")->capture_default_str()->check(CLI::Range(1, 1000));
  cmd->add_flag("--json", args->json, "Print the result as JSON");
  cmd->add_flag("-q,--quiet", args->quiet, "No per-frame guidance on stderr");
  cmd->callback([args, &exit_code] { exit_code = run_identify(*args); });
}

}  // namespace palmvein::cli

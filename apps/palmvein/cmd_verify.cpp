// SPDX-License-Identifier: Apache-2.0
// palmvein verify: 1:1 — does the presented palm belong to --id? Exit 0 accepted, 1 rejected,
// 2 error (as grep does). --left SRC --right SRC presents both hands: each is compared with that
// hand's enrolment and the decision is on the fused score (Verifier::verify(PersonProbe)).
#include <cstdio>
#include <memory>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "gallery_cli.hpp"
#include "palmvein/error.hpp"

namespace palmvein::cli {
namespace {

struct VerifyArgs {
  GalleryArgs gallery;
  InputArgs input;
  HandSources hands;
  ThresholdArgs threshold;
  std::string id;
  std::string hand;
  bool json = false;
  bool quiet = false;
};

int run_verify(const VerifyArgs& a) {
  check_hand_sources(a.hands, a.input);
  if (a.hands.any() && !a.hand.empty())
    throw InvalidArgument("--hand does not apply to --left/--right (each source names its hand)");
  const std::optional<Hand> hand = a.hand.empty() ? std::nullopt : std::optional<Hand>(parse_hand(a.hand));
  const bool both = !a.hands.left.empty() && !a.hands.right.empty();
  const DecisionThreshold threshold = both ? resolve_two_hand_threshold(a.threshold) : resolve_threshold(a.threshold);
  Gallery gallery = open_gallery_for_reading(a.gallery);
  // Before capture: an identity that is not enrolled, or a tampered row, is an error before anyone presents a palm.
  const Verifier verifier = Verifier::load(gallery, a.id, hand);

  const TemplateExtractor extractor;
  int frames = 0;
  VerificationResult result;
  if (a.hands.any()) {
    result = verifier.verify(capture_person(a.hands, a.input, extractor, a.quiet || a.json, &frames), threshold);
  } else {
    auto source = open_frames(a.input);
    std::string reason;
    const auto probe = capture_probe(*source, extractor, a.input.max_frames, a.quiet || a.json, reason, &frames);
    if (!probe) throw Error(reason);
    result = verifier.verify(*probe, threshold);
  }
  if (a.json) {
    nlohmann::json j;
    j["decision"] = result.accepted ? "accepted" : "rejected";
    j["id"] = result.id;
    j["hand"] = result.two_hands ? "both" : std::string(to_string(result.hand));
    j["score"] = result.score;
    if (result.two_hands) {
      j["left_score"] = *result.left_score;
      j["right_score"] = *result.right_score;
      j["fusion"] = "min";
    }
    j["threshold"] = result.threshold.score;
    if (result.threshold.fmr) j["fmr"] = *result.threshold.fmr;
    j["templates_compared"] = result.templates_compared;
    j["frames"] = frames;
    std::printf("%s\n", json_text(j).c_str());
  } else {
    std::printf("%s: '%s' (%s) score %s %s threshold %s%s\n", result.accepted ? "accepted" : "rejected",
                escape_text(result.id).c_str(), hands_text(result).c_str(), format_score(result.score).c_str(),
                result.accepted ? ">=" : "<", format_score(result.threshold.score).c_str(),
                rule_text(result.threshold, result.two_hands).c_str());
  }
  return result.accepted ? kExitOk : kExitNo;
}

}  // namespace

void add_verify_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<VerifyArgs>();
  CLI::App* cmd = app.add_subcommand("verify", "1:1 verification against one enrolled identity (exit 0 accepted, 1 rejected, 2 error)");
  add_gallery_args(cmd, args->gallery);
  cmd->add_option("--id", args->id, "Claimed identity")->required();
  cmd->add_option("--hand", args->hand, "Compare with this hand only (L, R, U); default: every enrolled hand");
  add_input_args(cmd, args->input, 30);
  add_hand_source_args(cmd, args->hands, "to verify");
  add_threshold_args(cmd, args->threshold);
  cmd->add_flag("--json", args->json, "Print the result as JSON");
  cmd->add_flag("-q,--quiet", args->quiet, "No per-frame guidance on stderr");
  cmd->callback([args, &exit_code] { exit_code = run_verify(*args); });
}

}  // namespace palmvein::cli

// SPDX-License-Identifier: Apache-2.0
// palmvein verify: 1:1 — does the presented palm belong to --id? Exit 0 accepted, 1 rejected,
// 2 error (as grep does).
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
  ThresholdArgs threshold;
  std::string id;
  std::string hand;
  bool json = false;
  bool quiet = false;
};

int run_verify(const VerifyArgs& a) {
  const std::optional<Hand> hand = a.hand.empty() ? std::nullopt : std::optional<Hand>(parse_hand(a.hand));
  const double threshold = resolve_threshold(a.threshold);
  Gallery gallery = open_gallery_for_reading(a.gallery);
  const auto stored = gallery.templates_of(a.id, hand);  // decrypts; a tampered row is an error here
  if (stored.empty())
    throw GalleryError(GalleryFault::NotFound,
                       "identity '" + a.id + "'" + (hand ? " (hand " + std::string(to_string(*hand)) + ")" : std::string()) +
                           " is not enrolled in '" + a.gallery.db + "'");
  auto search = make_gallery_search();
  search->load(stored);

  const TemplateExtractor extractor;
  auto source = open_frames(a.input);
  std::string reason;
  int frames = 0;
  const auto probe = capture_probe(*source, extractor, a.input.max_frames, a.quiet || a.json, reason, &frames);
  if (!probe) throw Error(reason);
  const auto ranked = search->rank(*probe, 1);
  const IdentityScore& best = ranked.front();
  const bool accepted = best.score >= threshold;
  if (a.json) {
    nlohmann::json j;
    j["decision"] = accepted ? "accepted" : "rejected";
    j["id"] = a.id;
    j["hand"] = std::string(to_string(best.hand));
    j["score"] = best.score;
    j["threshold"] = threshold;
    if (!a.threshold.threshold) j["fmr"] = a.threshold.fmr;
    j["templates_compared"] = search->template_count();
    j["frames"] = frames;
    std::printf("%s\n", json_text(j).c_str());
  } else {
    const std::string rule = a.threshold.threshold ? "" : " (FMR " + format_fmr(a.threshold.fmr) + ")";
    std::printf("%s: '%s' (hand %s) score %s %s threshold %s%s\n", accepted ? "accepted" : "rejected", escape_text(a.id).c_str(),
                std::string(to_string(best.hand)).c_str(), format_score(best.score).c_str(), accepted ? ">=" : "<",
                format_score(threshold).c_str(), rule.c_str());
  }
  return accepted ? kExitOk : kExitNo;
}

}  // namespace

void add_verify_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<VerifyArgs>();
  CLI::App* cmd = app.add_subcommand("verify", "1:1 verification against one enrolled identity (exit 0 accepted, 1 rejected, 2 error)");
  add_gallery_args(cmd, args->gallery);
  cmd->add_option("--id", args->id, "Claimed identity")->required();
  cmd->add_option("--hand", args->hand, "Compare with this hand only (L, R, U); default: every enrolled hand");
  add_input_args(cmd, args->input, 30);
  add_threshold_args(cmd, args->threshold);
  cmd->add_flag("--json", args->json, "Print the result as JSON");
  cmd->add_flag("-q,--quiet", args->quiet, "No per-frame guidance on stderr");
  cmd->callback([args, &exit_code] { exit_code = run_verify(*args); });
}

}  // namespace palmvein::cli

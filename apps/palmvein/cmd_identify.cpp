// SPDX-License-Identifier: Apache-2.0
// palmvein identify: 1:N — who is this? Exit 0 found, 1 not found, 2 error (as grep does).
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
  ThresholdArgs threshold;
  int top = 3;
  bool json = false;
  bool quiet = false;
};

int run_identify(const IdentifyArgs& a) {
  const double threshold = resolve_threshold(a.threshold);
  Gallery gallery = open_gallery_for_reading(a.gallery);
  auto search = make_gallery_search();
  search->load(gallery.all_templates());  // decrypts everything; a tampered row is an error here

  const TemplateExtractor extractor;
  auto source = open_frames(a.input);
  std::string reason;
  int frames = 0;
  const auto probe = capture_probe(*source, extractor, a.input.max_frames, a.quiet || a.json, reason, &frames);
  if (!probe) throw Error(reason);
  const auto ranked = search->rank(*probe, static_cast<std::size_t>(a.top));
  const bool found = !ranked.empty() && ranked.front().score >= threshold;
  if (a.json) {
    nlohmann::json j;
    j["decision"] = found ? "found" : "not-found";
    j["id"] = found ? nlohmann::json(ranked.front().id) : nlohmann::json(nullptr);
    j["hand"] = found ? nlohmann::json(std::string(to_string(ranked.front().hand))) : nlohmann::json(nullptr);
    j["threshold"] = threshold;
    if (!a.threshold.threshold) j["fmr"] = a.threshold.fmr;
    j["templates_compared"] = search->template_count();
    j["frames"] = frames;
    nlohmann::json candidates = nlohmann::json::array();
    for (const auto& c : ranked)
      candidates.push_back({{"id", c.id}, {"hand", std::string(to_string(c.hand))}, {"score", c.score}});
    j["candidates"] = candidates;
    std::printf("%s\n", json_text(j).c_str());
  } else if (ranked.empty()) {
    std::printf("not found: the gallery '%s' is empty\n", escape_text(a.gallery.db).c_str());
  } else {
    const auto& best = ranked.front();
    std::printf("%s: '%s' (hand %s) score %s %s threshold %s\n", found ? "found" : "not found", escape_text(best.id).c_str(),
                std::string(to_string(best.hand)).c_str(), format_score(best.score).c_str(), found ? ">=" : "<",
                format_score(threshold).c_str());
    if (!found) std::printf("  (best candidate shown; no identity reaches the threshold)\n");
  }
  return found ? kExitOk : kExitNo;
}

}  // namespace

void add_identify_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<IdentifyArgs>();
  CLI::App* cmd = app.add_subcommand("identify", "1:N identification in the gallery (exit 0 found, 1 not found, 2 error)");
  add_gallery_args(cmd, args->gallery);
  add_input_args(cmd, args->input, 30);
  add_threshold_args(cmd, args->threshold);
  cmd->add_option("--top", args->top, "Candidates to report")->capture_default_str()->check(CLI::Range(1, 1000));
  cmd->add_flag("--json", args->json, "Print the result as JSON");
  cmd->add_flag("-q,--quiet", args->quiet, "No per-frame guidance on stderr");
  cmd->callback([args, &exit_code] { exit_code = run_identify(*args); });
}

}  // namespace palmvein::cli

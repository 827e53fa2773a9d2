// SPDX-License-Identifier: Apache-2.0
// palmvein match A B [--fmr 1e-4] [--json]: compares two images or templates (.pvt) and decides at
// the threshold the built-in calibration gives for the stated false-match rate.
// Exit 0: match. Exit 1: no match (including a failure to acquire). Exit 2: error.
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "extract_common.hpp"
#include "palmvein/calibration.hpp"
#include "palmvein/matcher.hpp"
#include "palmvein/roi.hpp"

namespace palmvein::cli {
namespace {

struct MatchArgs {
  std::string a;
  std::string b;
  double fmr = 1e-4;
  bool json = false;
};

struct Loaded {
  std::optional<Template> templ;
  std::string source;   // "template" or "image (roi)" / "image (full-hand)"
  std::string failure;  // failure to acquire: reason code
};

Loaded load(const std::string& path, const TemplateExtractor& extractor) {
  Loaded l;
  const std::vector<std::uint8_t> bytes = read_bytes(path);
  if (looks_like_template(bytes, path)) {
    try {
      l.templ = Template::from_bytes(bytes);
    } catch (const FormatError& e) {
      throw FormatError("'" + path + "': " + e.what());
    }
    l.source = "template";
    return l;
  }
  Image image;
  try {
    image = decode_image(bytes);
  } catch (const FormatError& e) {
    throw FormatError("'" + path + "': " + e.what());
  }
  const ImageKind kind = guess_kind(image);
  l.source = kind == ImageKind::Roi ? "image (roi)" : "image (full-hand)";
  ExtractResult r = extractor.extract(image, kind);
  if (r.ok()) l.templ = std::move(r.templ);
  else l.failure = std::string(to_string(r.roi.failure()));
  return l;
}

int run_match(const MatchArgs& args) {
  const double threshold = Calibration::builtin().threshold_for_fmr(args.fmr);  // checks --fmr, before any work
  const TemplateExtractor extractor;
  const Loaded a = load(args.a, extractor);
  const Loaded b = load(args.b, extractor);
  const double score = (a.templ && b.templ) ? match(*a.templ, *b.templ) : kLowestScore;
  const bool accepted = a.templ && b.templ && score >= threshold;
  if (args.json) {
    nlohmann::json j;
    j["a"] = args.a;
    j["b"] = args.b;
    j["a_source"] = a.source;
    j["b_source"] = b.source;
    j["score"] = score;
    j["fmr"] = args.fmr;
    j["threshold"] = threshold;
    j["match"] = accepted;
    j["estimated_fmr_at_score"] = Calibration::builtin().fmr_at(score);
    nlohmann::json fta = nlohmann::json::object();
    if (!a.failure.empty()) fta["a"] = a.failure;
    if (!b.failure.empty()) fta["b"] = b.failure;
    j["failure_to_acquire"] = fta;
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    for (const auto* l : {&a, &b})
      if (!l->failure.empty())
        std::fprintf(stderr, "palmvein: no template from '%s': %s\n", (l == &a ? args.a : args.b).c_str(),
                     l->failure.c_str());
    std::printf("score %.6f  threshold %.6f at FMR %g  %s\n", score, threshold, args.fmr,
                accepted ? "MATCH" : "NO MATCH");
  }
  return accepted ? kExitOk : kExitNo;
}

}  // namespace

void add_match_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<MatchArgs>();
  CLI::App* sub = app.add_subcommand("match", "Compare two images or templates (1:1) and decide at a false-match rate");
  sub->add_option("a", args->a, "First image or .pvt template")->required();
  sub->add_option("b", args->b, "Second image or .pvt template")->required();
  sub->add_option("--fmr", args->fmr, "False-match rate the decision threshold is set for")->capture_default_str();
  sub->add_flag("--json", args->json, "Print a JSON object instead of one line");
  sub->footer("Score: similarity in [0, 1], higher = more alike. Exit status: 0 match, 1 no match "
              "(or no palm found in an image), 2 error.");
  sub->callback([args, &exit_code] { exit_code = run_match(*args); });
}

}  // namespace palmvein::cli

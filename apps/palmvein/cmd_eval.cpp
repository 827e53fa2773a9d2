// SPDX-License-Identifier: Apache-2.0
// palmvein eval: the all-pairs protocol of PROTOCOL.md on one data set (manifest), writing the score
// file, a JSON report and optionally a DET plot. Exit 0 on success, 2 on any error (then no output
// file is left half-written or stale from this run).
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <system_error>
#include <thread>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "eval_common.hpp"
#include "palmvein/files.hpp"
#include "output_guard.hpp"
#include "palmvein/error.hpp"
#include "palmvein/evaluation.hpp"
#include "palmvein/extractor.hpp"
#include "palmvein/version.hpp"

namespace palmvein::cli {
namespace {

namespace fs = std::filesystem;

struct EvalArgs {
  std::string manifest;
  std::string scores;
  std::string report;
  std::string det;
  int threads = 0;
};

std::string report_json(const EvalArgs& args, const Manifest& manifest, const EvaluationResult& r, int threads) {
  nlohmann::json j = rates_json(r.overall);
  j["manifest"] = args.manifest;
  j["images"] = manifest.size();
  j["fta"] = r.fta;
  j["fta_rate"] = static_cast<double>(r.fta) / static_cast<double>(manifest.size());
  std::map<std::string, std::size_t> reasons;
  for (const auto& im : r.images)
    if (im.fta) ++reasons[std::string(to_string(im.failure))];
  j["fta_reasons"] = reasons;
  j["cross_session"] = r.cross_session ? rates_json(*r.cross_session) : nlohmann::json(nullptr);
  j["rank1_accuracy"] = r.rank1.accuracy();
  j["rank1_probes"] = r.rank1.probes;
  j["rank1_identified"] = r.rank1.identified;
  nlohmann::json calibrated = nlohmann::json::object();
  for (const auto& c : r.calibrated)
    calibrated[fmr_key(c.target_fmr)] = {{"threshold", c.threshold}, {"fmr", c.fmr}, {"fnmr", c.fnmr}};
  j["builtin_calibration"] = calibrated;
  j["extract_ms_median"] = r.extract_ms_median;
  j["match_us_median"] = r.match_us_median;
  j["template_bytes"] = r.template_bytes;
  j["score_resolution"] = kScoreResolution;
  j["threads"] = threads;
  j["extract_seconds"] = r.extract_seconds;
  j["match_seconds"] = r.match_seconds;
  j["wall_seconds"] = r.wall_seconds;
  j["version"] = std::string(version_string());
  return j.dump(2) + "\n";
}

int run_eval(const EvalArgs& args) {
  check_output_folder(args.scores, "--scores");
  check_output_folder(args.report, "--report");
  if (!args.det.empty()) check_output_folder(args.det, "--det");
  const Manifest manifest = Manifest::load(args.manifest);
  {
    std::vector<NamedPath> inputs{{"manifest", args.manifest}};
    inputs.reserve(manifest.size() + 1);
    for (std::size_t i = 0; i < manifest.size(); ++i) inputs.push_back({"image", manifest.image_path(i)});
    check_outputs({{"--scores", args.scores}, {"--report", args.report}, {"--det", args.det}}, inputs);
  }
  const TemplateExtractor extractor;
  ProgressBar bar;
  EvaluationOptions options;
  options.threads = args.threads;
  options.progress = [&bar](std::string_view stage, std::size_t done, std::size_t total) { bar.update(stage, done, total); };
  const EvaluationResult result = evaluate(manifest, extractor, options);
  bar.finish();

  // Everything is made in memory first, then written (each file atomically).
  const int threads = args.threads > 0 ? args.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const std::string scores_csv = format_score_csv(manifest, result.scores);
  const std::string report = report_json(args, manifest, result, threads);
  std::vector<std::uint8_t> det_png;
  if (!args.det.empty()) {
    std::vector<DetSeries> series;
    LabelledScores all = label_scores(manifest, result.scores);
    series.push_back({"all pairs", det_curve(std::move(all.genuine), std::move(all.impostor)), result.overall.eer});
    if (result.cross_session) {
      LabelledScores cross = label_scores(manifest, result.scores, true);
      series.push_back({"cross-session", det_curve(std::move(cross.genuine), std::move(cross.impostor)),
                        result.cross_session->eer});
    }
    DetPlotOptions plot;
    plot.title = "DET: " + fs::path(args.manifest).parent_path().filename().string() + " (" +
                 std::to_string(manifest.size()) + " images)";
    det_png = draw_det_plot(series, plot);
  }
  StagedFiles outputs;  // all three or none: a failure keeps a previous run's files
  outputs.stage(args.scores, scores_csv);
  outputs.stage(args.report, report);
  if (!args.det.empty()) outputs.stage(args.det, det_png);
  outputs.commit();

  const auto& m = result.overall;
  std::printf("images %zu, FTA %zu, pairs %zu genuine / %zu impostor\n", manifest.size(), result.fta, m.genuine_pairs,
              m.impostor_pairs);
  std::printf("EER %.4f%%  FNMR@FMR=1e-2 %.4f%%  @1e-3 %.4f%%  @1e-4 %.4f%%%s\n", 100 * m.eer, 100 * m.at(1e-2).fnmr,
              100 * m.at(1e-3).fnmr, 100 * m.at(1e-4).fnmr, m.at(1e-4).reliable ? "" : " (1e-4: few impostors)");
  if (result.cross_session)
    std::printf("cross-session: EER %.4f%%  FNMR@FMR=1e-3 %.4f%%  (%zu genuine pairs)\n", 100 * result.cross_session->eer,
                100 * result.cross_session->at(1e-3).fnmr, result.cross_session->genuine_pairs);
  std::printf("rank-1 %.4f%% (%zu probes)  extract %.2f ms  match %.3f us  template %zu bytes  evaluation %.1f s\n",
              100 * result.rank1.accuracy(), result.rank1.probes, result.extract_ms_median, result.match_us_median,
              result.template_bytes, result.wall_seconds);
  return kExitOk;
}

}  // namespace

void add_eval_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<EvalArgs>();
  CLI::App* cmd = app.add_subcommand(
      "eval", "Evaluate on a data set: all-pairs scores, EER, FNMR@FMR, rank-1, speed (shared/PROTOCOL.md)");
  cmd->add_option("--manifest", args->manifest, "MANIFEST.csv of the data set (path,subject,hand,...,kind)")->required();
  cmd->add_option("--scores", args->scores, "pair-score CSV to write (a,b,score)")->required();
  cmd->add_option("--report", args->report, "JSON report to write")->required();
  cmd->add_option("--det", args->det, "DET curve PNG to write");
  cmd->add_option("--threads", args->threads, "worker threads (default: all cores)")->check(CLI::Range(1, 1024));
  cmd->callback([args, &exit_code] { exit_code = run_eval(*args); });
}

}  // namespace palmvein::cli

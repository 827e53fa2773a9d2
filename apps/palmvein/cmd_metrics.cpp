// SPDX-License-Identifier: Apache-2.0
// palmvein metrics: the report and plots of `palmvein eval` from someone else's score file (the
// protocol's a,b,score CSV labelled by a manifest, or bob.measure's four-column files), and the
// development/evaluation split (thresholds chosen on development, applied to evaluation, as
// bob.measure's "metrics -e"). Exit 0 on success, 2 on any error (then nothing is written).
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "eval_common.hpp"
#include "palmvein/files.hpp"
#include "output_guard.hpp"
#include "palmvein/error.hpp"
#include "palmvein/evaluation.hpp"
#include "palmvein/version.hpp"

namespace palmvein::cli {
namespace {

namespace fs = std::filesystem;

// Ranks of the CMC in the report and plot.
constexpr std::size_t kCmcRanks = 20;

struct MetricsArgs {
  std::string scores;
  std::string dev;
  std::string eval;
  std::string manifest;
  bool four_column = false;
  std::string report;
  std::string plots;       // prefix of the plot files
  std::string write_4col;  // the scores (single set) as a four-column file
};

// One score file, read and labelled.
struct ScoreSet {
  std::string path;
  std::vector<ScoreRecord> records;
  LabelledScores labelled;
  VerificationMetrics metrics;
  std::vector<double> cmc;  // empty when no probe was compared with its own identity
};

ScoreSet load_set(const std::string& path, const MetricsArgs& args, const Manifest* manifest) {
  ScoreSet s;
  s.path = path;
  s.records = manifest ? load_pair_score_csv(path, *manifest) : load_four_column(path);
  s.labelled = label_records(s.records);
  if (s.labelled.genuine.empty() || s.labelled.impostor.empty())
    throw FormatError("score file '" + path + "': needs genuine and impostor comparisons (has " +
                      std::to_string(s.labelled.genuine.size()) + " genuine, " +
                      std::to_string(s.labelled.impostor.size()) + " impostor)");
  s.metrics = verification_metrics(s.labelled.genuine, s.labelled.impostor);
  // All-pairs files name each pair once: both images are probes of the identification.
  const OpenSetScores searches = open_set_scores(record_searches(s.records, args.four_column ? false : true));
  if (!searches.mated.empty()) s.cmc = cmc_curve(searches, kCmcRanks);
  return s;
}

nlohmann::json set_json(const ScoreSet& s) {
  nlohmann::json j = rates_json(s.metrics);
  j["scores"] = s.path;
  j["comparisons"] = s.records.size();
  j["cmc"] = s.cmc;
  j["rank1_accuracy"] = s.cmc.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.cmc[0]);
  return j;
}

nlohmann::json rates_at_json(const ErrorRates& r) { return {{"fmr", r.fmr}, {"fnmr", r.fnmr}, {"hter", r.hter()}}; }

std::string number(double v) {
  char text[40];
  std::snprintf(text, sizeof text, "%.17g", v);
  return text;
}

// The curves' points as CSV, one row per point, a first column naming the series.
std::string det_csv(std::span<const DetSeries> series, bool roc) {
  std::string out = roc ? "series,threshold,fmr,tmr\n" : "series,threshold,fmr,fnmr\n";
  for (const auto& s : series)
    for (const auto& p : s.curve)
      out += s.label + "," + number(p.threshold) + "," + number(p.fmr) + "," + number(roc ? 1 - p.fnmr : p.fnmr) + "\n";
  return out;
}

std::string histogram_csv(std::span<const HistogramBin> bins) {
  std::string out = "low,high,genuine,impostor\n";
  for (const auto& b : bins) out += number(b.low) + "," + number(b.high) + "," + number(b.genuine) + "," + number(b.impostor) + "\n";
  return out;
}

std::string cmc_csv(std::span<const double> cmc) {
  std::string out = "rank,identification_rate\n";
  for (std::size_t k = 0; k < cmc.size(); ++k) out += std::to_string(k + 1) + "," + number(cmc[k]) + "\n";
  return out;
}

// The plots (PNG and CSV of each): DET (normal-deviate axes) and ROC of every set, the score
// histogram and CMC of the last set (the evaluation set of a split), with `threshold` marked.
void stage_plots(StagedFiles& out, const std::string& prefix, std::span<const ScoreSet* const> sets,
                 double threshold, const std::string& threshold_name) {
  std::vector<DetSeries> series;
  for (const ScoreSet* s : sets) {
    const std::string label = sets.size() == 1 ? "all comparisons" : s == sets.front() ? "development" : "evaluation";
    series.push_back({label, det_curve(s->labelled.genuine, s->labelled.impostor), s->metrics.eer});
  }
  const std::string name = fs::path(sets.back()->path).filename().string();
  DetPlotOptions det;
  det.title = "DET: " + name;
  out.stage(prefix + "-det.png", draw_det_plot(series, det));
  out.stage(prefix + "-det.csv", det_csv(series, false));

  DetPlotOptions roc;
  roc.title = "ROC: " + name;
  roc.y_label = "1 - FNMR (true match rate)";
  out.stage(prefix + "-roc.png", draw_roc_plot(series, roc));
  out.stage(prefix + "-roc.csv", det_csv(series, true));

  const ScoreSet& last = *sets.back();
  const std::vector<HistogramBin> bins = score_histogram(last.labelled.genuine, last.labelled.impostor);
  DetPlotOptions hist;
  hist.title = "Scores: " + name + " (line: " + threshold_name + ")";
  hist.x_label = "score";
  hist.y_label = "share of the class";
  out.stage(prefix + "-hist.png", draw_score_histogram(bins, threshold, hist));
  out.stage(prefix + "-hist.csv", histogram_csv(bins));

  if (!last.cmc.empty()) {
    DetPlotOptions cmc;
    cmc.title = "CMC: " + name;
    cmc.x_label = "rank";
    cmc.y_label = "identification rate";
    out.stage(prefix + "-cmc.png", draw_cmc_plot(last.cmc, cmc));
    out.stage(prefix + "-cmc.csv", cmc_csv(last.cmc));
  }
}

std::vector<std::string> plot_files(const std::string& prefix) {
  std::vector<std::string> files;
  if (prefix.empty()) return files;
  for (const char* kind : {"det", "roc", "hist", "cmc"})
    for (const char* ext : {".png", ".csv"}) files.push_back(prefix + "-" + kind + ext);
  return files;
}

void print_rates(const char* name, const VerificationMetrics& m) {
  std::printf("%s: %zu genuine / %zu impostor  EER %.4f%%  FNMR@FMR=1e-2 %.4f%%  @1e-3 %.4f%%  @1e-4 %.4f%%%s\n", name,
              m.genuine_pairs, m.impostor_pairs, 100 * m.eer, 100 * m.at(1e-2).fnmr, 100 * m.at(1e-3).fnmr,
              100 * m.at(1e-4).fnmr, m.at(1e-4).reliable ? "" : " (1e-4: few impostors)");
}

int run_metrics(const MetricsArgs& args) {
  const bool split = !args.dev.empty() || !args.eval.empty();
  if (split == !args.scores.empty())
    throw InvalidArgument("give either one score file or --dev DEV --eval EVAL");
  if (split && (args.dev.empty() || args.eval.empty())) throw InvalidArgument("--dev and --eval go together");
  if (args.four_column == !args.manifest.empty())
    throw InvalidArgument("give exactly one of --manifest M (a,b,score files) or --four-column (bob.measure files)");
  if (split && !args.write_4col.empty()) throw InvalidArgument("--write-4col converts one score file, not a --dev/--eval split");
  if (!args.report.empty()) check_output_folder(args.report, "--report");
  if (!args.write_4col.empty()) check_output_folder(args.write_4col, "--write-4col");
  const std::vector<std::string> plots = plot_files(args.plots);
  for (const auto& p : plots) check_output_folder(p, "--plots");
  {
    std::vector<NamedPath> outputs{{"--report", args.report}, {"--write-4col", args.write_4col}};
    for (const auto& p : plots) outputs.push_back({"--plots", p});
    check_outputs(outputs, {{"manifest", args.manifest}, {"scores", args.scores}, {"--dev", args.dev}, {"--eval", args.eval}});
  }
  std::optional<Manifest> manifest;
  if (!args.manifest.empty()) manifest = Manifest::load(args.manifest);
  const Manifest* labels = manifest ? &*manifest : nullptr;

  nlohmann::json report;
  StagedFiles outputs;  // all or none: a failure keeps a previous run's files
  if (!split) {
    const ScoreSet set = load_set(args.scores, args, labels);
    report = set_json(set);
    if (!plots.empty()) {
      const ScoreSet* sets[] = {&set};
      stage_plots(outputs, args.plots, sets, set.metrics.eer_threshold, "EER threshold");
    }
    if (!args.write_4col.empty()) outputs.stage(args.write_4col, format_four_column(set.records));
    print_rates("scores", set.metrics);
    if (!set.cmc.empty()) std::printf("rank-1 %.4f%%  rank-5 %.4f%%\n", 100 * set.cmc[0], 100 * set.cmc[std::min<std::size_t>(4, set.cmc.size() - 1)]);
  } else {
    const ScoreSet dev = load_set(args.dev, args, labels), eval = load_set(args.eval, args, labels);
    const std::vector<TransferredThreshold> transfer = transfer_thresholds(dev.labelled, eval.labelled);
    report["development"] = set_json(dev);
    report["evaluation"] = set_json(eval);
    nlohmann::json t = nlohmann::json::array();
    for (const auto& x : transfer)
      t.push_back({{"criterion", x.criterion},
                   {"threshold", x.threshold},
                   {"development", rates_at_json(x.development)},
                   {"evaluation", rates_at_json(x.evaluation)}});
    report["thresholds_from_development"] = t;
    if (!plots.empty()) {
      const ScoreSet* sets[] = {&dev, &eval};
      stage_plots(outputs, args.plots, sets, transfer.front().threshold, "development EER threshold");
    }
    print_rates("development", dev.metrics);
    print_rates("evaluation", eval.metrics);
    for (const auto& x : transfer)
      std::printf("threshold %-10s %.6g from development: evaluation FMR %.4f%%  FNMR %.4f%%  HTER %.4f%%\n",
                  x.criterion.c_str(), x.threshold, 100 * x.evaluation.fmr, 100 * x.evaluation.fnmr,
                  100 * x.evaluation.hter());
  }
  report["format"] = args.four_column ? "four-column" : "pairs";
  report["manifest"] = args.manifest.empty() ? nlohmann::json(nullptr) : nlohmann::json(args.manifest);
  report["version"] = std::string(version_string());
  if (!args.report.empty()) outputs.stage(args.report, report.dump(2) + "\n");
  outputs.commit();
  return kExitOk;
}

}  // namespace

void add_metrics_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<MetricsArgs>();
  CLI::App* cmd = app.add_subcommand(
      "metrics", "Report and plots from a score file of any system (a,b,score + manifest, or bob four-column); "
                 "--dev/--eval: thresholds chosen on development, applied to evaluation");
  cmd->add_option("scores", args->scores, "score file (a,b,score CSV with --manifest, or four-column with --four-column)");
  cmd->add_option("--dev", args->dev, "development score file: thresholds are chosen here");
  cmd->add_option("--eval", args->eval, "evaluation score file: the thresholds are applied here");
  cmd->add_option("--manifest", args->manifest, "MANIFEST.csv that labels the a,b,score files");
  cmd->add_flag("--four-column", args->four_column, "the files are bob.measure four-column files (claimed_id real_id test_label score)");
  cmd->add_option("--report", args->report, "JSON report to write");
  cmd->add_option("--plots", args->plots, "prefix of the plots to write: PREFIX-{det,roc,hist,cmc}.{png,csv}");
  cmd->add_option("--write-4col", args->write_4col, "write the scores as a bob.measure four-column file");
  cmd->callback([args, &exit_code] { exit_code = run_metrics(*args); });
}

}  // namespace palmvein::cli

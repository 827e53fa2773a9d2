// SPDX-License-Identifier: Apache-2.0
// palmvein eval-identification: open-set (1:N) identification on one data set (PROTOCOL.md
// "Open-set identification"): a gallery drawn from the manifest, mated and non-mated probes,
// FNIR@FPIR, the CMC, the generalised Pareto tail model of FPIR at large gallery sizes and, with
// --two-hands, persons enrolled with both palms (score-level fusion). Writes a JSON report and
// optionally an FPIR/FNIR plot (PNG) and its points (CSV). Exit 0 on success, 2 on any error (then
// no output is left half-written or stale from this run).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
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

// The figures the report gives, in one place.
struct ReportPlan {
  double model_gallery_sizes[3] = {1e6, 1e7, 3.6e7};  // the modelled N (issue #9)
  double model_fpirs[2] = {1e-2, 1e-3};
  double check_fpirs[2] = {1e-1, 1e-2};               // model check on subsampled galleries
  std::size_t check_draws = 20;                       // random galleries per size
  std::size_t cmc_ranks = 20;
};

struct IdentificationArgs {
  std::string manifest;
  std::string report;
  std::string det;
  std::string points;
  std::size_t gallery_samples = 0;
  double nonmated_fraction = 0.5;
  std::uint64_t seed = 1;
  std::size_t candidates = 10;
  std::string two_hands = "none";
  std::string fusion = "min";  // chosen on the tune halves (docs/open-set.md)
  double tail_fraction = 0.02;
  int threads = 0;
};

std::string rate_key(double r) {
  if (r == 1e-1) return "0.1";
  if (r == 1e-2) return "0.01";
  if (r == 1e-3) return "0.001";
  return std::to_string(r);
}

// Gallery sizes of the model check: 1, 2, 5, 10, 20, 50, ... below G, and G.
std::vector<std::size_t> check_sizes(std::size_t g) {
  std::vector<std::size_t> out;
  for (std::size_t decade = 1; decade < g; decade *= 10)
    for (const std::size_t m : {1, 2, 5})
      if (m * decade < g) out.push_back(m * decade);
  out.push_back(g);
  return out;
}

// Everything measured and modelled for one kind of search (one hand, or two hands fused).
struct Block {
  SearchScores searches;
  OpenSetScores scores;
  OpenSetMetrics metrics;
  std::vector<OpenSetPoint> curve;
  std::optional<TailModel> model;        // fitted shape
  std::optional<TailModel> exponential;  // xi = 0: the cautious variant
  std::string model_error;
};

Block measure(SearchScores searches, const IdentificationArgs& args, const ReportPlan& plan) {
  Block b;
  b.searches = std::move(searches);
  b.scores = open_set_scores(b.searches);
  b.metrics = open_set_metrics(b.scores, args.candidates, plan.cmc_ranks);
  b.curve = open_set_curve(b.scores, args.candidates);
  try {
    b.model = TailModel::fit(b.scores.impostor, args.tail_fraction);
    b.exponential = TailModel::fit(b.scores.impostor, args.tail_fraction, TailShape::Exponential);
  } catch (const InvalidArgument& e) {
    b.model_error = e.what();
  }
  return b;
}

// The model checked on identities it was not fitted to: fitted to the comparisons of the mated
// searches and of half the non-mated persons, FPIR measured on the other half's searches.
nlohmann::json held_out_check(const Block& b, const IdentificationArgs& args, const ReportPlan& plan) {
  nlohmann::json j;
  try {
    const SearchSplit split = split_nonmated(b.searches, args.seed);
    const std::vector<double> impostor = open_set_scores(split.fit).impostor;
    const TailModel m = TailModel::fit(impostor, args.tail_fraction);
    const TailModel x = TailModel::fit(impostor, args.tail_fraction, TailShape::Exponential);
    std::size_t searches = 0;
    for (const auto mate : split.check.mate) searches += mate < 0;
    j["checked_searches"] = searches;
    j["xi"] = m.xi();
    nlohmann::json rows = nlohmann::json::array();
    const std::size_t g = b.searches.identities;
    for (const std::size_t n : check_sizes(g))
      for (const double f : plan.check_fpirs) {
        const double t = m.threshold_for_fpir(static_cast<double>(n), f);
        const double te = x.threshold_for_fpir(static_cast<double>(n), f);
        const std::size_t draws = n == g ? 1 : plan.check_draws;
        rows.push_back({{"gallery", n}, {"modelled_fpir", f}, {"threshold", t},
                        {"measured_fpir", subsampled_fpir(split.check, n, t, draws, args.seed)},
                        {"threshold_exponential", te},
                        {"measured_fpir_exponential", subsampled_fpir(split.check, n, te, draws, args.seed)}});
      }
    j["rows"] = rows;
  } catch (const InvalidArgument& e) {
    j["error"] = e.what();
  }
  return j;
}

nlohmann::json block_json(const Block& b, const IdentificationArgs& args, const ReportPlan& plan) {
  nlohmann::json j;
  const std::size_t g = b.searches.identities;
  j["gallery_identities"] = g;
  j["mated_probes"] = b.metrics.mated_probes;
  j["nonmated_probes"] = b.metrics.nonmated_probes;
  j["candidate_list"] = b.metrics.candidate_list;
  nlohmann::json at = nlohmann::json::object();
  for (const auto& f : b.metrics.fnir_at_fpir)
    at[rate_key(f.target_fpir)] = {{"threshold", f.threshold}, {"fpir", f.fpir}, {"fnir", f.fnir},
                                   {"fnir_list", f.fnir_list}, {"reliable", f.reliable}};
  j["fnir_at_fpir"] = at;
  j["cmc"] = b.metrics.cmc;
  j["rank1_rate"] = b.metrics.cmc.front();
  if (!b.model) {
    j["tail_model"] = nullptr;
    j["tail_model_error"] = b.model_error;
    return j;
  }
  const TailModel& m = *b.model;
  const TailModel& x = *b.exponential;
  j["tail_model"] = {{"method", "generalised Pareto above the u quantile, probability-weighted moments"},
                     {"tail_fraction", args.tail_fraction}, {"comparisons", m.comparisons()},
                     {"exceedances", m.exceedances()}, {"u", m.u()}, {"xi", m.xi()}, {"sigma", m.sigma()},
                     {"zeta", m.zeta()},
                     {"end_point", m.xi() < 0 ? nlohmann::json(m.u() - m.sigma() / m.xi()) : nlohmann::json(nullptr)},
                     {"exponential_sigma", x.sigma()}};
  nlohmann::json check = nlohmann::json::array();
  for (const std::size_t n : check_sizes(g))
    for (const double f : plan.check_fpirs) {
      const double t = m.threshold_for_fpir(static_cast<double>(n), f);
      const double te = x.threshold_for_fpir(static_cast<double>(n), f);
      const std::size_t draws = n == g ? 1 : plan.check_draws;
      check.push_back({{"gallery", n}, {"modelled_fpir", f}, {"threshold", t},
                       {"measured_fpir", subsampled_fpir(b.searches, n, t, draws, args.seed)},
                       {"threshold_exponential", te},
                       {"measured_fpir_exponential", subsampled_fpir(b.searches, n, te, draws, args.seed)},
                       {"draws", draws}});
    }
  j["model_check"] = check;
  j["model_check_held_out"] = held_out_check(b, args, plan);
  nlohmann::json modelled = nlohmann::json::array();
  std::vector<double> sizes{static_cast<double>(g)};
  sizes.insert(sizes.end(), std::begin(plan.model_gallery_sizes), std::end(plan.model_gallery_sizes));
  for (const double n : sizes)
    for (const double f : plan.model_fpirs) {
      const double t = m.threshold_for_fpir(n, f), te = x.threshold_for_fpir(n, f);
      modelled.push_back({{"gallery", n}, {"fpir", f}, {"threshold", t}, {"per_comparison_fmr", m.tail_probability(t)},
                          {"fnir", m.fnir(b.scores.mated, n, t)}, {"threshold_exponential", te},
                          {"fnir_exponential", x.fnir(b.scores.mated, n, te)}});
    }
  j["modelled"] = modelled;
  return j;
}

// The fusion rule criterion, lower is better, compared in order: measured FNIR at FPIR 1e-2, then
// modelled FNIR at N = 36M, FPIR 1e-2 with the fitted and with the exponential tail (1 where no
// model could be fitted).
std::vector<double> fusion_key(const Block& b) {
  std::vector<double> key{b.metrics.at(1e-2).fnir, 1, 1};
  if (b.model) {
    key[1] = b.model->fnir(b.scores.mated, 3.6e7, b.model->threshold_for_fpir(3.6e7, 1e-2));
    key[2] = b.exponential->fnir(b.scores.mated, 3.6e7, b.exponential->threshold_for_fpir(3.6e7, 1e-2));
  }
  return key;
}

HandFusion parse_fusion(const std::string& s) {
  if (s == "sum") return HandFusion::Sum;
  if (s == "max") return HandFusion::Max;
  if (s == "min") return HandFusion::Min;
  throw InvalidArgument("--fusion must be sum, max or min");
}

void append_points(std::string& csv, const std::string& series, const std::vector<OpenSetPoint>& curve) {
  char line[160];
  for (const auto& p : curve) {
    std::snprintf(line, sizeof line, "%s,%.6f,%.9g,%.9g,%.9g\n", series.c_str(), p.threshold, p.fpir, p.fnir, p.fnir_list);
    csv += line;
  }
}

// Prints FNIR at FPIR 1e-2 / 1e-3 measured, and modelled at N = 36 M.
void print_block(const char* name, const Block& b) {
  const auto& a = b.metrics.at(1e-2);
  const auto& c = b.metrics.at(1e-3);
  std::printf("%s: G %zu, %zu mated / %zu non-mated probes, rank-1 %.4f%%\n", name, b.searches.identities,
              b.metrics.mated_probes, b.metrics.nonmated_probes, 100 * b.metrics.cmc.front());
  std::printf("  FNIR@FPIR=1e-2 %.4f%% (t %.6f)  @1e-3 %.4f%% (t %.6f)%s\n", 100 * a.fnir, a.threshold, 100 * c.fnir,
              c.threshold, c.reliable ? "" : " (1e-3: few non-mated probes)");
  if (b.model) {
    const double t = b.model->threshold_for_fpir(3.6e7, 1e-2), te = b.exponential->threshold_for_fpir(3.6e7, 1e-2);
    std::printf("  modelled N=36M: FNIR@FPIR=1e-2 %.4f%% (t %.6f; xi %.3f), exponential tail %.4f%% (t %.6f)\n",
                100 * b.model->fnir(b.scores.mated, 3.6e7, t), t, b.model->xi(),
                100 * b.exponential->fnir(b.scores.mated, 3.6e7, te), te);
  } else {
    std::printf("  no tail model: %s\n", b.model_error.c_str());
  }
}

int run_eval_identification(const IdentificationArgs& args) {
  const ReportPlan plan;
  OpenSetProtocol protocol;
  protocol.gallery_samples = args.gallery_samples;
  protocol.nonmated_fraction = args.nonmated_fraction;
  protocol.seed = args.seed;
  if (args.two_hands == "subject") protocol.persons = OpenSetProtocol::Persons::SubjectHands;
  else if (args.two_hands == "chimeric") protocol.persons = OpenSetProtocol::Persons::Chimeric;
  else if (args.two_hands != "none") throw InvalidArgument("--two-hands must be none, subject or chimeric");
  const HandFusion fusion = parse_fusion(args.fusion);
  protocol.check();
  check_output_folder(args.report, "--report");
  if (!args.det.empty()) check_output_folder(args.det, "--det");
  if (!args.points.empty()) check_output_folder(args.points, "--points");
  const Manifest manifest = Manifest::load(args.manifest);
  {
    std::vector<NamedPath> inputs{{"manifest", args.manifest}};
    inputs.reserve(manifest.size() + 1);
    for (std::size_t i = 0; i < manifest.size(); ++i) inputs.push_back({"image", manifest.image_path(i)});
    check_outputs({{"--report", args.report}, {"--det", args.det}, {"--points", args.points}}, inputs);
  }
  const OpenSetDesign design = draw_open_set(manifest, protocol);  // bad protocol: fail before extracting

  const TemplateExtractor extractor;
  ProgressBar bar;
  EvaluationOptions options;
  options.threads = args.threads;
  options.progress = [&bar](std::string_view stage, std::size_t done, std::size_t total) { bar.update(stage, done, total); };
  const EvaluationResult result = evaluate(manifest, extractor, options);
  bar.finish();

  const bool two = protocol.persons != OpenSetProtocol::Persons::OnePalm;
  const Block one = measure(one_hand_searches(design, result.scores, 0), args, plan);
  // Two hands: every fusion rule is measured (the criterion below picks one on a tune split; the
  // headline is the rule given by --fusion).
  std::optional<Block> fused;
  nlohmann::json comparison = nlohmann::json::object();
  std::string best_rule;
  if (two) {
    std::vector<double> best_key;
    for (const HandFusion rule : {HandFusion::Sum, HandFusion::Max, HandFusion::Min}) {
      Block b = measure(two_hand_searches(design, result.scores, rule), args, plan);
      const std::vector<double> key = fusion_key(b);
      comparison[std::string(to_string(rule))] = {{"fnir_at_fpir_0.01", key[0]}, {"modelled_fnir_36M_0.01", key[1]},
                                                  {"modelled_fnir_36M_0.01_exponential", key[2]}};
      if (best_key.empty() || key < best_key) best_key = key, best_rule = std::string(to_string(rule));
      if (rule == fusion) fused = std::move(b);
    }
  }

  nlohmann::json j;
  j["manifest"] = args.manifest;
  j["images"] = manifest.size();
  j["fta"] = result.fta;
  std::size_t gallery_templates = 0;
  for (const auto& g : design.gallery_images) gallery_templates += g.size();
  j["protocol"] = {
      {"gallery", args.gallery_samples == 0 ? std::string("session 1 of each enrolled palm")
                                            : "the first " + std::to_string(args.gallery_samples) +
                                                  " samples of each enrolled palm (manifest order)"},
      {"mated_probes", "the other samples of the enrolled palms"},
      {"nonmated_probes", "every sample of the held-out persons"},
      {"nonmated_fraction", args.nonmated_fraction},
      {"seed", args.seed},
      {"persons", two ? (args.two_hands == "subject" ? "a subject's own L and R palms" : "chimeric: two palms paired by the seed")
                      : "one palm each"},
      {"identity_score", "the best score over the identity's gallery templates"},
      {"ties", "count against the mate"}};
  j["persons"] = design.persons.size();
  j["enrolled_persons"] = design.enrolled_persons();
  j["held_out_persons"] = design.persons.size() - design.enrolled_persons();
  j["gallery_templates"] = gallery_templates;
  j[two ? "one_hand" : "identification"] = block_json(one, args, plan);
  if (two) {
    j["one_hand"]["hand"] = "the first palm of each person";
    j["two_hands"] = block_json(*fused, args, plan);
    j["two_hands"]["fusion"] = std::string(to_string(fusion));
    j["fusion_comparison"] = comparison;
    j["fusion_criterion"] = "lowest measured FNIR at FPIR 1e-2, then modelled FNIR at N = 36M and FPIR 1e-2 "
                            "(fitted tail, then exponential tail)";
    j["best_fusion_on_this_set"] = best_rule;
  }
  j["threads"] = args.threads > 0 ? args.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  j["wall_seconds"] = result.wall_seconds;
  j["version"] = std::string(version_string());
  const std::string report = j.dump(2) + "\n";

  std::string points = "series,threshold,fpir,fnir_rank1,fnir_list\n";
  append_points(points, "one_hand", one.curve);
  if (fused) append_points(points, "two_hands_" + std::string(to_string(fusion)), fused->curve);
  std::vector<std::uint8_t> png;
  if (!args.det.empty()) {
    const std::string list = "list of " + std::to_string(args.candidates);
    std::vector<DetSeries> series;
    series.push_back({two ? "one hand, rank 1" : "rank 1", open_set_det(one.curve), 0, false});
    series.push_back({(two ? "one hand, " : "") + list, open_set_det(one.curve, true), 0, false});
    if (fused) series.push_back({"two hands (" + std::string(to_string(fusion)) + "), rank 1", open_set_det(fused->curve), 0, false});
    DetPlotOptions plot;
    // The set's name: the manifest's own (a split such as polyu-nir-roi.validate.csv) or its folder's.
    const fs::path m(args.manifest);
    const std::string set = m.stem() == "MANIFEST" ? fs::absolute(m).parent_path().filename().string() : m.stem().string();
    plot.title = "Open-set: " + set + " (G " +
                 std::to_string(one.searches.identities) + ")";
    plot.x_label = "FPIR (false positive identification rate)";
    plot.y_label = "FNIR (false negative identification rate)";
    plot.scale = DetScale::Log;  // FPIR reaches far below 10^-3 at large galleries (the modelled curves)
    png = draw_det_plot(series, plot);
  }
  StagedFiles outputs;  // all or none: a failure keeps a previous run's files
  outputs.stage(args.report, report);
  if (!args.det.empty()) outputs.stage(args.det, png);
  if (!args.points.empty()) outputs.stage(args.points, points);
  outputs.commit();

  std::printf("images %zu, FTA %zu, persons %zu (%zu enrolled, %zu held out)\n", manifest.size(), result.fta,
              design.persons.size(), design.enrolled_persons(), design.persons.size() - design.enrolled_persons());
  print_block(two ? "one hand" : "open-set", one);
  if (fused) print_block(("two hands (" + std::string(to_string(fusion)) + ")").c_str(), *fused);
  return kExitOk;
}

}  // namespace

void add_eval_identification_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<IdentificationArgs>();
  CLI::App* cmd = app.add_subcommand(
      "eval-identification",
      "Open-set 1:N evaluation on a data set: FNIR@FPIR, CMC, FPIR model for large galleries, two hands (docs/open-set.md)");
  cmd->add_option("--manifest", args->manifest, "MANIFEST.csv of the data set (path,subject,hand,...,kind)")->required();
  cmd->add_option("--report", args->report, "JSON report to write")->required();
  cmd->add_option("--det", args->det, "FPIR/FNIR plot PNG to write");
  cmd->add_option("--points", args->points, "FPIR/FNIR points CSV to write");
  cmd->add_option("--gallery-samples", args->gallery_samples,
                  "gallery = the first K samples of each palm (default 0: session 1)")
      ->check(CLI::Range(0, 1000000));
  cmd->add_option("--nonmated-fraction", args->nonmated_fraction, "share of persons held out as non-mated (default 0.5)")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--seed", args->seed, "seed of the hold-out and the chimeric pairing (default 1)");
  cmd->add_option("--candidates", args->candidates, "candidate list length L (default 10)")->check(CLI::Range(1, 1000000));
  cmd->add_option("--two-hands", args->two_hands, "none, subject (own L+R) or chimeric (default none)");
  cmd->add_option("--fusion", args->fusion, "two-hand score fusion: sum, max or min (default min, chosen on the tune halves)");
  cmd->add_option("--tail-fraction", args->tail_fraction, "impostor share the Pareto tail is fitted to (default 0.02)")
      ->check(CLI::Range(0.0, 0.5));
  cmd->add_option("--threads", args->threads, "worker threads (default: all cores)")->check(CLI::Range(1, 1024));
  cmd->callback([args, &exit_code] { exit_code = run_eval_identification(*args); });
}

}  // namespace palmvein::cli

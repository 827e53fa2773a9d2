// SPDX-License-Identifier: Apache-2.0
// palmvein bench identify: builds an in-memory gallery of N templates (rendered synthetic palms,
// filled up with mosaics of their codes: lib/tools/include/palmvein_tools/bench_gallery.hpp), then times 1:N
// searches. Reports comparisons per second of the exhaustive (full-accuracy) search, the latency of
// the default coarse-to-fine search, memory per template, and whether the fast search's rank-1
// results equal the exhaustive search's for every probe. Exit 0 on success, 2 on any error.
#include <time.h>

#include <algorithm>
#include <fstream>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <numeric>
#include <optional>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "palmvein_tools/bench_gallery.hpp"
#include "palmvein/thread_pool.hpp"
#include "palmvein/calibration.hpp"
#include "palmvein/error.hpp"
#include "palmvein/evaluation.hpp"
#include "palmvein/extractor.hpp"
#include "palmvein/identification.hpp"
#include "palmvein/matcher.hpp"
#include "palmvein/synthetic.hpp"
#include "palmvein/version.hpp"

namespace palmvein::cli {
namespace {


struct BenchIdentifyArgs {
  std::size_t gallery = 0;
  std::string dataset;
  int coarse_factor = 0;
  int coarse_radius = -1;
  int coarse_planes = 0;
  unsigned threads = 0;
  std::size_t probes = 20;
  std::size_t absent = 0;
  std::size_t sources = 200;
  int repeat = 3;
  std::size_t shortlist = 0;
  std::size_t k = 10;
  std::string source = "synthetic";
  std::string kernel = "auto";
  bool json = false;
};

PopcountKernel parse_kernel(const std::string& s) {
  if (s == "auto") return PopcountKernel::Auto;
  if (s == "portable") return PopcountKernel::Portable;
  if (s == "avx2") return PopcountKernel::Avx2;
  if (s == "avx512") return PopcountKernel::Avx512;
  throw InvalidArgument("--kernel must be auto, portable, avx2 or avx512, got '" + s + "'");
}

double quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const double pos = q * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(pos);
  const std::size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
}

nlohmann::json spread(const std::vector<double>& v) {
  return {{"median", quantile(v, 0.5)}, {"p10", quantile(v, 0.1)}, {"p90", quantile(v, 0.9)},
          {"min", quantile(v, 0.0)},    {"max", quantile(v, 1.0)}, {"samples", v.size()}};
}

double process_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

IdentificationOptions index_options(const BenchIdentifyArgs& a) {
  IdentificationOptions io;
  io.threads = a.threads;
  io.shortlist = a.shortlist;
  io.kernel = parse_kernel(a.kernel);
  io.coarse_factor = a.coarse_factor;
  io.coarse_radius = a.coarse_radius;
  io.coarse_planes = a.coarse_planes;
  return io;
}

// Leave-one-out on a real data set: every image is enrolled, and each is searched for among the
// others. Measures whether the pre-filter keeps the exhaustive rank-1 entry, with what margin.
// MemAvailable of /proc/meminfo in bytes; 0 when unknown (then nothing is refused).
double available_memory_bytes() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  double kib = 0;
  std::string unit;
  while (in >> key >> kib >> unit)
    if (key == "MemAvailable:") return kib * 1024;
  return 0;
}

int run_bench_dataset(const BenchIdentifyArgs& a) {
  namespace fs = std::filesystem;
  fs::path manifest_path = a.dataset;
  if (fs::is_directory(manifest_path)) manifest_path /= "MANIFEST.csv";
  const Manifest manifest = Manifest::load(manifest_path);
  const std::size_t n = manifest.size();
  std::vector<std::optional<Template>> templates(n);
  {
    const TemplateExtractor extractor;
    std::atomic<std::size_t> next{0};
    ThreadPool pool(ThreadPool::lanes_for(a.threads) - 1);  // and this thread
    auto work = [&](unsigned) {
      for (std::size_t i = next.fetch_add(1); i < n; i = next.fetch_add(1)) {
        auto r = extractor.extract(read_image(manifest.image_path(i)), manifest.entries()[i].kind);
        if (r.ok()) templates[i] = std::move(*r.templ);
      }
    };
    pool.parallel_for(pool.workers() + 1, work);
  }
  IdentificationIndex index(index_options(a));
  std::vector<std::size_t> enrolled;
  for (std::size_t i = 0; i < n; ++i)
    if (templates[i]) index.add(i, *templates[i]), enrolled.push_back(i);
  const auto& e = manifest.entries();
  std::size_t identical = 0, mate_rank1 = 0, probes = 0, max_rank = 0, max_impostors_ahead = 0;
  double max_impostor_fraction = 0, sum_rank = 0;
  std::vector<double> ranks, mate_fractions;
  // Shortlists of N / d entries (the index's default: d = 256, identification/tuning.hpp).
  const std::vector<std::size_t> kShortlistFractions{64, 128, 256, 512, 1024};
  std::vector<std::size_t> mated_lost(kShortlistFractions.size(), 0);
  std::size_t mated_matcher_first = 0, max_mates = 0;
  {
    std::map<std::pair<std::string, int>, std::size_t> per_palm;
    for (std::size_t i : enrolled) max_mates = std::max(max_mates, ++per_palm[{e[i].subject, static_cast<int>(e[i].hand)}]);
  }
  const std::vector<std::size_t> ladder{2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};
  std::vector<std::size_t> identical_at(ladder.size(), 0);
  for (std::size_t i : enrolled) {
    const auto drop_self = [i](std::vector<Candidate> v) {
      v.erase(std::remove_if(v.begin(), v.end(), [i](const Candidate& c) { return c.id == i; }), v.end());
      return v;
    };
    const auto ex = drop_self(index.search(*templates[i], 2, SearchStrategy::Exhaustive));
    const auto fast = drop_self(index.search(*templates[i], 2, SearchStrategy::CoarseToFine));
    if (ex.empty()) continue;
    ++probes;
    identical += !fast.empty() && fast[0] == ex[0];
    mate_rank1 += same_palm(e[i], e[ex[0].id]);
    // Where the pre-filter puts the exhaustive rank-1 entry (the probe itself included, as a
    // search of the full index counts it), and how many other palms' entries it puts ahead.
    const auto order = index.prefilter(*templates[i], index.size());
    std::size_t rank = 0, impostors_ahead = 0, impostors = 0;
    for (std::size_t r = 0; r < order.size(); ++r) {
      const bool impostor = !same_palm(e[i], e[order[r].id]);
      impostors += impostor;
      if (rank == 0) {
        if (order[r].id == ex[0].id) rank = r + 1;
        else impostors_ahead += impostor;
      }
    }
    // Every mate (not only the best), as if it were the palm's only enrolment: the fraction of the
    // impostors the pre-filter puts ahead of it (times a gallery size N: the shortlist that keeps it
    // among N impostors), and whether the exact matcher ranks it above every impostor.
    if (impostors) {
      std::vector<double> mate_fraction(n, -1.0);
      for (std::size_t r = 0, ahead = 0; r < order.size(); ++r) {
        if (!same_palm(e[i], e[order[r].id])) ++ahead;
        else if (order[r].id != i) mate_fraction[order[r].id] = static_cast<double>(ahead) / static_cast<double>(impostors);
      }
      double best_impostor = -1;
      for (const Candidate& c : index.search(*templates[i], 1 + max_mates + 1, SearchStrategy::Exhaustive))
        if (!same_palm(e[i], e[c.id])) { best_impostor = c.score; break; }
      if (best_impostor < 0) best_impostor = 1e9;  // the few impostors lie beyond the top list: not used
      const Matcher matcher(*templates[i]);
      for (std::size_t m : enrolled) {
        if (mate_fraction[m] < 0) continue;
        mate_fractions.push_back(mate_fraction[m]);
        const bool matcher_first = matcher.score(*templates[m]) > best_impostor;
        mated_matcher_first += matcher_first;
        for (std::size_t l = 0; l < kShortlistFractions.size(); ++l)
          mated_lost[l] += matcher_first && mate_fraction[m] > 1.0 / static_cast<double>(kShortlistFractions[l]);
      }
    }
    ranks.push_back(static_cast<double>(rank));
    sum_rank += static_cast<double>(rank);
    max_rank = std::max(max_rank, rank);
    max_impostors_ahead = std::max(max_impostors_ahead, impostors_ahead);
    if (impostors) max_impostor_fraction = std::max(max_impostor_fraction, static_cast<double>(impostors_ahead) / impostors);
    for (std::size_t l = 0; l < ladder.size(); ++l) identical_at[l] += rank <= ladder[l];
  }
  nlohmann::json j;
  j["dataset"] = manifest_path.string();
  j["images"] = n;
  j["failures_to_acquire"] = n - enrolled.size();
  j["probes"] = probes;
  j["gallery"] = index.size();
  j["kernel"] = std::string(to_string(index.kernel()));
  j["rank1_identical"] = identical == probes;
  j["rank1_identical_count"] = identical;
  j["mate_rank1"] = mate_rank1;
  j["prefilter_rank_of_best"] = {{"max", max_rank}, {"mean", probes ? sum_rank / static_cast<double>(probes) : 0.0},
                                 {"p99", quantile(ranks, 0.99)}, {"p999", quantile(ranks, 0.999)}};
  j["prefilter_impostors_ahead_max"] = max_impostors_ahead;
  j["prefilter_impostor_fraction_ahead_max"] = max_impostor_fraction;
  j["projected_shortlist_needed_at_1M"] = max_impostor_fraction * 1e6;
  j["prefilter_mate_impostor_fraction_ahead"] = {
      {"pairs", mate_fractions.size()},
      {"mean", mate_fractions.empty() ? 0.0 : std::accumulate(mate_fractions.begin(), mate_fractions.end(), 0.0) / static_cast<double>(mate_fractions.size())},
      {"p50", quantile(mate_fractions, 0.5)}, {"p90", quantile(mate_fractions, 0.9)},
      {"p99", quantile(mate_fractions, 0.99)}, {"max", quantile(mate_fractions, 1.0)},
      {"matcher_first", mated_matcher_first},
      {"matcher_first_beyond_shortlist", [&] {
         nlohmann::json lost = nlohmann::json::object();
         for (std::size_t l = 0; l < kShortlistFractions.size(); ++l)
           lost["N/" + std::to_string(kShortlistFractions[l])] = mated_lost[l];
         return lost;
       }()}};
  nlohmann::json at = nlohmann::json::object();
  for (std::size_t l = 0; l < ladder.size(); ++l) at[std::to_string(ladder[l])] = identical_at[l];
  j["rank1_identical_at_shortlist"] = at;
  j["coarse_factor"] = a.coarse_factor ? a.coarse_factor : 2;
  j["coarse_radius"] = a.coarse_radius;
  j["coarse_planes"] = a.coarse_planes;  // 0: the library's default
  std::printf("%s\n", j.dump(2).c_str());
  return kExitOk;
}

int run_bench_identify(const BenchIdentifyArgs& a) {
  if (!a.dataset.empty()) return run_bench_dataset(a);
  if (a.gallery == 0) throw InvalidArgument("bench identify needs --gallery N or --dataset DIR");
  if (a.repeat < 1 || a.repeat > 1000) throw InvalidArgument("--repeat must be 1..1000");
  if (a.source != "synthetic" && a.source != "drawn")
    throw InvalidArgument("--source must be synthetic or drawn, got '" + a.source + "'");
  // Refuse at once a gallery that cannot fit, with the estimate (the index's records, growth slack
  // and the rendered source templates), rather than failing with bad_alloc after minutes of filling.
  // bytes_per_template() of the default algorithm; the gallery reserves the index whole (no growth
  // by halves), plus 5 % for the allocator and the per-search buffers.
  constexpr double kBytesPerEntry = 1288 * 1.05;
  const double need = kBytesPerEntry * static_cast<double>(a.gallery) + 512.0 * 1024 * 1024;
  if (const double available = available_memory_bytes(); available > 0 && need > available)
    throw InvalidArgument("a gallery of " + std::to_string(a.gallery) + " templates needs about " +
                          std::to_string(static_cast<long long>(need / (1 << 20))) + " MiB, this machine has " +
                          std::to_string(static_cast<long long>(available / (1 << 20))) + " MiB available");
  IdentificationIndex index(index_options(a));

  tools::BenchGalleryOptions go;
  go.size = a.gallery;
  go.probes = std::min(a.probes, a.gallery);
  go.absent_probes = a.absent;
  go.source_palms = a.sources;
  go.threads = a.threads;
  tools::PalmRenderer render;
  if (a.source == "synthetic") {
    go.kind = ImageKind::FullHand;
    render = [](std::uint64_t palm, std::uint64_t capture) {
      const SyntheticFrameSettings settings;
      const SyntheticPalm p(SyntheticPalmId{palm, Hand::Left, 0}, settings.width, settings.height);
      return p.render(capture, settings);
    };
  } else {
    go.kind = ImageKind::Roi;
    render = tools::drawn_palm_roi;
  }
  const std::size_t rss_before = tools::resident_bytes();
  const tools::BenchGallery g = tools::build_bench_gallery(index, go, render);
  const std::size_t rss_after = tools::resident_bytes();

  using clock = std::chrono::steady_clock;
  const auto ms = [](clock::time_point t0) { return std::chrono::duration<double, std::milli>(clock::now() - t0).count(); };
  std::vector<double> fast_ms, exhaustive_ms, fast_cpu_ms, exhaustive_cpu_ms;
  std::size_t identical = 0, identical_mated = 0, mate_rank1_fast = 0, mate_rank1_exhaustive = 0;
  std::vector<nlohmann::json> mismatches;
  std::vector<Template> all_probes = g.probes;
  all_probes.insert(all_probes.end(), g.absent_probes.begin(), g.absent_probes.end());
  for (std::size_t p = 0; p < all_probes.size(); ++p) {
    const bool mated = p < g.probes.size();
    std::vector<Candidate> fast, exhaustive;
    for (int r = 0; r < a.repeat; ++r) {
      const double c0 = process_cpu_ms();
      auto t0 = clock::now();
      fast = index.search(all_probes[p], a.k, SearchStrategy::CoarseToFine);
      fast_ms.push_back(ms(t0));
      fast_cpu_ms.push_back(process_cpu_ms() - c0);
    }
    const double c0 = process_cpu_ms();
    auto t0 = clock::now();
    exhaustive = index.search(all_probes[p], a.k, SearchStrategy::Exhaustive);
    exhaustive_ms.push_back(ms(t0));
    exhaustive_cpu_ms.push_back(process_cpu_ms() - c0);
    const bool same = !fast.empty() && !exhaustive.empty() && fast[0] == exhaustive[0];
    identical += same;
    identical_mated += same && mated;
    if (!same) {
      // Where the pre-filter put the exhaustive rank-1 entry (how large a shortlist would have kept it).
      const auto order = index.prefilter(all_probes[p], index.size());
      std::size_t rank = 0;
      while (rank < order.size() && order[rank].id != exhaustive[0].id) ++rank;
      mismatches.push_back({{"probe", p},
                            {"fast", fast.empty() ? nlohmann::json(nullptr) : nlohmann::json{fast[0].id, fast[0].score}},
                            {"exhaustive", nlohmann::json{exhaustive[0].id, exhaustive[0].score}},
                            {"exhaustive_best_prefilter_rank", rank + 1},
                            {"mated", mated},
                            {"exhaustive_best_fmr", Calibration::builtin().fmr_at(exhaustive[0].score)},
                            {"mate_is_exhaustive_best", mated && exhaustive[0].id == g.mate_ids[p]}});
    }
    if (mated) {
      mate_rank1_fast += !fast.empty() && fast[0].id == g.mate_ids[p];
      mate_rank1_exhaustive += !exhaustive.empty() && exhaustive[0].id == g.mate_ids[p];
    }
  }
  const double n = static_cast<double>(index.size());
  const double exh_median = quantile(exhaustive_ms, 0.5);
  const unsigned threads = ThreadPool::lanes_for(a.threads);

  nlohmann::json j;
  j["gallery"] = index.size();
  j["threads"] = threads;
  j["probes"] = g.probes.size();
  j["kernel"] = std::string(to_string(index.kernel()));
  j["strategy"] = "coarse-to-fine";
  j["shortlist"] = index.shortlist_size();
  j["coarse_factor"] = a.coarse_factor ? a.coarse_factor : 2;
  j["coarse_radius"] = a.coarse_radius;
  j["coarse_planes"] = a.coarse_planes;  // 0: the library's default
  j["latency_ms_median"] = quantile(fast_ms, 0.5);
  j["latency_ms"] = spread(fast_ms);
  j["exhaustive_latency_ms_median"] = exh_median;
  j["exhaustive_latency_ms"] = spread(exhaustive_ms);
  j["comparisons_per_s"] = exh_median > 0 ? n / (exh_median / 1000.0) : 0.0;
  // CPU time of all threads per search: on a machine shared with other work the wall-clock figures
  // above include waiting for a core; cpu_ms / threads is what the search costs when it has them.
  j["latency_cpu_ms_median"] = quantile(fast_cpu_ms, 0.5);
  j["exhaustive_cpu_ms_median"] = quantile(exhaustive_cpu_ms, 0.5);
  j["comparisons_per_cpu_s"] = quantile(exhaustive_cpu_ms, 0.5) > 0 ? n / (quantile(exhaustive_cpu_ms, 0.5) / 1000.0) : 0.0;
  j["load_average_1min"] = [] {
    double l = 0;
    if (std::FILE* f = std::fopen("/proc/loadavg", "r")) {
      if (std::fscanf(f, "%lf", &l) != 1) l = 0;
      std::fclose(f);
    }
    return l;
  }();
  j["effective_comparisons_per_s"] = quantile(fast_ms, 0.5) > 0 ? n / (quantile(fast_ms, 0.5) / 1000.0) : 0.0;
  j["bytes_per_template"] = index.bytes_per_template();
  j["rss_bytes"] = rss_after;
  j["rss_gallery_bytes"] = rss_after > rss_before ? rss_after - rss_before : 0;
  j["rank1_identical"] = identical == all_probes.size();
  j["rank1_identical_mated"] = identical_mated == g.probes.size();
  j["rank1_identical_mated_count"] = identical_mated;
  j["absent_probes"] = g.absent_probes.size();
  j["rank1_identical_count"] = identical;
  j["rank1_mismatches"] = mismatches;
  j["mate_rank1_fast"] = mate_rank1_fast;
  j["mate_rank1_exhaustive"] = mate_rank1_exhaustive;
  j["source"] = a.source;
  j["source_palms"] = go.source_palms;
  j["failures_to_acquire"] = g.failures_to_acquire;
  j["render_seconds"] = g.render_seconds;
  j["fill_seconds"] = g.fill_seconds;
  j["version"] = std::string(version_string());
  if (a.json) {
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::printf("gallery %zu (%zu threads, %s kernel): fast search median %.2f ms (p90 %.2f), exhaustive %.2f ms = %.3g "
                "comparisons/s\n",
                index.size(), static_cast<std::size_t>(threads), std::string(to_string(index.kernel())).c_str(),
                quantile(fast_ms, 0.5), quantile(fast_ms, 0.9), exh_median, exh_median > 0 ? n / (exh_median / 1000) : 0.0);
    std::printf("rank-1 identical to exhaustive: %zu/%zu; mate at rank 1: %zu (fast) %zu (exhaustive); %zu bytes/template; "
                "RSS %.1f MiB\n",
                identical, all_probes.size(), mate_rank1_fast, mate_rank1_exhaustive, index.bytes_per_template(),
                static_cast<double>(rss_after) / (1 << 20));
  }
  return kExitOk;
}

}  // namespace

void add_bench_command(CLI::App& app, int& exit_code) {
  auto* bench = app.add_subcommand("bench", "Measure speed (see docs/identification.md)");
  bench->require_subcommand(1);
  auto args = std::make_shared<BenchIdentifyArgs>();
  auto* id = bench->add_subcommand("identify", "1:N search over an in-memory gallery of synthetic templates");
  auto* gallery = id->add_option("--gallery", args->gallery, "Enrolled templates (N)")->check(CLI::Range(1, 100'000'000));
  id->add_option("--dataset", args->dataset,
                 "Instead of a synthetic gallery: a real data set (folder or MANIFEST.csv), every image searched "
                 "among the others")
      ->excludes(gallery);
  id->add_option("--coarse-factor", args->coarse_factor, "Pre-filter downsampling (0: default)")->check(CLI::Range(0, 8));
  id->add_option("--coarse-radius", args->coarse_radius, "Pre-filter shift radius in coarse cells (-1: automatic)")
      ->check(CLI::Range(-1, 16));
  id->add_option("--coarse-planes", args->coarse_planes,
                 "Orientation planes the pre-filter compares, spread evenly (0: default)")
      ->check(CLI::Range(0, 16));
  id->add_option("--threads", args->threads, "Search and build threads (0: all cores)")->check(CLI::Range(0, 1024));
  id->add_option("--probes", args->probes, "Probe palms (their mates are enrolled)")->check(CLI::Range(1, 100'000));
  id->add_option("--absent", args->absent, "Extra probes of palms that are not enrolled (open-set searches)")
      ->check(CLI::Range(0, 100'000));
  id->add_option("--sources", args->sources, "Rendered palms cut into mosaics")->check(CLI::Range(2, 100'000));
  id->add_option("--repeat", args->repeat, "Timed fast searches per probe")->check(CLI::Range(1, 1000));
  id->add_option("--shortlist", args->shortlist, "Candidates re-ranked exactly (0: automatic)");
  id->add_option("--top", args->k, "Candidates returned per search")->check(CLI::Range(1, 10000));
  id->add_option("--source", args->source, "synthetic (rendered full-hand frames) or drawn (OpenCV-drawn ROIs)");
  id->add_option("--kernel", args->kernel, "auto, portable, avx2 or avx512");
  id->add_flag("--json", args->json, "Print one JSON object");
  id->callback([args, &exit_code] { exit_code = run_bench_identify(*args); });
}

}  // namespace palmvein::cli

// SPDX-License-Identifier: Apache-2.0
// palmvein synth: writes a synthetic full-hand data set (PNG frames + MANIFEST.csv in the format of
// ../shared/data) rendered by the virtual sensor's renderer (palmvein/synthetic.hpp).
// Capture `sample` of palm (subject, hand) is the frame `virtual:?palm=<subject>&hand=<hand>&seed=<seed>`
// delivers as its frame number sample-1, so a data set and the virtual sensor agree pixel for pixel.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "commands.hpp"
#include "palmvein/evaluation.hpp"
#include "palmvein/thread_pool.hpp"
#include "palmvein/error.hpp"
#include "palmvein/synthetic.hpp"

namespace palmvein::cli {
namespace {

struct SynthOptions {
  int palms = 10;
  int samples = 6;
  std::string out;
  std::uint64_t seed = 0;
  int width = 640;
  int height = 480;
  std::string hands = "L";
  int threads = 0;
  int first = 1;
};

std::string padded(long value, int digits) {
  std::string s = std::to_string(value);
  return std::string(s.size() < static_cast<std::size_t>(digits) ? digits - s.size() : 0, '0') + s;
}

int run_synth(const SynthOptions& o) {
  namespace fs = std::filesystem;
  if (o.palms < 1 || o.samples < 1) throw InvalidArgument("--palms and --samples must be at least 1");
  if (o.hands != "L" && o.hands != "R" && o.hands != "both") throw InvalidArgument("--hand must be L, R or both");
  SyntheticFrameSettings settings;
  settings.width = o.width;
  settings.height = o.height;
  settings.check();
  std::error_code ec;
  fs::create_directories(o.out, ec);
  if (ec || !fs::is_directory(o.out)) throw IoError("cannot create output folder '" + o.out + "'");

  struct Job {
    int subject;
    Hand hand;
  };
  std::vector<Job> jobs;
  for (int p = 0; p < o.palms; ++p) {
    if (o.hands != "R") jobs.push_back({o.first + p, Hand::Left});
    if (o.hands != "L") jobs.push_back({o.first + p, Hand::Right});
  }
  const int digits = std::max(4, static_cast<int>(std::to_string(o.first + o.palms - 1).size()));
  const int total = static_cast<int>(jobs.size()) * o.samples;
  // Sessions: the first half of the samples is session 1, the rest session 2.
  const int session1 = (o.samples + 1) / 2;
  std::vector<std::vector<std::string>> rows(static_cast<std::size_t>(total));  // manifest rows, in job order
  std::atomic<std::size_t> next{0};
  std::atomic<int> done{0};
  std::atomic<bool> failed{false};
  std::mutex error_mutex;
  std::string error;
  const bool tty = ::isatty(STDERR_FILENO) != 0;

  auto worker = [&] {
    for (std::size_t j = next++; j < jobs.size() && !failed; j = next++) {
      try {
        const Job& job = jobs[j];
        const SyntheticPalm palm({static_cast<std::uint64_t>(job.subject), job.hand, o.seed}, o.width, o.height);
        const std::string subject = padded(job.subject, digits);
        const std::string hand(to_string(job.hand));
        for (int s = 1; s <= o.samples && !failed; ++s) {
          const std::string name = subject + "_" + hand + "_" + padded(s, 2) + ".png";
          write_image(fs::path(o.out) / name, palm.render(static_cast<std::uint64_t>(s - 1), settings));
          rows[j * o.samples + (s - 1)] = {name, subject, hand, "940", padded(s, 2), s <= session1 ? "1" : "2",
                                           std::string(manifest_kind_text(ImageKind::FullHand))};
          ++done;
        }
      } catch (const std::exception& e) {
        std::lock_guard lock(error_mutex);
        if (!failed.exchange(true)) error = e.what();
      }
    }
  };
  const unsigned workers = static_cast<unsigned>(std::min<std::size_t>(
      ThreadPool::lanes_for(static_cast<unsigned>(std::max(0, o.threads))), jobs.size()));
  ThreadPool pool(workers);
  std::atomic<unsigned> running{workers};
  // Lane 0 is this thread: it shows progress on a terminal while lanes 1.. render.
  pool.parallel_for(workers + 1, [&](unsigned lane) {
    if (lane == 0) {
      while (tty && running > 0 && done < total && !failed) {
        std::fprintf(stderr, "\rsynth: %d/%d frames", done.load(), total);
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
      return;
    }
    worker();
    --running;
  });
  if (tty) std::fprintf(stderr, "\r\033[K");
  if (failed) throw IoError("synth failed: " + error + " (no MANIFEST.csv written)");
  ManifestWriter manifest({"path", "subject", "hand", "band", "sample", "session", "kind"});
  for (const auto& row : rows) manifest.row(row);
  manifest.save(fs::path(o.out) / "MANIFEST.csv");
  std::printf("wrote %d frames of %zu palms (%dx%d, seed %llu) and MANIFEST.csv to %s\n", total, jobs.size(), o.width,
              o.height, static_cast<unsigned long long>(o.seed), o.out.c_str());
  return kExitOk;
}

}  // namespace

void add_synth_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<SynthOptions>();
  CLI::App* cmd = app.add_subcommand("synth", "Write a synthetic NIR full-hand data set (PNG + MANIFEST.csv)");
  cmd->add_option("--palms", options->palms, "Number of palms (subjects)")->required()->check(CLI::Range(1, 1000000));
  cmd->add_option("--samples", options->samples, "Captures per palm; the first half is session 1, the rest session 2")
      ->required()
      ->check(CLI::Range(1, 10000));
  cmd->add_option("--out", options->out, "Output folder (created)")->required();
  cmd->add_option("--seed", options->seed, "Data-set seed: the same palm number under another seed is another person");
  cmd->add_option("--width", options->width, "Frame width")->check(CLI::Range(64, 4096));
  cmd->add_option("--height", options->height, "Frame height")->check(CLI::Range(48, 4096));
  cmd->add_option("--hand", options->hands, "L, R or both (both: two palms per subject)")
      ->check(CLI::IsMember({"L", "R", "both"}));
  cmd->add_option("--first", options->first, "Number of the first subject")->check(CLI::Range(0, 100000000));
  cmd->add_option("--threads", options->threads, "Worker threads (0 = all cores)")->check(CLI::Range(0, 256));
  cmd->callback([options, &exit_code] { exit_code = run_synth(*options); });
}

}  // namespace palmvein::cli

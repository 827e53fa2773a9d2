// SPDX-License-Identifier: Apache-2.0
// What the evaluation subcommands (eval, eval-identification, metrics) share: the output-folder
// check, the progress bar of a long evaluation, and the JSON of verification metrics.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

#include <nlohmann/json.hpp>

#include "palmvein/error.hpp"
#include "palmvein/evaluation.hpp"

namespace palmvein::cli {

// An output must go into an existing folder (check_outputs() keeps it off the inputs).
inline void check_output_folder(const std::string& path, const char* what) {
  namespace fs = std::filesystem;
  const fs::path p(path);
  const fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw IoError(std::string(what) + " '" + path + "': folder '" + dir.string() + "' does not exist");
  if (fs::is_directory(p, ec)) throw IoError(std::string(what) + " '" + path + "' is a folder");
}

// Report keys of the fixed FMRs ("0.01", ..., "0.00001"): plain decimals, as automation expects.
inline std::string fmr_key(double fmr) {
  if (fmr == 1e-2) return "0.01";
  if (fmr == 1e-3) return "0.001";
  if (fmr == 1e-4) return "0.0001";
  if (fmr == 1e-5) return "0.00001";
  return std::to_string(fmr);
}

inline nlohmann::json rates_json(const VerificationMetrics& m) {
  nlohmann::json j;
  j["genuine_pairs"] = m.genuine_pairs;
  j["impostor_pairs"] = m.impostor_pairs;
  j["eer"] = m.eer;
  j["eer_threshold"] = m.eer_threshold;
  nlohmann::json fnmr = nlohmann::json::object(), reliable = nlohmann::json::object(),
                 threshold = nlohmann::json::object();
  for (const auto& f : m.fnmr_at_fmr) {
    fnmr[fmr_key(f.target_fmr)] = f.fnmr;
    reliable[fmr_key(f.target_fmr)] = f.reliable;
    threshold[fmr_key(f.target_fmr)] = f.threshold;
  }
  j["fnmr_at_fmr"] = fnmr;
  j["fnmr_at_fmr_reliable"] = reliable;
  j["fnmr_at_fmr_threshold"] = threshold;
  j["dprime"] = m.dprime;
  return j;
}

// A one-line progress bar on stderr, only when stderr is a terminal.
class ProgressBar {
 public:
  ProgressBar() : enabled_(::isatty(STDERR_FILENO) == 1) {}
  ~ProgressBar() { finish(); }
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;
  void update(std::string_view stage, std::size_t done, std::size_t total) {
    if (!enabled_) return;
    if (stage != stage_) {
      finish();
      stage_ = stage;
    }
    constexpr int kWidth = 40;
    const int filled = total ? static_cast<int>(kWidth * done / total) : kWidth;
    std::string bar(static_cast<std::size_t>(filled), '#');
    bar.resize(kWidth, '.');
    std::fprintf(stderr, "\r%-8s [%s] %zu/%zu", stage_.c_str(), bar.c_str(), done, total);
    std::fflush(stderr);
    open_ = true;
  }
  void finish() {
    if (open_) std::fputc('\n', stderr);
    open_ = false;
  }

 private:
  bool enabled_;
  bool open_ = false;
  std::string stage_;
};

}  // namespace palmvein::cli

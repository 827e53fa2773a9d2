// SPDX-License-Identifier: Apache-2.0
// What the evaluation subcommands (eval, eval-identification) share: the output-folder check and
// the progress bar of a long evaluation.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

#include "palmvein/error.hpp"

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

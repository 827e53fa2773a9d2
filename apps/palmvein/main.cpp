// SPDX-License-Identifier: Apache-2.0
// palmvein: the command-line tool. Subcommands are dispatched from one table (commands.cpp).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include <opencv2/core/utils/logger.hpp>

#include "commands.hpp"
#include "palmvein/error.hpp"
#include "palmvein/gallery.hpp"
#include "palmvein/version.hpp"

namespace {

// "palmvein 0.1.0 (algorithm 1: bocv6-wld)"
std::string version_line() {
  const std::uint16_t id = palmvein::default_algorithm_id();
  return std::string("palmvein ") + palmvein::version_string() + " (algorithm " + std::to_string(id) + ": " +
         palmvein::algorithm_name(id) + ")";
}

std::string command_names() {
  std::string names;
  for (const auto& entry : palmvein::cli::command_table()) names += (names.empty() ? "" : ", ") + std::string(entry.name);
  return names;
}

bool is_command(const char* word) {
  for (const auto& entry : palmvein::cli::command_table())
    if (entry.name == word) return true;
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  // OpenCV logs a warning on stderr for every BMP/PNM/TIFF it fails to decode; palmvein reports the
  // failure itself, once. OPENCV_LOG_LEVEL, when set, is the user's choice and is kept.
  if (!std::getenv("OPENCV_LOG_LEVEL")) cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT);
  CLI::App app{"palmvein: palm-vein recognition (capture, enrol, verify, identify, evaluate)", "palmvein"};
  app.set_version_flag("--version", version_line());
  app.require_subcommand(1);
  int exit_code = palmvein::cli::kExitOk;
  for (const auto& entry : palmvein::cli::command_table()) entry.add(app, exit_code);
  // The first word names the command: "help [CMD]" prints help, anything unknown is named.
  if (argc >= 2 && argv[1][0] != '-') {
    if (std::strcmp(argv[1], "help") == 0) {
      if (argc == 2) return std::fputs(app.help().c_str(), stdout) < 0 ? palmvein::cli::kExitError : 0;
      if (argc == 3 && is_command(argv[2])) return std::fputs(app.get_subcommand(argv[2])->help().c_str(), stdout) < 0;
      std::fprintf(stderr, "palmvein: error: %s (commands: %s)\n",
                   argc == 3 ? ("unknown command '" + palmvein::escape_text(argv[2]) + "'").c_str() : "help takes one command",
                   command_names().c_str());
      return palmvein::cli::kExitError;
    }
    if (!is_command(argv[1])) {
      std::fprintf(stderr, "palmvein: error: unknown command '%s' (commands: %s; see 'palmvein --help')\n",
                   palmvein::escape_text(argv[1]).c_str(), command_names().c_str());
      return palmvein::cli::kExitError;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version are "errors" with exit code 0: let CLI11 print them.
    if (e.get_exit_code() == 0) return app.exit(e);
    // Usage errors: one clear line, exit 2, pointing at the command's own help.
    const auto chosen = app.get_subcommands();
    const std::string help = chosen.empty() ? "palmvein --help" : "palmvein " + chosen.front()->get_name() + " --help";
    std::fprintf(stderr, "palmvein: error: %s (see '%s')\n", palmvein::escape_text(e.what()).c_str(), help.c_str());
    return palmvein::cli::kExitError;
  } catch (const palmvein::Error& e) {
    // Escaped: messages may quote ids and names stored in a gallery, or arguments, verbatim.
    std::fprintf(stderr, "palmvein: error: %s\n", palmvein::escape_text(e.what()).c_str());
    return palmvein::cli::kExitError;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "palmvein: error: %s\n", palmvein::escape_text(e.what()).c_str());
    return palmvein::cli::kExitError;
  }
  return exit_code;
}

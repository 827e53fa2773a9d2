// palmvein: the command-line tool. Subcommands are dispatched from one table (commands.cpp).
#include <cstdio>
#include <exception>

#include "commands.hpp"
#include "palmvein/error.hpp"
#include "palmvein/version.hpp"

int main(int argc, char** argv) {
  CLI::App app{"palmvein: palm-vein recognition (capture, enrol, verify, identify, evaluate)", "palmvein"};
  app.set_version_flag("--version", palmvein::version_string());
  app.require_subcommand(1);
  int exit_code = palmvein::cli::kExitOk;
  for (const auto& entry : palmvein::cli::command_table()) entry.add(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Usage errors: one clear message, exit 2 (--help and --version exit 0).
    const int code = app.exit(e);
    return code == 0 ? 0 : palmvein::cli::kExitError;
  } catch (const palmvein::Error& e) {
    std::fprintf(stderr, "palmvein: error: %s\n", e.what());
    return palmvein::cli::kExitError;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "palmvein: error: %s\n", e.what());
    return palmvein::cli::kExitError;
  }
  return exit_code;
}

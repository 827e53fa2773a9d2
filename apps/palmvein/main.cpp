// palmvein: the command-line tool. Subcommands are dispatched from one table (commands.cpp).
#include <cstdio>
#include <exception>

#include "commands.hpp"
#include "palmvein/error.hpp"
#include "palmvein/gallery.hpp"
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
    // --help and --version are "errors" with exit code 0: let CLI11 print them.
    if (e.get_exit_code() == 0) return app.exit(e);
    // Usage errors: one clear line, exit 2.
    std::fprintf(stderr, "palmvein: error: %s (see 'palmvein --help')\n", palmvein::escape_text(e.what()).c_str());
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

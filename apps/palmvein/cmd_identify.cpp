// TODO(owner): implement 'palmvein identify'. Placeholder so the tool builds while the command is written.
#include "commands.hpp"

namespace palmvein::cli {

void add_identify_command(CLI::App& app, int& exit_code) {
  (void)app;
  (void)exit_code;
}

}  // namespace palmvein::cli

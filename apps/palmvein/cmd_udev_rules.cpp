// SPDX-License-Identifier: Apache-2.0
// palmvein udev-rules: prints (or writes) udev rules that let a non-root user open every USB sensor
// palmvein knows (the one table in drivers/src/usb_ids.cpp), so no one runs the tool as root.
#include <cstdio>
#include <memory>
#include <string>

#include "commands.hpp"
#include "palmvein/files.hpp"
#include "palmvein/error.hpp"
#include "palmvein/sensor.hpp"

namespace palmvein::cli {

void add_udev_rules_command(CLI::App& app, int& exit_code) {
  auto output = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand(
      "udev-rules",
      "Print udev rules giving the logged-in user (uaccess) and group plugdev access to the known USB sensors.\n"
      "Install: palmvein udev-rules -o /etc/udev/rules.d/70-palmvein.rules (as root), then\n"
      "         udevadm control --reload-rules && udevadm trigger");
  cmd->add_option("-o,--output", *output, "Write the rules to this file (atomically) instead of standard output");
  cmd->callback([output, &exit_code] {
    const std::string rules = udev_rules();
    if (output->empty()) {
      std::fputs(rules.c_str(), stdout);
      exit_code = kExitOk;
      return;
    }
    try {
      write_file_atomically(*output, rules);
      std::fprintf(stderr, "palmvein: wrote udev rules for %zu USB ids to %s\n", known_usb_sensor_count(),
                   output->c_str());
      exit_code = kExitOk;
    } catch (const Error& e) {
      std::fprintf(stderr, "palmvein: cannot write udev rules: %s\n", e.what());
      exit_code = kExitError;
    }
  });
}

}  // namespace palmvein::cli

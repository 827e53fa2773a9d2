// SPDX-License-Identifier: Apache-2.0
// The palmvein tool's subcommands. Each lives in its own cmd_<name>.cpp and registers itself on the
// CLI11 app; main.cpp calls every registrar listed in command_table().
#pragma once

#include <functional>
#include <span>
#include <string_view>

#include <CLI/CLI.hpp>

namespace palmvein::cli {

// Exit codes shared by every subcommand (verify/identify follow grep: 0 yes, 1 no, 2 error).
inline constexpr int kExitOk = 0;
inline constexpr int kExitNo = 1;
inline constexpr int kExitError = 2;

// Adds one subcommand to `app`. The subcommand's callback stores its exit code in `exit_code`.
using CommandRegistrar = void (*)(CLI::App& app, int& exit_code);

struct CommandEntry {
  std::string_view name;
  CommandRegistrar add;
};

std::span<const CommandEntry> command_table();

// One per subcommand file.
void add_extract_command(CLI::App& app, int& exit_code);
void add_match_command(CLI::App& app, int& exit_code);
void add_eval_command(CLI::App& app, int& exit_code);
void add_eval_identification_command(CLI::App& app, int& exit_code);
void add_metrics_command(CLI::App& app, int& exit_code);
void add_synth_command(CLI::App& app, int& exit_code);
void add_synth_compare_command(CLI::App& app, int& exit_code);
void add_augment_command(CLI::App& app, int& exit_code);
void add_devices_command(CLI::App& app, int& exit_code);
void add_capture_command(CLI::App& app, int& exit_code);
void add_udev_rules_command(CLI::App& app, int& exit_code);
void add_enroll_command(CLI::App& app, int& exit_code);
void add_verify_command(CLI::App& app, int& exit_code);
void add_identify_command(CLI::App& app, int& exit_code);
void add_list_command(CLI::App& app, int& exit_code);
void add_delete_command(CLI::App& app, int& exit_code);
void add_bench_command(CLI::App& app, int& exit_code);
void add_demo_command(CLI::App& app, int& exit_code);

}  // namespace palmvein::cli

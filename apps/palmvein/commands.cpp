// SPDX-License-Identifier: Apache-2.0
#include "commands.hpp"

#include <array>

namespace palmvein::cli {

std::span<const CommandEntry> command_table() {
  static constexpr std::array table{
      CommandEntry{"extract", add_extract_command},   CommandEntry{"match", add_match_command},
      CommandEntry{"eval", add_eval_command},         CommandEntry{"synth", add_synth_command},
      CommandEntry{"synth-compare", add_synth_compare_command}, CommandEntry{"augment", add_augment_command},
      CommandEntry{"devices", add_devices_command},   CommandEntry{"capture", add_capture_command},
      CommandEntry{"udev-rules", add_udev_rules_command},
      CommandEntry{"enroll", add_enroll_command},     CommandEntry{"verify", add_verify_command},
      CommandEntry{"identify", add_identify_command}, CommandEntry{"list", add_list_command},
      CommandEntry{"delete", add_delete_command},     CommandEntry{"bench", add_bench_command},
      CommandEntry{"demo", add_demo_command},
      CommandEntry{"eval-identification", add_eval_identification_command},
      CommandEntry{"metrics", add_metrics_command},
  };
  return table;
}

}  // namespace palmvein::cli

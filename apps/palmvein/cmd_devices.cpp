// SPDX-License-Identifier: Apache-2.0
// palmvein devices: lists the sensors that can be opened now (the virtual sensor is always there).
#include <cstdio>
#include <memory>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "palmvein/sensor.hpp"

namespace palmvein::cli {

void add_devices_command(CLI::App& app, int& exit_code) {
  auto json = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand("devices", "List the sensors that can be opened (URI, driver, name, serial)");
  cmd->add_flag("--json", *json, "Print a JSON array instead of a table");
  cmd->callback([json, &exit_code] {
    const auto sensors = enumerate_sensors();
    if (*json) {
      nlohmann::json list = nlohmann::json::array();
      for (const auto& s : sensors)
        list.push_back({{"uri", s.uri}, {"driver", s.driver}, {"name", s.name}, {"serial", s.serial},
                        {"firmware", s.firmware}});
      std::printf("%s\n", list.dump(2).c_str());
    } else {
      std::printf("%-32s %-10s %-36s %s\n", "URI", "DRIVER", "NAME", "SERIAL");
      for (const auto& s : sensors)
        std::printf("%-32s %-10s %-36s %s\n", s.uri.c_str(), s.driver.c_str(), s.name.c_str(), s.serial.c_str());
      std::printf("(also: file:DIR or file:MANIFEST.csv replays images; virtual:?palm=N&hand=L|R picks a synthetic palm)\n");
    }
    exit_code = kExitOk;
  });
}

}  // namespace palmvein::cli

// SPDX-License-Identifier: Apache-2.0
// The drivers behind open_sensor()/enumerate_sensors(): one entry point pair per driver, listed in the
// table of registry.cpp (one line per driver). Internal to palmvein_drivers.
#pragma once

#include <memory>
#include <vector>

#include "palmvein/sensor.hpp"
#include "sensor_uri.hpp"

namespace palmvein::drivers {

// virtual:[?query] — synthetic palms (drivers/src/virtual/).
std::unique_ptr<Sensor> open_virtual(const SensorUri& uri);
std::vector<SensorInfo> enumerate_virtual();

// file:DIR | file:MANIFEST.csv | file:IMAGE [?query] — replays images (drivers/src/file/).
std::unique_ptr<Sensor> open_file(const SensorUri& uri);

}  // namespace palmvein::drivers

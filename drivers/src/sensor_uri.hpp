// SPDX-License-Identifier: Apache-2.0
// (Internal.) The drivers name the URI parser drivers::…; it is public API now
// (palmvein/sensor_uri.hpp), declared once there.
#pragma once

#include "palmvein/sensor_uri.hpp"

namespace palmvein::drivers {
using palmvein::parse_sensor_uri;
using palmvein::SensorUri;
}  // namespace palmvein::drivers

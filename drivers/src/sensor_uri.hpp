// SPDX-License-Identifier: Apache-2.0
// Parsing of sensor URIs: "scheme:path?key=value&key=value". Internal to the drivers.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "palmvein/export.hpp"

namespace palmvein::drivers {

struct SensorUri {
  std::string text;                          // the whole URI as given
  std::string scheme;                        // "virtual", "file", "usb", ...
  std::string path;                          // between ':' and '?', percent-decoded
  std::map<std::string, std::string> query;  // percent-decoded; duplicate keys are rejected

  bool has(const std::string& key) const { return query.count(key) != 0; }
  // Typed access. Each throws InvalidArgument naming the URI and the key when the value does not
  // parse or lies outside [min, max].
  std::optional<std::string> get(const std::string& key) const;
  std::int64_t get_int(const std::string& key, std::int64_t fallback, std::int64_t min, std::int64_t max) const;
  double get_double(const std::string& key, double fallback, double min, double max) const;
  bool get_bool(const std::string& key, bool fallback) const;
  // Throws InvalidArgument for any key not in `known` (typos must not pass silently).
  void reject_unknown_keys(const std::set<std::string>& known) const;
};

// Throws InvalidArgument for a malformed URI (no scheme, bad percent escape, empty or duplicate key).
PALMVEIN_API SensorUri parse_sensor_uri(std::string_view uri);

}  // namespace palmvein::drivers

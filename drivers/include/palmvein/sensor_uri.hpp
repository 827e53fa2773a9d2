// SPDX-License-Identifier: Apache-2.0
// Sensor URIs, "scheme:path?key=value&key=value", parsed the way palmvein's own drivers parse them:
// public so that an out-of-tree driver (register_sensor_driver, palmvein/sensor.hpp) reads its URI's
// options with the same rules and messages (a typo in a key is an error, not silently ignored).
//
// Thread-safety: parse_sensor_uri() is a pure function; a SensorUri is a value.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "palmvein/export.hpp"

PALMVEIN_NAMESPACE_BEGIN

// A parsed sensor URI.
struct PALMVEIN_API SensorUri {
  // The whole URI as given.
  std::string text;
  // "virtual", "file", "usb", ...
  std::string scheme;
  // Between ':' and '?', percent-decoded.
  std::string path;
  // The query's key=value pairs, percent-decoded (a duplicate key is refused by parse_sensor_uri).
  std::map<std::string, std::string> query;

  // True when the query names `key`.
  bool has(const std::string& key) const { return query.count(key) != 0; }
  // The value of `key`, or nullopt when the query does not name it.
  std::optional<std::string> get(const std::string& key) const;
  // `key` as an integer in [min, max], `fallback` when absent. Throws InvalidArgument naming the URI
  // and the key when the value does not parse or lies outside [min, max]; so do the getters below.
  std::int64_t get_int(const std::string& key, std::int64_t fallback, std::int64_t min, std::int64_t max) const;
  // `key` as a finite number in [min, max], `fallback` when absent.
  double get_double(const std::string& key, double fallback, double min, double max) const;
  // `key` as a flag (1/0, true/false, yes/no, on/off), `fallback` when absent.
  bool get_bool(const std::string& key, bool fallback) const;
  // Throws InvalidArgument for any key not in `known` (typos must not pass silently).
  void reject_unknown_keys(const std::set<std::string>& known) const;
};

// Throws InvalidArgument for a malformed URI (no scheme, bad percent escape, empty or duplicate key).
PALMVEIN_API SensorUri parse_sensor_uri(std::string_view uri);

PALMVEIN_NAMESPACE_END

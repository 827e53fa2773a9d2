// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: parse_sensor_uri (drivers/src/sensor_uri.cpp) and the typed getters the drivers
// call on its result must turn any text into values or an InvalidArgument.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "palmvein/error.hpp"
#include "sensor_uri.hpp"

namespace {

// The accessors each driver uses, on every key the URI holds, so that the fuzzer reaches the
// integer, number and boolean parsers with its own values.
void read_every_key(const palmvein::drivers::SensorUri& uri) {
  for (const auto& [key, value] : uri.query) {
    if (!uri.has(key) || uri.get(key) != value) std::abort();
    try {
      const auto n = uri.get_int(key, 0, -1000, 1000000);
      if (n < -1000 || n > 1000000) std::abort();
    } catch (const palmvein::InvalidArgument&) {
    }
    try {
      const double x = uri.get_double(key, 0.0, -1e6, 1e6);
      if (!(x >= -1e6 && x <= 1e6)) std::abort();
    } catch (const palmvein::InvalidArgument&) {
    }
    try {
      (void)uri.get_int(key, 0, INT64_MIN, INT64_MAX);
    } catch (const palmvein::InvalidArgument&) {
    }
    try {
      (void)uri.get_bool(key, false);
    } catch (const palmvein::InvalidArgument&) {
    }
  }
  try {
    uri.reject_unknown_keys({"fps", "exposure", "seed", "loop"});
  } catch (const palmvein::InvalidArgument&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const auto uri = palmvein::drivers::parse_sensor_uri(text);
    if (uri.scheme.empty() || uri.text != text) std::abort();
    for (const auto& [key, value] : uri.query)
      if (key.empty()) std::abort();
    read_every_key(uri);
  } catch (const palmvein::InvalidArgument&) {
  }
  return 0;
}

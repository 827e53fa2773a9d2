// SPDX-License-Identifier: Apache-2.0
#include "sensor_uri.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "palmvein/error.hpp"

PALMVEIN_NAMESPACE_BEGIN
namespace {

[[noreturn]] void malformed(std::string_view uri, const std::string& why) {
  throw InvalidArgument("malformed sensor URI '" + std::string(uri) + "': " + why);
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view uri, std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) malformed(uri, "truncated %-escape");
    const int hi = hex_value(text[i + 1]);
    const int lo = hex_value(text[i + 2]);
    if (hi < 0 || lo < 0) malformed(uri, "bad %-escape");
    const char decoded = static_cast<char>(hi * 16 + lo);
    if (decoded == '\0') malformed(uri, "%00 is not allowed");
    out += decoded;
    i += 2;
  }
  return out;
}

}  // namespace

SensorUri parse_sensor_uri(std::string_view uri) {
  SensorUri parsed;
  parsed.text = std::string(uri);
  const auto colon = uri.find(':');
  if (colon == std::string_view::npos || colon == 0) malformed(uri, "expected 'scheme:...' (e.g. virtual:, file:DIR)");
  for (const char c : uri.substr(0, colon)) {
    if (!std::islower(static_cast<unsigned char>(c)) && !std::isdigit(static_cast<unsigned char>(c)) && c != '-')
      malformed(uri, "the scheme must be lower-case letters, digits or '-'");
  }
  parsed.scheme = std::string(uri.substr(0, colon));
  std::string_view rest = uri.substr(colon + 1);
  const auto question = rest.find('?');
  parsed.path = percent_decode(uri, rest.substr(0, question));
  if (question == std::string_view::npos) return parsed;
  std::string_view query = rest.substr(question + 1);
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) {
      if (amp == std::string_view::npos) break;
      malformed(uri, "empty query parameter ('&&')");
    }
    const auto eq = pair.find('=');
    const std::string key = percent_decode(uri, pair.substr(0, eq));
    const std::string value = eq == std::string_view::npos ? std::string("1") : percent_decode(uri, pair.substr(eq + 1));
    if (key.empty()) malformed(uri, "query parameter without a name");
    if (!parsed.query.emplace(key, value).second) malformed(uri, "query key '" + key + "' given twice");
  }
  return parsed;
}

std::optional<std::string> SensorUri::get(const std::string& key) const {
  const auto it = query.find(key);
  if (it == query.end()) return std::nullopt;
  return it->second;
}

std::int64_t SensorUri::get_int(const std::string& key, std::int64_t fallback, std::int64_t min, std::int64_t max) const {
  const auto value = get(key);
  if (!value) return fallback;
  std::int64_t parsed = 0;
  const char* end = value->data() + value->size();
  const auto [ptr, ec] = std::from_chars(value->data(), end, parsed);
  if (ec != std::errc() || ptr != end)
    throw InvalidArgument("sensor URI '" + text + "': " + key + "='" + *value + "' is not an integer");
  if (parsed < min || parsed > max)
    throw InvalidArgument("sensor URI '" + text + "': " + key + "=" + *value + " is outside " + std::to_string(min) +
                          ".." + std::to_string(max));
  return parsed;
}

double SensorUri::get_double(const std::string& key, double fallback, double min, double max) const {
  const auto value = get(key);
  if (!value) return fallback;
  char* end = nullptr;
  const double parsed = std::strtod(value->c_str(), &end);
  if (value->empty() || end != value->c_str() + value->size() || !std::isfinite(parsed))
    throw InvalidArgument("sensor URI '" + text + "': " + key + "='" + *value + "' is not a number");
  if (parsed < min || parsed > max) {
    char range[96];
    std::snprintf(range, sizeof range, "%g..%g", min, max);
    throw InvalidArgument("sensor URI '" + text + "': " + key + "=" + *value + " is outside " + range);
  }
  return parsed;
}

bool SensorUri::get_bool(const std::string& key, bool fallback) const {
  const auto value = get(key);
  if (!value) return fallback;
  if (*value == "1" || *value == "true" || *value == "yes" || *value == "on") return true;
  if (*value == "0" || *value == "false" || *value == "no" || *value == "off") return false;
  throw InvalidArgument("sensor URI '" + text + "': " + key + "='" + *value + "' is not a boolean (use 1 or 0)");
}

void SensorUri::reject_unknown_keys(const std::set<std::string>& known) const {
  for (const auto& [key, value] : query) {
    if (known.count(key)) continue;
    std::string list;
    for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
    throw InvalidArgument("sensor URI '" + text + "': unknown query key '" + key + "' for " + scheme +
                          " (known: " + list + ")");
  }
}

PALMVEIN_NAMESPACE_END

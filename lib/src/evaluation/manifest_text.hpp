// SPDX-License-Identifier: Apache-2.0
// Manifest parsing from text (internal): Manifest::load reads the file and calls this; the fuzzer
// (fuzz/fuzz_manifest.cpp) and tests call it on bytes directly.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "palmvein/evaluation.hpp"

namespace palmvein::internal {

// Parses the CSV text of a manifest. `where` names the source in messages ("manifest 'a.csv'"),
// `directory` becomes Manifest::directory(). Throws FormatError (with `where` and the line) for a
// missing column, an unknown kind, a duplicate or empty path, a malformed row or no rows at all.
Manifest parse_manifest(std::string_view text, const std::string& where, std::filesystem::path directory);

// The hand as a manifest's `hand` column spells it: "L", "R" or "unknown" (the data sets' and
// PROTOCOL.md's word; the gallery's "U" is read too). Palm names of score files ("subject/hand") use it.
inline std::string_view manifest_hand_text(Hand hand) noexcept {
  return hand == Hand::Unknown ? std::string_view("unknown") : to_string(hand);
}

}  // namespace palmvein::internal

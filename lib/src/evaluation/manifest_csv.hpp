// SPDX-License-Identifier: Apache-2.0
// (Internal, namespace palmvein::internal.) The manifest format of ../shared/PROTOCOL.md, read and
// written in one place: a CSV table (internal/csv.hpp) whose header names at least path, subject,
// hand and kind (session optional, other columns kept by writers, ignored by readers); paths are
// relative to the manifest's folder. Manifest::load reads the file and calls parse_manifest; the
// fuzzer (fuzz/fuzz_manifest.cpp) and tests call it on bytes directly; the file sensor reads the
// path column with the same CsvTableReader; `palmvein capture`, `synth` and `augment` write with
// the public ManifestWriter.
#pragma once

#include <algorithm>
#include <filesystem>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <string_view>

#include "internal/atomic_file.hpp"
#include "internal/csv.hpp"
#include "palmvein/evaluation.hpp"
#include "palmvein/hand.hpp"
#include "palmvein/roi.hpp"

namespace palmvein::internal {

// The header a manifest reader expects, as error messages quote it.
inline constexpr std::string_view kManifestHeader = "path,subject,hand,...,kind";

// Parses the CSV text of a manifest. `where` names the source in messages ("manifest 'a.csv'"),
// `directory` becomes Manifest::directory(). Throws FormatError (with `where` and the line) for a
// missing column, an unknown kind or hand, a duplicate or empty path, a malformed row or no rows.
Manifest parse_manifest(std::string_view text, const std::string& where, std::filesystem::path directory);

// The column texts and the writer are public (palmvein/evaluation.hpp); the library's code names
// them internal::….
using palmvein::ManifestWriter;
using palmvein::manifest_hand_text;
using palmvein::manifest_kind_text;

}  // namespace palmvein::internal

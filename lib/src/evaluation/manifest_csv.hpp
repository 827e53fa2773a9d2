// SPDX-License-Identifier: Apache-2.0
// (Internal, namespace palmvein::internal.) The manifest format of ../shared/PROTOCOL.md, read and
// written in one place: a CSV table (internal/csv.hpp) whose header names at least path, subject,
// hand and kind (session optional, other columns kept by writers, ignored by readers); paths are
// relative to the manifest's folder. Manifest::load reads the file and calls parse_manifest; the
// fuzzer (fuzz/fuzz_manifest.cpp) and tests call it on bytes directly; the file sensor reads the
// path column with the same CsvTableReader; `palmvein capture`, `synth` and `augment` write with
// ManifestWriter.
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

// The hand as a manifest's `hand` column spells it: "L", "R" or "unknown" (the data sets' and
// PROTOCOL.md's word; the gallery's "U" is read too). Palm names of score files ("subject/hand") use it.
inline std::string_view manifest_hand_text(Hand hand) noexcept {
  return hand == Hand::Unknown ? std::string_view("unknown") : to_string(hand);
}
// The `kind` column: "full-hand" or "roi".
inline std::string_view manifest_kind_text(ImageKind kind) noexcept {
  return kind == ImageKind::FullHand ? std::string_view("full-hand") : std::string_view("roi");
}

// Writes a manifest: a CsvTableWriter whose header must name path, subject, hand and kind (a
// programming error otherwise), saved atomically (a reader never sees half a manifest).
class ManifestWriter {
 public:
  explicit ManifestWriter(std::initializer_list<std::string_view> header) : table_(header) {
    for (const std::string_view required : {"path", "subject", "hand", "kind"})
      if (std::find(header.begin(), header.end(), required) == header.end())
        throw std::logic_error("a manifest needs the column '" + std::string(required) + "'");
  }
  ManifestWriter& row(std::initializer_list<std::string_view> fields) {
    table_.row(fields);
    return *this;
  }
  ManifestWriter& row(const std::vector<std::string>& fields) {
    table_.row(fields);
    return *this;
  }
  const std::string& text() const noexcept { return table_.text(); }
  // Writes the manifest to `path` atomically; throws IoError.
  void save(const std::filesystem::path& path) const { write_file_atomically(path, table_.text()); }

 private:
  CsvTableWriter table_;
};

}  // namespace palmvein::internal

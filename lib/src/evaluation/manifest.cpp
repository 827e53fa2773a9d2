// SPDX-License-Identifier: Apache-2.0
// Manifest reading (the format of ../shared/PROTOCOL.md: CSV, header with path, subject, hand, kind).
#include <algorithm>
#include <optional>
#include <stdexcept>
#include <set>
#include <string>
#include <unordered_set>

#include "evaluation/manifest_csv.hpp"
#include "palmvein/error.hpp"
#include "palmvein/evaluation.hpp"

#include "internal/bounded_read.hpp"

namespace palmvein {
inline namespace v1 {

bool same_palm(const ManifestEntry& a, const ManifestEntry& b) noexcept {
  return a.subject == b.subject && a.hand == b.hand;
}

Manifest::Manifest(std::filesystem::path directory, std::vector<ManifestEntry> entries)
    : directory_(std::move(directory)), entries_(std::move(entries)) {
  std::unordered_set<std::string_view> seen;
  for (const auto& e : entries_) {
    if (e.path.empty()) throw FormatError("manifest: empty path");
    if (!seen.insert(e.path).second) throw FormatError("manifest: duplicate path '" + e.path + "'");
  }
}

std::filesystem::path Manifest::image_path(std::size_t i) const { return directory_ / entries_.at(i).path; }

bool Manifest::has_sessions() const noexcept {
  const std::string* first = nullptr;
  for (const auto& e : entries_) {
    if (e.session.empty()) continue;
    if (!first) first = &e.session;
    else if (*first != e.session) return true;
  }
  return false;
}

Manifest Manifest::load(const std::filesystem::path& csv) {
  const std::vector<std::uint8_t> bytes = io::read_file_bounded(csv, io::kMaxTextInputBytes, "manifest");
  std::filesystem::path dir = csv.parent_path();
  if (dir.empty()) dir = ".";
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  return internal::parse_manifest(text, "manifest '" + csv.string() + "'", std::move(dir));
}

namespace {
template <typename Fields>
void append_csv_row(std::string& text, const Fields& fields) {
  bool first = true;
  for (const auto& field : fields) {
    if (!first) text += ',';
    internal::append_csv_field(text, field);
    first = false;
  }
  text += '\n';
}
}  // namespace

ManifestWriter::ManifestWriter(std::initializer_list<std::string_view> header) : columns_(header.size()) {
  for (const std::string_view required : {"path", "subject", "hand", "kind"})
    if (std::find(header.begin(), header.end(), required) == header.end())
      throw std::logic_error("a manifest needs the column '" + std::string(required) + "'");
  append_csv_row(text_, header);
}

ManifestWriter& ManifestWriter::row(std::initializer_list<std::string_view> fields) {
  if (fields.size() != columns_) throw std::logic_error("manifest row with another number of fields than the header");
  append_csv_row(text_, fields);
  return *this;
}

ManifestWriter& ManifestWriter::row(const std::vector<std::string>& fields) {
  if (fields.size() != columns_) throw std::logic_error("manifest row with another number of fields than the header");
  append_csv_row(text_, fields);
  return *this;
}

void ManifestWriter::save(const std::filesystem::path& path) const { write_file_atomically(path, text_); }

}  // namespace v1

namespace internal {

Manifest parse_manifest(std::string_view text, const std::string& where, std::filesystem::path directory) {
  CsvTableReader table(text, where, std::string(kManifestHeader));
  const std::size_t c_path = table.column("path"), c_subject = table.column("subject"), c_hand = table.column("hand"),
                    c_kind = table.column("kind");
  const std::optional<std::size_t> c_session = table.find("session");

  std::vector<ManifestEntry> entries;
  std::vector<std::string> row;
  while (table.next(row)) {
    const std::string at = table.at();
    ManifestEntry e;
    e.path = row[c_path];
    e.subject = row[c_subject];
    try {
      e.hand = parse_hand(row[c_hand]);
    } catch (const InvalidArgument&) {
      throw FormatError(at + ": unknown hand '" + row[c_hand] + "' (expected L, R or unknown)");
    }
    if (c_session) e.session = row[*c_session];
    const std::string& kind = row[c_kind];
    if (kind == manifest_kind_text(ImageKind::FullHand)) e.kind = ImageKind::FullHand;
    else if (kind == manifest_kind_text(ImageKind::Roi)) e.kind = ImageKind::Roi;
    else throw FormatError(at + ": unknown kind '" + kind + "' (expected full-hand or roi)");
    if (e.path.empty()) throw FormatError(at + ": empty path");
    if (e.subject.empty()) throw FormatError(at + ": empty subject");
    entries.push_back(std::move(e));
  }
  if (entries.empty()) throw FormatError(where + ": no images listed");
  try {
    return Manifest(std::move(directory), std::move(entries));
  } catch (const FormatError& e) {
    throw FormatError(where + ": " + std::string(e.what()).substr(std::string_view("manifest: ").size()));
  }
}

}  // namespace internal
}  // namespace palmvein

// SPDX-License-Identifier: Apache-2.0
// (Internal, namespace palmvein::internal.) The one CSV reader and writer of palmvein, for every table
// it reads or writes: data-set manifests (../shared/PROTOCOL.md, read by Manifest::load and the file
// sensor, written by `palmvein capture`, `synth` and `augment`; see manifest_csv.hpp) and a,b,score
// pair score files.
//
// The format is RFC 4180: fields separated by commas; a field holding a comma, a quote or a line break
// is quoted, a quote inside it doubled; records end in LF or CRLF; a quoted field may span lines.
// A table is a header row naming its columns (a UTF-8 byte order mark before it is dropped), then
// one record per row, each with as many fields as the header; blank lines are skipped. Readers find
// columns by name, so extra columns and any column order are allowed. Every error is one
// FormatError naming the source and the line ("manifest 'a.csv' line 7: 3 fields, the header has 4").
//
// Thread-safety: readers and writers are plain values used by one thread at a time.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "palmvein/error.hpp"

namespace palmvein::internal {

// Splits text into records (the low layer; CsvTableReader adds the header and the checks).
class CsvReader {
 public:
  explicit CsvReader(std::string_view text) : text_(text) {}
  // Reads the next record into `fields`; false at the end of the text or on a syntax error
  // (then error() is non-empty).
  bool next(std::vector<std::string>& fields) {
    fields.clear();
    if (pos_ >= text_.size() || !error_.empty()) return false;
    line_ = next_line_;
    std::string field;
    bool quoted = false, was_quoted = false;
    while (pos_ < text_.size()) {
      const char c = text_[pos_++];
      if (quoted) {
        if (c == '"') {
          if (pos_ < text_.size() && text_[pos_] == '"') { field += '"'; ++pos_; }
          else quoted = false;
        } else {
          if (c == '\n') ++next_line_;
          field += c;
        }
      } else if (c == '"' && field.empty() && !was_quoted) {
        quoted = was_quoted = true;
      } else if (c == ',') {
        fields.push_back(std::move(field));
        field.clear();
        was_quoted = false;
      } else if (c == '\n' || c == '\r') {
        if (c == '\r' && pos_ < text_.size() && text_[pos_] == '\n') ++pos_;
        ++next_line_;
        fields.push_back(std::move(field));
        return true;
      } else {
        field += c;
      }
    }
    if (quoted) {
      error_ = "unterminated quoted field";
      return false;
    }
    ++next_line_;
    fields.push_back(std::move(field));
    return true;
  }
  std::size_t line() const noexcept { return line_; }  // 1-based line where the last record began
  const std::string& error() const noexcept { return error_; }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
  std::size_t line_ = 0;
  std::size_t next_line_ = 1;
  std::string error_;
};

// Appends a field, quoted when it holds a comma, quote or line break.
inline void append_csv_field(std::string& out, std::string_view field) {
  if (field.find_first_of(",\"\r\n") == std::string_view::npos) {
    out += field;
    return;
  }
  out += '"';
  for (const char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

// A table with a header row. `where` names the source in messages ("manifest 'a.csv'"), `expected`
// the header the caller wants ("a,b,score"), shown when the file is empty or lacks a column.
class CsvTableReader {
 public:
  // Reads the header; throws FormatError for an empty text or a syntax error in it.
  CsvTableReader(std::string_view text, std::string where, std::string expected)
      : reader_(text), where_(std::move(where)), expected_(std::move(expected)) {
    if (!reader_.next(header_)) {
      check_syntax();
      throw FormatError(where_ + ": empty file (expected a header " + expected_ + ")");
    }
    if (!header_.empty() && header_[0].rfind("\xEF\xBB\xBF", 0) == 0) header_[0].erase(0, 3);  // UTF-8 BOM
  }

  const std::vector<std::string>& header() const noexcept { return header_; }
  // The index of a column, or nothing when the header does not name it.
  std::optional<std::size_t> find(std::string_view name) const noexcept {
    for (std::size_t c = 0; c < header_.size(); ++c)
      if (header_[c] == name) return c;
    return std::nullopt;
  }
  // The index of a column the caller needs; throws FormatError when the header does not name it.
  std::size_t column(std::string_view name) const {
    if (const auto c = find(name)) return *c;
    throw FormatError(where_ + ": missing column '" + std::string(name) + "' (expected a header " + expected_ + ")");
  }

  // Reads the next non-blank row into `fields` (one per header column); false at the end. Throws
  // FormatError for a row with another number of fields than the header, or a syntax error.
  bool next(std::vector<std::string>& fields) {
    while (reader_.next(fields)) {
      if (fields.size() == 1 && fields[0].empty()) continue;  // blank line
      if (fields.size() != header_.size())
        throw FormatError(at() + ": " + std::to_string(fields.size()) + " fields, the header has " +
                          std::to_string(header_.size()));
      return true;
    }
    check_syntax();
    return false;
  }
  // "<where> line N" for the row last read: the prefix of the caller's own messages about it.
  std::string at() const { return where_ + " line " + std::to_string(reader_.line()); }
  const std::string& where() const noexcept { return where_; }

 private:
  void check_syntax() const {
    if (!reader_.error().empty()) throw FormatError(at() + ": " + reader_.error());
  }

  CsvReader reader_;
  std::string where_, expected_;
  std::vector<std::string> header_;
};

// Builds the text of a table: the header row, then rows with as many fields as the header, every
// field quoted as needed (so a subject named "a,b" or a guidance text with quotes reads back intact).
class CsvTableWriter {
 public:
  explicit CsvTableWriter(std::initializer_list<std::string_view> header) : columns_(header.size()) {
    add(header.begin(), header.end());
  }

  // Appends one row. A row of another length than the header is a programming error (logic_error).
  CsvTableWriter& row(std::initializer_list<std::string_view> fields) {
    if (fields.size() != columns_) throw std::logic_error("CSV row with another number of fields than the header");
    add(fields.begin(), fields.end());
    return *this;
  }
  CsvTableWriter& row(const std::vector<std::string>& fields) {
    if (fields.size() != columns_) throw std::logic_error("CSV row with another number of fields than the header");
    add(fields.begin(), fields.end());
    return *this;
  }

  std::size_t columns() const noexcept { return columns_; }
  const std::string& text() const noexcept { return text_; }

 private:
  template <typename It>
  void add(It first, It last) {
    for (It f = first; f != last; ++f) {
      if (f != first) text_ += ',';
      append_csv_field(text_, *f);
    }
    text_ += '\n';
  }

  std::size_t columns_ = 0;
  std::string text_;
};

}  // namespace palmvein::internal

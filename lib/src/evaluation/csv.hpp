// SPDX-License-Identifier: Apache-2.0
// A minimal RFC 4180 CSV reader and field writer (quoted fields, doubled quotes, CRLF or LF).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace palmvein::internal {

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

}  // namespace palmvein::internal

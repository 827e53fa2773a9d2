// SPDX-License-Identifier: Apache-2.0
// Templates: the compact, immutable, versioned binary form of one palm's features.
// Format: docs/template-format.md. Thread-safety: immutable value; share freely across threads.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "palmvein/export.hpp"

PALMVEIN_NAMESPACE_BEGIN

namespace detail {
struct TemplateData;  // internal feature representation (lib/src/template_data.hpp)
}

// One palm's features, made by TemplateExtractor::extract() or read back with from_bytes(). Copies
// are cheap (they share the immutable features); a moved-from template may only be destroyed or
// assigned to.
class PALMVEIN_API Template {
 public:
  // Parses serialized bytes. Validates every field and the checksum; throws FormatError with a
  // message that says what is wrong for truncated, corrupt or foreign bytes.
  static Template from_bytes(std::span<const std::uint8_t> bytes);
  // The serialized form (docs/template-format.md: magic "PVTM", format version, algorithm id,
  // little-endian payload, CRC-32); from_bytes() reads it back to a template with the same features.
  std::vector<std::uint8_t> to_bytes() const;

  std::uint16_t algorithm() const noexcept;  // algorithm id stored in the template
  std::size_t serialized_size() const;       // bytes of to_bytes() (computed by serializing)

  // Internal: built by TemplateExtractor and read by the matcher.
  explicit Template(std::shared_ptr<const detail::TemplateData> data) : data_(std::move(data)) {}
  // Internal: the features, for the library's matcher and index (TemplateData is not public API).
  const detail::TemplateData& data() const noexcept { return *data_; }

 private:
  std::shared_ptr<const detail::TemplateData> data_;
};

PALMVEIN_NAMESPACE_END

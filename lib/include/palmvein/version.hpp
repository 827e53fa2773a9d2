// SPDX-License-Identifier: Apache-2.0
// Library version and the recognition algorithm it implements.
#pragma once

#include <cstdint>

#include "palmvein/export.hpp"

PALMVEIN_NAMESPACE_BEGIN
// The library's version, "major.minor.patch" (e.g. "0.1.0"), as a static string.
PALMVEIN_API const char* version_string() noexcept;
// The algorithm id that TemplateExtractor writes into templates (Template::algorithm()).
PALMVEIN_API std::uint16_t default_algorithm_id() noexcept;
// Short name of an algorithm this library reads and compares ("bocv6-wld"), nullptr if unknown.
PALMVEIN_API const char* algorithm_name(std::uint16_t id) noexcept;
PALMVEIN_NAMESPACE_END

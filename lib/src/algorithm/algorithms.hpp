// SPDX-License-Identifier: Apache-2.0
// The algorithms this library knows, by the id a template records (docs/template-format.md). An id
// names the feature families a template holds and the meaning of their bits; a change to either is
// a new id. Templates of an id this library does not know are refused when read; templates of two
// different ids cannot be compared (re-enrolment is the way from one to the other).
#pragma once

#include <cstdint>
#include <span>

#include "template_data.hpp"

namespace palmvein::inline v1::detail::algo {

struct AlgorithmInfo {
  std::uint16_t id;
  const char* name;      // short name, e.g. "bocv6-wld"
  const char* families;  // what the template holds, one line
};

// Every algorithm this library reads and compares; the first is the one it extracts.
std::span<const AlgorithmInfo> known_algorithms() noexcept;
// nullptr when `id` is not known.
const AlgorithmInfo* find_algorithm(std::uint16_t id) noexcept;
inline const AlgorithmInfo& default_algorithm() noexcept { return known_algorithms().front(); }

}  // namespace palmvein::v1::detail::algo

// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: Template::from_bytes must reject any malformed input with FormatError, never
// crash, never read out of bounds, never allocate without bound. Accepted inputs must round-trip.
#include <cstdint>
#include <cstdlib>
#include <span>

#include "palmvein/error.hpp"
#include "palmvein/matcher.hpp"
#include "palmvein/template.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const auto templ = palmvein::Template::from_bytes(std::span<const std::uint8_t>(data, size));
    const auto bytes = templ.to_bytes();
    const auto again = palmvein::Template::from_bytes(bytes);
    if (again.to_bytes() != bytes) std::abort();  // serialisation must be stable
    (void)palmvein::match(templ, again);          // an accepted template must be matchable
  } catch (const palmvein::FormatError&) {
  }
  return 0;
}

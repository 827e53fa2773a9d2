// SPDX-License-Identifier: Apache-2.0
// Which hand a palm is: the one type for it in the library, the drivers, the tools and the bindings.
// Text appears only at the edges (gallery column, manifests, CLI options, sensor URIs) and goes through
// parse_hand() and to_string() here.
//
// Thread-safety: plain functions on a value type; safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "palmvein/export.hpp"

PALMVEIN_NAMESPACE_BEGIN

// Which hand an identity's templates or an image come from. Unknown when nobody said.
enum class Hand : std::uint8_t { Left, Right, Unknown };

// "L", "R", "U": the spelling the gallery stores (its `hand` column and authenticated data) and the
// tools print.
PALMVEIN_API std::string_view to_string(Hand hand) noexcept;
// "left", "right", "unknown": the word for messages and guidance ("present the left palm").
PALMVEIN_API std::string hand_name(Hand hand);
// Parses "L"/"left", "R"/"right", "U"/"unknown" (any case). Throws InvalidArgument otherwise.
PALMVEIN_API Hand parse_hand(std::string_view text);

PALMVEIN_NAMESPACE_END

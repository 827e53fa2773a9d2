// SPDX-License-Identifier: Apache-2.0
// Internal to palmvein::gallery: the gallery's templates loaded into one 1:N search per hand, for
// Identifier (decisions.cpp); the search classes live in enrollment.cpp.
#pragma once

#include <array>
#include <memory>

#include "palmvein/enrollment.hpp"

PALMVEIN_NAMESPACE_BEGIN
namespace detail {

// Index of a hand in a per-hand array: Left 0, Right 1, Unknown 2.
constexpr std::size_t hand_slot(Hand hand) noexcept {
  return hand == Hand::Left ? 0 : hand == Hand::Right ? 1 : 2;
}

// Every template of `gallery`, streamed (one decrypted template in memory at a time, as
// GallerySearch::load_from) into the 1:N search of its hand (hand_slot); a hand without templates
// gets no search (null), so no index or thread pool is made for it. Throws what load_from throws.
std::array<std::unique_ptr<GallerySearch>, 3> load_searches_by_hand(const Gallery& gallery);

}  // namespace detail
PALMVEIN_NAMESPACE_END

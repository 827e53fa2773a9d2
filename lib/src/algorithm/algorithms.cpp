// SPDX-License-Identifier: Apache-2.0
#include "algorithm/algorithms.hpp"

#include <array>

#include "palmvein/version.hpp"

namespace palmvein::inline v1::detail::algo {

namespace {
constexpr std::array kAlgorithms{
    AlgorithmInfo{kAlgorithmBocvWld, "bocv6-wld",
                  "BOCV orientation code (6 Gabor orientations, 32x32 cells) + wide-line vein code (32x32 cells)"},
};
}  // namespace

std::span<const AlgorithmInfo> known_algorithms() noexcept { return kAlgorithms; }

const AlgorithmInfo* find_algorithm(std::uint16_t id) noexcept {
  for (const AlgorithmInfo& a : kAlgorithms)
    if (a.id == id) return &a;
  return nullptr;
}

}  // namespace palmvein::v1::detail::algo

namespace palmvein::inline v1 {

std::uint16_t default_algorithm_id() noexcept { return detail::algo::default_algorithm().id; }

const char* algorithm_name(std::uint16_t id) noexcept {
  const detail::algo::AlgorithmInfo* a = detail::algo::find_algorithm(id);
  return a ? a->name : nullptr;
}

}  // namespace palmvein::v1

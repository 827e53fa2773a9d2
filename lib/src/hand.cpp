// SPDX-License-Identifier: Apache-2.0
#include "palmvein/hand.hpp"

#include <string>

#include "palmvein/error.hpp"

namespace palmvein {
inline namespace v1 {

std::string_view to_string(Hand hand) noexcept {
  switch (hand) {
    case Hand::Left: return "L";
    case Hand::Right: return "R";
    case Hand::Unknown: break;
  }
  return "U";
}

std::string hand_name(Hand hand) {
  switch (hand) {
    case Hand::Left: return "left";
    case Hand::Right: return "right";
    case Hand::Unknown: break;
  }
  return "unknown";
}

Hand parse_hand(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);  // ASCII only, no locale
  if (lower == "l" || lower == "left") return Hand::Left;
  if (lower == "r" || lower == "right") return Hand::Right;
  if (lower == "u" || lower == "unknown") return Hand::Unknown;
  throw InvalidArgument("hand must be L, R or U (left, right, unknown), not '" + std::string(text) + "'");
}

}  // namespace v1
}  // namespace palmvein

// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: the gallery key-file parser (SecretKey::from_key_text, the format check of
// SecretKey::load in lib/gallery/src/gallery_crypto.cpp). Any bytes must give a key or
// GalleryError(Key); an accepted file must be exactly 64 hex digits and an optional newline, and
// the key must be the bytes those digits spell.
#include <sodium.h>

#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "gallery_crypto.hpp"
#include "palmvein/gallery.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using palmvein::gallery_internal::kKeyBytes;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const auto key = palmvein::gallery_internal::SecretKey::from_key_text(text, "fuzz.key");
    if (size != 2 * kKeyBytes && !(size == 2 * kKeyBytes + 1 && text.back() == '\n')) std::abort();
    char hex[2 * kKeyBytes + 1];
    sodium_bin2hex(hex, sizeof hex, key.data(), kKeyBytes);
    for (std::size_t i = 0; i < 2 * kKeyBytes; ++i)
      if (hex[i] != std::tolower(static_cast<unsigned char>(text[i]))) std::abort();
  } catch (const palmvein::GalleryError& e) {
    if (e.fault() != palmvein::GalleryFault::Key) std::abort();
  }
  return 0;
}

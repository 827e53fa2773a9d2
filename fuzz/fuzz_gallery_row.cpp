// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: decoding of a stored gallery row (lib/gallery/src): the AEAD open of a template
// row (gallery_crypto.cpp) with a fixed key, the template parser behind it, and the identity text
// columns as the tools print them (escape_text, check_identity_id, check_display_name).
//
// Random bytes never pass the MAC, so fuzzing the open alone stops at authentication. Three modes
// (byte 0) cover both sides of it:
//   0: the row as an attacker without the key writes it: nonce and ciphertext from the input;
//      opening must fail.
//   1: the row as the key holder wrote it: the input is sealed with the fixed key and opened, so the
//      template parser sees arbitrary plaintext that passed authentication (a row written by an
//      older or buggy writer); it must come back exactly and decode or throw FormatError.
//   2: a genuinely sealed row with one bit flipped (position from the input) in the nonce, the
//      ciphertext or the associated data: opening must fail.
// Byte 1 picks the hand, byte 2 the length of the identity id that follows; the rest is the row.
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string_view>
#include <vector>

#include "gallery_crypto.hpp"
#include "palmvein/error.hpp"
#include "palmvein/gallery.hpp"
#include "palmvein/template.hpp"

namespace {

using namespace palmvein;
using namespace palmvein::gallery_internal;

const SecretKey& aead_key() {
  static const SecretKey key = [] {
    constexpr std::string_view kHex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    return SecretKey::from_key_text(kHex, "fuzz.key").derive(1);
  }();
  return key;
}

constexpr std::uint8_t kDatabaseId[kDatabaseIdBytes] = {0xdb, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
constexpr std::int64_t kRowId = 7;

// The identity columns as read back from an older or foreign database.
void check_text_columns(std::string_view id) {
  for (const char c : escape_text(id)) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x20 || b == 0x7f) std::abort();  // escaped text must be safe to print
  }
  try {
    check_identity_id(id);
  } catch (const InvalidArgument&) {
  }
  try {
    check_display_name(id);
  } catch (const InvalidArgument&) {
  }
}

void decode_template(std::span<const std::uint8_t> plain) {
  try {
    const Template t = Template::from_bytes(plain);
    if (Template::from_bytes(t.to_bytes()).to_bytes() != t.to_bytes()) std::abort();
  } catch (const FormatError&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  const std::uint8_t mode = data[0] % 3;
  const Hand hand = data[1] % 3 == 0 ? Hand::Left : data[1] % 3 == 1 ? Hand::Right : Hand::Unknown;
  const std::size_t id_size = std::min<std::size_t>(data[2], size - 3);
  const std::string_view id(reinterpret_cast<const char*>(data + 3), id_size);
  const std::span<const std::uint8_t> row(data + 3 + id_size, size - 3 - id_size);
  check_text_columns(id);
  auto ad = template_ad(kDatabaseId, id, hand, kRowId);
  std::vector<std::uint8_t> plain;

  if (mode == 0) {
    const auto nonce = row.first(std::min(row.size(), kNonceBytes));
    const auto ciphertext = row.subspan(nonce.size());
    (void)row_hash(nonce, ciphertext);  // every stored row is hashed into its identity's digest
    if (open_sealed(aead_key(), nonce, ciphertext, ad, plain)) std::abort();  // a forgery
    if (!plain.empty()) std::abort();  // nothing of a failed open may be handed out
  } else if (mode == 1) {
    const Sealed sealed = seal(aead_key(), row, ad);
    if (!open_sealed(aead_key(), sealed.nonce, sealed.ciphertext, ad, plain)) std::abort();
    if (!std::equal(plain.begin(), plain.end(), row.begin(), row.end())) std::abort();
    decode_template(plain);
  } else {
    if (row.size() < 4) return 0;
    std::uint32_t where = std::uint32_t{row[0]} | (std::uint32_t{row[1]} << 8) | (std::uint32_t{row[2]} << 16);
    const auto payload = row.subspan(3);
    Sealed sealed = seal(aead_key(), payload, ad);
    const std::size_t bits = 8 * (sealed.nonce.size() + sealed.ciphertext.size() + ad.size());
    where %= static_cast<std::uint32_t>(bits);
    std::uint8_t* byte = where / 8 < sealed.nonce.size() ? &sealed.nonce[where / 8]
                         : where / 8 < sealed.nonce.size() + sealed.ciphertext.size()
                             ? &sealed.ciphertext[where / 8 - sealed.nonce.size()]
                             : &ad[where / 8 - sealed.nonce.size() - sealed.ciphertext.size()];
    *byte ^= static_cast<std::uint8_t>(1u << (where % 8));
    if (open_sealed(aead_key(), sealed.nonce, sealed.ciphertext, ad, plain)) std::abort();
  }
  return 0;
}

// SPDX-License-Identifier: Apache-2.0
// Encryption at rest for the gallery (internal). libsodium:
//  * the key file holds a 32-byte master key: exactly 64 hex digits and an optional final newline;
//  * two subkeys are derived with crypto_kdf (BLAKE2b): one for XChaCha20-Poly1305-IETF AEAD of the
//    templates, one for the key check value (KCV) stored in the database;
//  * each template row is sealed with a fresh random 24-byte nonce and associated data binding it to
//    the database, the identity, the hand and the row id (template_ad()), so a row cannot be moved,
//    swapped or replayed into another place without failing authentication;
//  * a third subkey keys the state digests (KeyedDigest): one per identity over its record and its
//    rows, one for the whole gallery over its identities, so that old, missing or extra rows and
//    resurrected identities are detected (rollback protection, schema v3).
// See docs/security.md. Thread-safety: SecretKey is immutable after construction.
#pragma once

#include <sodium.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>
#include <vector>

#include "palmvein/gallery.hpp"

namespace palmvein::gallery_internal {

inline constexpr std::size_t kKeyBytes = 32;
inline constexpr std::size_t kNonceBytes = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;  // 24
inline constexpr std::size_t kTagBytes = crypto_aead_xchacha20poly1305_ietf_ABYTES;       // 16
inline constexpr std::size_t kKcvBytes = 32;
inline constexpr std::size_t kDatabaseIdBytes = 16;

// Calls sodium_init() once. Throws Error if libsodium cannot initialise.
void ensure_sodium();

// A key in locked, guarded memory (sodium_malloc), wiped on destruction. Move-only.
class SecretKey {
 public:
  SecretKey();  // uninitialised storage
  ~SecretKey();
  SecretKey(SecretKey&& other) noexcept : bytes_(other.bytes_) { other.bytes_ = nullptr; }
  SecretKey& operator=(SecretKey&&) = delete;
  SecretKey(const SecretKey&) = delete;
  SecretKey& operator=(const SecretKey&) = delete;

  std::uint8_t* data() noexcept { return bytes_; }
  const std::uint8_t* data() const noexcept { return bytes_; }

  static SecretKey random();
  // Reads a key file: exactly 64 hex digits (either case), optionally followed by one newline;
  // anything else (other lengths, spaces, CR, trailing data) is refused with one message. Refuses
  // files that group or others may read. Throws GalleryError(Key); the message never contains key
  // material.
  static SecretKey load(const std::filesystem::path& path);
  // The format check of load() on the file's bytes; `path` is only named in the message. Throws
  // GalleryError(Key) like load(). Split out so that the fuzzer reaches it without a file per run.
  static SecretKey from_key_text(std::string_view text, const std::filesystem::path& path);
  // Subkey number `id` (1: template AEAD, 2: key check, 3: state digests) derived with crypto_kdf.
  SecretKey derive(std::uint64_t id) const;

 private:
  std::uint8_t* bytes_ = nullptr;
};

// Writes a new random key as hex to `path` (mode 0600, exclusive create; the folder is created 0700).
void write_new_key_file(const std::filesystem::path& path);

std::array<std::uint8_t, kKcvBytes> key_check_value(const SecretKey& master, std::span<const std::uint8_t> database_id);

// The associated data of one template row (documented in docs/security.md).
std::vector<std::uint8_t> template_ad(std::span<const std::uint8_t> database_id, std::string_view identity_id,
                                      Hand hand, std::int64_t row_id);

inline constexpr std::size_t kDigestBytes = 32;
using Digest = std::array<std::uint8_t, kDigestBytes>;

// Keyed BLAKE2b-256 (crypto_generichash) over a label and a sequence of fixed-width little-endian
// integers and length-prefixed byte strings, so that no two different field sequences hash the same
// input. The fields of each digest are listed in docs/security.md.
class KeyedDigest {
 public:
  KeyedDigest(const SecretKey& key, std::string_view label);
  ~KeyedDigest();  // wipes the key-dependent hash state
  KeyedDigest(const KeyedDigest&) = delete;
  KeyedDigest& operator=(const KeyedDigest&) = delete;
  KeyedDigest& u8(std::uint8_t value);
  KeyedDigest& u32(std::uint32_t value);
  KeyedDigest& u64(std::uint64_t value);
  KeyedDigest& field(std::span<const std::uint8_t> bytes);  // u32 length, then the bytes
  KeyedDigest& field(std::string_view text);
  Digest final();

 private:
  crypto_generichash_state state_{};
};

// Unkeyed BLAKE2b-256 of one sealed row (nonce and ciphertext, each length-prefixed).
Digest row_hash(std::span<const std::uint8_t> nonce, std::span<const std::uint8_t> ciphertext);

struct Sealed {
  std::vector<std::uint8_t> nonce;
  std::vector<std::uint8_t> ciphertext;  // plaintext size + 16-byte tag
};
Sealed seal(const SecretKey& aead_key, std::span<const std::uint8_t> plaintext, std::span<const std::uint8_t> ad);
// Returns false when authentication fails (wrong key, modified ciphertext, nonce or AD).
bool open_sealed(const SecretKey& aead_key, std::span<const std::uint8_t> nonce, std::span<const std::uint8_t> ciphertext,
                 std::span<const std::uint8_t> ad, std::vector<std::uint8_t>& plaintext);

}  // namespace palmvein::gallery_internal

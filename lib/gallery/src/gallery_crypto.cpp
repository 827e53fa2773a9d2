// SPDX-License-Identifier: Apache-2.0
#include "gallery_crypto.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

namespace palmvein::gallery_internal {

namespace {

constexpr char kKdfContext[crypto_kdf_CONTEXTBYTES + 1] = "pvgallry";
constexpr std::string_view kAdLabel = "palmvein-gallery-template-v1";
constexpr std::string_view kKcvLabel = "palmvein-gallery-key-check-v1";
constexpr char kNotAKey[] = "not a palmvein key: expected exactly 64 hexadecimal digits, optionally followed by one newline";

[[noreturn]] void key_error(const std::filesystem::path& path, const std::string& what) {
  throw GalleryError(GalleryFault::Key, "key file '" + path.string() + "': " + what);
}

std::string errno_text() { return std::strerror(errno); }

}  // namespace

void ensure_sodium() {
  static const int status = sodium_init();
  if (status < 0) throw Error("libsodium could not be initialised");
}

SecretKey::SecretKey() {
  ensure_sodium();
  bytes_ = static_cast<std::uint8_t*>(sodium_malloc(kKeyBytes));
  if (!bytes_) throw Error("cannot allocate secure memory for a key");
}

SecretKey::~SecretKey() {
  if (bytes_) sodium_free(bytes_);  // wipes the memory before freeing it
}

SecretKey SecretKey::random() {
  SecretKey key;
  randombytes_buf(key.bytes_, kKeyBytes);
  return key;
}

SecretKey SecretKey::load(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) key_error(path, "cannot open: " + errno_text());
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const std::string err = errno_text();
    ::close(fd);
    key_error(path, "cannot stat: " + err);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    key_error(path, "not a regular file");
  }
  if ((st.st_mode & 077) != 0) {
    ::close(fd);
    key_error(path, "readable by group or others; run: chmod 600 '" + path.string() + "'");
  }
  // Refuse a file of the wrong size before reading it (a large file is not read into memory).
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size != kKeyBytes * 2 && size != kKeyBytes * 2 + 1) {
    ::close(fd);
    key_error(path, std::string(kNotAKey) + " (the file has " + std::to_string(size) + " bytes)");
  }
  // Read into locked memory so that the hex text is wiped too. One byte more than the largest valid
  // file, to notice a file that grew after fstat.
  constexpr std::size_t kMaxFile = kKeyBytes * 2 + 2;
  auto* buffer = static_cast<char*>(sodium_malloc(kMaxFile));
  if (!buffer) {
    ::close(fd);
    throw Error("cannot allocate secure memory for a key");
  }
  std::size_t got = 0;
  for (;;) {
    const ssize_t n = ::read(fd, buffer + got, kMaxFile - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const std::string err = errno_text();
      sodium_free(buffer);
      ::close(fd);
      key_error(path, "cannot read: " + err);
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
    if (got == kMaxFile) break;
  }
  ::close(fd);
  if (got != size) {
    sodium_free(buffer);
    key_error(path, std::string(kNotAKey) + " (the file changed while it was read)");
  }
  try {
    SecretKey key = from_key_text(std::string_view(buffer, got), path);
    sodium_free(buffer);
    return key;
  } catch (...) {
    sodium_free(buffer);
    throw;
  }
}

SecretKey SecretKey::from_key_text(std::string_view text, const std::filesystem::path& path) {
  // The format is exactly 64 hexadecimal digits, optionally followed by one newline (what
  // write_new_key_file writes): anything else — other lengths, spaces, CR, trailing data — is not a
  // key file this code wrote, and guessing at it could silently use the wrong bytes.
  std::string problem;
  if (text.size() != kKeyBytes * 2 && text.size() != kKeyBytes * 2 + 1) {
    problem = " (the file has " + std::to_string(text.size()) + " bytes)";
  } else if (text.size() == kKeyBytes * 2 + 1 && text[kKeyBytes * 2] != '\n') {
    problem = " (byte 65 is not a newline)";
  } else {
    for (std::size_t i = 0; i < kKeyBytes * 2 && problem.empty(); ++i)
      if (!std::isxdigit(static_cast<unsigned char>(text[i])))
        problem = " (byte " + std::to_string(i + 1) + " is not a hexadecimal digit)";
  }
  SecretKey key;
  std::size_t key_size = 0;
  const int rc = problem.empty()
                     ? sodium_hex2bin(key.bytes_, kKeyBytes, text.data(), kKeyBytes * 2, nullptr, &key_size, nullptr)
                     : -1;
  if (!problem.empty() || rc != 0 || key_size != kKeyBytes) key_error(path, std::string(kNotAKey) + problem);
  return key;
}

SecretKey SecretKey::derive(std::uint64_t id) const {
  SecretKey sub;
  if (crypto_kdf_derive_from_key(sub.bytes_, kKeyBytes, id, kKdfContext, bytes_) != 0)
    throw Error("key derivation failed");
  return sub;
}

void write_new_key_file(const std::filesystem::path& path) {
  const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) {
    std::filesystem::create_directories(dir, ec);
    if (ec) key_error(path, "cannot create folder '" + dir.string() + "': " + ec.message());
    ::chmod(dir.c_str(), 0700);
  }
  SecretKey key = SecretKey::random();
  constexpr std::size_t kHexSize = kKeyBytes * 2 + 1;
  auto* hex = static_cast<char*>(sodium_malloc(kHexSize + 1));
  if (!hex) throw Error("cannot allocate secure memory for a key");
  sodium_bin2hex(hex, kHexSize, key.data(), kKeyBytes);
  hex[kHexSize - 1] = '\n';
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    const int err = errno;
    sodium_free(hex);
    if (err == EEXIST) key_error(path, "already exists; refusing to overwrite a key");
    errno = err;
    key_error(path, "cannot create: " + errno_text());
  }
  ::fchmod(fd, 0600);  // in case the umask was stricter than needed or the file system ignores mode
  std::size_t written = 0;
  bool ok = true;
  while (written < kHexSize) {
    const ssize_t n = ::write(fd, hex + written, kHexSize - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ok = false;
      break;
    }
    written += static_cast<std::size_t>(n);
  }
  sodium_free(hex);
  if (!ok || ::fsync(fd) != 0) {
    const std::string err = errno_text();
    ::close(fd);
    ::unlink(path.c_str());
    key_error(path, "cannot write: " + err);
  }
  ::close(fd);
}

std::array<std::uint8_t, kKcvBytes> key_check_value(const SecretKey& master, std::span<const std::uint8_t> database_id) {
  const SecretKey check_key = master.derive(2);
  std::array<std::uint8_t, kKcvBytes> out{};
  crypto_generichash_state state;
  crypto_generichash_init(&state, check_key.data(), kKeyBytes, out.size());
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(kKcvLabel.data()), kKcvLabel.size());
  crypto_generichash_update(&state, database_id.data(), database_id.size());
  crypto_generichash_final(&state, out.data(), out.size());
  return out;
}

std::vector<std::uint8_t> template_ad(std::span<const std::uint8_t> database_id, std::string_view identity_id,
                                      Hand hand, std::int64_t row_id) {
  std::vector<std::uint8_t> ad;
  ad.reserve(kAdLabel.size() + 1 + database_id.size() + 4 + identity_id.size() + 1 + 8);
  // push_back loops rather than insert(): GCC 12 reports a false -Wstringop-overflow on insert.
  for (const char c : kAdLabel) ad.push_back(static_cast<std::uint8_t>(c));
  ad.push_back(0);
  for (const std::uint8_t b : database_id) ad.push_back(b);
  const auto id_size = static_cast<std::uint32_t>(identity_id.size());
  for (int i = 0; i < 4; ++i) ad.push_back(static_cast<std::uint8_t>(id_size >> (8 * i)));  // little endian
  for (const char c : identity_id) ad.push_back(static_cast<std::uint8_t>(c));
  ad.push_back(static_cast<std::uint8_t>(to_string(hand)[0]));
  const auto row = static_cast<std::uint64_t>(row_id);
  for (int i = 0; i < 8; ++i) ad.push_back(static_cast<std::uint8_t>(row >> (8 * i)));
  return ad;
}

Sealed seal(const SecretKey& aead_key, std::span<const std::uint8_t> plaintext, std::span<const std::uint8_t> ad) {
  Sealed out;
  out.nonce.resize(kNonceBytes);
  randombytes_buf(out.nonce.data(), out.nonce.size());
  out.ciphertext.resize(plaintext.size() + kTagBytes);
  unsigned long long size = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(out.ciphertext.data(), &size, plaintext.data(), plaintext.size(),
                                             ad.data(), ad.size(), nullptr, out.nonce.data(), aead_key.data());
  out.ciphertext.resize(static_cast<std::size_t>(size));
  return out;
}

bool open_sealed(const SecretKey& aead_key, std::span<const std::uint8_t> nonce, std::span<const std::uint8_t> ciphertext,
                 std::span<const std::uint8_t> ad, std::vector<std::uint8_t>& plaintext) {
  if (nonce.size() != kNonceBytes || ciphertext.size() < kTagBytes) return false;
  plaintext.resize(ciphertext.size() - kTagBytes);
  unsigned long long size = 0;
  const int rc = crypto_aead_xchacha20poly1305_ietf_decrypt(plaintext.data(), &size, nullptr, ciphertext.data(),
                                                            ciphertext.size(), ad.data(), ad.size(), nonce.data(),
                                                            aead_key.data());
  if (rc != 0) {
    sodium_memzero(plaintext.data(), plaintext.size());
    plaintext.clear();
    return false;
  }
  plaintext.resize(static_cast<std::size_t>(size));
  return true;
}

KeyedDigest::KeyedDigest(const SecretKey& key, std::string_view label) {
  crypto_generichash_init(&state_, key.data(), kKeyBytes, kDigestBytes);
  field(label);
}

KeyedDigest::~KeyedDigest() { sodium_memzero(&state_, sizeof state_); }

KeyedDigest& KeyedDigest::u8(std::uint8_t value) {
  crypto_generichash_update(&state_, &value, 1);
  return *this;
}

KeyedDigest& KeyedDigest::u32(std::uint32_t value) {
  std::uint8_t le[4];
  for (int i = 0; i < 4; ++i) le[i] = static_cast<std::uint8_t>(value >> (8 * i));
  crypto_generichash_update(&state_, le, sizeof le);
  return *this;
}

KeyedDigest& KeyedDigest::u64(std::uint64_t value) {
  std::uint8_t le[8];
  for (int i = 0; i < 8; ++i) le[i] = static_cast<std::uint8_t>(value >> (8 * i));
  crypto_generichash_update(&state_, le, sizeof le);
  return *this;
}

KeyedDigest& KeyedDigest::field(std::span<const std::uint8_t> bytes) {
  u32(static_cast<std::uint32_t>(bytes.size()));
  if (!bytes.empty()) crypto_generichash_update(&state_, bytes.data(), bytes.size());
  return *this;
}

KeyedDigest& KeyedDigest::field(std::string_view text) {
  return field(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

Digest KeyedDigest::final() {
  Digest out{};
  crypto_generichash_final(&state_, out.data(), out.size());
  return out;
}

Digest row_hash(std::span<const std::uint8_t> nonce, std::span<const std::uint8_t> ciphertext) {
  crypto_generichash_state state;
  crypto_generichash_init(&state, nullptr, 0, kDigestBytes);
  const auto length = [&](std::size_t size) {
    std::uint8_t le[4];
    for (int i = 0; i < 4; ++i) le[i] = static_cast<std::uint8_t>(size >> (8 * i));
    crypto_generichash_update(&state, le, sizeof le);
  };
  length(nonce.size());
  if (!nonce.empty()) crypto_generichash_update(&state, nonce.data(), nonce.size());
  length(ciphertext.size());
  if (!ciphertext.empty()) crypto_generichash_update(&state, ciphertext.data(), ciphertext.size());
  Digest out{};
  crypto_generichash_final(&state, out.data(), out.size());
  return out;
}

}  // namespace palmvein::gallery_internal

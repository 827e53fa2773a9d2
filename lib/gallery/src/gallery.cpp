// SPDX-License-Identifier: Apache-2.0
// The SQLite gallery. Schema history and migrations are in kMigrations below and docs/gallery.md.
#include "palmvein/gallery.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <future>
#include <map>
#include <mutex>

#include "gallery_crypto.hpp"
#include "sqlite_handle.hpp"

PALMVEIN_NAMESPACE_BEGIN

using gallery_internal::Connection;
using gallery_internal::SecretKey;
using gallery_internal::Statement;
using gallery_internal::Transaction;

namespace {

// Schema v1: the first released layout. Kept verbatim: tests build v1 fixtures from it and the
// migrations start from it.
constexpr std::string_view kSchemaV1 = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE identities(
  entry INTEGER PRIMARY KEY,
  id TEXT NOT NULL,
  name TEXT NOT NULL DEFAULT '',
  hand TEXT NOT NULL CHECK(hand IN ('L','R','U')),
  created INTEGER NOT NULL,
  UNIQUE(id, hand));
CREATE TABLE templates(
  row_id INTEGER PRIMARY KEY AUTOINCREMENT,
  entry INTEGER NOT NULL REFERENCES identities(entry) ON DELETE CASCADE,
  nonce BLOB NOT NULL,
  ciphertext BLOB NOT NULL);
)sql";

// What a migration step may need besides SQL. Schema v3 authenticates the state that exists when it
// runs, so migrating to v3 needs the gallery key (Gallery::open checks the key before migrating).
struct StateKeys {
  const SecretKey& aead;   // subkey 1: template rows
  const SecretKey& state;  // subkey 3: identity and gallery state digests
  std::span<const std::uint8_t> database_id;
  const std::filesystem::path& path;  // for messages
};

struct Migration {
  std::string_view sql;
  void (*after)(const Connection& db, const StateKeys& keys);  // nullptr: the SQL is all
};

void authenticate_current_state(const Connection& db, const StateKeys& keys);

// Migrations: kMigrations[i] takes the schema from version i+1 to i+2, in the transaction of the
// open that finds the older version.
// v1 -> v2: last-update time and template algorithm per identity, creation time per template, an
// index for loading one identity's templates.
// v2 -> v3: rollback protection. Per identity a generation and a keyed digest over the identity and
// its rows; in meta the gallery generation and a keyed digest over every identity (docs/security.md).
// The state found at migration is authenticated as it is, after every row passed its AEAD check.
constexpr Migration kMigrations[] = {
    {R"sql(
ALTER TABLE identities ADD COLUMN updated INTEGER NOT NULL DEFAULT 0;
UPDATE identities SET updated = created;
ALTER TABLE identities ADD COLUMN algorithm INTEGER NOT NULL DEFAULT 0;
ALTER TABLE templates ADD COLUMN created INTEGER NOT NULL DEFAULT 0;
UPDATE templates SET created = (SELECT created FROM identities WHERE identities.entry = templates.entry);
CREATE INDEX templates_by_entry ON templates(entry);
)sql",
     nullptr},
    {R"sql(
ALTER TABLE identities ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;
ALTER TABLE identities ADD COLUMN digest BLOB;
)sql",
     &authenticate_current_state},
};
static_assert(std::size(kMigrations) + 1 == Gallery::kSchemaVersion);

constexpr std::size_t kMaxIdLength = 128;
constexpr std::size_t kMaxNameLength = 256;
constexpr std::size_t kMaxTemplateBytes = 1 << 20;
// Template rows decrypted per hand-over between the loading threads (load_templates): large enough
// that starting a thread per batch costs nothing, small enough to hold in cache.
constexpr std::size_t kRowsPerOpeningBatch = 1024;

std::int64_t now_seconds() { return static_cast<std::int64_t>(std::time(nullptr)); }

std::span<const std::uint8_t> bytes_of(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

int read_user_version(const Connection& db) {
  Statement st(db, "PRAGMA user_version");
  return st.step() ? static_cast<int>(st.column_int(0)) : 0;
}

bool has_table(const Connection& db, std::string_view name) {
  Statement st(db, "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?");
  st.bind(1, name);
  return st.step();
}

int count_tables(const Connection& db) {
  Statement st(db, "SELECT count(*) FROM sqlite_master WHERE type='table'");
  st.step();
  return static_cast<int>(st.column_int(0));
}

std::optional<std::vector<std::uint8_t>> read_meta(const Connection& db, std::string_view key) {
  Statement st(db, "SELECT value FROM meta WHERE key=?");
  st.bind(1, key);
  if (!st.step()) return std::nullopt;
  return st.column_blob(0);
}

void write_meta(const Connection& db, std::string_view key, std::span<const std::uint8_t> value) {
  Statement st(db, "INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)");
  st.bind(1, key).bind(2, value);
  st.run();
}

// ---- Authenticated state (schema v3, rollback protection; docs/security.md "Gallery state") ----
//
// The AEAD of a row proves that the key sealed it for this database, identity, hand and row id, but
// not that it is still current: a row saved before a delete or a re-enrolment and inserted again
// later would authenticate. So each identity carries a keyed digest over its fields and the exact set
// of its rows, and meta carries a keyed digest over every identity (id, hand, generation, digest) and
// a gallery generation that every write increments. Every read checks both before using anything;
// every write checks them first (so a write never blesses a tampered state) and renews them in its
// transaction.

using gallery_internal::Digest;
using gallery_internal::KeyedDigest;

constexpr std::string_view kIdentityDigestLabel = "palmvein-gallery-identity-v1";
constexpr std::string_view kGalleryDigestLabel = "palmvein-gallery-state-v1";

// One row of `identities`, as stored.
struct IdentityRecord {
  std::int64_t entry = 0;
  std::string id;
  std::string name;
  Hand hand = Hand::Unknown;  // the column holds to_string(hand): "L", "R" or "U"
  std::int64_t created = 0;
  std::int64_t updated = 0;
  std::int64_t algorithm = 0;
  std::int64_t generation = 0;
  std::vector<std::uint8_t> digest;  // empty when NULL
};

// One row of `templates`, as stored.
struct RowRecord {
  std::int64_t row_id = 0;
  std::int64_t created = 0;
  std::vector<std::uint8_t> nonce;
  std::vector<std::uint8_t> ciphertext;
};

constexpr std::string_view kRecordColumns = "entry, id, name, hand, created, updated, algorithm, generation, digest";

IdentityRecord record_from(const Statement& st) {
  IdentityRecord r;
  r.entry = st.column_int(0);
  r.id = st.column_text(1);
  r.name = st.column_text(2);
  r.hand = parse_hand(st.column_text(3));  // the schema CHECKs L, R or U
  r.created = st.column_int(4);
  r.updated = st.column_int(5);
  r.algorithm = st.column_int(6);
  r.generation = st.column_int(7);
  r.digest = st.column_blob(8);
  return r;
}

// Every identity, in the order the gallery digest covers them (id, then hand; binary collation).
std::vector<IdentityRecord> read_records(const Connection& db) {
  Statement st(db, "SELECT " + std::string(kRecordColumns) + " FROM identities ORDER BY id, hand");
  std::vector<IdentityRecord> out;
  while (st.step()) out.push_back(record_from(st));
  return out;
}

IdentityRecord read_record(const Connection& db, std::int64_t entry) {
  Statement st(db, "SELECT " + std::string(kRecordColumns) + " FROM identities WHERE entry=?");
  st.bind(1, entry);
  if (!st.step()) throw GalleryError(GalleryFault::Corrupt, "identity entry " + std::to_string(entry) + " vanished");
  return record_from(st);
}

constexpr std::string_view kRowsOfEntry = "SELECT row_id, created, nonce, ciphertext FROM templates WHERE entry=? ORDER BY row_id";

// The rows of one entry through a statement of kRowsOfEntry prepared by the caller (a whole-gallery
// load reads every identity's rows: preparing once saves a parse per identity).
std::vector<RowRecord> read_rows(Statement& rows_of_entry, std::int64_t entry) {
  rows_of_entry.reset();
  rows_of_entry.bind(1, entry);
  std::vector<RowRecord> out;
  while (rows_of_entry.step())
    out.push_back({rows_of_entry.column_int(0), rows_of_entry.column_int(1), rows_of_entry.column_blob(2),
                   rows_of_entry.column_blob(3)});
  return out;
}

std::vector<RowRecord> read_rows(const Connection& db, std::int64_t entry) {
  Statement st(db, kRowsOfEntry);
  return read_rows(st, entry);
}

std::string describe(const IdentityRecord& r) { return "'" + r.id + "' (hand " + std::string(to_string(r.hand)) + ")"; }

Digest identity_digest(const StateKeys& keys, const IdentityRecord& r, const std::vector<RowRecord>& rows) {
  KeyedDigest d(keys.state, kIdentityDigestLabel);
  d.field(keys.database_id).field(r.id).field(to_string(r.hand)).field(r.name);
  d.u64(static_cast<std::uint64_t>(r.created)).u64(static_cast<std::uint64_t>(r.updated));
  d.u64(static_cast<std::uint64_t>(r.algorithm)).u64(static_cast<std::uint64_t>(r.generation));
  d.u64(rows.size());
  for (const auto& row : rows) {
    d.u64(static_cast<std::uint64_t>(row.row_id)).u64(static_cast<std::uint64_t>(row.created));
    d.field(gallery_internal::row_hash(row.nonce, row.ciphertext));
  }
  return d.final();
}

Digest gallery_digest(const StateKeys& keys, std::uint64_t generation, const std::vector<IdentityRecord>& records) {
  KeyedDigest d(keys.state, kGalleryDigestLabel);
  d.field(keys.database_id).u64(generation).u64(records.size());
  for (const auto& r : records) d.field(r.id).field(to_string(r.hand)).u64(static_cast<std::uint64_t>(r.generation)).field(r.digest);
  return d.final();
}

bool same_digest(const Digest& expected, const std::vector<std::uint8_t>& stored) {
  return stored.size() == expected.size() && sodium_memcmp(expected.data(), stored.data(), expected.size()) == 0;
}

[[noreturn]] void throw_gallery_tampered(const StateKeys& keys) {
  throw GalleryError(GalleryFault::Tampered,
                     "gallery '" + keys.path.string() +
                         "': its list of identities failed authentication (an identity was added, removed or "
                         "restored from an older copy without the key); refusing to use it");
}

// The gallery generation; nullopt when absent or malformed (the caller treats both as tampering).
std::optional<std::uint64_t> read_generation(const Connection& db) {
  const auto value = read_meta(db, "generation");
  if (!value || value->empty() || value->size() > 20) return std::nullopt;
  std::uint64_t n = 0;
  for (const std::uint8_t c : *value) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  return n;
}

// Checks the identities as a whole against meta.state. Returns the gallery generation.
std::uint64_t check_gallery_state(const Connection& db, const StateKeys& keys, const std::vector<IdentityRecord>& records) {
  const auto generation = read_generation(db);
  const auto stored = read_meta(db, "state");
  if (!generation || !stored || !same_digest(gallery_digest(keys, *generation, records), *stored))
    throw_gallery_tampered(keys);
  return *generation;
}

// No template row may belong to an entry that is not an identity: such a row is left over from
// tampering and could be adopted by the next identity that gets that entry number.
void check_no_orphan_rows(const Connection& db, const StateKeys& keys) {
  Statement st(db, "SELECT count(*) FROM templates t WHERE NOT EXISTS (SELECT 1 FROM identities i WHERE i.entry = t.entry)");
  st.step();
  if (st.column_int(0) != 0)
    throw GalleryError(GalleryFault::Tampered, "gallery '" + keys.path.string() + "': " + std::to_string(st.column_int(0)) +
                                                   " template row(s) belong to no identity (rows were inserted without "
                                                   "the key); refusing to use it");
}

// The rows of one identity, checked against its digest: an old, missing or extra row is an error.
void check_rows(const StateKeys& keys, const IdentityRecord& record, const std::vector<RowRecord>& rows) {
  if (!same_digest(identity_digest(keys, record, rows), record.digest))
    throw GalleryError(GalleryFault::Tampered,
                       "the templates of " + describe(record) + " in '" + keys.path.string() +
                           "' failed authentication (a row was added, removed, changed or restored from an older copy "
                           "without the key); refusing to use them");
}

std::vector<RowRecord> checked_rows(const Connection& db, const StateKeys& keys, const IdentityRecord& record) {
  auto rows = read_rows(db, record.entry);
  check_rows(keys, record, rows);
  return rows;
}

// Decrypts one row; a row that fails its AEAD check is an error.
std::vector<std::uint8_t> open_row(const StateKeys& keys, const IdentityRecord& record, const RowRecord& row) {
  const auto ad = gallery_internal::template_ad(keys.database_id, record.id, record.hand, row.row_id);
  std::vector<std::uint8_t> plain;
  if (!gallery_internal::open_sealed(keys.aead, row.nonce, row.ciphertext, ad, plain))
    throw GalleryError(GalleryFault::Tampered,
                       "template row " + std::to_string(row.row_id) + " of '" + record.id + "' (hand " + std::string(to_string(record.hand)) +
                           ") in '" + keys.path.string() +
                           "' failed authentication: the gallery was modified or rows were moved; refusing to use it");
  return plain;
}

// Renews the digest of one identity from what is stored now (the caller has checked it or wrote it).
void write_identity_digest(const Connection& db, const StateKeys& keys, std::int64_t entry) {
  const IdentityRecord record = read_record(db, entry);
  const Digest digest = identity_digest(keys, record, read_rows(db, entry));
  Statement st(db, "UPDATE identities SET digest=? WHERE entry=?");
  st.bind(1, digest).bind(2, entry);
  st.run();
}

// Renews the gallery digest over the identities stored now, at `generation`.
void write_gallery_state(const Connection& db, const StateKeys& keys, std::uint64_t generation) {
  const Digest digest = gallery_digest(keys, generation, read_records(db));
  write_meta(db, "generation", bytes_of(std::to_string(generation)));
  write_meta(db, "state", digest);
}

// The v2 -> v3 step: every row must pass its AEAD check, rows of no identity are dropped, and the
// state found becomes the authenticated state at gallery generation 0.
void authenticate_current_state(const Connection& db, const StateKeys& keys) {
  db.exec("DELETE FROM templates WHERE NOT EXISTS (SELECT 1 FROM identities i WHERE i.entry = templates.entry)");
  for (const auto& record : read_records(db)) {
    for (const auto& row : read_rows(db, record.entry)) {
      auto plain = open_row(keys, record, row);
      sodium_memzero(plain.data(), plain.size());
    }
    write_identity_digest(db, keys, record.entry);
  }
  write_gallery_state(db, keys, 0);
}

IdentityInfo info_of(const IdentityRecord& r, std::size_t template_count) {
  IdentityInfo info;
  info.id = r.id;
  info.display_name = r.name;
  info.hand = r.hand;
  info.created = r.created;
  info.updated = r.updated;
  info.algorithm = static_cast<std::uint16_t>(r.algorithm);
  info.template_count = static_cast<int>(template_count);
  return info;
}

}  // namespace

namespace {

// Decodes the UTF-8 sequence at text[i] into `cp`; returns its length, or 0 when it is not valid
// UTF-8 (a stray or missing continuation byte, an overlong form, a surrogate, above U+10FFFF).
std::size_t decode_utf8(std::string_view text, std::size_t i, char32_t& cp) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char c = byte(i);
  std::size_t length = 0;
  if (c < 0x80) {
    cp = c;
    return 1;
  }
  if (c >= 0xc2 && c <= 0xdf) {
    length = 2;
    cp = c & 0x1f;
  } else if (c >= 0xe0 && c <= 0xef) {
    length = 3;
    cp = c & 0x0f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    length = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  for (std::size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3f);
  }
  if ((length == 3 && cp < 0x800) || (length == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
    return 0;
  return length;
}

// Code points that must not be stored in an id or a name: C0 controls (terminal escapes start with
// ESC), DEL, C1 controls (U+0080..U+009F, e.g. CSI U+009B), line and paragraph separators, and the
// bidirectional formatting characters that make a printed name read differently from what it is.
bool refused_code_point(char32_t cp) {
  return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x061c || cp == 0x200e || cp == 0x200f ||
         (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

void check_text(std::string_view what, std::string_view text, std::size_t max_bytes) {
  if (text.size() > max_bytes)
    throw InvalidArgument(std::string(what) + " is longer than " + std::to_string(max_bytes) + " bytes");
  for (std::size_t i = 0; i < text.size();) {
    char32_t cp = 0;
    const std::size_t length = decode_utf8(text, i, cp);
    if (length == 0)
      throw InvalidArgument(std::string(what) + " is not valid UTF-8 (at byte " + std::to_string(i + 1) + ")");
    if (refused_code_point(cp))
      throw InvalidArgument(std::string(what) + " contains a control or formatting character (at byte " +
                            std::to_string(i + 1) + ")");
    i += length;
  }
}

}  // namespace

void check_identity_id(std::string_view id) {
  if (id.empty()) throw InvalidArgument("identity id is empty");
  check_text("identity id", id, kMaxIdLength);
}

void check_display_name(std::string_view name) { check_text("display name", name, kMaxNameLength); }

std::string escape_text(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    char32_t cp = 0;
    const std::size_t length = decode_utf8(text, i, cp);
    if (length == 0 || (length == 1 && refused_code_point(cp))) {
      const auto b = static_cast<unsigned char>(text[i]);
      out += "\\x";
      out += kHex[b >> 4];
      out += kHex[b & 15];
      ++i;
      continue;
    }
    if (refused_code_point(cp)) {
      out += "\\u";
      for (int shift = 12; shift >= 0; shift -= 4) out += kHex[(cp >> shift) & 15];
    } else if (cp == '\\') {
      out += "\\\\";
    } else {
      out.append(text.substr(i, length));
    }
    i += length;
  }
  return out;
}

std::string_view to_string(GalleryFault fault) noexcept {
  switch (fault) {
    case GalleryFault::WrongKey: return "wrong-key";
    case GalleryFault::Tampered: return "tampered";
    case GalleryFault::NotFound: return "not-found";
    case GalleryFault::AlreadyExists: return "already-exists";
    case GalleryFault::Busy: return "busy";
    case GalleryFault::Corrupt: return "corrupt";
    case GalleryFault::TooNew: return "too-new";
    case GalleryFault::Key: return "key";
    case GalleryFault::Io: return "io";
    case GalleryFault::NeedsMigration: return "needs-migration";
  }
  return "unknown";
}

std::filesystem::path default_key_file() {
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && *xdg && xdg[0] == '/')
    return std::filesystem::path(xdg) / "palmvein" / "gallery.key";
  const char* home = std::getenv("HOME");
  if (!home || !*home)
    throw GalleryError(GalleryFault::Key, "neither XDG_CONFIG_HOME nor HOME is set, so there is no default key file: give a key file explicitly");
  return std::filesystem::path(home) / ".config" / "palmvein" / "gallery.key";
}

KeyLocation resolve_key_file(const std::filesystem::path& explicit_path) {
  if (!explicit_path.empty()) return {explicit_path, false};
  if (const char* env = std::getenv("PALMVEIN_KEY_FILE"); env && *env) return {env, false};
  return {default_key_file(), true};
}

void create_key_file(const std::filesystem::path& path) { gallery_internal::write_new_key_file(path); }

void GalleryOptions::check() const {
  if (busy_timeout.count() < 0) throw InvalidArgument("busy_timeout must not be negative");
  if (busy_timeout.count() > 24LL * 3600 * 1000) throw InvalidArgument("busy_timeout must be at most a day");
  if (read_only && create) throw InvalidArgument("a read-only gallery cannot be created: set create=false");
}

struct Gallery::Impl {
  std::filesystem::path path;
  GalleryOptions options;
  Connection db;
  std::vector<std::uint8_t> database_id;
  SecretKey aead_key;   // subkey 1 of the master key
  SecretKey state_key;  // subkey 3 of the master key
  mutable std::mutex mutex;

  Impl(std::filesystem::path p, GalleryOptions o, Connection c, std::vector<std::uint8_t> id, SecretKey aead,
       SecretKey state)
      : path(std::move(p)), options(std::move(o)), db(std::move(c)), database_id(std::move(id)),
        aead_key(std::move(aead)), state_key(std::move(state)) {}

  StateKeys keys() const { return {aead_key, state_key, database_id, path}; }
  // Decrypted templates of the identities that `select` picks, after the state checks; each is
  // handed to `take` as it is decrypted (nothing is collected here).
  void load_templates(const std::function<bool(const IdentityRecord&)>& select, bool all,
                      const std::function<void(StoredTemplate&&)>& take) const;
  // The records of an enrolment batch by (id, hand), kept current as the batch writes.
  using RecordIndex = std::map<std::pair<std::string, Hand>, IdentityRecord>;
  // One request of Gallery::enroll, inside its transaction, after the state check.
  IdentityInfo enroll_one(const StateKeys& keys, RecordIndex& records, const EnrollRequest& request,
                          std::int64_t now, std::uint64_t generation);
};

namespace {

// Applies the migrations from `from` to the current version (inside the caller's transaction).
void apply_migrations(const Connection& db, int from, const StateKeys& keys) {
  for (int v = from; v < Gallery::kSchemaVersion; ++v) {
    db.exec(kMigrations[v - 1].sql);
    if (kMigrations[v - 1].after) kMigrations[v - 1].after(db, keys);
  }
  db.exec("PRAGMA user_version = " + std::to_string(Gallery::kSchemaVersion));
}

// Creates the current schema on an empty database (inside the caller's transaction).
void create_schema(const Connection& db, const SecretKey& master, const SecretKey& aead, const SecretKey& state,
                   const std::filesystem::path& path) {
  db.exec(kSchemaV1);
  std::vector<std::uint8_t> database_id(gallery_internal::kDatabaseIdBytes);
  randombytes_buf(database_id.data(), database_id.size());
  write_meta(db, "database_id", database_id);
  const auto kcv = gallery_internal::key_check_value(master, database_id);
  write_meta(db, "key_check", kcv);
  write_meta(db, "created", bytes_of(std::to_string(now_seconds())));
  apply_migrations(db, 1, StateKeys{aead, state, database_id, path});
}

// Checks that `db` is a palmvein gallery that `master` opens; returns its database id. Reads only.
std::vector<std::uint8_t> check_key(const Connection& db, const SecretKey& master, const std::filesystem::path& path,
                                    const std::filesystem::path& key_path) {
  if (!has_table(db, "meta"))
    throw GalleryError(GalleryFault::Corrupt, "'" + path.string() + "' is not a palmvein gallery (no meta table)");
  const auto database_id = read_meta(db, "database_id");
  const auto stored_kcv = read_meta(db, "key_check");
  if (!database_id || !stored_kcv || database_id->size() != gallery_internal::kDatabaseIdBytes ||
      stored_kcv->size() != gallery_internal::kKcvBytes)
    throw GalleryError(GalleryFault::Corrupt, "gallery '" + path.string() + "' lacks its key check value");
  const auto kcv = gallery_internal::key_check_value(master, *database_id);
  if (sodium_memcmp(kcv.data(), stored_kcv->data(), kcv.size()) != 0)
    throw GalleryError(GalleryFault::WrongKey, "the key file '" + key_path.string() + "' does not open gallery '" +
                                                   path.string() + "' (wrong key)");
  return *database_id;
}

// "file:" URI of a path for sqlite3_open_v2 with SQLITE_OPEN_URI (every byte but unreserved ones and
// '/' percent-encoded, so that '?', '#' and '%' in a file name stay part of the name).
std::string file_uri(const std::filesystem::path& path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = "file:";
  for (const char ch : path.string()) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '/' || c == '-' || c == '.' || c == '_' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// Opens the connection. A read-only connection to a WAL database needs the -shm file, which SQLite
// must create when it is absent (a cleanly closed gallery has none): impossible in a read-only folder
// or for a file this user may not write, and SQLite then answers every read with SQLITE_READONLY.
// When no -wal file holds changes that the database file lacks, the file is then read as immutable
// (no locks, no -shm): exact as long as nobody writes it meanwhile, which whoever made it read-only
// has ruled out. A read-only connection never writes either way.
Connection open_connection(const std::filesystem::path& path, bool read_only) {
  if (!read_only) return Connection(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  Connection db(path, SQLITE_OPEN_READONLY);
  const int rc = sqlite3_exec(db.get(), "SELECT count(*) FROM sqlite_master", nullptr, nullptr, nullptr);
  if ((rc & 0xff) != SQLITE_READONLY && (rc & 0xff) != SQLITE_CANTOPEN) return db;
  std::error_code ec;
  const std::filesystem::path wal = path.string() + "-wal";
  if (std::filesystem::exists(wal, ec) && std::filesystem::file_size(wal, ec) > 0) return db;  // reads report it
  return Connection(file_uri(path) + "?immutable=1", SQLITE_OPEN_READONLY | SQLITE_OPEN_URI);
}

void check_version(int version, const std::filesystem::path& path) {
  if (version > Gallery::kSchemaVersion)
    throw GalleryError(GalleryFault::TooNew, "gallery '" + path.string() + "' has schema version " +
                                                 std::to_string(version) + "; this palmvein reads up to " +
                                                 std::to_string(Gallery::kSchemaVersion) + " (upgrade palmvein)");
}

}  // namespace

Gallery Gallery::open(const std::filesystem::path& path, GalleryOptions options, KeyNotice* notice) {
  options.check();
  gallery_internal::ensure_sodium();
  if (path.empty()) throw InvalidArgument("gallery path is empty");
  std::error_code ec;
  const bool db_exists = std::filesystem::exists(path, ec) && std::filesystem::file_size(path, ec) > 0;
  if (!db_exists && !options.create)
    throw GalleryError(GalleryFault::Io, "no gallery at '" + path.string() + "' (enrol someone first)");

  const KeyLocation key_location = resolve_key_file(options.key_file);
  {
    // The key must never be written into the database file, nor the database over the key.
    const auto same = [&ec](const std::filesystem::path& a, const std::filesystem::path& b) {
      return std::filesystem::exists(a, ec) && std::filesystem::exists(b, ec)
                 ? std::filesystem::equivalent(a, b, ec)
                 : std::filesystem::weakly_canonical(std::filesystem::absolute(a), ec) ==
                       std::filesystem::weakly_canonical(std::filesystem::absolute(b), ec);
    };
    if (same(path, key_location.path))
      throw InvalidArgument("the key file '" + key_location.path.string() + "' and the gallery '" + path.string() +
                            "' must be different files");
  }
  bool key_created = false;
  if (!std::filesystem::exists(key_location.path, ec)) {
    if (db_exists)
      throw GalleryError(GalleryFault::Key, "key file '" + key_location.path.string() + "' not found; the gallery '" +
                                                path.string() +
                                                "' needs the key it was created with (an explicit key file or $PALMVEIN_KEY_FILE)");
    create_key_file(key_location.path);
    key_created = true;
  }
  SecretKey master = SecretKey::load(key_location.path);
  if (notice) *notice = KeyNotice{key_location.path, key_created};
  SecretKey aead_key = master.derive(1);
  SecretKey state_key = master.derive(3);

  Connection db = open_connection(path, options.read_only);
  sqlite3_busy_timeout(db.get(), static_cast<int>(options.busy_timeout.count()));
  db.exec("PRAGMA foreign_keys = ON");

  // Everything that can refuse the file is checked before the first write, so that a refused file
  // (a foreign SQLite database, a newer schema, the wrong key) is left exactly as it was.
  int version = read_user_version(db);
  if (version == 0 && (options.read_only || count_tables(db) != 0))
    throw GalleryError(GalleryFault::Corrupt, "'" + path.string() + "' is an SQLite database but not a palmvein gallery");
  check_version(version, path);
  if (version != 0) check_key(db, master, path, key_location.path);

  if (!options.read_only) {
    // WAL: readers see the last committed state while a writer enrols; a killed writer's
    // uncommitted pages are never read. FULL: a committed enrolment survives power loss too.
    Statement wal(db, "PRAGMA journal_mode = WAL");
    wal.step();
    db.exec("PRAGMA synchronous = FULL");
  }
  if (!db_exists) ::chmod(path.c_str(), 0600);  // templates are encrypted, but the ids are not

  if (version == 0) {
    Transaction tx(db);
    version = read_user_version(db);  // another process may have created it meanwhile
    if (version == 0) {
      if (count_tables(db) != 0)
        throw GalleryError(GalleryFault::Corrupt,
                           "'" + path.string() + "' is an SQLite database but not a palmvein gallery");
      create_schema(db, master, aead_key, state_key, path);
      version = kSchemaVersion;
    }
    tx.commit();
    check_version(version, path);
  }
  const std::vector<std::uint8_t> database_id = check_key(db, master, path, key_location.path);

  if (version < kSchemaVersion) {
    if (options.read_only)
      throw GalleryError(GalleryFault::NeedsMigration, "gallery '" + path.string() + "' has schema version " +
                                                           std::to_string(version) +
                                                           " and must be migrated: open it read-write once");
    Transaction tx(db);
    version = read_user_version(db);
    if (version < kSchemaVersion) apply_migrations(db, version, StateKeys{aead_key, state_key, database_id, path});
    tx.commit();
  }

  auto impl = std::make_unique<Impl>(path, std::move(options), std::move(db), database_id, std::move(aead_key),
                                     std::move(state_key));
  return Gallery(std::move(impl));
}

Gallery::Gallery(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Gallery::~Gallery() = default;
Gallery::Gallery(Gallery&&) noexcept = default;
Gallery& Gallery::operator=(Gallery&&) noexcept = default;

const std::filesystem::path& Gallery::path() const noexcept { return impl_->path; }

std::size_t Gallery::stored_template_count() const {
  std::lock_guard lock(impl_->mutex);
  Statement st(impl_->db, "SELECT count(*) FROM templates");
  st.step();
  return static_cast<std::size_t>(st.column_int(0));
}

int Gallery::schema_version() const {
  std::lock_guard lock(impl_->mutex);
  return read_user_version(impl_->db);
}

IdentityInfo Gallery::enroll(const EnrollRequest& request) { return enroll(std::span(&request, 1)).front(); }

std::vector<IdentityInfo> Gallery::enroll(std::span<const EnrollRequest> requests) {
  for (const EnrollRequest& request : requests) {
    check_identity_id(request.id);
    check_display_name(request.display_name);
    if (request.templates.empty()) throw InvalidArgument("an enrolment needs at least one template");
    for (const auto& t : request.templates)
      if (t.empty() || t.size() > kMaxTemplateBytes) throw InvalidArgument("template size out of range");
  }
  if (impl_->options.read_only) throw InvalidArgument("gallery opened read-only");
  if (requests.empty()) return {};

  std::lock_guard lock(impl_->mutex);
  const Connection& db = impl_->db;
  const StateKeys keys = impl_->keys();
  const std::int64_t now = now_seconds();

  Transaction tx(db);
  // A write first checks the state it changes: it must never make a tampered state authentic. One
  // check and one new state for the whole batch: the state digest covers every identity, so this is
  // what makes enrolling N identities cost O(N) instead of O(N^2).
  auto all = read_records(db);
  const std::uint64_t generation = check_gallery_state(db, keys, all) + 1;
  Impl::RecordIndex records;
  for (auto& r : all) {
    auto key = std::make_pair(r.id, r.hand);
    records.emplace(std::move(key), std::move(r));
  }
  std::vector<IdentityInfo> out;
  out.reserve(requests.size());
  for (const EnrollRequest& request : requests) out.push_back(impl_->enroll_one(keys, records, request, now, generation));
  write_gallery_state(db, keys, generation);
  tx.commit();
  return out;
}

IdentityInfo Gallery::Impl::enroll_one(const StateKeys& keys, RecordIndex& records, const EnrollRequest& request,
                                       std::int64_t now, std::uint64_t generation) {
  const std::string who = "'" + request.id + "' (hand " + std::string(to_string(request.hand)) + ")";

  const IdentityRecord* existing = nullptr;
  if (auto it = records.find(std::make_pair(request.id, request.hand)); it != records.end()) existing = &it->second;
  std::optional<std::int64_t> entry;
  std::uint16_t old_algorithm = 0;
  if (existing) {
    entry = existing->entry;
    old_algorithm = static_cast<std::uint16_t>(existing->algorithm);
  }
  switch (request.mode) {
    case EnrollMode::Create:
      if (entry)
        throw GalleryError(GalleryFault::AlreadyExists,
                           "identity " + who + " is already enrolled; replace its templates (re-enrol) or add to them");
      break;
    case EnrollMode::Add:
      if (!entry) throw GalleryError(GalleryFault::NotFound, "identity " + who + " is not enrolled; nothing to add to");
      if (old_algorithm != 0 && old_algorithm != request.algorithm)
        throw InvalidArgument("identity " + who + " was enrolled with template algorithm " +
                              std::to_string(old_algorithm) + ", not " + std::to_string(request.algorithm) +
                              "; replace its templates (re-enrol) instead");
      break;
    case EnrollMode::Replace:
      break;
  }
  if (entry) {
    checked_rows(db, keys, *existing);  // its fields (kept on Replace) and, for Add, the rows kept
    if (request.mode == EnrollMode::Replace) {
      Statement del(db, "DELETE FROM templates WHERE entry=?");
      del.bind(1, *entry);
      del.run();
    }
    Statement up(db,
                 "UPDATE identities SET updated=?, algorithm=?, name=CASE WHEN ?='' THEN name ELSE ? END WHERE entry=?");
    up.bind(1, now).bind(2, std::int64_t{request.algorithm}).bind(3, request.display_name).bind(4, request.display_name);
    up.bind(5, *entry);
    up.run();
  } else {
    // The other hands of the person, whose display name a new hand may inherit, must be authentic too.
    for (auto it = records.lower_bound(std::make_pair(request.id, Hand::Left));
         it != records.end() && it->first.first == request.id; ++it)
      checked_rows(db, keys, it->second);
    // A new hand of a known person keeps the person's display name unless a new one is given.
    Statement ins(db, "INSERT INTO identities(id, name, hand, created, updated, algorithm) VALUES(?, "
                      "COALESCE(NULLIF(?, ''), (SELECT name FROM identities WHERE id = ? AND name <> '' LIMIT 1), ''), "
                      "?, ?, ?, ?)");
    ins.bind(1, request.id).bind(2, request.display_name).bind(3, request.id).bind(4, to_string(request.hand)).bind(5, now).bind(6, now);
    ins.bind(7, std::int64_t{request.algorithm});
    ins.run();
    entry = sqlite3_last_insert_rowid(db.get());
    // Entry numbers can be reused after a delete: rows planted under the new number are not adopted.
    if (!read_rows(db, *entry).empty())
      throw GalleryError(GalleryFault::Tampered, "gallery '" + path.string() + "': template rows of no identity wait "
                                                 "under entry " + std::to_string(*entry) +
                                                 " (rows were inserted without the key); refusing to use it");
  }

  Statement insert(db, "INSERT INTO templates(entry, nonce, ciphertext, created) VALUES(?, x'', x'', ?)");
  Statement update(db, "UPDATE templates SET nonce=?, ciphertext=? WHERE row_id=?");
  int inserted = 0;
  for (const auto& plain : request.templates) {
    insert.reset();
    insert.bind(1, *entry).bind(2, now);
    insert.run();
    // AUTOINCREMENT: row ids are never reused, so an old sealed row can never be valid at a new id.
    const std::int64_t row_id = sqlite3_last_insert_rowid(db.get());
    const auto ad = gallery_internal::template_ad(database_id, request.id, request.hand, row_id);
    const auto sealed = gallery_internal::seal(aead_key, plain, ad);
    update.reset();
    update.bind(1, sealed.nonce).bind(2, sealed.ciphertext).bind(3, row_id);
    update.run();
    ++inserted;
    if (options.after_template_insert) options.after_template_insert(inserted);
  }

  Statement gen(db, "UPDATE identities SET generation=? WHERE entry=?");
  gen.bind(1, static_cast<std::int64_t>(generation)).bind(2, *entry);
  gen.run();
  write_identity_digest(db, keys, *entry);

  IdentityRecord stored = read_record(db, *entry);
  IdentityInfo info = info_of(stored, read_rows(db, *entry).size());
  records.insert_or_assign(std::make_pair(request.id, request.hand), std::move(stored));
  return info;
}

int Gallery::remove(std::string_view id, std::optional<Hand> hand) {
  check_identity_id(id);
  if (impl_->options.read_only) throw InvalidArgument("gallery opened read-only");
  std::lock_guard lock(impl_->mutex);
  const StateKeys keys = impl_->keys();
  Transaction tx(impl_->db);
  const std::uint64_t generation = check_gallery_state(impl_->db, keys, read_records(impl_->db)) + 1;
  Statement st(impl_->db, hand ? "DELETE FROM identities WHERE id=? AND hand=?" : "DELETE FROM identities WHERE id=?");
  st.bind(1, id);
  if (hand) st.bind(2, to_string(*hand));
  st.run();
  const int removed = sqlite3_changes(impl_->db.get());
  if (removed > 0) write_gallery_state(impl_->db, keys, generation);
  tx.commit();
  return removed;
}

std::vector<IdentityInfo> Gallery::list() const {
  std::lock_guard lock(impl_->mutex);
  const StateKeys keys = impl_->keys();
  gallery_internal::ReadTransaction snapshot(impl_->db);
  const auto records = read_records(impl_->db);
  check_gallery_state(impl_->db, keys, records);
  check_no_orphan_rows(impl_->db, keys);
  std::vector<IdentityInfo> out;
  out.reserve(records.size());
  for (const auto& r : records) out.push_back(info_of(r, checked_rows(impl_->db, keys, r).size()));
  return out;
}

std::optional<IdentityInfo> Gallery::find(std::string_view id, Hand hand) const {
  std::lock_guard lock(impl_->mutex);
  const StateKeys keys = impl_->keys();
  gallery_internal::ReadTransaction snapshot(impl_->db);
  const auto records = read_records(impl_->db);
  check_gallery_state(impl_->db, keys, records);
  for (const auto& r : records)
    if (r.id == id && r.hand == hand) return info_of(r, checked_rows(impl_->db, keys, r).size());
  return std::nullopt;
}

void Gallery::Impl::load_templates(const std::function<bool(const IdentityRecord&)>& select, bool all,
                                   const std::function<void(StoredTemplate&&)>& take) const {
  std::lock_guard lock(mutex);
  const StateKeys k = keys();
  // One read transaction so that the rows come from one consistent snapshot.
  gallery_internal::ReadTransaction snapshot(db);
  const auto records = read_records(db);
  check_gallery_state(db, k, records);
  if (all) check_no_orphan_rows(db, k);

  // Checking each identity's digest and decrypting its rows (BLAKE2b and XChaCha20-Poly1305 over every
  // row) is about half of a load's work and needs no SQLite. For a large load a second thread does it
  // for one batch of identities while this thread reads the next batch's rows and hands the previous
  // batch's templates to `take`, in order (docs/gallery.md, "Loading").
  struct Pending {
    const IdentityRecord* record;
    std::vector<RowRecord> rows;
  };
  auto open_batch = [&k](std::vector<Pending> batch) {
    std::vector<StoredTemplate> opened;
    for (const auto& p : batch) {
      check_rows(k, *p.record, p.rows);
      for (const auto& row : p.rows) {
        StoredTemplate t;
        t.row_id = row.row_id;
        t.id = p.record->id;
        t.hand = p.record->hand;
        t.algorithm = static_cast<std::uint16_t>(p.record->algorithm);
        t.bytes = open_row(k, *p.record, row);
        opened.push_back(std::move(t));
      }
    }
    return opened;
  };
  Statement rows_of_entry(db, kRowsOfEntry);
  std::vector<Pending> batch;
  std::size_t batch_rows = 0;
  // Declared after everything open_batch reads: its destructor waits for the worker, also on a throw.
  std::future<std::vector<StoredTemplate>> opening;
  for (const auto& record : records) {
    if (!select(record)) continue;
    batch.push_back({&record, read_rows(rows_of_entry, record.entry)});
    batch_rows += batch.back().rows.size();
    if (batch_rows < kRowsPerOpeningBatch) continue;
    std::vector<StoredTemplate> ready = opening.valid() ? opening.get() : std::vector<StoredTemplate>{};
    opening = std::async(std::launch::async, open_batch, std::move(batch));
    batch.clear();
    batch_rows = 0;
    for (auto& t : ready) take(std::move(t));
  }
  if (opening.valid())
    for (auto& t : opening.get()) take(std::move(t));
  for (auto& t : open_batch(std::move(batch))) take(std::move(t));  // the rest (a small load: all of it)
}

std::vector<StoredTemplate> Gallery::templates_of(std::string_view id, std::optional<Hand> hand) const {
  check_identity_id(id);
  std::vector<StoredTemplate> out;
  impl_->load_templates(
      [&](const IdentityRecord& r) { return r.id == id && (!hand || r.hand == *hand); }, false,
      [&](StoredTemplate&& t) { out.push_back(std::move(t)); });
  return out;
}

std::vector<StoredTemplate> Gallery::all_templates() const {
  std::vector<StoredTemplate> out;
  for_each_template([&](StoredTemplate&& t) { out.push_back(std::move(t)); });
  return out;
}

void Gallery::for_each_template(const std::function<void(StoredTemplate&& stored)>& take) const {
  impl_->load_templates([](const IdentityRecord&) { return true; }, true, take);
}

PALMVEIN_NAMESPACE_END

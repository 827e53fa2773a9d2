// The SQLite gallery. Schema history and migrations are in kMigrations below and docs/gallery.md.
#include "palmvein/gallery.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <ctime>
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

// Migrations: kMigrations[i] takes the schema from version i+1 to i+2.
// v1 -> v2: last-update time and template algorithm per identity, creation time per template, an
// index for loading one identity's templates.
constexpr std::string_view kMigrations[] = {
    R"sql(
ALTER TABLE identities ADD COLUMN updated INTEGER NOT NULL DEFAULT 0;
UPDATE identities SET updated = created;
ALTER TABLE identities ADD COLUMN algorithm INTEGER NOT NULL DEFAULT 0;
ALTER TABLE templates ADD COLUMN created INTEGER NOT NULL DEFAULT 0;
UPDATE templates SET created = (SELECT created FROM identities WHERE identities.entry = templates.entry);
CREATE INDEX templates_by_entry ON templates(entry);
)sql",
};
static_assert(std::size(kMigrations) + 1 == Gallery::kSchemaVersion);

constexpr std::size_t kMaxIdLength = 128;
constexpr std::size_t kMaxNameLength = 256;
constexpr std::size_t kMaxTemplateBytes = 1 << 20;

std::int64_t now_seconds() { return static_cast<std::int64_t>(std::time(nullptr)); }

std::span<const std::uint8_t> bytes_of(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

Hand hand_from_column(const std::string& text) {
  if (text == "L") return Hand::Left;
  if (text == "R") return Hand::Right;
  return Hand::Unknown;
}

void check_identity_id(std::string_view id) {
  if (id.empty()) throw InvalidArgument("identity id is empty");
  if (id.size() > kMaxIdLength)
    throw InvalidArgument("identity id is longer than " + std::to_string(kMaxIdLength) + " bytes");
  for (const char c : id)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      throw InvalidArgument("identity id contains a control character");
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

}  // namespace

std::string_view to_string(Hand hand) noexcept {
  switch (hand) {
    case Hand::Left: return "L";
    case Hand::Right: return "R";
    case Hand::Unknown: break;
  }
  return "U";
}

Hand parse_hand(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  if (lower == "l" || lower == "left") return Hand::Left;
  if (lower == "r" || lower == "right") return Hand::Right;
  if (lower == "u" || lower == "unknown") return Hand::Unknown;
  throw InvalidArgument("hand must be L, R or U (left, right, unknown), not '" + std::string(text) + "'");
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
  }
  return "unknown";
}

std::filesystem::path default_key_file() {
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && *xdg && xdg[0] == '/')
    return std::filesystem::path(xdg) / "palmvein" / "gallery.key";
  const char* home = std::getenv("HOME");
  if (!home || !*home)
    throw GalleryError(GalleryFault::Key, "neither XDG_CONFIG_HOME nor HOME is set: pass --key-file");
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
  SecretKey aead_key;  // subkey 1 of the master key
  mutable std::mutex mutex;

  Impl(std::filesystem::path p, GalleryOptions o, Connection c, std::vector<std::uint8_t> id, SecretKey key)
      : path(std::move(p)), options(std::move(o)), db(std::move(c)), database_id(std::move(id)),
        aead_key(std::move(key)) {}

  std::vector<StoredTemplate> load_templates(std::string_view where, std::string_view id,
                                             std::optional<Hand> hand) const;
  IdentityInfo identity_row(Statement& st) const;
};

namespace {

constexpr std::string_view kIdentityColumns =
    "i.id, i.name, i.hand, i.created, i.updated, i.algorithm, "
    "(SELECT count(*) FROM templates t WHERE t.entry = i.entry)";

// Creates the current schema on an empty database (inside the caller's transaction).
void create_schema(const Connection& db, const SecretKey& master) {
  db.exec(kSchemaV1);
  for (const auto migration : kMigrations) db.exec(migration);
  std::vector<std::uint8_t> database_id(gallery_internal::kDatabaseIdBytes);
  randombytes_buf(database_id.data(), database_id.size());
  write_meta(db, "database_id", database_id);
  const auto kcv = gallery_internal::key_check_value(master, database_id);
  write_meta(db, "key_check", kcv);
  write_meta(db, "created", bytes_of(std::to_string(now_seconds())));
  db.exec("PRAGMA user_version = " + std::to_string(Gallery::kSchemaVersion));
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
  bool key_created = false;
  if (!std::filesystem::exists(key_location.path, ec)) {
    if (db_exists)
      throw GalleryError(GalleryFault::Key, "key file '" + key_location.path.string() + "' not found; the gallery '" +
                                                path.string() +
                                                "' needs the key it was created with (--key-file or PALMVEIN_KEY_FILE)");
    create_key_file(key_location.path);
    key_created = true;
  }
  SecretKey master = SecretKey::load(key_location.path);
  if (notice) *notice = KeyNotice{key_location.path, key_created};

  const int flags = options.read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  Connection db(path, flags);
  sqlite3_busy_timeout(db.get(), static_cast<int>(options.busy_timeout.count()));
  db.exec("PRAGMA foreign_keys = ON");
  if (!options.read_only) {
    // WAL: readers see the last committed state while a writer enrols; a killed writer's
    // uncommitted pages are never read. FULL: a committed enrolment survives power loss too.
    Statement wal(db, "PRAGMA journal_mode = WAL");
    wal.step();
    db.exec("PRAGMA synchronous = FULL");
  }
  if (!db_exists) ::chmod(path.c_str(), 0600);  // templates are encrypted, but the ids are not

  int version = read_user_version(db);
  if (version == 0) {
    if (options.read_only) throw GalleryError(GalleryFault::Corrupt, "'" + path.string() + "' is not a palmvein gallery");
    Transaction tx(db);
    version = read_user_version(db);  // another process may have created it meanwhile
    if (version == 0) {
      if (count_tables(db) != 0)
        throw GalleryError(GalleryFault::Corrupt,
                           "'" + path.string() + "' is an SQLite database but not a palmvein gallery");
      create_schema(db, master);
      version = kSchemaVersion;
    }
    tx.commit();
  }
  if (version > kSchemaVersion)
    throw GalleryError(GalleryFault::TooNew, "gallery '" + path.string() + "' has schema version " +
                                                 std::to_string(version) + "; this palmvein reads up to " +
                                                 std::to_string(kSchemaVersion) + " (upgrade palmvein)");
  if (!has_table(db, "meta"))
    throw GalleryError(GalleryFault::Corrupt, "'" + path.string() + "' is not a palmvein gallery (no meta table)");

  const auto database_id = read_meta(db, "database_id");
  const auto stored_kcv = read_meta(db, "key_check");
  if (!database_id || !stored_kcv || database_id->size() != gallery_internal::kDatabaseIdBytes ||
      stored_kcv->size() != gallery_internal::kKcvBytes)
    throw GalleryError(GalleryFault::Corrupt, "gallery '" + path.string() + "' lacks its key check value");
  const auto kcv = gallery_internal::key_check_value(master, *database_id);
  if (sodium_memcmp(kcv.data(), stored_kcv->data(), kcv.size()) != 0)
    throw GalleryError(GalleryFault::WrongKey, "the key file '" + key_location.path.string() +
                                                   "' does not open gallery '" + path.string() + "' (wrong key)");

  if (version < kSchemaVersion) {
    if (options.read_only)
      throw GalleryError(GalleryFault::TooNew, "gallery '" + path.string() + "' has schema version " +
                                                   std::to_string(version) + " and must be migrated: open it read-write once");
    Transaction tx(db);
    version = read_user_version(db);
    for (int v = version; v < kSchemaVersion; ++v) db.exec(kMigrations[v - 1]);
    db.exec("PRAGMA user_version = " + std::to_string(kSchemaVersion));
    tx.commit();
  }

  auto impl = std::make_unique<Impl>(path, std::move(options), std::move(db), *database_id, master.derive(1));
  return Gallery(std::move(impl));
}

Gallery::Gallery(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Gallery::~Gallery() = default;
Gallery::Gallery(Gallery&&) noexcept = default;
Gallery& Gallery::operator=(Gallery&&) noexcept = default;

const std::filesystem::path& Gallery::path() const noexcept { return impl_->path; }

int Gallery::schema_version() const {
  std::lock_guard lock(impl_->mutex);
  return read_user_version(impl_->db);
}

IdentityInfo Gallery::Impl::identity_row(Statement& st) const {
  IdentityInfo info;
  info.id = st.column_text(0);
  info.display_name = st.column_text(1);
  info.hand = hand_from_column(st.column_text(2));
  info.created = st.column_int(3);
  info.updated = st.column_int(4);
  info.algorithm = static_cast<std::uint16_t>(st.column_int(5));
  info.template_count = static_cast<int>(st.column_int(6));
  return info;
}

IdentityInfo Gallery::enroll(const EnrollRequest& request) {
  check_identity_id(request.id);
  if (request.display_name.size() > kMaxNameLength)
    throw InvalidArgument("display name is longer than " + std::to_string(kMaxNameLength) + " bytes");
  if (request.templates.empty()) throw InvalidArgument("an enrolment needs at least one template");
  for (const auto& t : request.templates)
    if (t.empty() || t.size() > kMaxTemplateBytes) throw InvalidArgument("template size out of range");
  if (impl_->options.read_only) throw InvalidArgument("gallery opened read-only");

  std::lock_guard lock(impl_->mutex);
  const Connection& db = impl_->db;
  const std::string hand(to_string(request.hand));
  const std::int64_t now = now_seconds();
  const std::string who = "'" + request.id + "' (hand " + hand + ")";

  Transaction tx(db);
  std::optional<std::int64_t> entry;
  std::uint16_t old_algorithm = 0;
  {
    Statement st(db, "SELECT entry, algorithm FROM identities WHERE id=? AND hand=?");
    st.bind(1, request.id).bind(2, hand);
    if (st.step()) {
      entry = st.column_int(0);
      old_algorithm = static_cast<std::uint16_t>(st.column_int(1));
    }
  }
  switch (request.mode) {
    case EnrollMode::Create:
      if (entry)
        throw GalleryError(GalleryFault::AlreadyExists,
                           "identity " + who + " is already enrolled; use --replace to re-enrol or --add to add templates");
      break;
    case EnrollMode::Add:
      if (!entry) throw GalleryError(GalleryFault::NotFound, "identity " + who + " is not enrolled; nothing to add to");
      if (old_algorithm != 0 && old_algorithm != request.algorithm)
        throw InvalidArgument("identity " + who + " was enrolled with template algorithm " +
                              std::to_string(old_algorithm) + ", not " + std::to_string(request.algorithm) +
                              "; re-enrol with --replace");
      break;
    case EnrollMode::Replace:
      break;
  }
  if (entry) {
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
    // A new hand of a known person keeps the person's display name unless a new one is given.
    Statement ins(db, "INSERT INTO identities(id, name, hand, created, updated, algorithm) VALUES(?, "
                      "COALESCE(NULLIF(?, ''), (SELECT name FROM identities WHERE id = ? AND name <> '' LIMIT 1), ''), "
                      "?, ?, ?, ?)");
    ins.bind(1, request.id).bind(2, request.display_name).bind(3, request.id).bind(4, hand).bind(5, now).bind(6, now);
    ins.bind(7, std::int64_t{request.algorithm});
    ins.run();
    entry = sqlite3_last_insert_rowid(db.get());
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
    const auto ad = gallery_internal::template_ad(impl_->database_id, request.id, request.hand, row_id);
    const auto sealed = gallery_internal::seal(impl_->aead_key, plain, ad);
    update.reset();
    update.bind(1, sealed.nonce).bind(2, sealed.ciphertext).bind(3, row_id);
    update.run();
    ++inserted;
    if (impl_->options.after_template_insert) impl_->options.after_template_insert(inserted);
  }

  Statement back(db, "SELECT " + std::string(kIdentityColumns) + " FROM identities i WHERE i.entry=?");
  back.bind(1, *entry);
  back.step();
  IdentityInfo info = impl_->identity_row(back);
  tx.commit();
  return info;
}

int Gallery::remove(std::string_view id, std::optional<Hand> hand) {
  check_identity_id(id);
  if (impl_->options.read_only) throw InvalidArgument("gallery opened read-only");
  std::lock_guard lock(impl_->mutex);
  Transaction tx(impl_->db);
  Statement st(impl_->db, hand ? "DELETE FROM identities WHERE id=? AND hand=?" : "DELETE FROM identities WHERE id=?");
  st.bind(1, id);
  if (hand) st.bind(2, to_string(*hand));
  st.run();
  const int removed = sqlite3_changes(impl_->db.get());
  tx.commit();
  return removed;
}

std::vector<IdentityInfo> Gallery::list() const {
  std::lock_guard lock(impl_->mutex);
  Statement st(impl_->db, "SELECT " + std::string(kIdentityColumns) + " FROM identities i ORDER BY i.id, i.hand");
  std::vector<IdentityInfo> out;
  while (st.step()) out.push_back(impl_->identity_row(st));
  return out;
}

std::optional<IdentityInfo> Gallery::find(std::string_view id, Hand hand) const {
  std::lock_guard lock(impl_->mutex);
  Statement st(impl_->db, "SELECT " + std::string(kIdentityColumns) + " FROM identities i WHERE i.id=? AND i.hand=?");
  st.bind(1, id).bind(2, to_string(hand));
  if (!st.step()) return std::nullopt;
  return impl_->identity_row(st);
}

std::vector<StoredTemplate> Gallery::Impl::load_templates(std::string_view where, std::string_view id,
                                                          std::optional<Hand> hand) const {
  std::lock_guard lock(mutex);
  // One read transaction so that the rows come from one consistent snapshot.
  db.exec("BEGIN");
  struct Rollback {
    const Connection& db;
    ~Rollback() { sqlite3_exec(db.get(), "COMMIT", nullptr, nullptr, nullptr); }
  } end{db};
  Statement st(db, "SELECT t.row_id, i.id, i.hand, i.algorithm, t.nonce, t.ciphertext FROM templates t "
                   "JOIN identities i ON i.entry = t.entry " +
                       std::string(where) + " ORDER BY i.id, i.hand, t.row_id");
  int index = 1;
  if (!id.empty()) st.bind(index++, id);
  if (hand) st.bind(index++, to_string(*hand));
  std::vector<StoredTemplate> out;
  while (st.step()) {
    StoredTemplate t;
    t.row_id = st.column_int(0);
    t.id = st.column_text(1);
    t.hand = hand_from_column(st.column_text(2));
    t.algorithm = static_cast<std::uint16_t>(st.column_int(3));
    const auto nonce = st.column_blob(4);
    const auto ciphertext = st.column_blob(5);
    const auto ad = gallery_internal::template_ad(database_id, t.id, t.hand, t.row_id);
    if (!gallery_internal::open_sealed(aead_key, nonce, ciphertext, ad, t.bytes))
      throw GalleryError(GalleryFault::Tampered,
                         "template row " + std::to_string(t.row_id) + " of '" + t.id + "' (hand " +
                             std::string(to_string(t.hand)) + ") in '" + path.string() +
                             "' failed authentication: the gallery was modified or rows were moved; refusing to use it");
    out.push_back(std::move(t));
  }
  return out;
}

std::vector<StoredTemplate> Gallery::templates_of(std::string_view id, std::optional<Hand> hand) const {
  check_identity_id(id);
  return impl_->load_templates(hand ? "WHERE i.id=? AND i.hand=?" : "WHERE i.id=?", id, hand);
}

std::vector<StoredTemplate> Gallery::all_templates() const { return impl_->load_templates("", {}, std::nullopt); }

PALMVEIN_NAMESPACE_END

// SPDX-License-Identifier: Apache-2.0
// The gallery store with opaque template bytes: keys, encryption at rest, tampering, transactions,
// concurrency and schema migration.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "gallery_crypto.hpp"
#include "palmvein/gallery.hpp"

namespace fs = std::filesystem;
using namespace palmvein;

namespace {

std::vector<std::uint8_t> fake_template(int seed, std::size_t size = 300) {
  std::vector<std::uint8_t> bytes(size);
  std::mt19937 rng(static_cast<unsigned>(seed));
  for (auto& b : bytes) b = static_cast<std::uint8_t>(rng());
  return bytes;
}

EnrollRequest request(const std::string& id, Hand hand, int seed, int count = 3, EnrollMode mode = EnrollMode::Create) {
  EnrollRequest r;
  r.id = id;
  r.display_name = id + " display";
  r.hand = hand;
  r.algorithm = 7;
  r.mode = mode;
  for (int i = 0; i < count; ++i) r.templates.push_back(fake_template(seed * 100 + i));
  return r;
}

GalleryFault fault_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const GalleryError& e) {
    return e.fault();
  }
  ADD_FAILURE() << "no GalleryError thrown";
  return GalleryFault::Io;
}

// Runs raw SQL on the file (what an attacker with write access to the file can do).
void raw_sql(const fs::path& db, const std::string& sql) {
  sqlite3* handle = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &handle), SQLITE_OK);
  char* error = nullptr;
  const int rc = sqlite3_exec(handle, sql.c_str(), nullptr, nullptr, &error);
  EXPECT_EQ(rc, SQLITE_OK) << (error ? error : "");
  sqlite3_free(error);
  sqlite3_close(handle);
}

std::string integrity_check(const fs::path& db) {
  sqlite3* handle = nullptr;
  sqlite3_open(db.c_str(), &handle);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(handle, "PRAGMA integrity_check", -1, &st, nullptr);
  std::string out = sqlite3_step(st) == SQLITE_ROW ? reinterpret_cast<const char*>(sqlite3_column_text(st, 0)) : "?";
  sqlite3_finalize(st);
  sqlite3_close(handle);
  return out;
}

class GalleryStore : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("palmvein-gallery-test-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    db_ = dir_ / "palms.db";
    key_ = dir_ / "key" / "gallery.key";
    // Keep every test away from the real user's configuration.
    ::setenv("XDG_CONFIG_HOME", (dir_ / "config").c_str(), 1);
    ::unsetenv("PALMVEIN_KEY_FILE");
  }
  void TearDown() override { fs::remove_all(dir_); }

  GalleryOptions options() const {
    GalleryOptions o;
    o.key_file = key_;
    return o;
  }
  Gallery open() const { return Gallery::open(db_, options()); }

  fs::path dir_, db_, key_;
};

}  // namespace

TEST_F(GalleryStore, EnrolListAndReadBackBothHands) {
  KeyNotice notice;
  Gallery g = Gallery::open(db_, options(), &notice);
  EXPECT_TRUE(notice.created);
  EXPECT_EQ(notice.key_file, key_);
  EXPECT_EQ(g.schema_version(), Gallery::kSchemaVersion);
  g.enroll(request("alice", Hand::Left, 1));
  g.enroll(request("alice", Hand::Right, 2, 2));
  g.enroll(request("bob", Hand::Unknown, 3));

  const auto list = g.list();
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0].id, "alice");
  EXPECT_EQ(list[0].hand, Hand::Left);
  EXPECT_EQ(list[0].template_count, 3);
  EXPECT_EQ(list[1].hand, Hand::Right);
  EXPECT_EQ(list[1].template_count, 2);
  EXPECT_EQ(list[2].display_name, "bob display");
  // The second hand of a person inherits the display name when none is given.
  auto right = request("dora", Hand::Left, 4, 1);
  g.enroll(right);
  right.hand = Hand::Right;
  right.display_name.clear();
  EXPECT_EQ(g.enroll(right).display_name, "dora display");
  EXPECT_EQ(list[2].algorithm, 7);

  const auto left = g.templates_of("alice", Hand::Left);
  ASSERT_EQ(left.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(left[i].bytes, fake_template(100 + i));
  EXPECT_EQ(g.templates_of("alice").size(), 5u);
  EXPECT_EQ(g.all_templates().size(), 10u);
  EXPECT_TRUE(g.templates_of("carol").empty());
}

TEST_F(GalleryStore, TemplatesAreNotStoredInTheClear) {
  {
    Gallery g = open();
    g.enroll(request("alice", Hand::Left, 1));
  }
  std::ifstream in(db_, std::ios::binary);
  const std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::ifstream wal(db_.string() + "-wal", std::ios::binary);
  const std::string wal_file((std::istreambuf_iterator<char>(wal)), std::istreambuf_iterator<char>());
  const auto plain = fake_template(100);
  const std::string needle(plain.begin(), plain.begin() + 32);
  EXPECT_EQ(file.find(needle), std::string::npos);
  EXPECT_EQ(wal_file.find(needle), std::string::npos);
}

TEST_F(GalleryStore, ModesCreateReplaceAdd) {
  Gallery g = open();
  g.enroll(request("alice", Hand::Left, 1));
  EXPECT_EQ(fault_of([&] { g.enroll(request("alice", Hand::Left, 2)); }), GalleryFault::AlreadyExists);
  EXPECT_EQ(fault_of([&] { g.enroll(request("carol", Hand::Left, 2, 1, EnrollMode::Add)); }), GalleryFault::NotFound);

  auto info = g.enroll(request("alice", Hand::Left, 4, 2, EnrollMode::Add));
  EXPECT_EQ(info.template_count, 5);
  info = g.enroll(request("alice", Hand::Left, 5, 1, EnrollMode::Replace));
  EXPECT_EQ(info.template_count, 1);
  const auto t = g.templates_of("alice", Hand::Left);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].bytes, fake_template(500));
  // Replace of an absent identity creates it.
  EXPECT_EQ(g.enroll(request("dave", Hand::Right, 6, 2, EnrollMode::Replace)).template_count, 2);
  // Adding templates of another algorithm is refused.
  auto other = request("alice", Hand::Left, 7, 1, EnrollMode::Add);
  other.algorithm = 8;
  EXPECT_THROW(g.enroll(other), InvalidArgument);
  EXPECT_THROW(g.enroll(request("", Hand::Left, 1)), InvalidArgument);
  EXPECT_THROW(g.enroll(request("x\ny", Hand::Left, 1)), InvalidArgument);
  EXPECT_THROW(g.enroll(request("empty", Hand::Left, 1, 0)), InvalidArgument);
}

TEST_F(GalleryStore, RemoveOneHandOrAll) {
  Gallery g = open();
  g.enroll(request("alice", Hand::Left, 1));
  g.enroll(request("alice", Hand::Right, 2));
  g.enroll(request("bob", Hand::Left, 3));
  EXPECT_EQ(g.remove("alice", Hand::Left), 1);
  EXPECT_EQ(g.templates_of("alice").size(), 3u);
  EXPECT_EQ(g.remove("alice"), 1);
  EXPECT_EQ(g.remove("alice"), 0);
  EXPECT_EQ(g.all_templates().size(), 3u);  // templates went with their identity (cascade)
  EXPECT_EQ(g.list().size(), 1u);
}

TEST_F(GalleryStore, WrongKeyIsDetectedAtOpen) {
  { open().enroll(request("alice", Hand::Left, 1)); }
  const fs::path other = dir_ / "other.key";
  create_key_file(other);
  GalleryOptions o;
  o.key_file = other;
  EXPECT_EQ(fault_of([&] { Gallery::open(db_, o); }), GalleryFault::WrongKey);
}

TEST_F(GalleryStore, MissingOrLooseKeyFileIsAClearError) {
  { open().enroll(request("alice", Hand::Left, 1)); }
  GalleryOptions o;
  o.key_file = dir_ / "nope.key";
  EXPECT_EQ(fault_of([&] { Gallery::open(db_, o); }), GalleryFault::Key);
  EXPECT_FALSE(fs::exists(o.key_file));  // never created for an existing database
  ::chmod(key_.c_str(), 0644);
  try {
    open();
    FAIL() << "a world-readable key was accepted";
  } catch (const GalleryError& e) {
    EXPECT_EQ(e.fault(), GalleryFault::Key);
    EXPECT_NE(std::string(e.what()).find("chmod 600"), std::string::npos);
  }
  ::chmod(key_.c_str(), 0600);
  std::ofstream(dir_ / "bad.key") << "not hex at all";
  ::chmod((dir_ / "bad.key").c_str(), 0600);
  o.key_file = dir_ / "bad.key";
  EXPECT_EQ(fault_of([&] { Gallery::open(db_, o); }), GalleryFault::Key);
}

// A key file is exactly 64 hex digits and an optional newline (docs/security.md "Key"); anything
// else is refused with one message that never shows key material.
TEST_F(GalleryStore, KeyFilesMustHaveExactlyTheDocumentedFormat) {
  { open().enroll(request("alice", Hand::Left, 1)); }
  std::string hex;
  {
    std::ifstream in(key_);
    std::getline(in, hex);
  }
  ASSERT_EQ(hex.size(), 64u);
  const auto write_key = [&](const std::string& name, const std::string& text) {
    const fs::path path = dir_ / name;
    std::ofstream(path, std::ios::binary) << text;
    ::chmod(path.c_str(), 0600);
    return path;
  };
  const auto opens = [&](const fs::path& key_file) {
    GalleryOptions o;
    o.key_file = key_file;
    return Gallery::open(db_, o).templates_of("alice").size() == 3;
  };
  // What write_new_key_file writes, without the newline, and in upper case: accepted.
  EXPECT_TRUE(opens(write_key("ok1.key", hex + "\n")));
  EXPECT_TRUE(opens(write_key("ok2.key", hex)));
  std::string upper = hex;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_TRUE(opens(write_key("ok3.key", upper + "\n")));

  const std::vector<std::string> bad = {
      hex + "\n\n", hex + "\r\n", hex + " ", " " + hex, hex + "\nextra", hex.substr(0, 63), hex.substr(0, 63) + "\n",
      hex + "0", hex + "00", hex.substr(0, 62) + "zz", hex.substr(0, 32) + " " + hex.substr(32), "",
      // Trailing data far beyond what an earlier reader looked at (it read 256 bytes, skipping spaces).
      hex + "\n" + std::string(200, ' ') + "trailing data"};
  int n = 0;
  for (const auto& text : bad) {
    const fs::path path = write_key("bad" + std::to_string(n++) + ".key", text);
    GalleryOptions o;
    o.key_file = path;
    try {
      Gallery::open(db_, o);
      ADD_FAILURE() << "accepted a key file of " << text.size() << " bytes";
    } catch (const GalleryError& e) {
      const std::string message = e.what();
      EXPECT_EQ(e.fault(), GalleryFault::Key);
      EXPECT_NE(message.find("expected exactly 64 hexadecimal digits, optionally followed by one newline"), std::string::npos)
          << message;
      EXPECT_EQ(message.find(hex.substr(0, 8)), std::string::npos) << "the message shows key material";
      EXPECT_EQ(message.find('\n'), std::string::npos);
    }
  }
}

TEST_F(GalleryStore, DefaultKeyIsCreatedPrivatelyInTheConfigFolder) {
  KeyNotice notice;
  { Gallery::open(db_, {}, &notice).enroll(request("alice", Hand::Left, 1)); }
  const fs::path expected = dir_ / "config" / "palmvein" / "gallery.key";
  EXPECT_TRUE(notice.created);
  EXPECT_EQ(notice.key_file, expected);
  struct stat st {};
  ASSERT_EQ(::stat(expected.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(expected.parent_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  // A second database reuses the default key instead of creating another one.
  KeyNotice second;
  Gallery g2 = Gallery::open(dir_ / "second.db", {}, &second);
  EXPECT_FALSE(second.created);
  Gallery g = Gallery::open(db_, {}, &notice);
  EXPECT_FALSE(notice.created);
  EXPECT_EQ(g.templates_of("alice").size(), 3u);
  // PALMVEIN_KEY_FILE takes precedence over the default.
  ::setenv("PALMVEIN_KEY_FILE", (dir_ / "env.key").c_str(), 1);
  create_key_file(dir_ / "env.key");
  EXPECT_EQ(fault_of([&] { Gallery::open(db_); }), GalleryFault::WrongKey);
  ::unsetenv("PALMVEIN_KEY_FILE");
}

TEST_F(GalleryStore, TamperedCiphertextIsAnErrorNeverAMatch) {
  { open().enroll(request("alice", Hand::Left, 1)); }
  raw_sql(db_, "UPDATE templates SET ciphertext = "
               "substr(ciphertext, 1, 10) || CASE WHEN substr(ciphertext, 11, 1) = x'ff' THEN x'00' ELSE x'ff' END || "
               "substr(ciphertext, 12) WHERE row_id = 2");
  Gallery g = open();
  EXPECT_EQ(fault_of([&] { g.templates_of("alice"); }), GalleryFault::Tampered);
  EXPECT_EQ(fault_of([&] { g.all_templates(); }), GalleryFault::Tampered);
}

TEST_F(GalleryStore, SwappedOrMovedRowsFailAuthentication) {
  {
    Gallery g = open();
    g.enroll(request("alice", Hand::Left, 1, 1));
    g.enroll(request("mallory", Hand::Left, 2, 1));
  }
  // Mallory moves Alice's sealed template into her own row (to be accepted as Alice... or vice versa).
  raw_sql(db_, "UPDATE templates SET nonce = (SELECT nonce FROM templates WHERE row_id = 1), "
               "ciphertext = (SELECT ciphertext FROM templates WHERE row_id = 1) WHERE row_id = 2");
  Gallery g = open();
  EXPECT_EQ(g.templates_of("alice").size(), 1u);
  EXPECT_EQ(fault_of([&] { g.templates_of("mallory"); }), GalleryFault::Tampered);
  // Relabelling the row's identity or hand is detected too.
  raw_sql(db_, "UPDATE identities SET hand = 'R' WHERE id = 'alice'");
  EXPECT_EQ(fault_of([&] { g.templates_of("alice"); }), GalleryFault::Tampered);
}

TEST_F(GalleryStore, KilledEnrolmentLeavesNoTrace) {
  { open().enroll(request("alice", Hand::Left, 1)); }
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(pipe_fds[0]);
    GalleryOptions o = options();
    o.after_template_insert = [&](int inserted) {
      if (inserted == 2) {
        const char c = 'x';
        (void)!::write(pipe_fds[1], &c, 1);
        for (;;) ::pause();  // killed here, mid-transaction
      }
    };
    Gallery g = Gallery::open(db_, o);
    g.enroll(request("bob", Hand::Right, 2, 4));
    ::_exit(0);  // not reached
  }
  ::close(pipe_fds[1]);
  char c = 0;
  ASSERT_EQ(::read(pipe_fds[0], &c, 1), 1);
  ::close(pipe_fds[0]);
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));

  Gallery g = open();
  EXPECT_EQ(integrity_check(db_), "ok");
  EXPECT_FALSE(g.find("bob", Hand::Right).has_value());
  EXPECT_EQ(g.list().size(), 1u);
  EXPECT_EQ(g.all_templates().size(), 3u);
  // And the database is writable again straight away.
  EXPECT_EQ(g.enroll(request("bob", Hand::Right, 2, 4)).template_count, 4);
}

TEST_F(GalleryStore, ReadersProceedWhileAWriterEnrols) {
  { open().enroll(request("alice", Hand::Left, 1)); }
  int to_parent[2], to_child[2];
  ASSERT_EQ(::pipe(to_parent), 0);
  ASSERT_EQ(::pipe(to_child), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    GalleryOptions o = options();
    o.after_template_insert = [&](int inserted) {
      if (inserted == 1) {
        char c = 'p';
        (void)!::write(to_parent[1], &c, 1);   // "I hold the write lock"
        (void)!::read(to_child[0], &c, 1);     // wait for the parent's reads
      }
    };
    try {
      Gallery::open(db_, o).enroll(request("bob", Hand::Left, 2, 3));
    } catch (...) {
      ::_exit(3);
    }
    ::_exit(0);
  }
  char c = 0;
  ASSERT_EQ(::read(to_parent[0], &c, 1), 1);
  {
    // A reader sees the last committed state, without waiting for the writer.
    GalleryOptions ro = options();
    ro.read_only = true;
    ro.create = false;
    Gallery reader = Gallery::open(db_, ro);
    EXPECT_EQ(reader.list().size(), 1u);
    EXPECT_EQ(reader.all_templates().size(), 3u);
    Gallery rw_reader = open();
    EXPECT_FALSE(rw_reader.find("bob", Hand::Left).has_value());
    // A second writer gives up after its busy timeout with a clear error instead of hanging.
    GalleryOptions impatient = options();
    impatient.busy_timeout = std::chrono::milliseconds(50);
    Gallery writer2 = Gallery::open(db_, impatient);
    EXPECT_EQ(fault_of([&] { writer2.enroll(request("carol", Hand::Left, 3, 1)); }), GalleryFault::Busy);
  }
  // A patient writer waits for the first one to commit.
  std::thread patient([&] {
    GalleryOptions o = options();
    o.busy_timeout = std::chrono::milliseconds(10000);
    Gallery::open(db_, o).enroll(request("carol", Hand::Left, 3, 1));
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  (void)!::write(to_child[1], &c, 1);
  int status = 0;
  ::waitpid(child, &status, 0);
  patient.join();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  Gallery g = open();
  EXPECT_EQ(g.list().size(), 3u);
  EXPECT_EQ(g.all_templates().size(), 7u);
}

TEST_F(GalleryStore, OneInstanceIsSafeToShareBetweenThreads) {
  Gallery g = open();
  std::vector<std::thread> threads;
  std::atomic<int> errors{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      try {
        for (int i = 0; i < 5; ++i) {
          std::string id = "p";  // appended, not operator+: GCC 12 -O3 gives a false -Wrestrict
          id += std::to_string(t);
          id += '-';
          id += std::to_string(i);
          g.enroll(request(id, Hand::Left, t * 10 + i, 1));
          (void)g.all_templates();
        }
      } catch (...) {
        ++errors;
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(g.list().size(), 20u);
}

// The v1 schema exactly as the first release wrote it, with a template sealed as v1 did.
TEST_F(GalleryStore, MigratesAVersion1Database) {
  create_key_file(key_);
  const auto master = gallery_internal::SecretKey::load(key_);
  std::vector<std::uint8_t> database_id(gallery_internal::kDatabaseIdBytes, 0x42);
  const auto kcv = gallery_internal::key_check_value(master, database_id);
  const auto aead = master.derive(1);
  const auto plain = fake_template(9);
  const auto sealed = gallery_internal::seal(aead, plain, gallery_internal::template_ad(database_id, "olga", Hand::Right, 1));
  auto hex = [](std::span<const std::uint8_t> b) {
    std::string s = "x'";
    for (const auto v : b) {
      constexpr char digits[] = "0123456789abcdef";
      s += digits[v >> 4];
      s += digits[v & 15];
    }
    return s + "'";
  };
  raw_sql(db_, R"sql(
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
INSERT INTO identities VALUES(1, 'olga', 'Olga', 'R', 1600000000);
)sql" + std::string("INSERT INTO meta VALUES('database_id', ") + hex(database_id) + ");" +
                   "INSERT INTO meta VALUES('key_check', " + hex(kcv) + ");" +
                   "INSERT INTO templates VALUES(1, 1, " + hex(sealed.nonce) + ", " + hex(sealed.ciphertext) + ");" +
                   "PRAGMA user_version = 1;");

  // Read-only opening refuses to migrate (it cannot write) with a clear message.
  GalleryOptions ro = options();
  ro.read_only = true;
  ro.create = false;
  EXPECT_EQ(fault_of([&] { Gallery::open(db_, ro); }), GalleryFault::NeedsMigration);

  Gallery g = open();
  EXPECT_EQ(g.schema_version(), Gallery::kSchemaVersion);
  const auto list = g.list();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].display_name, "Olga");
  EXPECT_EQ(list[0].created, 1600000000);
  EXPECT_EQ(list[0].updated, 1600000000);  // filled from created by the migration
  EXPECT_EQ(list[0].algorithm, 0);         // unknown in v1
  const auto t = g.templates_of("olga");
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].bytes, plain);
  // The migrated database takes new enrolments.
  g.enroll(request("olga", Hand::Right, 3, 1, EnrollMode::Add));
  EXPECT_EQ(g.templates_of("olga").size(), 2u);
  EXPECT_EQ(integrity_check(db_), "ok");
}

// ---- Rollback protection (schema v3): old, missing or extra rows and resurrected identities ----

namespace {

// Saves the identities and template rows of `id` into a side file (what an attacker without the key
// can keep from an earlier state of the database).
void save_rows_of(const fs::path& db, const fs::path& side, const std::string& id) {
  raw_sql(db, "ATTACH '" + side.string() + "' AS s; "
              "CREATE TABLE s.i AS SELECT * FROM identities WHERE id = '" + id + "'; "
              "CREATE TABLE s.t AS SELECT * FROM templates WHERE entry IN (SELECT entry FROM identities WHERE id = '" +
              id + "'); DETACH s;");
}

std::string attach(const fs::path& side) { return "ATTACH '" + side.string() + "' AS s; "; }

}  // namespace

TEST_F(GalleryStore, RowsSavedBeforeADeleteAndReinsertedAreRefused) {
  {
    Gallery g = open();
    g.enroll(request("alice", Hand::Left, 1));
    g.enroll(request("bob", Hand::Left, 2));
  }
  const fs::path side = dir_ / "saved.db";
  save_rows_of(db_, side, "alice");
  { EXPECT_EQ(open().remove("alice"), 1); }

  // The rows alone come back (their identity is gone): rows of no identity.
  raw_sql(db_, attach(side) + "INSERT INTO templates SELECT * FROM s.t;");
  {
    Gallery g = open();
    EXPECT_EQ(fault_of([&] { g.all_templates(); }), GalleryFault::Tampered);
    EXPECT_EQ(fault_of([&] { g.list(); }), GalleryFault::Tampered);
    EXPECT_TRUE(g.templates_of("alice").empty());  // never a match: alice is not enrolled
  }
  // The whole identity comes back, rows and identity row with its digest: the gallery state no
  // longer matches, and every read and every write refuses.
  raw_sql(db_, attach(side) + "INSERT INTO identities SELECT * FROM s.i;");
  Gallery g = open();
  EXPECT_EQ(fault_of([&] { g.templates_of("alice"); }), GalleryFault::Tampered);
  EXPECT_EQ(fault_of([&] { g.templates_of("bob"); }), GalleryFault::Tampered);
  EXPECT_EQ(fault_of([&] { g.all_templates(); }), GalleryFault::Tampered);
  EXPECT_EQ(fault_of([&] { g.list(); }), GalleryFault::Tampered);
  EXPECT_EQ(fault_of([&] { g.find("alice", Hand::Left); }), GalleryFault::Tampered);
  // A write must not make the resurrected identity authentic.
  EXPECT_EQ(fault_of([&] { g.enroll(request("carol", Hand::Left, 3)); }), GalleryFault::Tampered);
  EXPECT_EQ(fault_of([&] { g.remove("bob"); }), GalleryFault::Tampered);
  EXPECT_EQ(fault_of([&] { g.list(); }), GalleryFault::Tampered);
  GalleryOptions ro = options();
  ro.read_only = true;
  ro.create = false;
  EXPECT_EQ(fault_of([&] { Gallery::open(db_, ro).all_templates(); }), GalleryFault::Tampered);
  // Deleting the resurrected identity again restores the authenticated state.
  raw_sql(db_, "DELETE FROM identities WHERE id = 'alice'; DELETE FROM templates WHERE entry NOT IN "
               "(SELECT entry FROM identities);");
  EXPECT_EQ(g.list().size(), 1u);
  EXPECT_EQ(g.all_templates().size(), 3u);
}

TEST_F(GalleryStore, RowsSavedBeforeAReplaceAndReinsertedAreRefused) {
  {
    Gallery g = open();
    g.enroll(request("alice", Hand::Left, 1));
    g.enroll(request("bob", Hand::Right, 2));
  }
  const fs::path side = dir_ / "saved.db";
  save_rows_of(db_, side, "alice");
  { open().enroll(request("alice", Hand::Left, 5, 1, EnrollMode::Replace)); }
  ASSERT_EQ(open().templates_of("alice").size(), 1u);

  // The old rows next to the new one (same entry: a replace keeps it).
  raw_sql(db_, attach(side) + "INSERT INTO templates SELECT * FROM s.t;");
  {
    Gallery g = open();
    EXPECT_EQ(fault_of([&] { g.templates_of("alice"); }), GalleryFault::Tampered);
    EXPECT_EQ(fault_of([&] { g.templates_of("alice", Hand::Left); }), GalleryFault::Tampered);
    EXPECT_EQ(fault_of([&] { g.all_templates(); }), GalleryFault::Tampered);
    EXPECT_EQ(fault_of([&] { g.list(); }), GalleryFault::Tampered);
    EXPECT_EQ(g.templates_of("bob").size(), 3u);  // other identities stay usable for verification
    EXPECT_EQ(fault_of([&] { g.enroll(request("alice", Hand::Left, 6, 1, EnrollMode::Add)); }), GalleryFault::Tampered);
  }
  // The old rows instead of the new one, and the old identity row with its old digest.
  raw_sql(db_, attach(side) +
                   "DELETE FROM templates WHERE entry IN (SELECT entry FROM identities WHERE id = 'alice') "
                   "AND row_id NOT IN (SELECT row_id FROM s.t);"
                   "DELETE FROM identities WHERE id = 'alice'; INSERT INTO identities SELECT * FROM s.i;");
  Gallery g = open();
  EXPECT_EQ(fault_of([&] { g.templates_of("alice"); }), GalleryFault::Tampered);
  EXPECT_EQ(fault_of([&] { g.all_templates(); }), GalleryFault::Tampered);
  EXPECT_EQ(fault_of([&] { g.list(); }), GalleryFault::Tampered);
}

TEST_F(GalleryStore, MissingOrExtraRowsAreRefused) {
  {
    Gallery g = open();
    g.enroll(request("alice", Hand::Left, 1));
    g.enroll(request("bob", Hand::Left, 2));
  }
  // A missing row: every remaining row still passes its AEAD check, the row set does not.
  raw_sql(db_, "CREATE TABLE keep AS SELECT * FROM templates WHERE row_id = 2; DELETE FROM templates WHERE row_id = 2;");
  {
    Gallery g = open();
    EXPECT_EQ(fault_of([&] { g.templates_of("alice"); }), GalleryFault::Tampered);
    EXPECT_EQ(fault_of([&] { g.list(); }), GalleryFault::Tampered);
    EXPECT_EQ(g.templates_of("bob").size(), 3u);
  }
  raw_sql(db_, "INSERT INTO templates SELECT * FROM keep; DROP TABLE keep;");
  EXPECT_EQ(open().all_templates().size(), 6u);  // back as it was: accepted
  // An extra row copied from another identity (bob's row 4 into alice's entry, at a fresh row id).
  raw_sql(db_, "INSERT INTO templates(entry, nonce, ciphertext, created) SELECT "
               "(SELECT entry FROM identities WHERE id = 'alice'), nonce, ciphertext, created FROM templates WHERE row_id = 4;");
  Gallery g = open();
  EXPECT_EQ(fault_of([&] { g.templates_of("alice"); }), GalleryFault::Tampered);
  EXPECT_EQ(fault_of([&] { g.all_templates(); }), GalleryFault::Tampered);
  EXPECT_EQ(fault_of([&] { g.list(); }), GalleryFault::Tampered);
  EXPECT_EQ(fault_of([&] { g.find("alice", Hand::Left); }), GalleryFault::Tampered);
  // Changed identity fields in the clear are covered by the identity digest too.
  raw_sql(db_, "DELETE FROM templates WHERE row_id > 6; UPDATE identities SET name = 'Mallory' WHERE id = 'bob';");
  EXPECT_EQ(fault_of([&] { g.templates_of("bob"); }), GalleryFault::Tampered);
  EXPECT_EQ(g.templates_of("alice").size(), 3u);
  // Recovery (docs/security.md): delete the tampered identity; the rest of the gallery is whole again.
  EXPECT_EQ(g.remove("bob"), 1);
  ASSERT_EQ(g.list().size(), 1u);
  EXPECT_EQ(g.enroll(request("bob", Hand::Left, 2)).template_count, 3);
  EXPECT_EQ(g.all_templates().size(), 6u);
}

TEST_F(GalleryStore, RowsPlantedForAReusedEntryNumberAreNotAdopted) {
  {
    Gallery g = open();
    g.enroll(request("bob", Hand::Left, 2));
    g.enroll(request("alice", Hand::Left, 1));  // the highest entry number
  }
  const fs::path side = dir_ / "saved.db";
  save_rows_of(db_, side, "alice");
  { open().remove("alice"); }
  raw_sql(db_, attach(side) + "INSERT INTO templates SELECT * FROM s.t;");
  // The next identity gets alice's old entry number; the planted rows must not become its rows.
  Gallery g = open();
  EXPECT_EQ(fault_of([&] { g.enroll(request("alice", Hand::Left, 3)); }), GalleryFault::Tampered);
  EXPECT_FALSE(g.find("alice", Hand::Left).has_value());
}

// What the state check cannot see (docs/security.md): the whole file put back as an older copy.
TEST_F(GalleryStore, RollingTheWholeFileBackIsNotDetected) {
  {
    Gallery g = open();
    g.enroll(request("alice", Hand::Left, 1));
  }
  raw_sql(db_, "PRAGMA wal_checkpoint(TRUNCATE);");
  fs::copy_file(db_, dir_ / "old.db");
  { open().remove("alice"); }
  raw_sql(db_, "PRAGMA wal_checkpoint(TRUNCATE);");
  fs::remove(db_.string() + "-wal");
  fs::remove(db_.string() + "-shm");
  fs::copy_file(dir_ / "old.db", db_, fs::copy_options::overwrite_existing);
  EXPECT_EQ(open().templates_of("alice").size(), 3u);  // a consistent older state: accepted
}

// The v2 schema exactly as the second release wrote it (v1 plus the v1 -> v2 migration), with two
// identities sealed as v2 did. Migration authenticates the state it finds; afterwards rollback of
// rows is detected.
TEST_F(GalleryStore, MigratesAVersion2DatabaseAndProtectsItAfterwards) {
  create_key_file(key_);
  const auto master = gallery_internal::SecretKey::load(key_);
  std::vector<std::uint8_t> database_id(gallery_internal::kDatabaseIdBytes, 0x24);
  const auto kcv = gallery_internal::key_check_value(master, database_id);
  const auto aead = master.derive(1);
  auto hex = [](std::span<const std::uint8_t> b) {
    std::string s = "x'";
    for (const auto v : b) {
      constexpr char digits[] = "0123456789abcdef";
      s += digits[v >> 4];
      s += digits[v & 15];
    }
    return s + "'";
  };
  std::string rows;
  for (int r = 1; r <= 4; ++r) {
    const std::string id = r <= 2 ? "olga" : "pete";
    const Hand hand = r <= 2 ? Hand::Right : Hand::Left;
    const auto sealed = gallery_internal::seal(aead, fake_template(r), gallery_internal::template_ad(database_id, id, hand, r));
    rows += "INSERT INTO templates VALUES(" + std::to_string(r) + ", " + (r <= 2 ? "1" : "2") + ", " + hex(sealed.nonce) +
            ", " + hex(sealed.ciphertext) + ", 1600000100);";
  }
  const std::string v2 = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE identities(
  entry INTEGER PRIMARY KEY,
  id TEXT NOT NULL,
  name TEXT NOT NULL DEFAULT '',
  hand TEXT NOT NULL CHECK(hand IN ('L','R','U')),
  created INTEGER NOT NULL, updated INTEGER NOT NULL DEFAULT 0, algorithm INTEGER NOT NULL DEFAULT 0,
  UNIQUE(id, hand));
CREATE TABLE templates(
  row_id INTEGER PRIMARY KEY AUTOINCREMENT,
  entry INTEGER NOT NULL REFERENCES identities(entry) ON DELETE CASCADE,
  nonce BLOB NOT NULL,
  ciphertext BLOB NOT NULL, created INTEGER NOT NULL DEFAULT 0);
CREATE INDEX templates_by_entry ON templates(entry);
INSERT INTO identities VALUES(1, 'olga', 'Olga', 'R', 1600000000, 1600000100, 7);
INSERT INTO identities VALUES(2, 'pete', 'Pete', 'L', 1600000000, 1600000100, 7);
)sql" + std::string("INSERT INTO meta VALUES('database_id', ") + hex(database_id) + ");" +
                         "INSERT INTO meta VALUES('key_check', " + hex(kcv) + ");" + rows + "PRAGMA user_version = 2;";

  // A v2 row that fails its AEAD check is not blessed by the migration: the open fails, nothing changes.
  const fs::path bad = dir_ / "bad.db";
  // (The byte is changed to a value it does not have: the nonce is random, so a fixed value would
  // leave the row intact once in 256 runs.)
  raw_sql(bad, v2 + "UPDATE templates SET ciphertext = substr(ciphertext, 1, 3) || "
                    "CASE WHEN substr(ciphertext, 4, 1) = x'00' THEN x'01' ELSE x'00' END || "
                    "substr(ciphertext, 5) WHERE row_id = 3;");
  EXPECT_EQ(fault_of([&] { Gallery::open(bad, options()); }), GalleryFault::Tampered);
  {
    sqlite3* h = nullptr;
    ASSERT_EQ(sqlite3_open(bad.c_str(), &h), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(h, "PRAGMA user_version", -1, &st, nullptr);
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    EXPECT_EQ(sqlite3_column_int(st, 0), 2);
    sqlite3_finalize(st);
    sqlite3_close(h);
  }

  raw_sql(db_, v2);
  const fs::path side = dir_ / "saved.db";
  save_rows_of(db_, side, "olga");
  {
    Gallery g = open();  // migrates, with the key
    EXPECT_EQ(g.schema_version(), Gallery::kSchemaVersion);
    const auto list = g.list();
    ASSERT_EQ(list.size(), 2u);
    EXPECT_EQ(list[0].template_count, 2);
    EXPECT_EQ(list[1].display_name, "Pete");
    const auto t = g.templates_of("olga");
    ASSERT_EQ(t.size(), 2u);
    EXPECT_EQ(t[1].bytes, fake_template(2));
    EXPECT_EQ(g.all_templates().size(), 4u);
    g.enroll(request("olga", Hand::Right, 9, 1, EnrollMode::Replace));
    EXPECT_EQ(g.templates_of("olga").size(), 1u);
  }
  EXPECT_EQ(integrity_check(db_), "ok");
  // Rows from before the re-enrolment (saved before the migration, too) are refused.
  raw_sql(db_, attach(side) + "INSERT INTO templates SELECT * FROM s.t;");
  Gallery g = open();
  EXPECT_EQ(fault_of([&] { g.templates_of("olga"); }), GalleryFault::Tampered);
  EXPECT_EQ(fault_of([&] { g.all_templates(); }), GalleryFault::Tampered);
  EXPECT_EQ(g.templates_of("pete").size(), 2u);
}

TEST_F(GalleryStore, RefusesNewerSchemasAndForeignFiles) {
  { open().enroll(request("alice", Hand::Left, 1)); }
  raw_sql(db_, "PRAGMA user_version = 99");
  EXPECT_EQ(fault_of([&] { open(); }), GalleryFault::TooNew);

  const fs::path foreign = dir_ / "foreign.db";
  raw_sql(foreign, "CREATE TABLE people(name TEXT)");
  EXPECT_EQ(fault_of([&] { Gallery::open(foreign, options()); }), GalleryFault::Corrupt);

  const fs::path junk = dir_ / "junk.db";
  std::ofstream(junk) << std::string(4096, 'j');
  EXPECT_EQ(fault_of([&] { Gallery::open(junk, options()).list(); }), GalleryFault::Corrupt);

  GalleryOptions no_create = options();
  no_create.create = false;
  EXPECT_EQ(fault_of([&] { Gallery::open(dir_ / "absent.db", no_create); }), GalleryFault::Io);
}

// Ids and names: UTF-8 without control characters, refused in one place (check_identity_id /
// check_display_name, applied by Gallery::enroll); escape_text makes anything stored printable.
TEST_F(GalleryStore, RefusesControlCharactersAndInvalidUtf8InIdsAndNames) {
  Gallery g = open();
  const std::vector<std::string> bad = {
      std::string("a\0b", 3), "tab\there", "esc\x1b[31mred", "del\x7f", "c1 csi \xc2\x9b" "31m", "nel \xc2\x85",
      "stray \x80 byte", "truncated \xe2\x82", "overlong \xc0\xaf", "overlong3 \xe0\x80\xaf", "surrogate \xed\xa0\x80",
      "too big \xf4\x90\x80\x80", "invalid \xff", "line sep \xe2\x80\xa8", "bidi \xe2\x80\xae" "evil", "isolate \xe2\x81\xa6"};
  for (const auto& text : bad) {
    EXPECT_THROW(check_identity_id(text), InvalidArgument) << escape_text(text);
    EXPECT_THROW(check_display_name(text), InvalidArgument) << escape_text(text);
    EXPECT_THROW(g.enroll(request(text, Hand::Left, 1)), InvalidArgument) << escape_text(text);
    auto named = request("ok", Hand::Left, 1);
    named.display_name = text;
    EXPECT_THROW(g.enroll(named), InvalidArgument) << escape_text(text);
  }
  EXPECT_TRUE(g.list().empty());
  // Ordinary UTF-8 is welcome.
  auto jose = request("jos\xc3\xa9", Hand::Left, 2);
  jose.display_name = "Jos\xc3\xa9 \xe5\xbc\xa0 \xf0\x9f\x96\x90";
  EXPECT_EQ(g.enroll(jose).display_name, jose.display_name);
  EXPECT_THROW(check_display_name(std::string(257, 'n')), InvalidArgument);
  EXPECT_NO_THROW(check_display_name(""));
  EXPECT_THROW(check_identity_id(""), InvalidArgument);
}

TEST(EscapeText, EscapesWhatTheChecksRefuse) {
  EXPECT_EQ(escape_text("alice"), "alice");
  EXPECT_EQ(escape_text("Jos\xc3\xa9"), "Jos\xc3\xa9");
  EXPECT_EQ(escape_text("a\x1b[2Jb"), "a\\x1b[2Jb");
  EXPECT_EQ(escape_text("del\x7f"), "del\\x7f");
  EXPECT_EQ(escape_text("csi\xc2\x9b"), "csi\\u009b");
  EXPECT_EQ(escape_text("bad\xff\xc0"), "bad\\xff\\xc0");
  EXPECT_EQ(escape_text("rlo\xe2\x80\xae"), "rlo\\u202e");
  EXPECT_EQ(escape_text("back\\slash"), "back\\\\slash");  // so that an escape cannot be faked
  EXPECT_EQ(escape_text(std::string("nul\0", 4)), "nul\\x00");
}

namespace {
std::string file_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}
}  // namespace

// A refused file is left exactly as it was: every refusal comes before the first write, and a
// read-only open never writes (earlier, even a read switched a foreign SQLite file to WAL first).
TEST_F(GalleryStore, RefusedFilesAndReadOnlyOpensAreNeverWritten) {
  { open().enroll(request("alice", Hand::Left, 1)); }
  const fs::path foreign = dir_ / "foreign.db";
  raw_sql(foreign, "PRAGMA journal_mode = DELETE; CREATE TABLE people(name TEXT); INSERT INTO people VALUES('x');");
  const std::string before = file_bytes(foreign);
  ASSERT_EQ(before[18], 1);  // header: rollback journal, not WAL
  GalleryOptions ro = options();
  ro.read_only = true;
  ro.create = false;
  GalleryOptions rw = options();
  rw.create = false;
  EXPECT_EQ(fault_of([&] { Gallery::open(foreign, ro); }), GalleryFault::Corrupt);
  EXPECT_EQ(fault_of([&] { Gallery::open(foreign, rw); }), GalleryFault::Corrupt);
  EXPECT_EQ(fault_of([&] { Gallery::open(foreign, options()); }), GalleryFault::Corrupt);
  EXPECT_EQ(file_bytes(foreign), before);
  EXPECT_FALSE(fs::exists(foreign.string() + "-wal"));
  EXPECT_FALSE(fs::exists(foreign.string() + "-shm"));

  // A gallery opened read-only with the wrong key, or read-only and used: not a byte changes.
  raw_sql(db_, "PRAGMA wal_checkpoint(TRUNCATE);");
  const std::string gallery = file_bytes(db_);
  const fs::path other = dir_ / "other.key";
  create_key_file(other);
  GalleryOptions wrong = ro;
  wrong.key_file = other;
  EXPECT_EQ(fault_of([&] { Gallery::open(db_, wrong); }), GalleryFault::WrongKey);
  {
    Gallery g = Gallery::open(db_, ro);
    EXPECT_EQ(g.list().size(), 1u);
    EXPECT_EQ(g.all_templates().size(), 3u);
    EXPECT_THROW(g.enroll(request("bob", Hand::Left, 2)), InvalidArgument);
    EXPECT_THROW(g.remove("alice"), InvalidArgument);
  }
  EXPECT_EQ(file_bytes(db_), gallery);
  // An older schema is not migrated by a read-only open.
  raw_sql(db_, "PRAGMA user_version = 2;");
  const std::string v2 = file_bytes(db_);
  EXPECT_EQ(fault_of([&] { Gallery::open(db_, ro); }), GalleryFault::NeedsMigration);
  EXPECT_EQ(file_bytes(db_), v2);
}

TEST(Hand, ParsesAndPrints) {
  EXPECT_EQ(parse_hand("L"), Hand::Left);
  EXPECT_EQ(parse_hand("right"), Hand::Right);
  EXPECT_EQ(parse_hand("U"), Hand::Unknown);
  EXPECT_THROW(parse_hand("middle"), InvalidArgument);
  EXPECT_EQ(to_string(Hand::Left), "L");
  for (const Hand h : {Hand::Left, Hand::Right, Hand::Unknown}) {
    EXPECT_EQ(parse_hand(to_string(h)), h);
    EXPECT_EQ(parse_hand(hand_name(h)), h);
  }
  EXPECT_EQ(hand_name(Hand::Right), "right");
}

TEST_F(GalleryStore, ABatchOfEnrolmentsIsOneTransactionAppliedInOrder) {
  Gallery g = open();
  g.enroll(request("alice", Hand::Left, 1));
  std::vector<EnrollRequest> batch{request("bob", Hand::Left, 2, 2), request("bob", Hand::Right, 3, 1),
                                   request("bob", Hand::Left, 4, 1, EnrollMode::Add),
                                   request("alice", Hand::Left, 5, 1, EnrollMode::Replace)};
  const auto infos = g.enroll(batch);
  ASSERT_EQ(infos.size(), 4u);
  EXPECT_EQ(infos[2].template_count, 3);  // Add saw the Create earlier in the batch
  EXPECT_EQ(infos[3].template_count, 1);
  EXPECT_EQ(g.list().size(), 3u);
  EXPECT_EQ(g.templates_of("bob", Hand::Left).size(), 3u);
  // What a batch writes reads back exactly as single enrolments do, through a fresh open.
  Gallery again = open();
  const auto all = again.all_templates();
  EXPECT_EQ(all.size(), 5u);
  EXPECT_EQ(again.templates_of("alice", Hand::Left).at(0).bytes, fake_template(500));

  // A failing request anywhere in a batch leaves nothing of the batch behind.
  std::vector<EnrollRequest> failing{request("carol", Hand::Left, 6), request("carol", Hand::Left, 7)};
  EXPECT_EQ(fault_of([&] { g.enroll(failing); }), GalleryFault::AlreadyExists);
  EXPECT_FALSE(g.find("carol", Hand::Left));
  std::vector<EnrollRequest> invalid{request("dave", Hand::Left, 8), request("", Hand::Left, 9)};
  EXPECT_THROW(g.enroll(invalid), InvalidArgument);
  EXPECT_FALSE(g.find("dave", Hand::Left));
  EXPECT_EQ(open().list().size(), 3u);
  EXPECT_TRUE(g.enroll(std::span<const EnrollRequest>{}).empty());
}

TEST_F(GalleryStore, ABatchNeverMakesATamperedStateAuthentic) {
  {
    Gallery g = open();
    g.enroll(request("alice", Hand::Left, 1));
    g.enroll(request("bob", Hand::Left, 2));
  }
  raw_sql(db_, "DELETE FROM identities WHERE id = 'bob'");  // a deletion without the key
  Gallery g = open();
  std::vector<EnrollRequest> batch{request("carol", Hand::Left, 3), request("dave", Hand::Left, 4)};
  EXPECT_EQ(fault_of([&] { g.enroll(batch); }), GalleryFault::Tampered);
  EXPECT_EQ(fault_of([&] { g.all_templates(); }), GalleryFault::Tampered);
}

TEST_F(GalleryStore, ForEachTemplateStreamsWhatAllTemplatesReturns) {
  Gallery g = open();
  g.enroll(request("alice", Hand::Left, 1));
  g.enroll(request("bob", Hand::Right, 2, 2));
  std::vector<StoredTemplate> streamed;
  g.for_each_template([&](StoredTemplate&& t) { streamed.push_back(std::move(t)); });
  const auto all = g.all_templates();
  ASSERT_EQ(streamed.size(), all.size());
  for (std::size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(streamed[i].row_id, all[i].row_id);
    EXPECT_EQ(streamed[i].id, all[i].id);
    EXPECT_EQ(streamed[i].bytes, all[i].bytes);
  }
}

// A load of more rows than one hand-over batch between the loading threads (gallery.cpp,
// kRowsPerOpeningBatch = 1024) delivers every template in the order of a small load, and a row that
// fails authentication in any batch, the first or a later one, fails the whole load.
TEST_F(GalleryStore, LargeLoadsKeepOrderAndDetectTamperingInEveryBatch) {
  const auto person = [](std::size_t i) {
    char id[24];
    std::snprintf(id, sizeof id, "p%zu", 10000 + i);
    return std::string(id);
  };
  std::vector<EnrollRequest> batch;
  for (int i = 0; i < 1300; ++i) batch.push_back(request(person(static_cast<std::size_t>(i)), Hand::Left, i, 2));
  {
    Gallery g = open();
    g.enroll(batch);
    std::vector<StoredTemplate> streamed;
    g.for_each_template([&](StoredTemplate&& t) { streamed.push_back(std::move(t)); });
    ASSERT_EQ(streamed.size(), 2600u);
    for (std::size_t i = 0; i < streamed.size(); ++i) {
      ASSERT_EQ(streamed[i].id, person(i / 2)) << i;
      ASSERT_EQ(streamed[i].bytes, fake_template(static_cast<int>(i / 2) * 100 + static_cast<int>(i % 2))) << i;
    }
  }
  raw_sql(db_, "PRAGMA wal_checkpoint(TRUNCATE);");
  const fs::path clean = dir_ / "clean.db";
  fs::copy_file(db_, clean);
  for (const int row : {3, 2000, 2599}) {
    fs::copy_file(clean, db_, fs::copy_options::overwrite_existing);
    raw_sql(db_, "UPDATE templates SET ciphertext = substr(ciphertext, 1, 7) || "
                 "CASE WHEN substr(ciphertext, 8, 1) = x'00' THEN x'01' ELSE x'00' END || substr(ciphertext, 9) "
                 "WHERE row_id = " + std::to_string(row));
    Gallery g = open();
    std::size_t delivered = 0;
    EXPECT_EQ(fault_of([&] { g.for_each_template([&](StoredTemplate&&) { ++delivered; }); }), GalleryFault::Tampered)
        << row;
    EXPECT_LT(delivered, 2600u) << row;
  }
}

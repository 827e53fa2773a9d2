// SPDX-License-Identifier: Apache-2.0
// RAII wrappers for sqlite3 connections and prepared statements (internal to palmvein::gallery).
// Every SQLite error becomes a GalleryError with SQLite's message and the statement's context.
// Thread-safety: none; the owner (Gallery) serialises access.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "palmvein/gallery.hpp"

namespace palmvein::gallery_internal {

// Maps an SQLite result code to a GalleryError and throws it.
[[noreturn]] void throw_sqlite(sqlite3* db, int rc, std::string_view context);

class Connection {
 public:
  Connection() = default;
  Connection(const std::filesystem::path& path, int flags);
  ~Connection();
  Connection(Connection&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
  Connection& operator=(Connection&& other) noexcept;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  sqlite3* get() const noexcept { return db_; }
  // Runs one or more statements without results. Throws GalleryError.
  void exec(std::string_view sql) const;

 private:
  sqlite3* db_ = nullptr;
};

class Statement {
 public:
  Statement(const Connection& connection, std::string_view sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, std::string_view text);
  Statement& bind(int index, std::span<const std::uint8_t> blob);
  Statement& bind_null(int index);

  // Steps once: true when a row is available, false when done. Throws GalleryError.
  bool step();
  // Steps to completion (statements without results).
  void run();
  void reset();

  std::int64_t column_int(int index) const;
  double column_double(int index) const;
  std::string column_text(int index) const;
  std::vector<std::uint8_t> column_blob(int index) const;
  bool column_is_null(int index) const;

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
  std::string sql_;
};

// BEGIN IMMEDIATE ... COMMIT; rolls back in the destructor unless commit() was called.
class Transaction {
 public:
  explicit Transaction(const Connection& connection);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit();

 private:
  const Connection& connection_;
  bool done_ = false;
};

// BEGIN (deferred) ... COMMIT around reads: every query inside sees one committed snapshot.
class ReadTransaction {
 public:
  explicit ReadTransaction(const Connection& connection);
  ~ReadTransaction();  // ends the read (nothing to roll back)
  ReadTransaction(const ReadTransaction&) = delete;
  ReadTransaction& operator=(const ReadTransaction&) = delete;

 private:
  const Connection& connection_;
};

}  // namespace palmvein::gallery_internal

#pragma once
// SQLite behind a small RAII interface: one connection, prepared statements with bound
// values, and transactions that roll back unless committed. Used by the job store and
// meant for the media library too. Every failure throws an Error naming the database
// file and SQLite's own message.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace gopcast::sqlite {

// How the database keeps its journal: WAL where the file is on a local filesystem
// (readers never block the writer), the rollback journal on a network filesystem
// (NFS, Lustre, GPFS, CIFS, BeeGFS, Ceph, FUSE), where WAL's shared memory does not work
// across nodes and SQLite's POSIX locks are what keeps writers apart.
enum class Journal { Wal, Rollback };
Journal journal_for(const std::filesystem::path& folder);

class Db {
 public:
  // Opens (creating if missing) `file`; waits up to `busy_ms` for another writer's lock.
  explicit Db(std::filesystem::path file, int busy_ms = 60000);
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db();

  const std::filesystem::path& file() const { return file_; }
  Journal journal() const { return journal_; }
  // Runs statements without results (schema, pragmas).
  void exec(const std::string& sql);
  // Rows the last INSERT, UPDATE or DELETE changed.
  int changes() const;
  sqlite3* handle() const { return db_; }
  [[noreturn]] void fail(std::string_view what) const;

 private:
  std::filesystem::path file_;
  sqlite3* db_ = nullptr;
  Journal journal_ = Journal::Rollback;
};

class Stmt {
 public:
  Stmt(const Db& db, const std::string& sql);
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt();

  // Binds parameter `i` (1-based). Text is copied.
  Stmt& bind(int i, std::string_view text);
  Stmt& bind(int i, int64_t value);
  Stmt& bind_null(int i);
  // Steps once: true while a row is there.
  bool step();
  // Runs a statement without results to its end and resets it for the next binding.
  void run();
  void reset();

  std::string_view text(int column) const;  // valid until the next step
  int64_t integer(int column) const;
  bool is_null(int column) const;

 private:
  const Db& db_;
  sqlite3_stmt* stmt_ = nullptr;
};

// BEGIN IMMEDIATE (the write lock is taken now, so two writers never deadlock on an
// upgrade), rolled back by the destructor unless commit() was called.
class Transaction {
 public:
  explicit Transaction(Db& db);
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();
  void commit();

 private:
  Db& db_;
  bool done_ = false;
};

}  // namespace gopcast::sqlite

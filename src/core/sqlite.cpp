#include "core/sqlite.hpp"

#include <sqlite3.h>
#include <sys/vfs.h>

#include "core/error.hpp"

namespace fs = std::filesystem;

namespace gopcast::sqlite {

Journal journal_for(const fs::path& folder) {
  struct statfs st{};
  if (::statfs(folder.c_str(), &st) != 0) return Journal::Rollback;
  switch (static_cast<unsigned long>(st.f_type)) {
    case 0x6969:       // NFS
    case 0x517B:       // SMB
    case 0xFF534D42:   // CIFS
    case 0xFE534D42:   // SMB2
    case 0x0BD00BD0:   // Lustre
    case 0x47504653:   // GPFS
    case 0x19830326:   // BeeGFS
    case 0x00C36400:   // CephFS
    case 0x65735546:   // FUSE
    case 0x5346414F:   // AFS
    case 0x01021997:   // 9P
      return Journal::Rollback;
    default:
      return Journal::Wal;
  }
}

Db::Db(fs::path file, int busy_ms) : file_(std::move(file)) {
  const int rc = sqlite3_open_v2(file_.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    const std::string why = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    gopcast::fail(ErrorCode::OutputNotWritable, "{}: cannot open the database: {}", file_.string(), why);
  }
  sqlite3_busy_timeout(db_, busy_ms);
  journal_ = journal_for(file_.parent_path());
  // The mode is the database's own (kept in the file); setting the one it has is a no-op.
  try {
    exec(journal_ == Journal::Wal ? "PRAGMA journal_mode=WAL" : "PRAGMA journal_mode=DELETE");
  } catch (const Error&) {
    // Another connection holds the file in the other mode; it keeps working in that one.
  }
  // Every commit is durable (WAL: one fsync of the log per commit).
  exec("PRAGMA synchronous=FULL");
}

Db::~Db() { sqlite3_close_v2(db_); }

void Db::fail(std::string_view what) const {
  const int rc = sqlite3_errcode(db_);
  const ErrorCode code = rc == SQLITE_READONLY || rc == SQLITE_CANTOPEN || rc == SQLITE_FULL || rc == SQLITE_IOERR
                             ? ErrorCode::OutputNotWritable
                             : ErrorCode::Internal;
  gopcast::fail(code, "{}: {}: {}{}", file_.string(), what, sqlite3_errmsg(db_),
                rc == SQLITE_BUSY ? " (another process held the database's lock too long)" : "");
}

int Db::changes() const { return sqlite3_changes(db_); }

void Db::exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    sqlite3_free(err);
    fail(sql.substr(0, sql.find_first_of("\n(")));
  }
}

Stmt::Stmt(const Db& db, const std::string& sql) : db_(db) {
  if (sqlite3_prepare_v2(db.handle(), sql.c_str(), static_cast<int>(sql.size()), &stmt_, nullptr) != SQLITE_OK)
    db_.fail("cannot prepare " + sql.substr(0, 40));
}

Stmt::~Stmt() { sqlite3_finalize(stmt_); }

Stmt& Stmt::bind(int i, std::string_view text) {
  if (sqlite3_bind_text(stmt_, i, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT) != SQLITE_OK) db_.fail("bind");
  return *this;
}

Stmt& Stmt::bind(int i, int64_t value) {
  if (sqlite3_bind_int64(stmt_, i, value) != SQLITE_OK) db_.fail("bind");
  return *this;
}

Stmt& Stmt::bind_null(int i) {
  if (sqlite3_bind_null(stmt_, i) != SQLITE_OK) db_.fail("bind");
  return *this;
}

bool Stmt::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  db_.fail("step");
}

void Stmt::run() {
  while (step()) {
  }
  reset();
}

void Stmt::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::string_view Stmt::text(int column) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  return p ? std::string_view(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, column))) : std::string_view();
}

int64_t Stmt::integer(int column) const { return sqlite3_column_int64(stmt_, column); }

bool Stmt::is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

Transaction::Transaction(Db& db) : db_(db) { db_.exec("BEGIN IMMEDIATE"); }

Transaction::~Transaction() {
  if (!done_) sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void Transaction::commit() {
  db_.exec("COMMIT");
  done_ = true;
}

}  // namespace gopcast::sqlite

#include "remote/cache/journal.h"

#include <sqlite3.h>

namespace phrfs::remote::cache {
namespace {

struct StmtDeleter {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, StmtDeleter>;

Status DbError(sqlite3* db, const std::string& what) {
  int code = sqlite3_errcode(db);
  Code c = Code::kIoError;
  if (code == SQLITE_FULL) c = Code::kNoSpace;
  if (code == SQLITE_BUSY || code == SQLITE_LOCKED) c = Code::kBusy;
  if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB) c = Code::kCorrupt;
  return Status::Error(c, "cache journal: " + what + ": " + sqlite3_errmsg(db));
}

Result<Stmt> Prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) != SQLITE_OK) return DbError(db, "prepare");
  return Stmt(s);
}

void BindText(sqlite3_stmt* s, int i, const std::string& v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}

std::string ColumnText(sqlite3_stmt* s, int i) {
  const unsigned char* p = sqlite3_column_text(s, i);
  return p ? std::string(reinterpret_cast<const char*>(p),
                         static_cast<size_t>(sqlite3_column_bytes(s, i)))
           : std::string();
}

Status StepDone(sqlite3* db, sqlite3_stmt* s, const char* what) {
  if (sqlite3_step(s) != SQLITE_DONE) return DbError(db, what);
  return Status::Ok();
}

constexpr char kSchema[] =
    "CREATE TABLE IF NOT EXISTS entries ("
    "  key TEXT PRIMARY KEY, kind INTEGER NOT NULL, file_id INTEGER NOT NULL,"
    "  size INTEGER NOT NULL, etag TEXT NOT NULL, dirty INTEGER NOT NULL,"
    "  chunks BLOB, sent_hashes TEXT NOT NULL DEFAULT '');"
    "CREATE TABLE IF NOT EXISTS ops ("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT, kind INTEGER NOT NULL, key TEXT NOT NULL,"
    "  key2 TEXT NOT NULL, etag TEXT NOT NULL, replace INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS conflicts ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL, conflict_key TEXT NOT NULL,"
    "  unix_time INTEGER NOT NULL, detail TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);";

}  // namespace

Result<std::unique_ptr<Journal>> Journal::Open(const std::string& path) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Status st = db ? DbError(db, "open") : Status::IoError("cache journal: open " + path);
    sqlite3_close(db);
    return st;
  }
  std::unique_ptr<Journal> j(new Journal(db));
  PHRFS_RETURN_IF_ERROR(j->Exec("PRAGMA journal_mode=WAL"));
  PHRFS_RETURN_IF_ERROR(j->Exec("PRAGMA synchronous=FULL"));
  PHRFS_RETURN_IF_ERROR(j->Exec(kSchema));
  return j;
}

Journal::~Journal() { sqlite3_close(db_); }

Status Journal::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "?";
    sqlite3_free(err);
    return Status::IoError(std::string("cache journal: ") + msg);
  }
  return Status::Ok();
}

Status Journal::Begin(Durability durability) {
  if (durability != current_) {
    PHRFS_RETURN_IF_ERROR(Exec(durability == Durability::kFull ? "PRAGMA synchronous=FULL"
                                                               : "PRAGMA synchronous=NORMAL"));
    current_ = durability;
  }
  return Exec("BEGIN IMMEDIATE");
}

Status Journal::Commit() { return Exec("COMMIT"); }

void Journal::Rollback() { (void)Exec("ROLLBACK"); }

Status Journal::PutRow(const std::string& key, const RowRecord& row) {
  PHRFS_ASSIGN_OR_RETURN(Stmt s, Prepare(db_,
                                         "INSERT OR REPLACE INTO entries (key, kind, file_id, "
                                         "size, etag, dirty, chunks, sent_hashes) VALUES "
                                         "(?,?,?,?,?,?,?,?)"));
  BindText(s.get(), 1, key);
  sqlite3_bind_int(s.get(), 2, static_cast<int>(row.kind));
  sqlite3_bind_int64(s.get(), 3, static_cast<sqlite3_int64>(row.file_id));
  sqlite3_bind_int64(s.get(), 4, static_cast<sqlite3_int64>(row.size));
  BindText(s.get(), 5, row.etag);
  sqlite3_bind_int(s.get(), 6, row.dirty ? 1 : 0);
  sqlite3_bind_blob(s.get(), 7, row.chunks.data(), static_cast<int>(row.chunks.size()),
                    SQLITE_TRANSIENT);
  BindText(s.get(), 8, row.sent_hashes);
  return StepDone(db_, s.get(), "put row");
}

Status Journal::DeleteRow(const std::string& key) {
  PHRFS_ASSIGN_OR_RETURN(Stmt s, Prepare(db_, "DELETE FROM entries WHERE key = ?"));
  BindText(s.get(), 1, key);
  return StepDone(db_, s.get(), "delete row");
}

Status Journal::AppendOp(OpRecord& op) {
  PHRFS_ASSIGN_OR_RETURN(
      Stmt s, Prepare(db_, "INSERT INTO ops (kind, key, key2, etag, replace) VALUES (?,?,?,?,?)"));
  sqlite3_bind_int(s.get(), 1, static_cast<int>(op.kind));
  BindText(s.get(), 2, op.key);
  BindText(s.get(), 3, op.key2);
  BindText(s.get(), 4, op.etag);
  sqlite3_bind_int(s.get(), 5, op.replace ? 1 : 0);
  PHRFS_RETURN_IF_ERROR(StepDone(db_, s.get(), "append op"));
  op.seq = static_cast<uint64_t>(sqlite3_last_insert_rowid(db_));
  return Status::Ok();
}

Status Journal::DeleteOp(uint64_t seq) {
  PHRFS_ASSIGN_OR_RETURN(Stmt s, Prepare(db_, "DELETE FROM ops WHERE seq = ?"));
  sqlite3_bind_int64(s.get(), 1, static_cast<sqlite3_int64>(seq));
  return StepDone(db_, s.get(), "delete op");
}

Status Journal::UpdateOpETag(uint64_t seq, const std::string& etag) {
  PHRFS_ASSIGN_OR_RETURN(Stmt s, Prepare(db_, "UPDATE ops SET etag = ? WHERE seq = ?"));
  BindText(s.get(), 1, etag);
  sqlite3_bind_int64(s.get(), 2, static_cast<sqlite3_int64>(seq));
  return StepDone(db_, s.get(), "update op");
}

Status Journal::AddConflict(const ConflictRecord& c) {
  PHRFS_ASSIGN_OR_RETURN(Stmt s,
                         Prepare(db_,
                                 "INSERT INTO conflicts (key, conflict_key, unix_time, detail) "
                                 "VALUES (?,?,?,?)"));
  BindText(s.get(), 1, c.key);
  BindText(s.get(), 2, c.conflict_key);
  sqlite3_bind_int64(s.get(), 3, c.unix_time);
  BindText(s.get(), 4, c.detail);
  return StepDone(db_, s.get(), "add conflict");
}

Result<std::vector<std::pair<std::string, RowRecord>>> Journal::LoadRows() {
  PHRFS_ASSIGN_OR_RETURN(Stmt s, Prepare(db_,
                                         "SELECT key, kind, file_id, size, etag, dirty, chunks, "
                                         "sent_hashes FROM entries"));
  std::vector<std::pair<std::string, RowRecord>> out;
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    RowRecord r;
    r.kind = static_cast<RowKind>(sqlite3_column_int(s.get(), 1));
    r.file_id = static_cast<uint64_t>(sqlite3_column_int64(s.get(), 2));
    r.size = static_cast<uint64_t>(sqlite3_column_int64(s.get(), 3));
    r.etag = ColumnText(s.get(), 4);
    r.dirty = sqlite3_column_int(s.get(), 5) != 0;
    const auto* blob = static_cast<const uint8_t*>(sqlite3_column_blob(s.get(), 6));
    if (blob) r.chunks.assign(blob, blob + sqlite3_column_bytes(s.get(), 6));
    r.sent_hashes = ColumnText(s.get(), 7);
    out.emplace_back(ColumnText(s.get(), 0), std::move(r));
  }
  if (rc != SQLITE_DONE) return DbError(db_, "load rows");
  return out;
}

Result<std::vector<OpRecord>> Journal::LoadOps() {
  PHRFS_ASSIGN_OR_RETURN(
      Stmt s, Prepare(db_, "SELECT seq, kind, key, key2, etag, replace FROM ops ORDER BY seq"));
  std::vector<OpRecord> out;
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    OpRecord op;
    op.seq = static_cast<uint64_t>(sqlite3_column_int64(s.get(), 0));
    op.kind = static_cast<OpKind>(sqlite3_column_int(s.get(), 1));
    op.key = ColumnText(s.get(), 2);
    op.key2 = ColumnText(s.get(), 3);
    op.etag = ColumnText(s.get(), 4);
    op.replace = sqlite3_column_int(s.get(), 5) != 0;
    out.push_back(std::move(op));
  }
  if (rc != SQLITE_DONE) return DbError(db_, "load ops");
  return out;
}

Result<std::vector<ConflictRecord>> Journal::LoadConflicts() {
  PHRFS_ASSIGN_OR_RETURN(Stmt s,
                         Prepare(db_,
                                 "SELECT key, conflict_key, unix_time, detail FROM conflicts "
                                 "ORDER BY id"));
  std::vector<ConflictRecord> out;
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    out.push_back(ConflictRecord{ColumnText(s.get(), 0), ColumnText(s.get(), 1),
                                 sqlite3_column_int64(s.get(), 2), ColumnText(s.get(), 3)});
  }
  if (rc != SQLITE_DONE) return DbError(db_, "load conflicts");
  return out;
}

Result<std::string> Journal::GetMeta(const std::string& name) {
  PHRFS_ASSIGN_OR_RETURN(Stmt s, Prepare(db_, "SELECT value FROM meta WHERE name = ?"));
  BindText(s.get(), 1, name);
  int rc = sqlite3_step(s.get());
  if (rc == SQLITE_ROW) return ColumnText(s.get(), 0);
  if (rc != SQLITE_DONE) return DbError(db_, "get meta");
  return std::string();
}

Status Journal::SetMeta(const std::string& name, const std::string& value) {
  PHRFS_ASSIGN_OR_RETURN(Stmt s,
                         Prepare(db_, "INSERT OR REPLACE INTO meta (name, value) VALUES (?,?)"));
  BindText(s.get(), 1, name);
  BindText(s.get(), 2, value);
  return StepDone(db_, s.get(), "set meta");
}

}  // namespace phrfs::remote::cache

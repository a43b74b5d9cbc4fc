#include "meta/lmdb_env.h"

#include <lmdb.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>
#include <type_traits>
#include <utility>

namespace mqstore {

static_assert(std::is_same_v<MDB_dbi, unsigned int>, "LmdbDb::handle holds an MDB_dbi");

namespace {

MDB_val ToVal(std::string_view s) {
  return MDB_val{s.size(), const_cast<char*>(s.data())};  // LMDB never writes through it
}

std::string_view FromVal(const MDB_val& v) {
  return std::string_view(static_cast<const char*>(v.mv_data), v.mv_size);
}

// Maps an LMDB or errno return code to a Status code.
Status::Code CodeOf(int rc) {
  switch (rc) {
    case MDB_NOTFOUND:
      return Status::Code::kNotFound;
    case MDB_INVALID:
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INCOMPATIBLE:
      return Status::Code::kCorruption;
    case MDB_VERSION_MISMATCH:
      return Status::Code::kNotSupported;
    case MDB_MAP_FULL:
    case MDB_DBS_FULL:
    case MDB_TXN_FULL:
    case MDB_CURSOR_FULL:
    case MDB_PAGE_FULL:
    case ENOSPC:
    case ENOMEM:
      return Status::Code::kResourceExhausted;
    case MDB_READERS_FULL:
    case MDB_MAP_RESIZED:
    case EAGAIN:
      return Status::Code::kBusy;
    case MDB_BAD_VALSIZE:
    case MDB_KEYEXIST:
      return Status::Code::kInvalidArgument;
    default:
      return Status::Code::kIOError;
  }
}

// Canonical paths of the environments open in this process. LMDB must not open one
// environment twice in a process: closing the second handle drops the first one's locks.
std::mutex open_dirs_mu;
std::set<std::string>& OpenDirs() {
  static std::set<std::string>* dirs = new std::set<std::string>();
  return *dirs;
}

std::string CanonicalDir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::path p = std::filesystem::weakly_canonical(dir, ec);
  return ec ? dir : p.string();
}

bool RegisterOpenDir(const std::string& canonical) {
  std::lock_guard<std::mutex> lock(open_dirs_mu);
  return OpenDirs().insert(canonical).second;
}

void UnregisterOpenDir(const std::string& canonical) {
  std::lock_guard<std::mutex> lock(open_dirs_mu);
  OpenDirs().erase(canonical);
}

}  // namespace

// ---- LmdbResizeGate

void LmdbResizeGate::EnterTxn() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return !resizing_ && waiting_resizes_ == 0; });
  ++active_txns_;
}

void LmdbResizeGate::ExitTxn() {
  std::lock_guard<std::mutex> lock(mu_);
  if (--active_txns_ == 0) cv_.notify_all();
}

void LmdbResizeGate::BeginResize() {
  std::unique_lock<std::mutex> lock(mu_);
  ++waiting_resizes_;
  cv_.wait(lock, [&] { return active_txns_ == 0 && !resizing_; });
  --waiting_resizes_;
  resizing_ = true;
}

void LmdbResizeGate::EndResize() {
  std::lock_guard<std::mutex> lock(mu_);
  resizing_ = false;
  cv_.notify_all();
}

// ---- LmdbTxn

Status LmdbTxn::Error(int rc, std::string_view call, const LmdbDb* db) const {
  std::string what(call);
  if (db != nullptr) what += "(" + (db->name.empty() ? std::string("main") : db->name) + ")";
  return env_->Error(rc, what);
}

Result<std::optional<std::string_view>> LmdbTxn::Get(const LmdbDb& db, std::string_view key) const {
  MDB_val k = ToVal(key);
  MDB_val v;
  int rc = mdb_get(txn_, db.handle, &k, &v);
  if (rc == MDB_NOTFOUND) return std::optional<std::string_view>();
  if (rc != 0) return Error(rc, "mdb_get", &db);
  return std::optional<std::string_view>(FromVal(v));
}

Status LmdbTxn::ForEachWithPrefix(
    const LmdbDb& db, std::string_view prefix,
    const std::function<Status(std::string_view key, std::string_view value)>& fn) const {
  MDB_cursor* cursor = nullptr;
  int rc = mdb_cursor_open(txn_, db.handle, &cursor);
  if (rc != 0) return Error(rc, "mdb_cursor_open", &db);
  std::unique_ptr<MDB_cursor, void (*)(MDB_cursor*)> closer(cursor, mdb_cursor_close);
  MDB_val k = ToVal(prefix);
  MDB_val v;
  rc = mdb_cursor_get(cursor, &k, &v, prefix.empty() ? MDB_FIRST : MDB_SET_RANGE);
  while (rc == 0) {
    std::string_view key = FromVal(k);
    if (!key.starts_with(prefix)) return Status::OK();
    MQ_RETURN_IF_ERROR(fn(key, FromVal(v)));
    rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT);
  }
  if (rc != MDB_NOTFOUND) return Error(rc, "mdb_cursor_get", &db);
  return Status::OK();
}

Result<uint64_t> LmdbTxn::CountEntries(const LmdbDb& db) const {
  MDB_stat stat;
  int rc = mdb_stat(txn_, db.handle, &stat);
  if (rc != 0) return Error(rc, "mdb_stat", &db);
  return uint64_t{stat.ms_entries};
}

Result<LmdbDb> LmdbTxn::OpenExistingDb(std::string_view name) const {
  std::string owned(name);
  MDB_dbi dbi = 0;
  int rc = mdb_dbi_open(txn_, owned.c_str(), 0, &dbi);
  LmdbDb db{dbi, owned};
  if (rc != 0) return Error(rc, "mdb_dbi_open", &db);
  return db;
}

// ---- LmdbWriteTxn

Status LmdbWriteTxn::WriteError(int rc, std::string_view call, const LmdbDb* db) {
  if (rc == MDB_MAP_FULL) map_full_ = true;
  return Error(rc, call, db);
}

Result<LmdbDb> LmdbWriteTxn::OpenDb(std::string_view name, bool create) {
  std::string owned(name);
  MDB_dbi dbi = 0;
  int rc = mdb_dbi_open(txn_, owned.c_str(), create ? MDB_CREATE : 0, &dbi);
  LmdbDb db{dbi, owned};
  if (rc != 0) return WriteError(rc, "mdb_dbi_open", &db);
  return db;
}

Result<LmdbDb> LmdbWriteTxn::OpenMainDb() {
  MDB_dbi dbi = 0;
  int rc = mdb_dbi_open(txn_, nullptr, 0, &dbi);
  LmdbDb db{dbi, ""};
  if (rc != 0) return WriteError(rc, "mdb_dbi_open", &db);
  return db;
}

Status LmdbWriteTxn::Put(const LmdbDb& db, std::string_view key, std::string_view value) {
  MDB_val k = ToVal(key);
  MDB_val v = ToVal(value);
  int rc = mdb_put(txn_, db.handle, &k, &v, 0);
  if (rc != 0) return WriteError(rc, "mdb_put", &db);
  return Status::OK();
}

Result<bool> LmdbWriteTxn::Delete(const LmdbDb& db, std::string_view key) {
  MDB_val k = ToVal(key);
  int rc = mdb_del(txn_, db.handle, &k, nullptr);
  if (rc == MDB_NOTFOUND) return false;
  if (rc != 0) return WriteError(rc, "mdb_del", &db);
  return true;
}

Result<uint64_t> LmdbWriteTxn::DeleteWithPrefix(const LmdbDb& db, std::string_view prefix) {
  MDB_cursor* cursor = nullptr;
  int rc = mdb_cursor_open(txn_, db.handle, &cursor);
  if (rc != 0) return WriteError(rc, "mdb_cursor_open", &db);
  std::unique_ptr<MDB_cursor, void (*)(MDB_cursor*)> closer(cursor, mdb_cursor_close);
  uint64_t deleted = 0;
  MDB_val k = ToVal(prefix);
  MDB_val v;
  rc = mdb_cursor_get(cursor, &k, &v, prefix.empty() ? MDB_FIRST : MDB_SET_RANGE);
  while (rc == 0 && FromVal(k).starts_with(prefix)) {
    rc = mdb_cursor_del(cursor, 0);
    if (rc != 0) return WriteError(rc, "mdb_cursor_del", &db);
    ++deleted;
    // Seek again rather than rely on where a delete leaves the cursor at a page boundary.
    k = ToVal(prefix);
    rc = mdb_cursor_get(cursor, &k, &v, prefix.empty() ? MDB_FIRST : MDB_SET_RANGE);
  }
  if (rc != 0 && rc != MDB_NOTFOUND) return WriteError(rc, "mdb_cursor_get", &db);
  return deleted;
}

// ---- LmdbEnv

Status LmdbEnv::Error(int rc, std::string_view call) const {
  std::string msg(call);
  msg += " in ";
  msg += dir_;
  msg += ": ";
  msg += mdb_strerror(rc);
  return Status(CodeOf(rc), msg);
}

Result<std::unique_ptr<LmdbEnv>> LmdbEnv::Open(const std::string& dir,
                                               const LmdbEnvOptions& options) {
  if (options.initial_map_bytes < (64u << 10) || options.initial_map_bytes % 4096 != 0) {
    return Status::InvalidArgument("initial_map_bytes " +
                                   std::to_string(options.initial_map_bytes) +
                                   " must be a multiple of 4096 and at least 64 KiB");
  }
  if (options.max_map_bytes < options.initial_map_bytes) {
    return Status::InvalidArgument("max_map_bytes " + std::to_string(options.max_map_bytes) +
                                   " is below initial_map_bytes " +
                                   std::to_string(options.initial_map_bytes));
  }
  if (options.max_readers == 0) return Status::InvalidArgument("max_readers must be positive");

  const bool create = options.create_if_missing && !options.read_only;
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) {
    if (errno != ENOENT) {
      return Status::IOError("stat " + dir + ": " + std::strerror(errno));
    }
    if (!create) {
      return Status::NotFound("metadata directory " + dir + " does not exist");
    }
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return Status::IOError("create " + dir + ": " + ec.message());
  } else if (!S_ISDIR(st.st_mode)) {
    return Status::Corruption(dir + " is not a directory, so not an LMDB environment");
  } else if (!create && !std::filesystem::exists(dir + "/data.mdb")) {
    return Status::NotFound(dir + " holds no LMDB environment (no data.mdb)");
  }

  std::string canonical = CanonicalDir(dir);
  if (!RegisterOpenDir(canonical)) {
    return Status::FailedPrecondition("LMDB environment " + canonical +
                                      " is already open in this process");
  }
  MDB_env* raw = nullptr;
  int rc = mdb_env_create(&raw);
  if (rc != 0) {
    UnregisterOpenDir(canonical);
    return Status(CodeOf(rc), std::string("mdb_env_create: ") + mdb_strerror(rc));
  }
  // From here the destructor closes the handle and unregisters the directory.
  std::unique_ptr<LmdbEnv> env(new LmdbEnv(canonical, options, raw));
  // A new environment starts at initial_map_bytes. An existing one is opened without a
  // configured size so that LMDB takes the size stored in it, which records every growth;
  // it is raised to initial_map_bytes below when that is larger.
  std::error_code ec;
  bool existing = std::filesystem::file_size(canonical + "/data.mdb", ec) > 0 && !ec;
  rc = existing ? 0 : mdb_env_set_mapsize(raw, options.initial_map_bytes);
  if (rc == 0) rc = mdb_env_set_maxreaders(raw, options.max_readers);
  if (rc == 0) rc = mdb_env_set_maxdbs(raw, options.max_dbs);
  if (rc != 0) return env->Error(rc, "mdb_env_set_*");
  // MDB_NOTLS: read transactions are short and may come from any thread; a reader slot is
  // held by the transaction, not by the thread. No MDB_NOSYNC / MDB_WRITEMAP: every commit
  // is durable before it returns.
  unsigned int flags = MDB_NOTLS;
  if (options.read_only) {
    // Without a writable lock.mdb no process can have the environment open for writing
    // (a writer creates it), and MDB_RDONLY alone would create or fail on it.
    flags |= MDB_RDONLY;
    if (::access((canonical + "/lock.mdb").c_str(), R_OK | W_OK) != 0) flags |= MDB_NOLOCK;
  }
  rc = mdb_env_open(raw, canonical.c_str(), flags, 0644);
  if (rc == MDB_INVALID || rc == MDB_CORRUPTED) {
    return Status::Corruption(canonical + " is not an LMDB environment or is damaged (" +
                              mdb_strerror(rc) + ")");
  }
  if (rc != 0) return env->Error(rc, "mdb_env_open");
  if (options.read_only) return env;  // nothing below is needed to read, and each one writes
  if (env->map_bytes() < options.initial_map_bytes) {
    rc = mdb_env_set_mapsize(raw, options.initial_map_bytes);
    if (rc != 0) return env->Error(rc, "mdb_env_set_mapsize");
  }
  // Readers left behind by a process that died mid-transaction would pin old pages forever.
  int stale = 0;
  rc = mdb_reader_check(raw, &stale);
  if (rc != 0) return env->Error(rc, "mdb_reader_check");
  return env;
}

LmdbEnv::~LmdbEnv() {
  mdb_env_close(env_);
  UnregisterOpenDir(dir_);
}

uint64_t LmdbEnv::map_bytes() const {
  MDB_envinfo info;
  if (mdb_env_info(env_, &info) != 0) return 0;
  return info.me_mapsize;
}

Status LmdbEnv::GrowMap() {
  LmdbResizeGate::ResizeScope resize(&gate_);  // waits for open transactions to end
  uint64_t current = map_bytes();
  if (current >= options_.max_map_bytes) {
    return Status::ResourceExhausted("LMDB map of " + dir_ + " is full at " +
                                     std::to_string(current) + " bytes (max_map_bytes)");
  }
  uint64_t next = std::min(current * 2, options_.max_map_bytes);
  int rc = mdb_env_set_mapsize(env_, next);
  if (rc != 0) return Error(rc, "mdb_env_set_mapsize");
  return Status::OK();
}

Status LmdbEnv::BeginTxn(unsigned int flags, std::optional<LmdbResizeGate::TxnScope>* scope,
                         MDB_txn** txn) const {
  for (;;) {
    scope->emplace(&gate_);
    int rc = mdb_txn_begin(env_, nullptr, flags, txn);
    if (rc == 0) return Status::OK();
    scope->reset();
    if (rc != MDB_MAP_RESIZED) {
      return Error(rc, (flags & MDB_RDONLY) ? "mdb_txn_begin(read)" : "mdb_txn_begin(write)");
    }
    LmdbResizeGate::ResizeScope resize(&gate_);
    rc = mdb_env_set_mapsize(env_, 0);
    if (rc != 0) return Error(rc, "mdb_env_set_mapsize");
  }
}

Status LmdbEnv::Read(const std::function<Status(LmdbReadTxn&)>& body) const {
  std::optional<LmdbResizeGate::TxnScope> scope;
  MDB_txn* txn = nullptr;
  MQ_RETURN_IF_ERROR(BeginTxn(MDB_RDONLY, &scope, &txn));
  LmdbReadTxn read(this, txn);
  Status s = body(read);
  // A read transaction has nothing to commit: committing frees its reader slot as an abort
  // would, and keeps the database handles `body` opened (an abort closes them).
  int rc = mdb_txn_commit(txn);
  if (s.ok() && rc != 0) return Error(rc, "mdb_txn_commit(read)");
  return s;
}

Status LmdbEnv::Write(const std::function<Status(LmdbWriteTxn&)>& body) {
  if (options_.read_only) {
    return Status::FailedPrecondition("LMDB environment " + dir_ + " is open read-only");
  }
  std::lock_guard<std::mutex> writer(write_mu_);
  for (;;) {
    {
      std::optional<LmdbResizeGate::TxnScope> scope;
      MDB_txn* txn = nullptr;
      MQ_RETURN_IF_ERROR(BeginTxn(0, &scope, &txn));
      LmdbWriteTxn write(this, txn);
      Status s = body(write);
      if (write.map_full()) {
        // Even if `body` carried on after the failure, LMDB has poisoned the transaction.
        mdb_txn_abort(txn);
      } else if (!s.ok()) {
        mdb_txn_abort(txn);
        return s;
      } else {
        int rc = mdb_txn_commit(txn);  // frees the transaction whatever the outcome
        if (rc == 0) return Status::OK();
        if (rc != MDB_MAP_FULL) return Error(rc, "mdb_txn_commit");
      }
    }
    // The write did not fit: grow the map (with no transaction open) and run `body` again.
    MQ_RETURN_IF_ERROR(GrowMap());
  }
}

}  // namespace mqstore

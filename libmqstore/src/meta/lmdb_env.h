// LmdbEnv: the narrow RAII wrapper over the LMDB C API that the metadata store is built on
// (docs/format/meta.md). lmdb_env.cc is the only file that includes <lmdb.h>; everything
// else sees string views, Status values and transactions that end in their destructors.
//
// What it adds to LMDB:
//   - errors as Status with context ("mdb_put(offsets) in <dir>: MDB_MAP_FULL: ...");
//   - one writer at a time in this process (its own mutex, so a writer never blocks inside
//     LMDB while holding other locks) and read transactions from any thread (MDB_NOTLS);
//   - map growth: a write that hits MDB_MAP_FULL is aborted, the map is doubled (up to
//     max_map_bytes) and the write runs again from the start;
//   - a process-wide guard against opening one environment twice (LMDB's caveat: a second
//     open in the same process breaks its file locks).
//
// Durability: the environment is opened with LMDB's default sync, so a write transaction is
// on disk (data pages, then the meta page, each fdatasync'ed) when Write returns OK.
//
// Read-only (LmdbEnvOptions::read_only, for tools such as mqdump): MDB_RDONLY, so data.mdb is
// opened and mapped read-only and Write fails. A reader still registers in lock.mdb's reader
// table, as LMDB's protocol requires for reading next to a live writer in another process
// (that table is LMDB's shared memory, rebuilt by whichever process opens it first; data.mdb
// is never written). When lock.mdb is missing or not writable no process can be writing, and
// the environment is opened with MDB_NOLOCK instead, creating nothing.
//
// Thread safety: an LmdbEnv is safe for concurrent use. A transaction object belongs to the
// callback it was passed to and must not escape it; views it returns die with it.
#ifndef MQSTORE_META_LMDB_ENV_H_
#define MQSTORE_META_LMDB_ENV_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "mqstore/status.h"

struct MDB_env;
struct MDB_txn;

namespace mqstore {

struct LmdbEnvOptions {
  // Create the directory and an empty environment when missing.
  bool create_if_missing = true;
  // Map size at open (virtual address space; data.mdb grows only as pages are written).
  // An environment that already has a larger map keeps it.
  uint64_t initial_map_bytes = 1ull << 30;
  // Growth stops here: a write that does not fit returns kResourceExhausted.
  uint64_t max_map_bytes = 64ull << 30;
  // Reader slots in lock.mdb: at most this many read transactions at once.
  uint32_t max_readers = 256;
  // Named databases the environment may hold.
  uint32_t max_dbs = 16;
  // Open an existing environment for reading only (see above); create_if_missing is then
  // ignored. Write returns kFailedPrecondition.
  bool read_only = false;
};

// A named database handle, valid for the life of its LmdbEnv once the transaction that
// opened it has committed.
struct LmdbDb {
  unsigned int handle = 0;
  std::string name;
};

class LmdbEnv;

// Lets transactions run in parallel and a map resize run alone. mdb_env_set_mapsize requires
// that no transaction of the process is open; a waiting resize stops new transactions from
// starting, so a steady stream of readers cannot starve it (a plain reader-preferring
// shared_mutex would).
class LmdbResizeGate {
 public:
  // Inside the gate as a transaction for its lifetime.
  class TxnScope {
   public:
    explicit TxnScope(LmdbResizeGate* gate) : gate_(gate) { gate_->EnterTxn(); }
    ~TxnScope() { gate_->ExitTxn(); }
    TxnScope(const TxnScope&) = delete;
    TxnScope& operator=(const TxnScope&) = delete;

   private:
    LmdbResizeGate* const gate_;
  };
  // Alone in the gate for its lifetime.
  class ResizeScope {
   public:
    explicit ResizeScope(LmdbResizeGate* gate) : gate_(gate) { gate_->BeginResize(); }
    ~ResizeScope() { gate_->EndResize(); }
    ResizeScope(const ResizeScope&) = delete;
    ResizeScope& operator=(const ResizeScope&) = delete;

   private:
    LmdbResizeGate* const gate_;
  };

 private:
  void EnterTxn();
  void ExitTxn();
  void BeginResize();
  void EndResize();

  std::mutex mu_;
  std::condition_variable cv_;
  int active_txns_ = 0;      // GUARDED_BY(mu_)
  int waiting_resizes_ = 0;  // GUARDED_BY(mu_)
  bool resizing_ = false;    // GUARDED_BY(mu_)
};

// Read access within one transaction. Returned views point into the map and stay valid
// until the transaction ends.
class LmdbTxn {
 public:
  LmdbTxn(const LmdbTxn&) = delete;
  LmdbTxn& operator=(const LmdbTxn&) = delete;

  // The value stored under `key`, or nullopt.
  Result<std::optional<std::string_view>> Get(const LmdbDb& db, std::string_view key) const;

  // Calls `fn` on each entry whose key starts with `prefix`, in key order. Stops at the
  // first non-OK status `fn` returns and returns it.
  Status ForEachWithPrefix(
      const LmdbDb& db, std::string_view prefix,
      const std::function<Status(std::string_view key, std::string_view value)>& fn) const;

  // Number of entries in `db`.
  Result<uint64_t> CountEntries(const LmdbDb& db) const;

  // Opens the existing named database `name`; kNotFound when there is none. A handle opened
  // in a read transaction becomes usable by others when the transaction ends: LmdbEnv::Read
  // commits its transaction for that reason.
  Result<LmdbDb> OpenExistingDb(std::string_view name) const;

 protected:
  LmdbTxn(const LmdbEnv* env, MDB_txn* txn) : env_(env), txn_(txn) {}
  ~LmdbTxn() = default;
  // Status for LMDB return code `rc` of `call` on `db` (may be null).
  Status Error(int rc, std::string_view call, const LmdbDb* db) const;

  const LmdbEnv* const env_;
  MDB_txn* const txn_;
};

class LmdbReadTxn : public LmdbTxn {
 private:
  friend class LmdbEnv;
  using LmdbTxn::LmdbTxn;
};

// Read and write access within the one write transaction. Committed by LmdbEnv::Write when
// the callback returns OK, aborted otherwise.
class LmdbWriteTxn : public LmdbTxn {
 public:
  // Opens the named database `name`. kNotFound when it does not exist, unless `create`.
  // The handle becomes usable by other transactions when this one commits.
  Result<LmdbDb> OpenDb(std::string_view name, bool create);
  // The unnamed database, whose keys are the names of the named databases.
  Result<LmdbDb> OpenMainDb();

  Status Put(const LmdbDb& db, std::string_view key, std::string_view value);
  // Removes `key`; false when it was not there.
  Result<bool> Delete(const LmdbDb& db, std::string_view key);
  // Removes every entry whose key starts with `prefix`; returns how many.
  Result<uint64_t> DeleteWithPrefix(const LmdbDb& db, std::string_view prefix);

  // True once an operation of this transaction failed with MDB_MAP_FULL.
  bool map_full() const { return map_full_; }

 private:
  friend class LmdbEnv;
  using LmdbTxn::LmdbTxn;
  // Error() that also notes MDB_MAP_FULL.
  Status WriteError(int rc, std::string_view call, const LmdbDb* db);

  bool map_full_ = false;
};

class LmdbEnv {
 public:
  // Opens (or with create_if_missing creates) the environment in directory `dir`.
  // Errors: kInvalidArgument (bad options), kNotFound (missing and !create_if_missing),
  // kFailedPrecondition (already open in this process), kCorruption (not an LMDB
  // environment, or a damaged one; the message names the path), kNotSupported (an LMDB
  // format this library cannot read), kIOError.
  static Result<std::unique_ptr<LmdbEnv>> Open(const std::string& dir,
                                               const LmdbEnvOptions& options);
  ~LmdbEnv();
  LmdbEnv(const LmdbEnv&) = delete;
  LmdbEnv& operator=(const LmdbEnv&) = delete;

  // Runs `body` in a read transaction (any thread, concurrently with other readers and the
  // writer; it sees the last committed state as of its start). Database handles `body`
  // opens stay usable afterwards.
  Status Read(const std::function<Status(LmdbReadTxn&)>& body) const;

  // Runs `body` in the write transaction and commits it if `body` returns OK; the changes
  // are durable when Write returns OK. Writers queue on a mutex. On MDB_MAP_FULL the map
  // grows and `body` runs again from the start, so `body` must have no effects outside the
  // transaction. Errors: whatever `body` returns (nothing is committed), kResourceExhausted
  // (map full at max_map_bytes, disk full), kFailedPrecondition (opened read-only),
  // kIOError.
  Status Write(const std::function<Status(LmdbWriteTxn&)>& body);

  const std::string& dir() const { return dir_; }
  bool read_only() const { return options_.read_only; }
  // Current map size in bytes.
  uint64_t map_bytes() const;

 private:
  LmdbEnv(std::string dir, const LmdbEnvOptions& options, MDB_env* env)
      : dir_(std::move(dir)), options_(options), env_(env) {}
  friend class LmdbTxn;
  // Doubles the map (capped at max_map_bytes). REQUIRES: write_mu_ held, no transaction of
  // this thread open.
  Status GrowMap();
  // Enters the gate and begins a transaction. On MDB_MAP_RESIZED (another process grew the
  // map) adopts the new size and tries again.
  Status BeginTxn(unsigned int flags, std::optional<LmdbResizeGate::TxnScope>* scope,
                  MDB_txn** txn) const;
  // Status for LMDB return code `rc` of `call`, with the directory as context.
  Status Error(int rc, std::string_view call) const;

  const std::string dir_;
  const LmdbEnvOptions options_;
  MDB_env* const env_;
  // One write transaction at a time in this process.
  std::mutex write_mu_;
  // Every transaction is inside the gate; map resizes wait for them to leave.
  mutable LmdbResizeGate gate_;
};

}  // namespace mqstore

#endif  // MQSTORE_META_LMDB_ENV_H_

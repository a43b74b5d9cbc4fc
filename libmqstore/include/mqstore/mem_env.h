// MemEnv: an in-memory Env that remembers what was made durable, for crash tests and fuzzing.
//
// Every file keeps two images: what readers see now, and what a power cut would leave
// (updated by File::Sync and MappedRegion::Sync). Directory entries likewise: a created,
// renamed or removed file survives a crash only once Env::SyncDir was called on its parent.
//
// CrashCopy() builds a new, independent MemEnv holding what would survive a power cut right
// now, optionally keeping a seeded random part of the unsynced bytes (torn writes), possibly
// with flipped bits. The copy is one instant: syncs from other threads wait for it. The store
// that was using this env keeps running untouched; a test opens a new store on the copy.
#ifndef MQSTORE_MEM_ENV_H_
#define MQSTORE_MEM_ENV_H_

#include <cstdint>
#include <memory>

#include "mqstore/env.h"

namespace mqstore {

enum class CrashMode {
  // Only synced bytes survive.
  kDropUnsynced,
  // Per file, a random-length prefix of the unsynced byte range survives (torn tail at a
  // random byte position).
  kTornPrefix,
  // Each unsynced 4 KiB page independently survives or not (mmap writeback order).
  kRandomPages,
  // As kRandomPages, and a surviving page has 1-3 of its unsynced bytes bit-flipped (a
  // device that garbled a write in flight). Synced bytes are never touched.
  kCorruptUnsynced,
};
inline constexpr int kCrashModeCount = 4;

struct CrashOptions {
  CrashMode mode = CrashMode::kDropUnsynced;
  uint64_t seed = 0;
};

class MemEnv : public Env {
 public:
  // Returns a new environment holding what survives a crash of this one now.
  // Open files and mappings of this env are not affected.
  virtual std::unique_ptr<MemEnv> CrashCopy(const CrashOptions& options) = 0;
  // Number of files and directories currently present (for tests).
  virtual size_t FileCount() = 0;
  // Sets the capacity used by GetDiskSpace and Allocate/Write (kResourceExhausted past it).
  // Default: unlimited (reported as 1 TiB).
  virtual void SetCapacity(uint64_t bytes) = 0;
};

std::unique_ptr<MemEnv> NewMemEnv();

}  // namespace mqstore

#endif  // MQSTORE_MEM_ENV_H_

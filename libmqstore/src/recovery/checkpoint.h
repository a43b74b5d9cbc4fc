// Checkpoint: the store's last known-durable positions, in a file that survives a crash in
// the middle of its own update (docs/format/checkpoint.md).
//
// Two 4 KiB slots; write N goes to slot N % 2, so a torn write can damage only the slot
// being written and the other still holds the previous checkpoint. Each slot carries a
// sequence number and a CRC; the valid slot with the higher sequence wins.
#ifndef MQSTORE_RECOVERY_CHECKPOINT_H_
#define MQSTORE_RECOVERY_CHECKPOINT_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "mqstore/env.h"

namespace mqstore {

struct CheckpointData {
  uint64_t sequence = 0;
  // Every commit-log byte below this offset is durable.
  int64_t log_durable_offset = 0;
  // Every record below this offset has durable consume-queue entries.
  int64_t dispatch_durable_offset = 0;
  int64_t log_min_offset = 0;
  uint64_t segment_bytes = 0;
  int64_t written_at_ms = 0;
};

inline constexpr uint32_t kCheckpointMagic = 0x4D514350;  // "MQCP"
inline constexpr uint32_t kCheckpointVersion = 1;
inline constexpr size_t kCheckpointSlotSize = 4096;
inline constexpr size_t kCheckpointSlotPayload = 56;  // bytes covered by the CRC

// Whether a checkpoint file of `file_bytes` holds slot `slot`: its CRC-covered bytes are all
// there. A slot the file ends inside still counts, because the next write extends the file
// and that slot would be read again (and could win).
inline bool CheckpointSlotPresent(size_t file_bytes, size_t slot) {
  return file_bytes >= slot * kCheckpointSlotSize + kCheckpointSlotPayload + 4;
}

// Slot codec (exposed for tests, mqdump and the fuzzer).
std::string EncodeCheckpointSlot(const CheckpointData& data);
// kCorruption when the slot is not a valid checkpoint.
Status DecodeCheckpointSlot(std::string_view slot, CheckpointData* out);
// DecodeCheckpointSlot of the bytes of slot `slot`, which must also be the slot its sequence
// goes to (write N goes to slot N % 2): a valid slot for Checkpoint::Read and the inspector.
Status DecodeCheckpointSlotAt(std::string_view bytes, size_t slot, CheckpointData* out);

class Checkpoint {
 public:
  // Reads the checkpoint at `path`. nullopt when the file does not exist. When neither slot
  // is valid: kCorruption.
  static Result<std::optional<CheckpointData>> Read(Env* env, const std::string& path);

  // Opens (creating when missing) the checkpoint file for writing; continues the sequence
  // of `last` (if any).
  static Result<std::unique_ptr<Checkpoint>> OpenForWrite(
      Env* env, const std::string& path, const std::optional<CheckpointData>& last);

  // Writes `data` (its sequence is assigned here) into the next slot and syncs it.
  Status Write(CheckpointData data);

 private:
  Checkpoint(std::unique_ptr<File> file, uint64_t next_sequence)
      : file_(std::move(file)), next_sequence_(next_sequence) {}
  std::unique_ptr<File> file_;
  uint64_t next_sequence_;
};

}  // namespace mqstore

#endif  // MQSTORE_RECOVERY_CHECKPOINT_H_

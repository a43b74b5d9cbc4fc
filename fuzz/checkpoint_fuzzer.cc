// checkpoint_fuzzer: the double-slotted checkpoint (docs/format/checkpoint.md).
//
// Input: one flags byte, then the checkpoint file's bytes. Flag bit 0 recomputes each slot's
// CRC before anything reads the file, so that mutations of the fields get past the CRC and
// reach the checks behind it.
//
// Exercised: DecodeCheckpointSlot on both slots, Checkpoint::Read (the store's reader) and
// the inspector's ReadCheckpointState on the file in a MemEnv, then OpenForWrite + Write.
// Checked: a slot that decodes re-encodes to its own bytes; Read picks the valid slot with
// the higher sequence and fails only when neither is valid; the inspector agrees; a
// checkpoint written after reading one is the one read back.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "fuzz_store.h"
#include "inspect/store_layout.h"
#include "mqstore/mem_env.h"
#include "recovery/checkpoint.h"
#include "mqstore/coding.h"
#include "util/crc32.h"
#include "util/sequence.h"

namespace mqstore::fuzz {
namespace {

constexpr uint8_t kFixCrcs = 0x1;

std::optional<CheckpointData> DecodeSlot(std::string_view file, size_t slot) {
  if (!CheckpointSlotPresent(file.size(), slot)) return std::nullopt;
  std::string_view bytes = file.substr(slot * kCheckpointSlotSize, kCheckpointSlotSize);
  CheckpointData d;
  if (!DecodeCheckpointSlot(bytes, &d).ok()) return std::nullopt;
  std::string again = EncodeCheckpointSlot(d);
  FUZZ_CHECK(
      again.substr(0, kCheckpointSlotPayload + 4) == bytes.substr(0, kCheckpointSlotPayload + 4),
      "a decoded slot does not re-encode to its bytes");
  if (CopyOfSequence(d.sequence) != slot) return std::nullopt;  // write N goes to slot N % 2
  return d;
}

bool SameData(const CheckpointData& a, const CheckpointData& b) {
  return a.sequence == b.sequence && a.log_durable_offset == b.log_durable_offset &&
         a.dispatch_durable_offset == b.dispatch_durable_offset &&
         a.log_min_offset == b.log_min_offset && a.segment_bytes == b.segment_bytes &&
         a.written_at_ms == b.written_at_ms;
}

}  // namespace
}  // namespace mqstore::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mqstore;
  using namespace mqstore::fuzz;
  if (size == 0 || size > 3 * kCheckpointSlotSize) return 0;
  const uint8_t flags = data[0];
  std::string file(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (flags & kFixCrcs) {
    for (size_t slot = 0; slot < 2; ++slot) {
      size_t at = slot * kCheckpointSlotSize;
      if (!CheckpointSlotPresent(file.size(), slot)) break;
      EncodeBig32(file.data() + at + kCheckpointSlotPayload,
                  crc32::Value(file.data() + at, kCheckpointSlotPayload));
    }
  }
  // Also the codec on its own, on whatever length it is given.
  CheckpointData loose;
  (void)DecodeCheckpointSlot(file, &loose);

  std::optional<CheckpointData> slots[2] = {DecodeSlot(file, 0), DecodeSlot(file, 1)};
  std::optional<CheckpointData> best;
  int best_slot = -1;
  for (int i = 0; i < 2; ++i) {
    if (slots[i] && (!best || SequenceNewer(slots[i]->sequence, best->sequence))) {
      best = slots[i];
      best_slot = i;
    }
  }

  std::unique_ptr<MemEnv> env = NewMemEnv();
  const std::string dir = kStoreDir;
  const std::string path = dir + "/checkpoint";
  FUZZ_CHECK(env->CreateDir(dir).ok(), "mkdir");
  {
    auto f = env->OpenFile(path, OpenMode::kCreate);
    FUZZ_CHECK(f.ok() && (*f)->Write(0, file).ok() && (*f)->Sync().ok(), "write checkpoint");
  }
  auto read = Checkpoint::Read(env.get(), path);
  if (best) {
    FUZZ_CHECK(read.ok() && read->has_value() && SameData(**read, *best),
               "Checkpoint::Read did not pick the newest valid slot");
  } else {
    FUZZ_CHECK(!read.ok(), "Checkpoint::Read found a checkpoint in no valid slot");
  }

  auto state = ReadCheckpointState(env.get(), path);
  FUZZ_CHECK(state.ok(), "ReadCheckpointState: " + state.status().ToString());
  FUZZ_CHECK(state->newest_slot == best_slot, "the inspector chose slot " +
                                                  std::to_string(state->newest_slot) +
                                                  ", the store " + std::to_string(best_slot));
  for (size_t i = 0; i < 2; ++i) {
    FUZZ_CHECK(state->slots[i].valid == slots[i].has_value(), "slot validity differs");
    if (slots[i]) FUZZ_CHECK(state->slots[i].fields.sequence == slots[i]->sequence, "sequence");
  }

  // (Fixed bug: Checkpoint::Read once ignored a slot the file was too short to hold in full;
  // the write below extended the file, the slot came back, and a stale checkpoint won.)
  // The next write continues the sequence; reading then gives what was written.
  auto writer = Checkpoint::OpenForWrite(env.get(), path, best);
  FUZZ_CHECK(writer.ok(), writer.status().ToString());
  CheckpointData next{0, 4096, 4096, 0, 4096, kStartMs};
  FUZZ_CHECK((*writer)->Write(next).ok(), "checkpoint write");
  auto reread = Checkpoint::Read(env.get(), path);
  FUZZ_CHECK(reread.ok() && reread->has_value(), "no checkpoint after a write");
  next.sequence = (*reread)->sequence;
  FUZZ_CHECK(SameData(**reread, next),
             "the checkpoint just written is not the one read back (read sequence " +
                 std::to_string((*reread)->sequence) + ", previous best " +
                 (best ? std::to_string(best->sequence) : std::string("none")) + ")");
  return 0;
}

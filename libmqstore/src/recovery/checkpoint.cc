#include "recovery/checkpoint.h"

#include "mqstore/coding.h"
#include "util/crc32.h"
#include "util/mapped_file.h"
#include "util/sequence.h"

namespace mqstore {

// Slot layout (big-endian): magic 4 | version 4 | sequence 8 | log_durable_offset 8 |
// dispatch_durable_offset 8 | log_min_offset 8 | segment_bytes 8 | written_at_ms 8 = 56 bytes,
// then crc32 4 (of those 56 bytes), then zeros to 4096.
std::string EncodeCheckpointSlot(const CheckpointData& d) {
  std::string s;
  s.reserve(kCheckpointSlotSize);
  PutBig32(&s, kCheckpointMagic);
  PutBig32(&s, kCheckpointVersion);
  PutBig64(&s, d.sequence);
  PutBig64(&s, static_cast<uint64_t>(d.log_durable_offset));
  PutBig64(&s, static_cast<uint64_t>(d.dispatch_durable_offset));
  PutBig64(&s, static_cast<uint64_t>(d.log_min_offset));
  PutBig64(&s, d.segment_bytes);
  PutBig64(&s, static_cast<uint64_t>(d.written_at_ms));
  PutBig32(&s, crc32::Value(s.data(), s.size()));
  s.resize(kCheckpointSlotSize, '\0');
  return s;
}

Status DecodeCheckpointSlot(std::string_view slot, CheckpointData* out) {
  if (slot.size() < kCheckpointSlotPayload + 4) return Status::Corruption("checkpoint slot short");
  if (crc32::Value(slot.data(), kCheckpointSlotPayload) !=
      DecodeBig32(slot.data() + kCheckpointSlotPayload)) {
    return Status::Corruption("checkpoint slot CRC mismatch");
  }
  std::string_view in = slot.substr(0, kCheckpointSlotPayload);
  uint32_t magic, version;
  uint64_t v[6];
  GetBig32(&in, &magic);
  GetBig32(&in, &version);
  for (uint64_t& x : v) GetBig64(&in, &x);
  if (magic != kCheckpointMagic) return Status::Corruption("checkpoint slot has a bad magic");
  if (version != kCheckpointVersion) {
    return Status::NotSupported("checkpoint version " + std::to_string(version));
  }
  out->sequence = v[0];
  out->log_durable_offset = static_cast<int64_t>(v[1]);
  out->dispatch_durable_offset = static_cast<int64_t>(v[2]);
  out->log_min_offset = static_cast<int64_t>(v[3]);
  out->segment_bytes = v[4];
  out->written_at_ms = static_cast<int64_t>(v[5]);
  if (out->log_durable_offset < 0 || out->dispatch_durable_offset < 0 ||
      out->log_min_offset < 0) {
    return Status::Corruption("checkpoint slot has a negative offset");
  }
  return Status::OK();
}

Status DecodeCheckpointSlotAt(std::string_view bytes, size_t slot, CheckpointData* out) {
  MQ_RETURN_IF_ERROR(DecodeCheckpointSlot(bytes, out));
  if (CopyOfSequence(out->sequence) != slot) {
    return Status::Corruption("checkpoint slot " + std::to_string(slot) + " holds sequence " +
                              std::to_string(out->sequence) + ", which belongs in slot " +
                              std::to_string(CopyOfSequence(out->sequence)));
  }
  return Status::OK();
}

Result<std::optional<CheckpointData>> Checkpoint::Read(Env* env, const std::string& path) {
  if (!env->FileExists(path)) return std::optional<CheckpointData>();
  MQ_ASSIGN_OR_RETURN(std::unique_ptr<File> file, env->OpenFile(path, OpenMode::kReadOnly));
  std::string buf(2 * kCheckpointSlotSize, '\0');
  size_t n = 0;
  MQ_RETURN_IF_ERROR(file->Read(0, buf.size(), buf.data(), &n));
  std::optional<CheckpointData> best;
  Status last_error = Status::Corruption(path + ": empty checkpoint file");
  for (size_t slot = 0; slot < 2; ++slot) {
    if (!CheckpointSlotPresent(n, slot)) break;
    CheckpointData d;
    Status s = DecodeCheckpointSlotAt(
        std::string_view(buf).substr(slot * kCheckpointSlotSize, kCheckpointSlotSize), slot, &d);
    if (!s.ok()) {
      last_error = s.WithContext(path + " slot " + std::to_string(slot));
      continue;
    }
    if (!best || SequenceNewer(d.sequence, best->sequence)) best = d;
  }
  if (!best) return last_error;
  return best;
}

Result<std::unique_ptr<Checkpoint>> Checkpoint::OpenForWrite(
    Env* env, const std::string& path, const std::optional<CheckpointData>& last) {
  bool existed = env->FileExists(path);
  MQ_ASSIGN_OR_RETURN(std::unique_ptr<File> file, env->OpenFile(path, OpenMode::kCreate));
  MQ_ASSIGN_OR_RETURN(uint64_t size, file->Size());
  if (size < 2 * kCheckpointSlotSize) {
    // Both slots get their disk space now, so that no later write needs any (a full disk must
    // not stop checkpoints). On a failure a file made here goes again: an empty checkpoint
    // would look like a lost one at the next open.
    Status s = file->Allocate(2 * kCheckpointSlotSize);
    if (s.ok()) s = file->Sync();
    if (s.ok()) s = env->SyncDir(DirName(path));
    if (!s.ok()) {
      file.reset();
      if (!existed) env->RemoveFile(path).IgnoreError();  // the error to report is `s`
      return s;
    }
  }
  return std::unique_ptr<Checkpoint>(
      new Checkpoint(std::move(file), last ? last->sequence + 1 : 1));
}

Status Checkpoint::Write(CheckpointData data) {
  data.sequence = next_sequence_;
  std::string slot = EncodeCheckpointSlot(data);
  MQ_RETURN_IF_ERROR(file_->Write(CopyOfSequence(data.sequence) * kCheckpointSlotSize, slot));
  MQ_RETURN_IF_ERROR(file_->Sync());
  ++next_sequence_;
  return Status::OK();
}

}  // namespace mqstore

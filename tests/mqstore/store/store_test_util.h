// Helpers for tests that drive mqstore::Store through its public API: owned puts, reading a
// whole queue back, and a fixture choice of environment (POSIX on a TempDir, or MemEnv).
#ifndef MQSTORE_TESTS_MQSTORE_STORE_STORE_TEST_UTIL_H_
#define MQSTORE_TESTS_MQSTORE_STORE_STORE_TEST_UTIL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mqstore/mem_env.h"
#include "mqstore/message.h"
#include "mqstore/store.h"
#include "support/test_util.h"

namespace mqstore::test {

// Small files (segments, queue files and index files roll often) and no periodic flush or
// checkpoint during a test: what the durability tests build their stores with.
inline StoreOptions SmallStoreOptions(Env* env, FlushMode mode) {
  StoreOptions o;
  o.env = env;
  o.commitlog_segment_bytes = 8192;
  o.consume_queue_entries_per_file = 4;
  o.index_slots_per_file = 16;
  o.index_entries_per_file = 64;
  o.max_message_bytes = 2048;
  o.flush_mode = mode;
  o.flush_interval_ms = 3'600'000;  // does not elapse during a test
  o.checkpoint_interval_ms = 3'600'000;
  return o;
}

inline Result<PutResult> PutMessage(Store* store, const Message& m) {
  std::string props;
  MessageView view = m.View(&props);
  return store->Put(view);
}

inline Result<BatchPutResult> PutMessages(Store* store, const std::vector<Message>& messages) {
  std::vector<std::string> props(messages.size());
  std::vector<MessageView> views;
  for (size_t i = 0; i < messages.size(); ++i) views.push_back(messages[i].View(&props[i]));
  return store->PutBatch(views);
}

// A record read back through a queue, owning its bytes.
struct ReadBack {
  int64_t queue_offset = 0;
  int64_t physical_offset = 0;
  std::string bytes;

  // Parses with both checksums verified; the views point into `bytes`.
  Status Parse(ParsedRecord* out) const { return ParseRecord(bytes, true, out); }
};

// Reads topic/queue from `from` to its end, `batch` messages per Read. Checks that every
// Read continues where the previous one said (next_offset) and that queue offsets are
// consecutive; kCorruption otherwise.
inline Result<std::vector<ReadBack>> ReadQueue(Store* store, std::string_view topic,
                                               int32_t queue_id, int64_t from = 0,
                                               int32_t batch = 64) {
  std::vector<ReadBack> out;
  int64_t offset = from;
  while (true) {
    MQ_ASSIGN_OR_RETURN(ReadResult r, store->Read(topic, queue_id, offset, batch, 1ull << 30));
    if (r.status == ReadStatus::kNoSuchQueue && out.empty() && from == 0) return out;
    if (r.status == ReadStatus::kNoNewMessage) return out;
    if (r.status != ReadStatus::kFound) {
      return Status::Corruption(std::string("read at ") + std::to_string(offset) + ": " +
                                ReadStatusName(r.status));
    }
    for (const StoredMessage& m : r.messages) {
      if (m.queue_offset != offset) {
        return Status::Corruption("queue offset " + std::to_string(m.queue_offset) + " where " +
                                  std::to_string(offset) + " was expected");
      }
      out.push_back(ReadBack{m.queue_offset, m.physical_offset, std::string(m.record)});
      ++offset;
    }
    if (r.next_offset != offset) return Status::Corruption("next_offset disagrees");
  }
}

// Where a test store lives.
enum class EnvKind { kPosix, kMem };

inline std::string EnvKindName(const ::testing::TestParamInfo<EnvKind>& info) {
  return info.param == EnvKind::kPosix ? "Posix" : "MemEnv";
}

// An environment and a directory for one store: a fresh TempDir under Env::Default(), or a
// fresh MemEnv.
class StoreLocation {
 public:
  explicit StoreLocation(EnvKind kind) : kind_(kind) {
    if (kind == EnvKind::kMem) mem_ = NewMemEnv();
  }
  Env* env() { return kind_ == EnvKind::kMem ? static_cast<Env*>(mem_.get()) : Env::Default(); }
  MemEnv* mem_env() { return mem_.get(); }  // null for POSIX
  std::string dir() const { return kind_ == EnvKind::kMem ? "/store" : temp_.Sub("store"); }

 private:
  EnvKind kind_;
  TempDir temp_;
  std::unique_ptr<MemEnv> mem_;
};

// A body that names its writer and sequence number, padded to `size` bytes with bytes that
// depend on both (so a body from another put never matches by accident).
inline std::string BodyFor(int writer, int64_t seq, size_t size) {
  std::string body = "w" + std::to_string(writer) + ":s" + std::to_string(seq) + ":";
  uint64_t x =
      (static_cast<uint64_t>(writer) << 40) ^ static_cast<uint64_t>(seq) ^ 0x9E3779B97F4A7C15ull;
  while (body.size() < size) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    body.push_back(static_cast<char>('a' + x % 26));
  }
  return body;
}

// Parses "w<writer>:s<seq>:..." back; false if the body is not one.
inline bool ParseBody(std::string_view body, int* writer, int64_t* seq) {
  if (body.size() < 5 || body[0] != 'w') return false;
  size_t colon = body.find(':');
  if (colon == std::string_view::npos || body.substr(colon + 1, 1) != "s") return false;
  size_t colon2 = body.find(':', colon + 1);
  if (colon2 == std::string_view::npos) return false;
  *writer = std::stoi(std::string(body.substr(1, colon - 1)));
  *seq = std::stoll(std::string(body.substr(colon + 2, colon2 - colon - 2)));
  return true;
}

}  // namespace mqstore::test

#endif  // MQSTORE_TESTS_MQSTORE_STORE_STORE_TEST_UTIL_H_

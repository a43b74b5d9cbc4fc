// Shared by the crash writer and its driver: the acknowledgement log format and the body
// hash, and the store options both must open the store with.
#ifndef MQSTORE_TESTS_CRASH_PROCESS_CRASH_PROCESS_COMMON_H_
#define MQSTORE_TESTS_CRASH_PROCESS_CRASH_PROCESS_COMMON_H_

#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mqstore/options.h"

namespace mqstore::crash_process {

inline constexpr char kTopic[] = "CrashTopic";
inline constexpr int kQueues = 4;

// FNV-1a, 64 bits: stable across processes (std::hash is not promised to be).
inline uint64_t BodyHash(std::string_view body) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : body) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

inline StoreOptions WriterOptions() {
  StoreOptions o;
  o.flush_mode = FlushMode::kSync;
  o.commitlog_segment_bytes = 64 * 1024;
  o.consume_queue_entries_per_file = 64;
  o.max_message_bytes = 4096;
  o.checkpoint_interval_ms = 20;
  o.flush_interval_ms = 10;
  return o;
}

// One acknowledged (durable) put, as a line of the acknowledgement log.
struct Ack {
  int32_t queue_id = 0;
  int64_t queue_offset = 0;
  int64_t physical_offset = 0;
  int32_t record_size = 0;
  uint64_t body_hash = 0;
};

inline std::string FormatAck(const Ack& a) {
  char line[160];
  std::snprintf(line, sizeof(line), "%d %" PRId64 " %" PRId64 " %d %016" PRIx64 "\n", a.queue_id,
                a.queue_offset, a.physical_offset, a.record_size, a.body_hash);
  return line;
}

// Parses the complete lines of an acknowledgement log; a last line without its newline (the
// writer was killed while writing it) is ignored. nullopt if a complete line is malformed.
inline std::optional<std::vector<Ack>> ParseAcks(std::string_view text) {
  std::vector<Ack> out;
  while (true) {
    size_t nl = text.find('\n');
    if (nl == std::string_view::npos) break;
    std::string line(text.substr(0, nl));
    text.remove_prefix(nl + 1);
    Ack a;
    if (std::sscanf(line.c_str(), "%d %" SCNd64 " %" SCNd64 " %d %" SCNx64, &a.queue_id,
                    &a.queue_offset, &a.physical_offset, &a.record_size, &a.body_hash) != 5) {
      return std::nullopt;
    }
    out.push_back(a);
  }
  return out;
}

}  // namespace mqstore::crash_process

#endif  // MQSTORE_TESTS_CRASH_PROCESS_CRASH_PROCESS_COMMON_H_

#include "fuzz_store.h"

#include <cstdio>
#include <cstdlib>
#include <limits>
#include <vector>

#include "mqstore/message.h"

namespace mqstore::fuzz {
namespace {

constexpr size_t kMaxQueues = 32;
constexpr int64_t kMaxMessagesPerQueue = 256;
constexpr size_t kMaxKeyLookups = 16;

// Whether `key` is one of the space-separated KEYS of the record or its UNIQ_KEY.
bool CarriesKey(std::string_view properties, std::string_view key) {
  if (FindProperty(properties, property::kUniqueKey) == key) return true;
  std::optional<std::string_view> keys = FindProperty(properties, property::kKeys);
  while (keys && !keys->empty()) {
    size_t space = keys->find(' ');
    if (keys->substr(0, space) == key) return true;
    keys->remove_prefix(space == std::string_view::npos ? keys->size() : space + 1);
  }
  return false;
}

// A record the store returned as a record (not a queue slice): it must parse and start at
// `offset`.
void CheckRecordView(const RecordView& view, int64_t offset, const char* what) {
  ParsedRecord rec;
  Status s = ParseRecord(view.bytes, /*verify_checksums=*/false, &rec);
  FUZZ_CHECK(s.ok(), std::string(what) + " returned a record that does not parse: " + s.ToString());
  FUZZ_CHECK(static_cast<size_t>(rec.total_size) == view.bytes.size(), what);
  FUZZ_CHECK(view.physical_offset == offset && rec.physical_offset == offset,
             std::string(what) + " at " + std::to_string(offset) + " returned the record at " +
                 std::to_string(rec.physical_offset));
}

struct Seen {
  std::string topic;
  std::string key;
};

}  // namespace

void Fail(const char* file, int line, const std::string& what) {
  std::fprintf(stderr, "\n*** fuzz check failed at %s:%d\n*** %s\n", file, line, what.c_str());
  std::fflush(stderr);
  std::abort();
}

StoreOptions TinyStoreOptions(Env* env, Clock* clock, FlushMode mode) {
  StoreOptions o;
  o.env = env;
  o.clock = clock;
  o.commitlog_segment_bytes = 4096;
  o.consume_queue_entries_per_file = 4;
  o.index_slots_per_file = 16;
  o.index_entries_per_file = 64;
  o.max_message_bytes = kMaxBodyBytes;
  o.write_buffer_bytes = kMaxBodyBytes + (64u << 10);
  o.flush_mode = mode;
  o.flush_interval_ms = kNeverMs;
  o.checkpoint_interval_ms = kNeverMs;
  o.retention_interval_ms = kNeverMs;
  o.sync_flush_timeout_ms = 5000;
  o.enable_metadata = false;
  o.file_reserved_ms = kFileReservedMs;
  // Timers up to 10 minutes ahead: the timing wheel gets its minimum 1024 slots instead of
  // 14 MB, which would cost more than the rest of an execution.
  o.timer_max_delay_ms = 600'000;
  o.delete_when = "0;1;2;3;4;5;6;7;8;9;10;11;12;13;14;15;16;17;18;19;20;21;22;23";
  return o;
}

MessageView FuzzMessage::View() const {
  MessageView v;
  v.topic = topic;
  v.queue_id = queue_id;
  v.body = body;
  v.flag = flag;
  v.properties = properties;
  v.born_timestamp_ms = kStartMs;
  v.born_host = SocketAddress::V4(10, 0, 0, 1, 4000);
  return v;
}

size_t ExploreStore(Store* store) {
  StoreStats stats = store->Stats();
  FUZZ_CHECK(
      stats.durable_offset <= stats.written_offset && stats.written_offset <= stats.appended_offset,
      "durable " + std::to_string(stats.durable_offset) + ", written " +
          std::to_string(stats.written_offset) + ", appended " +
          std::to_string(stats.appended_offset));
  FUZZ_CHECK(stats.min_physical_offset <= stats.appended_offset, "log starts past its end");

  size_t read_count = 0;
  std::vector<Seen> seen;  // keys to look up
  std::vector<QueueId> queues = store->ListQueues();
  if (queues.size() > kMaxQueues) queues.resize(kMaxQueues);
  for (const QueueId& q : queues) {
    const std::string name = q.topic + "/" + std::to_string(q.queue_id);
    Result<QueueBounds> bounds = store->GetQueueBounds(q.topic, q.queue_id);
    FUZZ_CHECK(bounds.ok(), "listed queue " + name + " has no bounds");
    FUZZ_CHECK(0 <= bounds->min_offset && bounds->min_offset <= bounds->max_offset,
               name + " bounds [" + std::to_string(bounds->min_offset) + ", " +
                   std::to_string(bounds->max_offset) + ")");
    int64_t end = std::min(bounds->max_offset, bounds->min_offset + kMaxMessagesPerQueue);
    int64_t offset = bounds->min_offset;
    while (offset < end) {
      Result<ReadResult> read = store->Read(q.topic, q.queue_id, offset, 8, 1 << 16);
      FUZZ_CHECK(read.ok(), read.status().ToString());
      // Below the maximum a read finds messages, or says the log no longer holds them.
      FUZZ_CHECK(read->status == ReadStatus::kFound || read->status == ReadStatus::kOffsetTooSmall,
                 name + " @" + std::to_string(offset) + ": " + ReadStatusName(read->status));
      if (read->status == ReadStatus::kOffsetTooSmall) {
        FUZZ_CHECK(read->next_offset > offset, name + ": a too-small offset does not advance");
        offset = read->next_offset;
        continue;
      }
      FUZZ_CHECK(read->next_offset == offset + static_cast<int64_t>(read->messages.size()),
                 name + ": next offset does not follow the messages");
      for (size_t i = 0; i < read->messages.size(); ++i) {
        const StoredMessage& m = read->messages[i];
        FUZZ_CHECK(m.queue_offset == offset + static_cast<int64_t>(i), name + ": not contiguous");
        ParsedRecord rec;
        // Records the checkpoint covers are trusted as they are (recovery validates the tail
        // only); what must hold is that parsing what Read returned is memory-safe.
        if (ParseRecord(m.record, /*verify_checksums=*/false, &rec).ok()) {
          if (auto keys = FindProperty(rec.properties, property::kKeys);
              keys && seen.size() < kMaxKeyLookups) {
            seen.push_back({std::string(rec.topic), std::string(keys->substr(0, keys->find(' ')))});
          }
        }
        auto by_offset = store->ReadRecord(m.physical_offset);
        if (by_offset.ok()) CheckRecordView(*by_offset, m.physical_offset, "ReadRecord");
        ++read_count;
      }
      offset = read->next_offset;
    }
    for (int64_t ts : {int64_t{0}, kStartMs, std::numeric_limits<int64_t>::max()}) {
      Result<int64_t> at = store->GetQueueOffsetByTime(q.topic, q.queue_id, ts);
      if (!at.ok()) continue;
      // Within the bounds before the call and after it: the store's services may deliver
      // meanwhile (a delayed message due by the clock lands in its real topic's queue).
      Result<QueueBounds> after = store->GetQueueBounds(q.topic, q.queue_id);
      const int64_t max_offset = after.ok() ? after->max_offset : bounds->max_offset;
      FUZZ_CHECK(bounds->min_offset <= *at && *at <= max_offset,
                 name + ": GetQueueOffsetByTime gave " + std::to_string(*at) + " outside [" +
                     std::to_string(bounds->min_offset) + ", " + std::to_string(max_offset) +
                     "]");
    }
    store->GetEarliestStoreTime(q.topic, q.queue_id).status().IgnoreError();
  }

  // ReadRecord anywhere: at the log's start and end, and at a few offsets in between.
  const int64_t span = stats.appended_offset - stats.min_physical_offset;
  for (int64_t offset : {stats.min_physical_offset, stats.appended_offset, int64_t{0},
                         stats.min_physical_offset + span / 3, stats.appended_offset - 1,
                         std::numeric_limits<int64_t>::max(), int64_t{-1}}) {
    auto r = store->ReadRecord(offset);
    if (!r.ok()) continue;
    CheckRecordView(*r, offset, "ReadRecord");
    ParsedRecord rec;
    if (ParseRecord(r->bytes, false, &rec).ok()) {
      auto by_id = store->ReadByMessageId(rec.topic, MakeOffsetMessageId(rec.store_host, offset));
      if (by_id.ok()) FUZZ_CHECK(!by_id->bytes.empty(), "ReadByMessageId gave an empty record");
    }
  }

  for (const Seen& s : seen) {
    if (s.key.empty()) continue;
    auto found = store->QueryByKey(s.topic, s.key, 0, std::numeric_limits<int64_t>::max(), 4);
    if (!found.ok()) continue;  // e.g. a key too long to index
    for (const RecordView& v : *found) {
      CheckRecordView(v, v.physical_offset, "QueryByKey");
      ParsedRecord rec;
      (void)ParseRecord(v.bytes, false, &rec);
      FUZZ_CHECK(rec.topic == s.topic, "QueryByKey returned a record of another topic");
      FUZZ_CHECK(CarriesKey(rec.properties, s.key),
                 "QueryByKey returned a record without key " + s.key);
    }
    store->ReadByMessageId(s.topic, s.key).status().IgnoreError();
  }
  return read_count;
}

}  // namespace mqstore::fuzz

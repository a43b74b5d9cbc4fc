#include "inspect/queue_verifier.h"

#include <algorithm>

#include "inspect/log_position.h"
#include "log/record_codec.h"
#include "queue/consume_queue.h"
#include "util/filename.h"

namespace mqstore {
namespace {

std::string QueueName(std::string_view topic, int32_t queue_id) {
  return std::string(topic) + "/" + std::to_string(queue_id);
}

}  // namespace

class QueueVerifier::QueueReporter {
 public:
  QueueReporter(ProblemSink* sink, const QueueFiles& queue) : sink_(sink), queue_(queue) {}
  ~QueueReporter() {
    if (suppressed_ > 0) {
      // Not a problem of its own: forwarded, not counted.
      sink_->Forward(Severity::kNote, queue_.dir, -1,
                     QueueName(queue_.topic, queue_.queue_id) + ": " + std::to_string(suppressed_) +
                         " more problems not shown (counted)");
    }
  }
  QueueReporter(const QueueReporter&) = delete;
  QueueReporter& operator=(const QueueReporter&) = delete;

  void Report(Severity severity, const std::string& path, int64_t offset, std::string message) {
    if (shown_ < sink_->max_problems_per_queue()) {
      ++shown_;
      sink_->Report(severity, path, offset,
                    QueueName(queue_.topic, queue_.queue_id) + ": " + std::move(message));
    } else {
      ++suppressed_;
      sink_->Count(severity);
    }
  }

 private:
  ProblemSink* const sink_;
  const QueueFiles& queue_;
  int shown_ = 0;
  uint64_t suppressed_ = 0;
};

Result<uint64_t> QueueVerifier::Run() {
  uint64_t entries = 0;
  for (const QueueFiles& queue : layout_.queues) {
    MQ_ASSIGN_OR_RETURN(uint64_t n, CheckQueue(queue));
    entries += n;
  }
  CheckQueuesWithoutFiles();
  return entries;
}

void QueueVerifier::CheckFiles(const QueueFiles& queue, QueueReporter* reporter) {
  if (queue.files.empty()) return;
  // ConsumeQueue::Load opens every file at the configured size and removes a last file of
  // another size (a crash while creating it); the first file shows the configured size.
  const uint64_t size = queue.files.front().file_bytes;
  int64_t expected_base = -1;
  for (size_t i = 0; i < queue.files.size(); ++i) {
    const QueueFile& f = queue.files[i];
    bool last = i + 1 == queue.files.size();
    bool bad_size = f.file_bytes != size || size % kQueueEntrySize != 0 || size == 0;
    if (bad_size && last && (i > 0 || size == 0)) {
      reporter->Report(Severity::kNote, f.path, -1,
                       "file is " + std::to_string(f.file_bytes) +
                           " bytes: a crash while it was being created; the next open removes "
                           "it");
      continue;
    }
    if (bad_size) {
      reporter->Report(Severity::kCorruption, f.path, -1,
                       "file is " + std::to_string(f.file_bytes) + " bytes; files of a queue " +
                           "are equal-sized multiples of 20 bytes (the first is " +
                           std::to_string(size) + ")");
    }
    if ((size != 0 && f.base_byte_offset % static_cast<int64_t>(size) != 0) ||
        (expected_base >= 0 && f.base_byte_offset != expected_base)) {
      reporter->Report(
          Severity::kCorruption, f.path, -1,
          "files are not contiguous: this one starts at byte " +
              std::to_string(f.base_byte_offset) +
              (expected_base >= 0 ? ", expected " + std::to_string(expected_base) : std::string()) +
              "; the store will not open");
    }
    expected_base = f.base_byte_offset + static_cast<int64_t>(f.file_bytes);
  }
}

Result<uint64_t> QueueVerifier::CheckQueue(const QueueFiles& queue) {
  QueueReporter reporter(sink_, queue);
  CheckFiles(queue, &reporter);
  MQ_ASSIGN_OR_RETURN(QueueSlots slots, QueueSlots::Open(cache_, queue));

  auto span_it = facts_.queues.find({queue.topic, queue.queue_id});
  const QueueLogSpan* span = span_it == facts_.queues.end() ? nullptr : &span_it->second;
  const int64_t needed = span ? span->next_below_restart : 0;

  // What the queue keeps at the next open: the load rule's prefix, cut at the restart point.
  int64_t kept = slots.FindLoadedEnd().max_offset;
  for (int64_t q = slots.first_offset(); q < kept; ++q) {
    if (slots.At(q).physical_offset >= facts_.restart) {
      kept = q;
      break;
    }
  }
  auto severity_of = [&](int64_t q) {
    return q < kept || q < needed ? Severity::kCorruption : Severity::kNote;
  };
  auto describe = [&](int64_t q, std::string what) {
    if (severity_of(q) == Severity::kNote) {
      what += "; recovery drops it and re-dispatches from offset " + std::to_string(facts_.restart);
    }
    return what;
  };

  // Entries pointing past the end of the valid log, [0] dropped by recovery, [1] kept.
  struct PastEnd {
    uint64_t count = 0;
    QueueEntryInfo first;
    void Add(const QueueEntryInfo& e) {
      if (count++ == 0) first = e;
    }
  } past_end[2];
  uint64_t checked = 0;
  int64_t previous_end = -1;
  const int64_t written = slots.WrittenEnd();
  for (int64_t q = slots.first_offset(); q < written; ++q) {
    QueueEntryInfo e = slots.At(q);
    std::string path(e.file_path);
    auto offset = static_cast<int64_t>(e.file_offset);
    if (slots.IsEmpty(q)) {
      reporter.Report(severity_of(q), path, offset,
                      describe(q, "entry " + std::to_string(q) +
                                      " is empty but later entries are not (a hole)"));
      continue;
    }
    ++checked;
    if (e.size > 0 && e.physical_offset >= facts_.valid_end && e.physical_offset >= previous_end) {
      // Follows from where the log ends (reported there): one line per queue, not per entry.
      past_end[severity_of(q) == Severity::kCorruption ? 1 : 0].Add(e);
      previous_end = e.physical_offset + e.size;
      continue;
    }
    MQ_ASSIGN_OR_RETURN(std::string problem, CheckEntry(queue, e, previous_end));
    if (!problem.empty()) {
      reporter.Report(severity_of(q), path, offset,
                      describe(q, "entry " + std::to_string(q) + " " + problem));
    }
    if (e.size > 0 && e.physical_offset >= 0) previous_end = e.physical_offset + e.size;
  }
  for (const QueueFile& f : queue.files) sink_->Advance(f.file_bytes);
  for (int kept_by_recovery = 0; kept_by_recovery < 2; ++kept_by_recovery) {
    const PastEnd& p = past_end[kept_by_recovery];
    if (p.count == 0) continue;
    std::string what =
        std::to_string(p.count) + " entries from entry " + std::to_string(p.first.queue_offset) +
        " on point at or past the end of the valid log (" + std::to_string(facts_.valid_end) + ")";
    reporter.Report(kept_by_recovery ? Severity::kCorruption : Severity::kNote,
                    std::string(p.first.file_path), static_cast<int64_t>(p.first.file_offset),
                    kept_by_recovery ? what : describe(p.first.queue_offset, what));
  }

  // Entries recovery will not rebuild must be there.
  if (span && span->first_queue_offset >= 0 && span->first_queue_offset < needed &&
      span->first_queue_offset < slots.first_offset()) {
    std::string path = queue.files.empty() ? queue.dir : queue.files.front().path;
    reporter.Report(Severity::kCorruption, path, -1,
                    "the queue starts at entry " + std::to_string(slots.first_offset()) +
                        ", but the log holds its records from queue offset " +
                        std::to_string(span->first_queue_offset) +
                        ": entries before the first file are missing");
  }
  if (kept < needed) {
    std::string path = queue.dir;
    int64_t offset = -1;
    if (kept >= slots.first_offset() && kept < slots.end_offset()) {
      QueueEntryInfo at = slots.At(kept);
      path = std::string(at.file_path);
      offset = static_cast<int64_t>(at.file_offset);
    }
    reporter.Report(Severity::kCorruption, path, offset,
                    "the queue keeps entries only up to " + std::to_string(kept) +
                        " at the next open, but the log holds its records up to queue offset " +
                        std::to_string(needed - 1) + " below the restart point " +
                        std::to_string(facts_.restart) +
                        ", which recovery does not re-dispatch: those messages become "
                        "unreadable");
  }
  return checked;
}

Result<std::string> QueueVerifier::CheckEntry(const QueueFiles& queue, const QueueEntryInfo& e,
                                              int64_t previous_end) {
  const std::string at =
      "(offset " + std::to_string(e.physical_offset) + ", size " + std::to_string(e.size) + ")";
  if (e.size <= 0 || e.physical_offset < 0) return "is malformed " + at;
  if (e.physical_offset < previous_end) {
    return "is not after the previous entry's record, which ends at " +
           std::to_string(previous_end) + " " + at + ": entries must be sorted by offset";
  }
  // Retention removes segments first and queue files only once they are wholly below the
  // log: a queue's first file normally starts with entries whose records are gone (the
  // store's min offset skips them). Sorting, checked above, keeps them a prefix. Records
  // never span segments and retention removes whole ones, so such an entry ends at or
  // below the log's start; one that ends past it is garbage, and recovery drops it.
  if (e.physical_offset < facts_.log_start) {
    if (e.physical_offset + e.size <= facts_.log_start) return std::string();
    return "is below the log's start (" + std::to_string(facts_.log_start) +
           ") but runs past the log's start " + at +
           ": no record spans segments (recovery drops the entry)";
  }
  if (e.physical_offset >= facts_.valid_end) {
    return "points at or past the end of the valid log (" + std::to_string(facts_.valid_end) +
           ") " + at;
  }
  const SegmentFile* seg = FindSegment(layout_.segments, e.physical_offset);
  if (seg == nullptr) return "points where no segment is " + at;
  MQ_ASSIGN_OR_RETURN(auto file, cache_->Get(seg->path));
  uint64_t in_file = static_cast<uint64_t>(e.physical_offset - seg->base_offset);
  std::string_view rest =
      in_file < file->data().size() ? file->data().substr(in_file) : std::string_view();
  ParsedRecord r;
  // Checksums were verified by the log walk; here only the match is in question.
  Status s = ParseRecord(rest, /*verify_checksums=*/false, &r);
  if (!s.ok()) return "does not point at a record start " + at + ": " + std::string(s.message());
  if (r.physical_offset != e.physical_offset) {
    return "does not point at a record start " + at + ": the bytes there say PHYSICALOFFSET " +
           std::to_string(r.physical_offset);
  }
  if (r.topic != queue.topic || r.queue_id != queue.queue_id) {
    return "points at a record of " + QueueName(r.topic, r.queue_id) + " " + at;
  }
  if (!GetsQueueOffset(r.sys_flag)) {
    return "points at a prepared or rolled-back transaction record, which gets no entry " + at;
  }
  if (r.total_size != e.size) {
    return "says size " + std::to_string(e.size) + ", but the record is " +
           std::to_string(r.total_size) + " bytes " + at;
  }
  if (r.queue_offset != e.queue_offset) {
    return "points at the record with queue offset " + std::to_string(r.queue_offset) + " " + at;
  }
  // The dispatcher stores the TAGS hash for every record (no delay-level tags codes yet).
  auto tags = FindProperty(r.properties, property::kTags);
  int64_t expected_tags = tags ? TagsHashCode(*tags) : 0;
  if (e.tags_code != expected_tags) {
    return "has tags hash " + std::to_string(e.tags_code) + ", but the record's TAGS hash to " +
           std::to_string(expected_tags) + " " + at;
  }
  return std::string();
}

void QueueVerifier::CheckQueuesWithoutFiles() {
  for (const auto& [key, span] : facts_.queues) {
    if (span.next_below_restart == 0) continue;
    // (A named copy: clang 14 cannot capture a structured binding in a lambda.)
    const auto& queue = key;
    bool has_files = std::any_of(
        layout_.queues.begin(), layout_.queues.end(),
        [&](const QueueFiles& q) { return q.topic == queue.first && q.queue_id == queue.second; });
    if (has_files) continue;
    sink_->Report(Severity::kCorruption,
                  filename::ConsumeQueueDir(layout_.dir, key.first, key.second), -1,
                  "no consume queue for " + QueueName(key.first, key.second) +
                      ", but the log holds its records up to queue offset " +
                      std::to_string(span.next_below_restart - 1) + " below the restart point " +
                      std::to_string(facts_.restart) + ", which recovery does not re-dispatch");
  }
}

}  // namespace mqstore

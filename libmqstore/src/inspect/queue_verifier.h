// Verify, part 2: the consume queues, checked against what the log walk found.
//
// Every entry must point at the start of a record of its own topic and queue, with the
// record's size, its queue offset (the entry's index) and its tags hash; entries must be
// sorted by physical offset and their files contiguous. A bad entry is a note when recovery
// drops and rebuilds it (it lies past what the queue keeps at open and past what the log's
// records below the restart point need), corruption otherwise. A queue must also hold an
// entry for every record below the restart point: recovery never re-dispatches those.
#ifndef MQSTORE_INSPECT_QUEUE_VERIFIER_H_
#define MQSTORE_INSPECT_QUEUE_VERIFIER_H_

#include <string>

#include "inspect/log_verifier.h"
#include "inspect/mapped_store_file.h"
#include "inspect/problem_sink.h"
#include "inspect/queue_slots.h"
#include "mqstore/inspect.h"

namespace mqstore {

class QueueVerifier {
 public:
  QueueVerifier(const StoreLayout& layout, FileCache* cache, const LogFacts& facts,
                ProblemSink* sink)
      : layout_(layout), cache_(cache), facts_(facts), sink_(sink) {}

  // Returns the number of non-empty entries checked.
  Result<uint64_t> Run();

 private:
  // Per-queue reporting with a cap, so that a garbage file does not flood the output.
  class QueueReporter;

  Result<uint64_t> CheckQueue(const QueueFiles& queue);
  void CheckFiles(const QueueFiles& queue, QueueReporter* reporter);
  // Why entry `e` does not match the log; empty when it does.
  Result<std::string> CheckEntry(const QueueFiles& queue, const QueueEntryInfo& e,
                                 int64_t previous_end);
  // Queues the log has records for (below the restart point) but no files.
  void CheckQueuesWithoutFiles();

  const StoreLayout& layout_;
  FileCache* const cache_;
  const LogFacts& facts_;
  ProblemSink* const sink_;
};

}  // namespace mqstore

#endif  // MQSTORE_INSPECT_QUEUE_VERIFIER_H_

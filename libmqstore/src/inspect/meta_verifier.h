// Verify, part 4: the metadata store in meta/ (docs/format/meta.md), opened read-only
// (meta_reader.h).
//
//   open     ─► an mqstore LMDB environment of this format version with every database
//   values   ─► every key and value decodes (corruption: the broker cannot read it) and
//               holds what the API would have let through (warning)
//   offsets  ─► the topic is registered (warning), the queue id within its queues (note: a
//               topic shrunk after the commit keeps them), the offset not past the queue's
//               last message in the log (note: consumers are reset)
//   index    ─► topic_groups has exactly the (topic, group) pairs that offsets has (warning)
#ifndef MQSTORE_INSPECT_META_VERIFIER_H_
#define MQSTORE_INSPECT_META_VERIFIER_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "inspect/log_verifier.h"
#include "inspect/meta_reader.h"
#include "inspect/problem_sink.h"
#include "mqstore/inspect.h"

namespace mqstore {

struct MetaFacts {
  bool checked = false;  // opened and walked
  uint64_t entries = 0;  // topics, groups, offsets and schedule entries
  // The schedule progress entries that decode, for the timer log's checks.
  std::vector<ScheduleProgress> schedule;
};

class MetaVerifier {
 public:
  // `readable`: meta/ can be opened here (LMDB needs the POSIX file system).
  MetaVerifier(const StoreLayout& layout, bool readable, const LogFacts& facts, ProblemSink* sink)
      : layout_(layout), readable_(readable), facts_(facts), sink_(sink) {}

  // Errors: kIOError. Anything else about meta/ is reported (a note when this process has
  // it open, which LMDB does not allow twice).
  Result<MetaFacts> Run();

 private:
  // Returns the queue count (the larger of read and write) of every topic that decodes.
  std::map<std::string, int32_t> CheckTopics(const RawMetadata& raw);
  void CheckGroups(const RawMetadata& raw);
  void CheckOffsets(const RawMetadata& raw, const std::map<std::string, int32_t>& topics);
  // Adds every entry that decodes to `facts->schedule`.
  void CheckSchedule(const RawMetadata& raw, MetaFacts* facts);
  // Reports a value that does not decode: corruption, or a warning for a newer version.
  void ReportUndecodable(const Status& status);
  void Report(Severity severity, std::string message);

  const StoreLayout& layout_;
  const bool readable_;
  const LogFacts& facts_;
  ProblemSink* const sink_;
  std::string data_path_;
};

}  // namespace mqstore

#endif  // MQSTORE_INSPECT_META_VERIFIER_H_

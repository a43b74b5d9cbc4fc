// mqdump commitlog (one line per log entry) and mqdump message (one record in full).
#include <iostream>
#include <optional>

#include "commands.h"
#include "format.h"
#include "mqstore/inspect.h"
#include "record_output.h"

namespace mqdump {

int RunCommitLog(const CommitLogArgs& args) {
  auto inspector = OpenOrReport(args.dir);
  if (!inspector) return kExitError;
  auto it = inspector->NewLogIterator(args.from);
  if (!it.ok()) return ReportError(it.status());
  uint64_t shown = 0;
  for (auto& log = *it; log->Valid(); log->Next()) {
    if (args.limit != 0 && shown == args.limit) break;
    const mqstore::LogEntry& e = log->entry();
    if (args.json) {
      PrintJsonLine(EntryJson(e));
    } else {
      std::cout << EntryLine(e) << "\n";
    }
    ++shown;
  }
  if (!(*it)->status().ok()) return ReportError((*it)->status());
  return kExitOk;
}

int RunMessage(const MessageArgs& args) {
  auto inspector = OpenOrReport(args.dir);
  if (!inspector) return kExitError;
  mqstore::LogEntry entry;
  std::optional<bool> by_offset_id;  // set when looked up by --id
  if (args.id.empty()) {
    auto read = inspector->ReadRecordAt(args.offset);
    if (!read.ok()) return ReportError(read.status());
    entry = std::move(read).value();
  } else {
    auto lookup = inspector->ReadByMessageId(args.id, args.topic);
    if (!lookup.ok()) return ReportError(lookup.status());
    entry = std::move(lookup->entry);
    by_offset_id = lookup->by_offset_id;
  }
  if (args.json) {
    nlohmann::json j = RecordJsonWithBody(entry);
    if (by_offset_id) j["found_by"] = *by_offset_id ? "offset_id" : "unique_id";
    PrintJsonLine(j);
    return kExitOk;
  }
  if (by_offset_id) {
    PrintField("found by",
               *by_offset_id ? "offset message id (store host + offset)"
                             : "unique id (UNIQ_KEY) in the index of topic " + Escape(args.topic));
  }
  PrintRecordText(entry);
  return kExitOk;
}

}  // namespace mqdump

// mqdump index: records by key, through the hash index (with --topic) or a log scan.
#include <iostream>

#include "commands.h"
#include "format.h"
#include "mqstore/inspect.h"
#include "mqstore/message.h"
#include "record_output.h"

namespace mqdump {
namespace {

std::string Count(uint64_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

std::string HitLine(const mqstore::LogEntry& e) {
  std::string line = EntryLine(e);
  if (auto uniq = mqstore::FindProperty(e.record.properties, mqstore::property::kUniqueKey)) {
    line += " uniq_key=" + Escape(*uniq);
  }
  return line + " preview=" + BodyPreview(ShownBody(e.record).bytes());
}

std::string Summary(const IndexArgs& args, const mqstore::KeyQueryResult& r) {
  std::string s = Count(r.records.size(), "record", "records") + " with key " + Escape(args.key);
  if (!r.used_index) {
    return s +
           " in any topic (commit log scanned: " + Count(r.records_scanned, "record", "records") +
           ")";
  }
  s += " in topic " + Escape(args.topic) + " (index: " + Count(r.index_files, "file", "files") +
       ", " + Count(r.candidates, "candidate", "candidates") + ", " +
       Count(r.collisions, "other key with the same hash", "other keys with the same hash");
  if (r.unreadable > 0)
    s += ", " + Count(r.unreadable, "record", "records") + " no longer readable";
  return s + ")";
}

}  // namespace

int RunIndex(const IndexArgs& args) {
  auto inspector = OpenOrReport(args.dir);
  if (!inspector) return kExitError;
  mqstore::KeyQuery query;
  query.topic = args.topic;
  query.key = args.key;
  query.begin_ms = args.begin_ms;
  query.end_ms = args.end_ms;
  query.max_results = args.limit;
  auto result = inspector->FindByKey(query);
  if (!result.ok()) return ReportError(result.status());
  for (const mqstore::LogEntry& e : result->records) {
    if (args.json) {
      nlohmann::json j = EntryJson(e);
      j["body_preview"] = BodyPreviewJson(ShownBody(e.record).bytes());
      PrintJsonLine(j);
    } else {
      std::cout << HitLine(e) << "\n";
    }
  }
  if (!args.json) std::cout << Summary(args, *result) << "\n";
  return kExitOk;
}

}  // namespace mqdump

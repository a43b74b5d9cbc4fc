// How mqdump shows commit-log entries and records, shared by commitlog, message and index.
#ifndef MQSTORE_TOOLS_MQDUMP_RECORD_OUTPUT_H_
#define MQSTORE_TOOLS_MQDUMP_RECORD_OUTPUT_H_

#include <nlohmann/json.hpp>
#include <string>

#include "mqstore/inspect.h"

namespace mqdump {

// The fields of a log entry (and, for a record, its header and properties) as JSON.
nlohmann::json EntryJson(const mqstore::LogEntry& e);
// EntryJson plus the whole body: "body" when printable text, else "body_hex".
nlohmann::json RecordJsonWithBody(const mqstore::LogEntry& e);
// One line: offset, size, topic, queue, queue offset, store time, body size, tags, keys.
std::string EntryLine(const mqstore::LogEntry& e);
// At most `max_bytes` of the body, escaped and quoted when it is text ("..." marks a cut),
// else "<N bytes, binary>".
std::string BodyPreview(std::string_view body, size_t max_bytes = 64);
// The same for JSON: the cut text itself, or null for a binary body.
nlohmann::json BodyPreviewJson(std::string_view body, size_t max_bytes = 64);
// Every field of a record, one per line, then its body (text, or a hex dump).
void PrintRecordText(const mqstore::LogEntry& e);
// "label:" padded to the field column, then `value`.
void PrintField(std::string_view name, const std::string& value);

}  // namespace mqdump

#endif  // MQSTORE_TOOLS_MQDUMP_RECORD_OUTPUT_H_

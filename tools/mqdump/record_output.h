// How mqdump shows commit-log entries and records, shared by commitlog, message and index.
//
// Bodies are shown as a consumer would see them: a body whose sysflag has the COMPRESSED
// bit (type bits: zlib, zstd, lz4) is inflated first (ShownBody). The store keeps it as the
// producer sent it, so sizes are given both ways; a body that does not inflate is shown as
// stored, with the reason, because a damaged body is exactly what someone running mqdump
// wants to look at.
#ifndef MQSTORE_TOOLS_MQDUMP_RECORD_OUTPUT_H_
#define MQSTORE_TOOLS_MQDUMP_RECORD_OUTPUT_H_

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "mqstore/inspect.h"

namespace mqdump {

// A record's body as mqdump shows it: inflated when the sysflag marks it compressed and it
// inflates (mqstore::DecompressBody), else the stored bytes.
class ShownBody {
 public:
  explicit ShownBody(const mqstore::ParsedRecord& record);
  // Not copyable: bytes() may point into the object.
  ShownBody(const ShownBody&) = delete;
  ShownBody& operator=(const ShownBody&) = delete;

  // What to show: the inflated body, or the stored bytes when not compressed or when
  // inflating failed.
  std::string_view bytes() const { return inflated_ ? std::string_view(owned_) : stored_; }
  bool compressed() const { return compressed_; }
  bool inflated() const { return inflated_; }
  // "zlib", "zstd", "lz4", or "type N" for a type RocketMQ does not define. REQUIRES:
  // compressed().
  const std::string& compression() const { return compression_; }
  size_t stored_bytes() const { return stored_.size(); }
  // Why a compressed body could not be inflated; empty otherwise.
  const std::string& problem() const { return problem_; }

 private:
  std::string_view stored_;
  bool compressed_ = false;
  bool inflated_ = false;
  std::string compression_;
  std::string owned_;  // the inflated body
  std::string problem_;
};

// The fields of a log entry (and, for a record, its header and properties) as JSON. For a
// compressed record also "compression" and either "body_decompressed_bytes" or
// "decompress_error" ("body_bytes" stays the stored size).
nlohmann::json EntryJson(const mqstore::LogEntry& e);
// EntryJson plus the whole body (inflated when compressed and it inflates): "body" when
// printable text, else "body_hex".
nlohmann::json RecordJsonWithBody(const mqstore::LogEntry& e);
// One line: offset, size, topic, queue, queue offset, store time, body size (for a
// compressed body also its type and inflated size, or that it does not inflate), tags, keys.
std::string EntryLine(const mqstore::LogEntry& e);
// At most `max_bytes` of the body, escaped and quoted when it is text ("..." marks a cut),
// else "<N bytes, binary>".
std::string BodyPreview(std::string_view body, size_t max_bytes = 64);
// The same for JSON: the cut text itself, or null for a binary body.
nlohmann::json BodyPreviewJson(std::string_view body, size_t max_bytes = 64);
// Every field of a record, one per line, then its body (text, or a hex dump), inflated
// when compressed; when it does not inflate, the reason and the stored bytes.
void PrintRecordText(const mqstore::LogEntry& e);
// "label:" padded to the field column, then `value`.
void PrintField(std::string_view name, const std::string& value);

}  // namespace mqdump

#endif  // MQSTORE_TOOLS_MQDUMP_RECORD_OUTPUT_H_

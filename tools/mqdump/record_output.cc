#include "record_output.h"

#include <cstdio>
#include <iostream>

#include "format.h"
#include "mqstore/compression.h"
#include "mqstore/message.h"

namespace mqdump {
namespace {

using mqstore::LogEntry;
using mqstore::LogEntryKind;

const char* KindName(LogEntryKind kind) {
  switch (kind) {
    case LogEntryKind::kRecord:
      return "record";
    case LogEntryKind::kBlank:
      return "blank";
    case LogEntryKind::kEnd:
      return "end";
  }
  return "?";
}

nlohmann::json PropertiesJson(std::string_view encoded) {
  nlohmann::json props = nlohmann::json::object();
  for (const auto& [name, value] : mqstore::DecodeProperties(encoded)) props[name] = value;
  return props;
}

// The name of the compression type bits (docs/format/commitlog.md, SYSFLAG); 0 with the
// COMPRESSED bit is RocketMQ's classic zlib.
std::string CompressionName(int32_t sys_flag) {
  switch ((sys_flag & mqstore::sysflag::kCompressionTypeMask) >> 8) {
    case 0:
    case static_cast<int>(mqstore::CompressionType::kZlib):
      return "zlib";
    case static_cast<int>(mqstore::CompressionType::kZstd):
      return "zstd";
    case static_cast<int>(mqstore::CompressionType::kLz4):
      return "lz4";
    default:
      return "type " + std::to_string((sys_flag & mqstore::sysflag::kCompressionTypeMask) >> 8);
  }
}

std::string HexOf(std::string_view bytes) {
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(bytes.size() * 2);
  for (char c : bytes) {
    hex += kHex[static_cast<unsigned char>(c) >> 4];
    hex += kHex[static_cast<unsigned char>(c) & 0xF];
  }
  return hex;
}

}  // namespace

ShownBody::ShownBody(const mqstore::ParsedRecord& record)
    : stored_(record.body), compressed_((record.sys_flag & mqstore::sysflag::kCompressed) != 0) {
  if (!compressed_) return;
  compression_ = CompressionName(record.sys_flag);
  mqstore::Result<std::string> body = mqstore::DecompressBody(stored_, record.sys_flag);
  if (body.ok()) {
    owned_ = std::move(body).value();
    inflated_ = true;
  } else {
    problem_ = std::string(body.status().message());
  }
}

nlohmann::json EntryJson(const LogEntry& e) {
  nlohmann::json j;
  j["kind"] = KindName(e.kind);
  j["offset"] = e.offset;
  j["size"] = e.size;
  j["segment"] = std::string(e.segment_path);
  j["file_offset"] = e.file_offset;
  if (e.kind == LogEntryKind::kRecord) {
    const mqstore::ParsedRecord& r = e.record;
    j["topic"] = std::string(r.topic);
    j["queue_id"] = r.queue_id;
    j["queue_offset"] = r.queue_offset;
    j["physical_offset"] = r.physical_offset;
    j["sys_flag"] = r.sys_flag;
    j["flag"] = r.flag;
    j["born_timestamp_ms"] = r.born_timestamp_ms;
    j["born_host"] = r.born_host.ToString();
    j["store_timestamp_ms"] = r.store_timestamp_ms;
    j["store_host"] = r.store_host.ToString();
    j["reconsume_times"] = r.reconsume_times;
    j["prepared_transaction_offset"] = r.prepared_transaction_offset;
    j["body_crc"] = r.body_crc;
    j["body_bytes"] = r.body.size();
    j["properties"] = PropertiesJson(r.properties);
    j["msg_id"] = mqstore::MakeOffsetMessageId(r.store_host, e.offset);
    ShownBody body(r);
    if (body.compressed()) {
      j["compression"] = body.compression();
      if (body.inflated()) {
        j["body_decompressed_bytes"] = body.bytes().size();
      } else {
        j["decompress_error"] = body.problem();
      }
    }
  }
  if (e.kind == LogEntryKind::kEnd) j["zeros_follow"] = e.zeros_follow;
  j["problem"] = e.problem.empty() ? nlohmann::json(nullptr) : nlohmann::json(e.problem);
  return j;
}

nlohmann::json RecordJsonWithBody(const LogEntry& e) {
  nlohmann::json j = EntryJson(e);
  ShownBody shown(e.record);
  std::string_view body = shown.bytes();
  if (IsPrintableText(body)) {
    j["body"] = std::string(body);
  } else {
    j["body_hex"] = HexOf(body);
  }
  return j;
}

std::string EntryLine(const LogEntry& e) {
  std::string line = "offset=" + std::to_string(e.offset);
  switch (e.kind) {
    case LogEntryKind::kRecord: {
      const mqstore::ParsedRecord& r = e.record;
      line += " size=" + std::to_string(e.size) + " topic=" + Escape(r.topic) +
              " queue=" + std::to_string(r.queue_id) +
              " queue_offset=" + std::to_string(r.queue_offset) +
              " stored=" + FormatTime(r.store_timestamp_ms) +
              " body=" + std::to_string(r.body.size());
      if (ShownBody body(r); body.compressed()) {
        line += " (" + body.compression() +
                (body.inflated() ? ", " + std::to_string(body.bytes().size()) + " decompressed)"
                                 : ", does not decompress)");
      }
      if (r.sys_flag != 0) line += " sysflag=" + DescribeSysFlag(r.sys_flag);
      if (auto tags = mqstore::FindProperty(r.properties, mqstore::property::kTags)) {
        line += " tags=" + Escape(*tags);
      }
      if (auto keys = mqstore::FindProperty(r.properties, mqstore::property::kKeys)) {
        line += " keys=" + Escape(*keys);
      }
      if (!e.problem.empty()) line += " DAMAGED: " + e.problem;
      break;
    }
    case LogEntryKind::kBlank:
      line += " BLANK size=" + std::to_string(e.size) + " (end of segment)";
      break;
    case LogEntryKind::kEnd:
      line += " END: " + e.problem;
      if (!e.zeros_follow && !e.segment_path.empty()) line += " (non-zero bytes follow)";
      break;
  }
  return line;
}

namespace {

// At most `max_bytes` of a text body, not cutting a UTF-8 sequence.
std::string_view TextPrefix(std::string_view body, size_t max_bytes) {
  std::string_view shown = body.substr(0, max_bytes);
  if (shown.size() < body.size()) {
    while (!shown.empty() && (static_cast<unsigned char>(body[shown.size()]) & 0xC0) == 0x80) {
      shown.remove_suffix(1);
    }
  }
  return shown;
}

}  // namespace

std::string BodyPreview(std::string_view body, size_t max_bytes) {
  if (!IsPrintableText(body)) return "<" + std::to_string(body.size()) + " bytes, binary>";
  std::string_view shown = TextPrefix(body, max_bytes);
  return "\"" + Escape(shown) + (shown.size() < body.size() ? "...\"" : "\"");
}

nlohmann::json BodyPreviewJson(std::string_view body, size_t max_bytes) {
  if (!IsPrintableText(body)) return nullptr;
  return std::string(TextPrefix(body, max_bytes));
}

void PrintField(std::string_view name, const std::string& value) {
  std::string label(name);
  label += ':';
  if (label.size() < 22) label.resize(22, ' ');
  std::cout << label << ' ' << value << "\n";
}

void PrintRecordText(const LogEntry& e) {
  const mqstore::ParsedRecord& r = e.record;
  char hex[32];
  PrintField("offset", std::to_string(e.offset) + " (" + std::string(e.segment_path) + " at byte " +
                           std::to_string(e.file_offset) + ")");
  PrintField("offset message id", mqstore::MakeOffsetMessageId(r.store_host, e.offset));
  PrintField("checks", e.problem.empty() ? "ok (body CRC, record CRC, physical offset)"
                                         : "DAMAGED: " + e.problem);
  PrintField("total size", std::to_string(r.total_size));
  std::snprintf(hex, sizeof(hex), "0x%08X", static_cast<unsigned>(r.magic));
  PrintField("magic", std::string(hex) +
                          (static_cast<unsigned>(r.magic) == 0xDAA320ABu ? " (V2)" : " (V1)"));
  std::snprintf(hex, sizeof(hex), "0x%08X", r.body_crc);
  PrintField("body crc", hex);
  PrintField("queue id", std::to_string(r.queue_id));
  PrintField("flag", std::to_string(r.flag));
  PrintField("queue offset", std::to_string(r.queue_offset));
  PrintField("physical offset", std::to_string(r.physical_offset));
  PrintField("sysflag", DescribeSysFlag(r.sys_flag));
  PrintField("born timestamp",
             std::to_string(r.born_timestamp_ms) + " (" + FormatTime(r.born_timestamp_ms) + ")");
  PrintField("born host", r.born_host.ToString());
  PrintField("store timestamp",
             std::to_string(r.store_timestamp_ms) + " (" + FormatTime(r.store_timestamp_ms) + ")");
  PrintField("store host", r.store_host.ToString());
  PrintField("reconsume times", std::to_string(r.reconsume_times));
  PrintField("prepared tx offset", std::to_string(r.prepared_transaction_offset));
  PrintField("topic", Escape(r.topic));
  auto props = mqstore::DecodeProperties(r.properties);
  PrintField("properties", std::to_string(props.size()) + " (" +
                               std::to_string(r.properties.size()) + " bytes encoded)");
  for (const auto& [name, value] : props) {
    std::cout << "  " << Escape(name) << " = " << Escape(value) << "\n";
  }
  ShownBody shown(r);
  std::string_view body = shown.bytes();
  const bool text = IsPrintableText(body);
  std::string what = std::to_string(body.size()) + " bytes, " + (text ? "text" : "binary");
  if (shown.inflated()) {
    what += " (decompressed: " + shown.compression() + ", " + std::to_string(shown.stored_bytes()) +
            " bytes stored)";
  } else if (shown.compressed()) {
    what += " as stored (" + shown.compression() +
            "-compressed, DOES NOT DECOMPRESS: " + shown.problem() + ")";
  }
  PrintField("body", what);
  if (text) {
    std::cout << body;
    if (!body.empty() && body.back() != '\n') std::cout << "\n";
  } else {
    std::cout << HexDump(body, "  ");
  }
}

}  // namespace mqdump

#include "log/record_codec.h"

#include <cstring>
#include <string>

#include "log/record_format.h"
#include "mqstore/coding.h"
#include "util/crc32.h"

namespace mqstore {
namespace {

// memcpy of a view that may be empty: an empty string_view's data() may be null, and
// memcpy from null is undefined even for 0 bytes (an embedded caller's MessageView without
// properties is one).
void CopyBytes(char* dst, std::string_view src) {
  if (!src.empty()) std::memcpy(dst, src.data(), src.size());
}

constexpr std::string_view kCrcPrefix = "__CRC32#\x01";
// Records at least this large get their tail CRC computed before the append lock and
// combined inside it; smaller ones are cheaper to checksum in one pass.
constexpr int32_t kCombineCrcThreshold = 16 * 1024;

// If `props` ends with a __CRC32# pair (a stored record's properties being re-appended),
// returns it without that pair: the store always writes a fresh one.
std::string_view StripRecordCrc(std::string_view props) {
  if (props.size() < static_cast<size_t>(record::kRecordCrcPropertySize)) return props;
  std::string_view tail = props.substr(props.size() - record::kRecordCrcPropertySize);
  if (tail.substr(0, kCrcPrefix.size()) == kCrcPrefix && tail.back() == '\x02') {
    return props.substr(0, props.size() - record::kRecordCrcPropertySize);
  }
  return props;
}

char* PutHost(char* p, const SocketAddress& host) {
  if (host.ipv6) {
    std::memcpy(p, host.ip.data(), 16);
    p += 16;
  } else {
    std::memcpy(p, host.ip.data(), 4);
    p += 4;
  }
  EncodeBig32(p, static_cast<uint32_t>(host.port));
  return p + 4;
}

bool GetHost(std::string_view* in, bool v6, SocketAddress* host) {
  std::string_view ip;
  if (!GetBytes(in, v6 ? 16 : 4, &ip)) return false;
  host->ipv6 = v6;
  host->ip = {};
  std::memcpy(host->ip.data(), ip.data(), ip.size());
  uint32_t port;
  if (!GetBig32(in, &port)) return false;
  host->port = static_cast<int32_t>(port);
  return true;
}

void WriteCrcDigits(uint32_t crc, char* dst) {
  for (int i = 0; i < record::kRecordCrcDigits; ++i) {
    dst[i] = static_cast<char>('0' + crc % 10);
    crc /= 10;
  }
}

bool ReadCrcDigits(const char* src, uint32_t* crc) {
  uint64_t v = 0;
  for (int i = record::kRecordCrcDigits - 1; i >= 0; --i) {
    if (src[i] < '0' || src[i] > '9') return false;
    v = v * 10 + static_cast<uint64_t>(src[i] - '0');
  }
  if (v > 0xFFFFFFFFu) return false;
  *crc = static_cast<uint32_t>(v);
  return true;
}

}  // namespace

Status ValidateTopic(std::string_view topic) {
  if (topic.empty()) return Status::InvalidArgument("topic is empty");
  bool retry = topic.starts_with("%RETRY%");
  size_t limit = retry ? record::kMaxTopicLength : record::kMaxTopicLengthV1;
  if (topic.size() > limit) {
    return Status::InvalidArgument("topic is " + std::to_string(topic.size()) +
                                   " characters; the limit is " + std::to_string(limit));
  }
  for (char c : topic) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '|' || c == '%';
    if (!ok) {
      return Status::InvalidArgument("topic '" + std::string(topic) +
                                     "' has a character outside [A-Za-z0-9_|%-]");
    }
  }
  return Status::OK();
}

int64_t TagsHashCode(std::string_view tags) {
  // Java's String.hashCode over the UTF-16 code units of the UTF-8 decoded string. Malformed
  // input decodes as Java's decoder does it: one U+FFFD per malformed prefix (a lone or
  // overlong lead byte, a missing continuation), one U+FFFD for an encoded surrogate.
  int32_t h = 0;
  auto mix = [&h](uint32_t unit) {
    h = static_cast<int32_t>(31u * static_cast<uint32_t>(h) + unit);
  };
  constexpr uint32_t kReplacement = 0xFFFD;
  const auto* s = reinterpret_cast<const unsigned char*>(tags.data());
  size_t n = tags.size();
  auto cont = [&](size_t i) { return i < n && (s[i] & 0xC0) == 0x80; };
  for (size_t i = 0; i < n;) {
    unsigned char c = s[i];
    if (c < 0x80) {
      mix(c);
      i += 1;
    } else if (c >= 0xC2 && c <= 0xDF && cont(i + 1)) {
      mix(((c & 0x1Fu) << 6) | (s[i + 1] & 0x3Fu));
      i += 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      bool second_ok = cont(i + 1) && !(c == 0xE0 && s[i + 1] < 0xA0);  // overlong
      if (!second_ok) {
        mix(kReplacement);
        i += 1;
      } else if (!cont(i + 2)) {
        mix(kReplacement);
        i += 2;
      } else {
        uint32_t cp = ((c & 0x0Fu) << 12) | ((s[i + 1] & 0x3Fu) << 6) | (s[i + 2] & 0x3Fu);
        mix(cp >= 0xD800 && cp <= 0xDFFF ? kReplacement : cp);
        i += 3;
      }
    } else if (c >= 0xF0 && c <= 0xF4) {
      bool second_ok = cont(i + 1) && !(c == 0xF0 && s[i + 1] < 0x90) &&
                       !(c == 0xF4 && s[i + 1] >= 0x90);
      if (!second_ok) {
        mix(kReplacement);
        i += 1;
      } else if (!cont(i + 2)) {
        mix(kReplacement);
        i += 2;
      } else if (!cont(i + 3)) {
        mix(kReplacement);
        i += 3;
      } else {
        uint32_t cp = ((c & 0x07u) << 18) | ((s[i + 1] & 0x3Fu) << 12) |
                      ((s[i + 2] & 0x3Fu) << 6) | (s[i + 3] & 0x3Fu);
        cp -= 0x10000;
        mix(0xD800 + (cp >> 10));
        mix(0xDC00 + (cp & 0x3FF));
        i += 4;
      }
    } else {
      mix(kReplacement);  // continuation byte without a lead, C0/C1, F5..FF
      i += 1;
    }
  }
  return static_cast<int64_t>(h);
}

Status PrepareRecord(const MessageView& message, const SocketAddress& store_host,
                     uint32_t max_body_bytes, PreparedRecord* out) {
  MQ_RETURN_IF_ERROR(ValidateTopic(message.topic));
  if (message.queue_id < 0) {
    return Status::InvalidArgument("queue id " + std::to_string(message.queue_id) +
                                   " is negative");
  }
  if (message.body.size() > max_body_bytes) {
    return Status::InvalidArgument("body is " + std::to_string(message.body.size()) +
                                   " bytes; the limit is " + std::to_string(max_body_bytes));
  }
  std::string_view props = StripRecordCrc(message.properties);
  bool needs_separator = !props.empty() && props.back() != '\x02';
  size_t props_size = props.size() + (needs_separator ? 1 : 0) + record::kRecordCrcPropertySize;
  if (props_size > static_cast<size_t>(record::kMaxPropertiesLength)) {
    return Status::InvalidArgument("properties are " + std::to_string(props.size()) +
                                   " bytes; the limit is " +
                                   std::to_string(record::kMaxPropertiesLength -
                                                  record::kRecordCrcPropertySize - 1));
  }
  int32_t sys_flag = message.sys_flag & ~(sysflag::kBornHostV6 | sysflag::kStoreHostV6);
  if (message.born_host.ipv6) sys_flag |= sysflag::kBornHostV6;
  if (store_host.ipv6) sys_flag |= sysflag::kStoreHostV6;
  bool v2 = message.topic.size() > static_cast<size_t>(record::kMaxTopicLengthV1);

  size_t total = record::HeaderSize(message.born_host.EncodedSize(), store_host.EncodedSize()) +
                 4 + message.body.size() + (v2 ? 2 : 1) + message.topic.size() + 2 + props_size;

  out->message = &message;
  out->total_size = static_cast<int32_t>(total);
  out->sys_flag = sys_flag;
  out->body_crc_unmasked = crc32::Value(message.body.data(), message.body.size());
  out->body_crc = crc32::Mask(out->body_crc_unmasked);
  out->v2 = v2;
  out->needs_separator = needs_separator;
  out->properties_size = static_cast<int32_t>(props_size);
  auto tags = FindProperty(props, property::kTags);
  out->tags_code = tags ? TagsHashCode(*tags) : 0;
  out->gets_queue_offset = GetsQueueOffset(sys_flag);
  return Status::OK();
}

void WriteRecord(const PreparedRecord& prepared, const SocketAddress& store_host,
                 int64_t queue_offset, int64_t physical_offset, int64_t store_timestamp_ms,
                 char* dst) {
  const MessageView& m = *prepared.message;
  std::string_view props = StripRecordCrc(m.properties);
  char* p = dst;
  EncodeBig32(p, static_cast<uint32_t>(prepared.total_size));
  EncodeBig32(p + 4, static_cast<uint32_t>(prepared.v2 ? record::kMagicV2 : record::kMagicV1));
  EncodeBig32(p + 8, prepared.body_crc);
  EncodeBig32(p + 12, static_cast<uint32_t>(m.queue_id));
  EncodeBig32(p + 16, static_cast<uint32_t>(m.flag));
  EncodeBig64(p + 20, static_cast<uint64_t>(queue_offset));
  EncodeBig64(p + 28, static_cast<uint64_t>(physical_offset));
  EncodeBig32(p + 36, static_cast<uint32_t>(prepared.sys_flag));
  EncodeBig64(p + 40, static_cast<uint64_t>(m.born_timestamp_ms));
  p = PutHost(p + 48, m.born_host);
  EncodeBig64(p, static_cast<uint64_t>(store_timestamp_ms));
  p = PutHost(p + 8, store_host);
  EncodeBig32(p, static_cast<uint32_t>(m.reconsume_times));
  EncodeBig64(p + 4, static_cast<uint64_t>(m.prepared_transaction_offset));
  p += 12;
  char* tail_start = p;
  EncodeBig32(p, static_cast<uint32_t>(m.body.size()));
  CopyBytes(p + 4, m.body);
  p += 4 + m.body.size();
  if (prepared.v2) {
    EncodeBig16(p, static_cast<uint16_t>(m.topic.size()));
    p += 2;
  } else {
    *p++ = static_cast<char>(m.topic.size());
  }
  CopyBytes(p, m.topic);
  p += m.topic.size();
  EncodeBig16(p, static_cast<uint16_t>(prepared.properties_size));
  p += 2;
  CopyBytes(p, props);
  p += props.size();
  if (prepared.needs_separator) *p++ = '\x02';
  std::memcpy(p, kCrcPrefix.data(), kCrcPrefix.size());
  char* digits = p + kCrcPrefix.size();
  digits[record::kRecordCrcDigits] = '\x02';

  // The record CRC covers everything before the 20-byte __CRC32# pair.
  size_t covered = static_cast<size_t>(prepared.total_size) - record::kRecordCrcPropertySize;
  uint32_t crc;
  if (prepared.total_size >= kCombineCrcThreshold) {
    // Most of the bytes are the body: reuse its CRC instead of reading it a second time.
    size_t head_len = static_cast<size_t>(tail_start - dst) + 4;
    uint32_t head = crc32::Value(dst, head_len);
    uint32_t body = prepared.body_crc_unmasked;
    uint32_t rest_crc = crc32::Value(tail_start + 4 + m.body.size(),
                                     covered - head_len - m.body.size());
    crc = crc32::Combine(crc32::Combine(head, body, m.body.size()), rest_crc,
                         covered - head_len - m.body.size());
  } else {
    crc = crc32::Value(dst, covered);
  }
  WriteCrcDigits(crc32::Mask(crc), digits);
}

void WriteBlankRecord(int32_t remaining, char* dst) {
  EncodeBig32(dst, static_cast<uint32_t>(remaining));
  EncodeBig32(dst + 4, static_cast<uint32_t>(record::kMagicBlank));
}

Status ParseRecord(std::string_view bytes, bool verify_checksums, ParsedRecord* out) {
  std::string_view in = bytes;
  uint32_t u32 = 0;
  uint64_t u64 = 0;
  if (!GetBig32(&in, &u32)) return Status::Corruption("record shorter than its size field");
  out->total_size = static_cast<int32_t>(u32);
  // (At least the size and the magic: a smaller size once made the subtraction below wrap,
  // and the fields were parsed from past the record. Found by record_fuzzer.)
  if (out->total_size < 8 || static_cast<size_t>(out->total_size) > bytes.size()) {
    return Status::Corruption("record size " + std::to_string(out->total_size) +
                              " is below 8 or exceeds the " + std::to_string(bytes.size()) +
                              " bytes available");
  }
  in = bytes.substr(4, static_cast<size_t>(out->total_size) - 4);
  GetBig32(&in, &u32);
  out->magic = static_cast<int32_t>(u32);
  if (out->magic != record::kMagicV1 && out->magic != record::kMagicV2) {
    return Status::Corruption("bad magic code");
  }
  bool ok = GetBig32(&in, &out->body_crc);
  ok = ok && GetBig32(&in, &u32);
  out->queue_id = static_cast<int32_t>(u32);
  ok = ok && GetBig32(&in, &u32);
  out->flag = static_cast<int32_t>(u32);
  ok = ok && GetBig64(&in, &u64);
  out->queue_offset = static_cast<int64_t>(u64);
  ok = ok && GetBig64(&in, &u64);
  out->physical_offset = static_cast<int64_t>(u64);
  ok = ok && GetBig32(&in, &u32);
  out->sys_flag = static_cast<int32_t>(u32);
  ok = ok && GetBig64(&in, &u64);
  out->born_timestamp_ms = static_cast<int64_t>(u64);
  ok = ok && GetHost(&in, out->sys_flag & sysflag::kBornHostV6, &out->born_host);
  ok = ok && GetBig64(&in, &u64);
  out->store_timestamp_ms = static_cast<int64_t>(u64);
  ok = ok && GetHost(&in, out->sys_flag & sysflag::kStoreHostV6, &out->store_host);
  ok = ok && GetBig32(&in, &u32);
  out->reconsume_times = static_cast<int32_t>(u32);
  ok = ok && GetBig64(&in, &u64);
  out->prepared_transaction_offset = static_cast<int64_t>(u64);
  if (!ok) return Status::Corruption("record header truncated");
  if (!GetBig32(&in, &u32) || !GetBytes(&in, u32, &out->body)) {
    return Status::Corruption("body length exceeds the record");
  }
  size_t topic_len;
  if (out->magic == record::kMagicV2) {
    uint16_t u16;
    if (!GetBig16(&in, &u16)) return Status::Corruption("topic length truncated");
    topic_len = u16;
  } else {
    if (in.empty()) return Status::Corruption("topic length truncated");
    topic_len = static_cast<unsigned char>(in[0]);
    in.remove_prefix(1);
  }
  if (!GetBytes(&in, topic_len, &out->topic)) {
    return Status::Corruption("topic length exceeds the record");
  }
  uint16_t props_len;
  if (!GetBig16(&in, &props_len) || !GetBytes(&in, props_len, &out->properties)) {
    return Status::Corruption("properties length exceeds the record");
  }
  if (!in.empty()) {
    return Status::Corruption("record size " + std::to_string(out->total_size) +
                              " does not match its fields (" + std::to_string(in.size()) +
                              " bytes left over)");
  }
  if (!verify_checksums) return Status::OK();
  uint32_t body_crc = crc32::Mask(crc32::Value(out->body.data(), out->body.size()));
  if (body_crc != out->body_crc) return Status::Corruption("body CRC mismatch");
  std::string_view props = out->properties;
  if (props.size() < static_cast<size_t>(record::kRecordCrcPropertySize) ||
      props.substr(props.size() - record::kRecordCrcPropertySize, kCrcPrefix.size()) !=
          kCrcPrefix) {
    return Status::Corruption("record has no __CRC32# property");
  }
  uint32_t stored;
  const char* digits = props.data() + props.size() - record::kRecordCrcPropertySize +
                       kCrcPrefix.size();
  if (!ReadCrcDigits(digits, &stored) || digits[record::kRecordCrcDigits] != '\x02') {
    return Status::Corruption("__CRC32# property is malformed");
  }
  size_t covered = static_cast<size_t>(out->total_size) - record::kRecordCrcPropertySize;
  if (crc32::Mask(crc32::Value(bytes.data(), covered)) != stored) {
    return Status::Corruption("record CRC mismatch");
  }
  return Status::OK();
}

RecordCheck CheckRecord(std::string_view bytes, bool verify_checksums, RecordSummary* out,
                        std::string* problem) {
  if (bytes.size() < static_cast<size_t>(record::kBlankHeaderSize)) {
    if (problem) *problem = "fewer than 8 bytes left in the segment";
    return RecordCheck::kEnd;
  }
  int32_t total = static_cast<int32_t>(DecodeBig32(bytes.data()));
  int32_t magic = static_cast<int32_t>(DecodeBig32(bytes.data() + 4));
  if (magic == record::kMagicBlank) {
    if (static_cast<size_t>(total) != bytes.size()) {
      if (problem) *problem = "blank record does not cover the rest of the segment";
      return RecordCheck::kEnd;
    }
    out->total_size = total;
    out->blank = true;
    return RecordCheck::kBlank;
  }
  ParsedRecord r;
  Status s = ParseRecord(bytes, verify_checksums, &r);
  if (!s.ok()) {
    if (problem) *problem = std::string(s.message());
    return RecordCheck::kEnd;
  }
  out->total_size = r.total_size;
  out->blank = false;
  out->topic = r.topic;
  out->queue_id = r.queue_id;
  out->queue_offset = r.queue_offset;
  out->physical_offset = r.physical_offset;
  out->sys_flag = r.sys_flag;
  out->store_timestamp_ms = r.store_timestamp_ms;
  out->properties = r.properties;
  auto tags = FindProperty(r.properties, property::kTags);
  out->tags_code = tags ? TagsHashCode(*tags) : 0;
  return RecordCheck::kRecord;
}

}  // namespace mqstore

// Messages as the store takes them (MessageView, Message) and as it returns them (RecordView,
// ParsedRecord). Records keep RocketMQ's stored-message layout (docs/format/commitlog.md), so
// a RecordView's bytes can be sent to a RocketMQ client unchanged.
#ifndef MQSTORE_MESSAGE_H_
#define MQSTORE_MESSAGE_H_

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mqstore/status.h"

namespace mqstore {

// An IPv4 or IPv6 address and port, as stored in BORNHOST / STOREHOST.
struct SocketAddress {
  std::array<uint8_t, 16> ip{};  // first 4 bytes used for IPv4
  bool ipv6 = false;
  int32_t port = 0;

  static SocketAddress V4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, int32_t port) {
    SocketAddress s;
    s.ip = {a, b, c, d};
    s.port = port;
    return s;
  }
  // Parses "a.b.c.d:port" or "[v6]:port"; nullopt when malformed.
  static std::optional<SocketAddress> Parse(std::string_view text);
  std::string ToString() const;
  size_t EncodedSize() const { return ipv6 ? 20 : 8; }
  bool operator==(const SocketAddress&) const = default;
};

// Well-known property names (RocketMQ's MessageConst).
namespace property {
inline constexpr std::string_view kKeys = "KEYS";
inline constexpr std::string_view kTags = "TAGS";
inline constexpr std::string_view kWaitStoreMsgOk = "WAIT";
inline constexpr std::string_view kDelayLevel = "DELAY";
inline constexpr std::string_view kUniqueKey = "UNIQ_KEY";
inline constexpr std::string_view kRecordCrc = "__CRC32#";
}  // namespace property

// Properties are stored as RocketMQ encodes them: name 0x01 value 0x02, repeated.
// Encodes name/value pairs; pairs with an empty name or value are skipped.
std::string EncodeProperties(const std::vector<std::pair<std::string, std::string>>& props);
// Appends one pair (name 0x01 value 0x02) to an encoded property string.
void AppendProperty(std::string_view name, std::string_view value, std::string* encoded);
// Calls fn(name, value) for every well-formed pair (non-empty name and value) of an encoded
// property string, in order, with views into `encoded`; malformed pairs are skipped
// (lenient, like RocketMQ's decoder).
template <typename Fn>
void ForEachProperty(std::string_view encoded, Fn&& fn) {
  while (!encoded.empty()) {
    size_t end = encoded.find('\x02');
    std::string_view pair = encoded.substr(0, end);
    encoded.remove_prefix(end == std::string_view::npos ? encoded.size() : end + 1);
    size_t sep = pair.find('\x01');
    if (sep == std::string_view::npos || sep == 0 || sep + 1 == pair.size()) continue;
    fn(pair.substr(0, sep), pair.substr(sep + 1));
  }
}
// Decodes an encoded property string into owned pairs (ForEachProperty's pairs).
std::vector<std::pair<std::string, std::string>> DecodeProperties(std::string_view encoded);
// The value of `name` in an encoded property string, if present.
std::optional<std::string_view> FindProperty(std::string_view encoded, std::string_view name);

// SYSFLAG bits (docs/format/commitlog.md).
namespace sysflag {
inline constexpr int32_t kCompressed = 0x1;
inline constexpr int32_t kMultiTags = 0x2;
inline constexpr int32_t kTransactionMask = 0xC;
inline constexpr int32_t kTransactionPrepared = 0x4;
inline constexpr int32_t kTransactionCommit = 0x8;
inline constexpr int32_t kTransactionRollback = 0xC;
inline constexpr int32_t kBornHostV6 = 0x10;
inline constexpr int32_t kStoreHostV6 = 0x20;
inline constexpr int32_t kCompressionTypeMask = 0x700;
}  // namespace sysflag

// A message to store, by reference: nothing is copied until the append.
struct MessageView {
  std::string_view topic;
  int32_t queue_id = 0;
  std::string_view body;
  int32_t flag = 0;
  // Encoded properties (EncodeProperties). Must not contain __CRC32#: the store adds it.
  std::string_view properties;
  // Only the compression and transaction bits are taken from the caller; the host bits are
  // derived from the addresses.
  int32_t sys_flag = 0;
  int64_t born_timestamp_ms = 0;
  SocketAddress born_host;
  int32_t reconsume_times = 0;
  int64_t prepared_transaction_offset = 0;
};

// An owning message with property helpers, for callers that build messages in code.
struct Message {
  std::string topic;
  int32_t queue_id = 0;
  std::string body;
  int32_t flag = 0;
  std::vector<std::pair<std::string, std::string>> properties;
  int32_t sys_flag = 0;
  int64_t born_timestamp_ms = 0;
  SocketAddress born_host;
  int32_t reconsume_times = 0;

  void SetProperty(std::string name, std::string value);
  void SetTags(std::string tags) { SetProperty(std::string(property::kTags), std::move(tags)); }
  void SetKeys(std::string keys) { SetProperty(std::string(property::kKeys), std::move(keys)); }

  // A view of this message; `encoded_properties` receives the encoded property string and
  // must outlive the view.
  MessageView View(std::string* encoded_properties) const;
};

// The decoded fields of one stored record. String views point into the record bytes.
struct ParsedRecord {
  int32_t total_size = 0;
  int32_t magic = 0;
  uint32_t body_crc = 0;
  int32_t queue_id = 0;
  int32_t flag = 0;
  int64_t queue_offset = 0;
  int64_t physical_offset = 0;
  int32_t sys_flag = 0;
  int64_t born_timestamp_ms = 0;
  SocketAddress born_host;
  int64_t store_timestamp_ms = 0;
  SocketAddress store_host;
  int32_t reconsume_times = 0;
  int64_t prepared_transaction_offset = 0;
  std::string_view body;
  std::string_view topic;
  std::string_view properties;  // encoded, including the trailing __CRC32# pair
};

// Parses one record, checking its structure and, when `verify_checksums`, the body CRC and
// the whole-record CRC. kCorruption names the first field that is wrong.
Status ParseRecord(std::string_view bytes, bool verify_checksums, ParsedRecord* out);

// Topic rules: 1..127 characters of [A-Za-z0-9_|%-], or up to 255 for retry topics
// ("%RETRY%..."). kInvalidArgument otherwise; nothing with such a topic is stored.
Status ValidateTopic(std::string_view topic);

// RocketMQ's tag hash (a consume-queue entry's tags code, and what a subscription's codeSet
// holds): Java String.hashCode() of the TAGS value over UTF-16 code units, sign-extended;
// 0 for an empty value.
int64_t TagsHashCode(std::string_view tags);

// The broker-style offset message id: store host + physical offset, uppercase hex
// (32 characters for IPv4, 56 for IPv6).
std::string MakeOffsetMessageId(const SocketAddress& store_host, int64_t physical_offset);
// Decodes an offset message id; nullopt when it is not one.
std::optional<std::pair<SocketAddress, int64_t>> DecodeOffsetMessageId(std::string_view id);

// Bytes of one stored record in mapped memory. The view stays valid while the RecordView (or
// the ReadResult that produced it) is alive, even if the segment is deleted meanwhile.
struct RecordView {
  std::string_view bytes;
  int64_t physical_offset = 0;
  std::shared_ptr<const void> pin;  // keeps the mapping alive
};

}  // namespace mqstore

#endif  // MQSTORE_MESSAGE_H_

// record_fuzzer: the commit-log record decoder (docs/format/commitlog.md).
//
// The input is the bytes at one log position. Exercised: ParseRecord without and with
// checksum verification, CheckRecord (what recovery and the dispatcher call), property
// decoding, the offset message id and store-host decoders. Checked: a record that parses has
// its fields inside the input; verification implies the structural parse; decoded
// properties re-encode to the same pairs; a verified record re-encodes (PrepareRecord +
// WriteRecord) to a record that verifies and has the same fields; ids and addresses that
// decode re-encode to what was decoded.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_store.h"
#include "log/record_codec.h"
#include "mqstore/message.h"

namespace mqstore::fuzz {
namespace {

bool Within(std::string_view part, std::string_view whole) {
  if (part.empty()) return true;
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

void CheckProperties(std::string_view encoded) {
  std::vector<std::pair<std::string, std::string>> pairs = DecodeProperties(encoded);
  for (const auto& [name, value] : pairs) {
    FUZZ_CHECK(!name.empty() && !value.empty(), "a decoded property is empty");
    FUZZ_CHECK(name.find('\x01') == std::string::npos && name.find('\x02') == std::string::npos,
               "a decoded property name holds a separator");
    FUZZ_CHECK(value.find('\x02') == std::string::npos, "a decoded value holds 0x02");
  }
  FUZZ_CHECK(DecodeProperties(EncodeProperties(pairs)) == pairs,
             "properties do not survive re-encoding");
  size_t visited = 0;
  ForEachProperty(encoded, [&](std::string_view name, std::string_view value) {
    FUZZ_CHECK(Within(name, encoded) && Within(value, encoded), "property view out of range");
    FUZZ_CHECK(
        visited < pairs.size() && pairs[visited].first == name && pairs[visited].second == value,
        "ForEachProperty and DecodeProperties disagree");
    ++visited;
  });
  FUZZ_CHECK(visited == pairs.size(), "ForEachProperty skipped pairs");
  for (std::string_view name :
       {property::kTags, property::kKeys, property::kUniqueKey, property::kRecordCrc}) {
    if (auto v = FindProperty(encoded, name)) FUZZ_CHECK(Within(*v, encoded), "FindProperty view");
  }
  if (auto tags = FindProperty(encoded, property::kTags)) (void)TagsHashCode(*tags);
}

// A verified record must re-encode to a record with the same fields.
void CheckReencode(const ParsedRecord& rec) {
  MessageView m;
  m.topic = rec.topic;
  m.queue_id = rec.queue_id;
  m.body = rec.body;
  m.flag = rec.flag;
  m.properties = rec.properties;  // PrepareRecord drops the old __CRC32# pair
  m.sys_flag = rec.sys_flag;
  m.born_timestamp_ms = rec.born_timestamp_ms;
  m.born_host = rec.born_host;
  m.reconsume_times = rec.reconsume_times;
  m.prepared_transaction_offset = rec.prepared_transaction_offset;
  PreparedRecord prepared;
  if (!PrepareRecord(m, rec.store_host, UINT32_MAX, &prepared).ok()) return;  // e.g. bad topic
  std::string out(static_cast<size_t>(prepared.total_size), '\0');
  WriteRecord(prepared, rec.store_host, rec.queue_offset, rec.physical_offset,
              rec.store_timestamp_ms, out.data());
  ParsedRecord again;
  Status s = ParseRecord(out, /*verify_checksums=*/true, &again);
  FUZZ_CHECK(s.ok(), "a re-encoded record does not verify: " + s.ToString());
  FUZZ_CHECK(again.body == rec.body && again.topic == rec.topic && again.queue_id == rec.queue_id &&
                 again.flag == rec.flag && again.queue_offset == rec.queue_offset &&
                 again.physical_offset == rec.physical_offset && again.sys_flag == rec.sys_flag &&
                 again.born_host == rec.born_host && again.store_host == rec.store_host &&
                 again.born_timestamp_ms == rec.born_timestamp_ms &&
                 again.store_timestamp_ms == rec.store_timestamp_ms &&
                 again.reconsume_times == rec.reconsume_times &&
                 again.prepared_transaction_offset == rec.prepared_transaction_offset &&
                 again.body_crc == rec.body_crc,
             "a re-encoded record has different fields");
  if (!prepared.needs_separator) {
    FUZZ_CHECK(again.properties.size() == rec.properties.size() &&
                   again.properties.substr(0, again.properties.size() - 20) ==
                       rec.properties.substr(0, rec.properties.size() - 20),
               "a re-encoded record has different properties");
  }
}

void CheckIds(std::string_view text) {
  if (auto decoded = DecodeOffsetMessageId(text)) {
    std::string upper(text);
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    FUZZ_CHECK(MakeOffsetMessageId(decoded->first, decoded->second) == upper,
               "an offset message id does not re-encode to itself");
  }
  if (auto address = SocketAddress::Parse(text)) {
    auto again = SocketAddress::Parse(address->ToString());
    FUZZ_CHECK(again && *again == *address,
               "address " + address->ToString() + " does not parse back to itself");
  }
}

}  // namespace
}  // namespace mqstore::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mqstore;
  using namespace mqstore::fuzz;
  std::string_view input(reinterpret_cast<const char*>(data), size);

  ParsedRecord plain;
  const bool parses = ParseRecord(input, /*verify_checksums=*/false, &plain).ok();
  if (parses) {
    FUZZ_CHECK(plain.total_size > 0 && static_cast<size_t>(plain.total_size) <= size,
               "record size outside the input");
    std::string_view record = input.substr(0, static_cast<size_t>(plain.total_size));
    FUZZ_CHECK(Within(plain.body, record) && Within(plain.topic, record) &&
                   Within(plain.properties, record),
               "a field view lies outside the record");
    CheckProperties(plain.properties);
  }
  ParsedRecord verified;
  if (ParseRecord(input, /*verify_checksums=*/true, &verified).ok()) {
    FUZZ_CHECK(parses, "a record verifies but does not parse");
    FUZZ_CHECK(verified.total_size == plain.total_size && verified.body == plain.body &&
                   verified.topic == plain.topic && verified.properties == plain.properties,
               "verification changed the fields");
    CheckReencode(verified);
  }
  for (bool verify : {false, true}) {
    RecordSummary summary;
    std::string problem;
    RecordCheck check = CheckRecord(input, verify, &summary, &problem);
    if (check == RecordCheck::kRecord) {
      FUZZ_CHECK(parses && summary.total_size == plain.total_size && summary.topic == plain.topic &&
                     summary.queue_id == plain.queue_id &&
                     summary.physical_offset == plain.physical_offset,
                 "CheckRecord and ParseRecord disagree");
      FUZZ_CHECK(Within(summary.properties, input), "summary properties out of range");
    } else if (check == RecordCheck::kBlank) {
      FUZZ_CHECK(static_cast<size_t>(summary.total_size) == size,
                 "a blank must cover the rest of the segment");
    } else {
      FUZZ_CHECK(!problem.empty(), "the log ends without a reason");
    }
  }
  CheckProperties(input);
  CheckIds(input);
  return 0;
}

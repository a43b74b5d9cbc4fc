// ConfigReader: typed reads of config keys from Properties, with the rules both servers'
// config loaders follow:
//   - an absent key leaves the field at its default;
//   - a bad value is kInvalidArgument naming where, the key, the value and what is allowed:
//       broker.conf:7: listenPort = "abc": not an integer; allowed: 0..65535
//   - booleans are "true" or "false" in any case (Java's parseBoolean would read any other
//     word as false; a typo should not silently turn a feature off);
//   - integers are decimal with an optional sign, as Java's parseInt/parseLong;
//   - a key that no Read* call asked for is an unknown key: a warning, not an error, so a
//     RocketMQ config with keys this server does not implement still loads.
#ifndef SERVER_COMMON_CONFIG_READER_H_
#define SERVER_COMMON_CONFIG_READER_H_

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mqstore/status.h"
#include "server_common/properties.h"

namespace mqserver {

class ConfigReader {
 public:
  // `props` must outlive the reader.
  explicit ConfigReader(const Properties& props) : props_(props) {}

  // Each Read* leaves *out as it is when the key is absent.
  mqstore::Status ReadString(std::string_view key, std::string* out);
  // A string that must not be empty.
  mqstore::Status ReadNonEmptyString(std::string_view key, std::string* out);
  mqstore::Status ReadInt32(std::string_view key, int32_t min, int32_t max, int32_t* out);
  mqstore::Status ReadInt64(std::string_view key, int64_t min, int64_t max, int64_t* out);
  mqstore::Status ReadBool(std::string_view key, bool* out);
  // One of `names` (exact spelling, as RocketMQ's Enum.valueOf).
  template <typename E>
  mqstore::Status ReadEnum(std::string_view key,
                           std::initializer_list<std::pair<std::string_view, E>> names, E* out);

  // The entry for `key`, now counted as known; nullptr when absent. For values with their own
  // syntax, checked by the caller (report problems with BadValue).
  const PropertyEntry* Take(std::string_view key);
  // kInvalidArgument "<where>: <key> = \"<value>\": <problem>; allowed: <allowed>".
  mqstore::Status BadValue(const PropertyEntry& entry, std::string_view problem,
                           std::string_view allowed) const;
  // "<source>:<line>" of an entry.
  std::string Where(const PropertyEntry& entry) const { return props_.Where(entry); }

  // Appends the parser's warnings, then "<where>: unknown key \"k\" ignored" for every key no
  // Read* or Take asked for.
  void AppendWarnings(std::vector<std::string>* warnings) const;

 private:
  // The index of the entry's value in `names`, or BadValue listing them.
  mqstore::Status MatchName(const PropertyEntry& entry, const std::vector<std::string_view>& names,
                            size_t* index) const;

  const Properties& props_;
  std::set<std::string, std::less<>> known_;
};

template <typename E>
mqstore::Status ConfigReader::ReadEnum(std::string_view key,
                                       std::initializer_list<std::pair<std::string_view, E>> names,
                                       E* out) {
  const PropertyEntry* entry = Take(key);
  if (entry == nullptr) return mqstore::Status::OK();
  std::vector<std::string_view> spellings;
  for (const auto& name : names) spellings.push_back(name.first);
  size_t index = 0;
  MQ_RETURN_IF_ERROR(MatchName(*entry, spellings, &index));
  *out = (names.begin() + index)->second;
  return mqstore::Status::OK();
}

}  // namespace mqserver

#endif  // SERVER_COMMON_CONFIG_READER_H_

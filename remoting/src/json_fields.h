// Helpers shared by the JSON body codecs (route_data.cc, heartbeat_data.cc,
// lock_batch_body.cc, consumer_admin_bodies.cc). Internal to mqremoting.
//
// The readers are lenient the way fastjson is: an absent or null field leaves the output
// unchanged (unless required), integers may come as JSON integers, integral floats or decimal
// strings, booleans as true/false or "true"/"false". Errors are kInvalidArgument, worded
// "<body>: <path> <what>" so that the log names the body and the field.
#ifndef REMOTING_JSON_FIELDS_H_
#define REMOTING_JSON_FIELDS_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "mqstore/status.h"
#include "remoting/heartbeat_data.h"
#include "remoting/lock_batch_body.h"

namespace mqremoting {

// The value under `key`, or nullptr when it is absent or null (fastjson omits nulls, other
// clients may write them).
inline const nlohmann::json* FindField(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

// "where.key" ("key" when where is empty) and "where[i]".
std::string JoinPath(std::string_view where, std::string_view key);
std::string IndexPath(std::string_view where, size_t i);

mqstore::Status MalformedField(std::string_view body, const std::string& path,
                               std::string_view what);

// Each reads object[key] into *out; `where` is the object's path for error messages.
mqstore::Status ReadStringField(std::string_view body, const nlohmann::json& object,
                                const char* key, std::string_view where, bool required,
                                std::string* out);
mqstore::Status ReadBoolField(std::string_view body, const nlohmann::json& object, const char* key,
                              std::string_view where, bool* out);
mqstore::Status ReadInt64Field(std::string_view body, const nlohmann::json& object, const char* key,
                               std::string_view where, int64_t* out);
mqstore::Status ReadInt32Field(std::string_view body, const nlohmann::json& object, const char* key,
                               std::string_view where, int32_t* out);
// An integer in [min, max] from `value` (see above).
mqstore::Status ToInteger(std::string_view body, const nlohmann::json& value,
                          const std::string& path, int64_t min, int64_t max, int64_t* out);
// The array under `key`; nullptr (not an error) when absent or null.
mqstore::Result<const nlohmann::json*> FindArrayField(std::string_view body,
                                                      const nlohmann::json& object, const char* key,
                                                      std::string_view where);

// `text` parsed as a JSON object; kInvalidArgument when it is not JSON or not an object.
mqstore::Result<nlohmann::json> ParseJsonObject(std::string_view body, std::string_view text);

// A MessageQueue bean {"brokerName","queueId","topic"}: topic non-empty, queueId >= 0.
mqstore::Result<MessageQueue> ParseMessageQueueJson(std::string_view body,
                                                    const nlohmann::json& object,
                                                    const std::string& where);
nlohmann::json MessageQueueJson(const MessageQueue& queue);

// A SubscriptionData bean as clients write it in heartbeats (topic required).
mqstore::Result<SubscriptionData> ParseSubscriptionJson(std::string_view body,
                                                        const nlohmann::json& object,
                                                        const std::string& where);
nlohmann::json SubscriptionJson(const SubscriptionData& sub);

// Invalid UTF-8 in a string is replaced instead of making dump() throw.
std::string DumpJson(const nlohmann::json& value);

}  // namespace mqremoting

#endif  // REMOTING_JSON_FIELDS_H_

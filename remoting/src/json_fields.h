// Helpers shared by the JSON body codecs (route_data.cc, heartbeat_data.cc,
// lock_batch_body.cc). Internal to mqremoting.
#ifndef REMOTING_JSON_FIELDS_H_
#define REMOTING_JSON_FIELDS_H_

#include <nlohmann/json.hpp>

namespace mqremoting {

// The value under `key`, or nullptr when it is absent or null (fastjson omits nulls, other
// clients may write them).
inline const nlohmann::json* FindField(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

}  // namespace mqremoting

#endif  // REMOTING_JSON_FIELDS_H_

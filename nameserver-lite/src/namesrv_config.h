// NamesrvConfig: the name server's settings as read from namesrv.conf (RocketMQ's key names
// and defaults). Plain data: command-line overrides assign fields directly, then call
// ValidateNamesrvConfig. Keys are listed in docs/design/0006-server-configuration.md.
#ifndef MQNAMESRV_NAMESRV_CONFIG_H_
#define MQNAMESRV_NAMESRV_CONFIG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "mqstore/status.h"
#include "server_common/properties.h"

namespace mqnamesrv {

struct NamesrvConfig {
  // 0 binds an ephemeral port (tests).
  int32_t listenPort = 9876;
  // The local address to listen on: 0.0.0.0 for every interface, 127.0.0.1 for loopback only.
  std::string bindAddress = "0.0.0.0";
  // How often brokers that stopped registering are looked for (ms); a broker is dropped
  // 120 s after its last registration.
  int32_t scanNotActiveBrokerInterval = 5000;
  // Whether GET_ALL_TOPIC_LIST_FROM_NAMESERVER is answered.
  bool enableAllTopicList = true;
};

// Reads a name server config: each key present in `props` replaces its default. Unknown keys
// add a warning to `warnings` (also the parser's warnings), naming the line. kInvalidArgument
// naming the key, the value and what is allowed for a bad value. `warnings` may be null.
mqstore::Result<NamesrvConfig> LoadNamesrvConfig(const mqserver::Properties& props,
                                                 std::vector<std::string>* warnings);

// Range checks of every field, for values set in code (command-line overrides).
mqstore::Status ValidateNamesrvConfig(const NamesrvConfig& config);

}  // namespace mqnamesrv

#endif  // MQNAMESRV_NAMESRV_CONFIG_H_

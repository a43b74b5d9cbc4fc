// Servers in the test process: a name server and a broker config on 127.0.0.1 with ephemeral
// ports and small files. Header-only; binaries that include it link mqnamesrv_lib and
// mqbroker_lib.
#ifndef TESTS_SUPPORT_SERVER_TEST_UTIL_H_
#define TESTS_SUPPORT_SERVER_TEST_UTIL_H_

#include <memory>
#include <string>

#include "broker_config.h"
#include "mqstore/message.h"
#include "mqstore/status.h"
#include "name_server.h"
#include "remoting/codes.h"
#include "remoting/command.h"

namespace mqstore::test {

// A name server on 127.0.0.1 and an ephemeral port.
inline Result<std::unique_ptr<mqnamesrv::NameServer>> StartLoopbackNameServer() {
  mqnamesrv::NameServerOptions options;
  options.bind_address = "127.0.0.1";
  options.port = 0;
  return mqnamesrv::NameServer::Start(options);
}

// A broker on 127.0.0.1 and an ephemeral port, storing in `dir`, registering with
// `namesrv_addr`; 4 MiB commit-log segments and small index files (the default ones are
// 420 MB).
inline mqbroker::BrokerConfig LoopbackBrokerConfig(const std::string& dir,
                                                   const std::string& namesrv_addr) {
  mqbroker::BrokerConfig config;
  config.listenPort = 0;
  config.bindAddress = "127.0.0.1";
  config.brokerIP1 = "127.0.0.1";
  config.maxHashSlotNum = 1000;
  config.maxIndexNum = 4000;
  config.namesrvAddr = namesrv_addr;
  config.storePathRootDir = dir;
  config.mappedFileSizeCommitLog = 4 << 20;
  return config;
}

// SEND_MESSAGE_V2 as RocketMQ's producers send it (one-letter header names), group PID_TEST,
// with TAGS and KEYS properties when given.
inline mqremoting::RemotingCommand SendMessageV2Request(const std::string& topic, int queue_id,
                                                        std::string body,
                                                        const std::string& tags = "",
                                                        const std::string& keys = "") {
  mqremoting::RemotingCommand request =
      mqremoting::RemotingCommand::Request(mqremoting::request_code::kSendMessageV2);
  request.SetExt("a", "PID_TEST");
  request.SetExt("b", topic);
  request.SetExt("c", "TBW102");
  request.SetExt("d", int64_t{4});
  request.SetExt("e", int64_t{queue_id});
  request.SetExt("f", int64_t{0});
  request.SetExt("g", int64_t{1700000000000});
  request.SetExt("h", int64_t{0});
  std::string properties;
  if (!tags.empty()) AppendProperty("TAGS", tags, &properties);
  if (!keys.empty()) AppendProperty("KEYS", keys, &properties);
  request.SetExt("i", properties);
  request.body = std::move(body);
  return request;
}

}  // namespace mqstore::test

#endif  // TESTS_SUPPORT_SERVER_TEST_UTIL_H_

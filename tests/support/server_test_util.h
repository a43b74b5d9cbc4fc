// Servers in the test process: a name server and a broker config on 127.0.0.1 with ephemeral
// ports and small files. Header-only; binaries that include it link mqnamesrv_lib and
// mqbroker_lib.
#ifndef TESTS_SUPPORT_SERVER_TEST_UTIL_H_
#define TESTS_SUPPORT_SERVER_TEST_UTIL_H_

#include <memory>
#include <string>

#include "broker_config.h"
#include "mqstore/status.h"
#include "name_server.h"

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

}  // namespace mqstore::test

#endif  // TESTS_SUPPORT_SERVER_TEST_UTIL_H_

// BrokerContext: what the request processors share — the store and the broker's tables —
// owned by Broker and handed to each processor by pointer. Nothing here owns anything.
#ifndef MQBROKER_BROKER_CONTEXT_H_
#define MQBROKER_BROKER_CONTEXT_H_

#include <cstdint>
#include <string>

#include "mqstore/message.h"

namespace mqstore {
class Store;
}  // namespace mqstore
namespace mqremoting {
class UniqueMessageIdMinter;
}  // namespace mqremoting

namespace mqbroker {

struct BrokerConfig;
class TopicManager;
class ConsumerOffsetManager;
class ClientRegistry;
class QueueLockManager;
class PullHoldService;
class NameServerRegistrar;
class PullStats;

// Who this broker is, as clients and name servers see it.
struct BrokerIdentity {
  std::string cluster_name;
  std::string broker_name;
  int64_t broker_id = 0;
  std::string broker_addr;            // "ip:port" clients connect to
  mqstore::SocketAddress store_host;  // the same address, as written into records
};

struct BrokerContext {
  BrokerIdentity identity;
  const BrokerConfig* config = nullptr;
  mqstore::Store* store = nullptr;
  TopicManager* topics = nullptr;
  ConsumerOffsetManager* offsets = nullptr;
  ClientRegistry* clients = nullptr;
  QueueLockManager* locks = nullptr;
  PullHoldService* holds = nullptr;
  PullStats* pull_stats = nullptr;
  NameServerRegistrar* registrar = nullptr;
  mqremoting::UniqueMessageIdMinter* message_ids = nullptr;
};

}  // namespace mqbroker

#endif  // MQBROKER_BROKER_CONTEXT_H_

// Broker: one mqbroker — the store, the tables around it, the request processors and the
// network — started and stopped as a unit.
//
//   RemotingServer ──► RequestDispatcher ──► executor per kind of request ──► processors
//                                                                              │
//        name servers ◄── NameServerRegistrar ◄── TopicManager ◄───────────────┤
//                                                  ConsumerOffsetManager ◄─────┤
//                      PullHoldService ◄── store arrival callback              │
//                                                  mqstore::Store ◄────────────┘
//
// Shutdown (SIGTERM) is graceful: stop accepting, wake held pulls, let in-flight requests
// finish, persist consumer offsets, unregister from the name servers, close the store
// (flush + clean checkpoint).
#ifndef MQBROKER_BROKER_H_
#define MQBROKER_BROKER_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "broker_config.h"
#include "broker_context.h"
#include "mqstore/env.h"
#include "mqstore/status.h"

namespace mqbroker {

class Broker {
 public:
  // Opens the store in config.storePathRootDir, binds config.listenPort (0 = any free port)
  // and registers with the name servers of config.namesrvAddr. Errors: the store's open
  // errors, kIOError when the port cannot be bound, kInvalidArgument for a bad config.
  // `store_env`: where the store's files go (tests pass a fault-injecting Env); null: the
  // file system. With any Env but the file system's the store has no LMDB metadata, and
  // topics and offsets are kept in memory only.
  static mqstore::Result<std::unique_ptr<Broker>> Start(const BrokerConfig& config,
                                                        mqstore::Env* store_env = nullptr);

  ~Broker();  // Shutdown()

  uint16_t port() const;
  const BrokerIdentity& identity() const;
  mqstore::Store* store() const;

  // Graceful stop, waiting up to `drain` for in-flight requests. Returns the store's close
  // status. Idempotent.
  mqstore::Status Shutdown(std::chrono::milliseconds drain = std::chrono::milliseconds(10000));

  struct Impl;

 private:
  explicit Broker(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mqbroker

#endif  // MQBROKER_BROKER_H_

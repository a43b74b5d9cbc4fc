// Consumer-rebalance allocation strategies, as RocketMQ's Java client has them (package
// org.apache.rocketmq.client.consumer.rebalance). Every member of a clustering consumer group
// runs the same strategy over the same topic queues and the same member ids, and each keeps the
// queues allocated to itself; so C++ and Java members of one group only split a topic cleanly
// when they compute exactly what Java computes. These do, queue for queue.
//
// Ordering: Java's RebalanceImpl sorts both lists before it allocates (queues by topic, broker
// name, queue id; ids as Java strings) and its strategies index into those sorted lists. The
// strategies here sort their own copies the same way (Java's String order, UTF-16 code units,
// for the names), so the result never depends on the order a caller happens to pass.
//
// Java throws on an empty consumer id or an empty list and logs an id missing from the list;
// its rebalance then allocates nothing. Here each of those gives an empty allocation.
#ifndef MQCLIENT_ALLOCATE_STRATEGY_H_
#define MQCLIENT_ALLOCATE_STRATEGY_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mqclient/message.h"

namespace mqclient {

// Decides which of a topic's queues one member of a clustering consumer group consumes.
// Implementations are immutable, so one instance may be shared by threads and consumers.
class AllocateStrategy {
 public:
  virtual ~AllocateStrategy() = default;

  // RocketMQ's getName(): "AVG", "AVG_BY_CIRCLE", "CONSISTENT_HASH", "CONFIG".
  virtual std::string_view Name() const = 0;

  // The queues of `all_queues` that `consumer_id`, one of `all_consumer_ids`, consumes, in
  // queue order. `consumer_group` is only there because Java's interface has it.
  virtual std::vector<MessageQueue> Allocate(
      const std::string& consumer_group, const std::string& consumer_id,
      const std::vector<MessageQueue>& all_queues,
      const std::vector<std::string>& all_consumer_ids) const = 0;
};

// AVG: the sorted queues cut into one contiguous run per member, in member order; the first
// (queues % members) runs are one queue longer. With fewer queues than members, the last
// members get none.
std::shared_ptr<const AllocateStrategy> AllocateAveragely();

// AVG_BY_CIRCLE: queues dealt round robin; member i gets queues i, i + n, i + 2n, ...
std::shared_ptr<const AllocateStrategy> AllocateAveragelyByCircle();

// CONSISTENT_HASH: members on a ring of MD5-derived hashes, `virtual_nodes` points each; a
// queue goes to the first point at or after its own hash, so a member joining or leaving only
// moves the queues next to its points. A negative count, which Java's constructor refuses, is
// taken as 0: a ring without points, which allocates nothing to anyone.
std::shared_ptr<const AllocateStrategy> AllocateByConsistentHash(int virtual_nodes = 10);

// CONFIG: always the configured queues, as given, whatever the topic's queues and the group's
// members are (the application assigns queues to members itself). Java does no checks here.
std::shared_ptr<const AllocateStrategy> AllocateByConfig(std::vector<MessageQueue> queues);

// The point on the consistent-hash ring of a key (a virtual node "<consumer id>-<i>" or a
// queue's MessageQueue::ToString()): the first 4 bytes of the MD5 of the key's bytes, big
// endian. Java's ConsistentHashRouter hashes the same way (into a long: never negative).
// Exposed for tests.
int64_t ConsistentHashOf(std::string_view key);

// Java's String.compareTo order (UTF-16 code units) on UTF-8 strings: byte order, except that
// characters U+E000..U+FFFF sort after the supplementary ones, as their UTF-16 units do after
// surrogates. The order in which the strategies sort consumer ids and queue names.
bool JavaStringLess(std::string_view a, std::string_view b);

}  // namespace mqclient

#endif  // MQCLIENT_ALLOCATE_STRATEGY_H_

// ConsumerOffsetManager: consumer groups' committed offsets, as the pull and offset
// processors see them.
//
// Clients commit constantly (every pull may piggy-back one, and UPDATE_CONSUMER_OFFSET comes
// every 5 s for every queue), and every commit to the metadata store is an fdatasync'ed LMDB
// transaction. So commits land in memory at once and are written to the metadata store in
// one transaction per group every `persist_interval` and at Close(), as RocketMQ persists
// its offset table every 5 s. A crash loses at most one interval of commits: those messages
// are delivered again (at-least-once), never skipped.
#ifndef MQBROKER_CONSUMER_OFFSET_MANAGER_H_
#define MQBROKER_CONSUMER_OFFSET_MANAGER_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <vector>

#include "mqstore/metadata.h"
#include "mqstore/status.h"

namespace mqbroker {

class ConsumerOffsetManager {
 public:
  // `metadata` must outlive this object. Starts the persisting thread.
  ConsumerOffsetManager(mqstore::MetadataStore* metadata,
                        std::chrono::milliseconds persist_interval);
  ~ConsumerOffsetManager();  // Close()

  // Records `offset` as the group's position in the queue. Negative offsets are ignored
  // (clients report "nothing consumed yet" as -1).
  void Commit(std::string_view group, std::string_view topic, int32_t queue_id, int64_t offset);

  // The committed offset: the latest commit, else the persisted one; nullopt when none.
  std::optional<int64_t> Query(std::string_view group, std::string_view topic, int32_t queue_id);

  // Every offset of the group (committed in memory or persisted), by (topic, queue).
  std::map<std::pair<std::string, int32_t>, int64_t> GroupOffsets(std::string_view group);

  // The groups with an offset in `topic` (committed in memory or persisted), sorted.
  std::vector<std::string> GroupsOfTopic(std::string_view topic);

  // Forgets every offset of the group, in memory and in the metadata store, so that no
  // pending commit writes one back afterwards.
  mqstore::Status DeleteGroup(std::string_view group);

  // Writes every pending commit now. Returns the first error (commits that failed, e.g.
  // for a topic deleted meanwhile, are dropped with it).
  mqstore::Status Persist();

  // Stops the thread and persists what is pending. Idempotent.
  mqstore::Status Close();

 private:
  using Key = std::tuple<std::string, std::string, int32_t>;  // group, topic, queue

  void PersistLoop();

  mqstore::MetadataStore* const metadata_;
  const std::chrono::milliseconds persist_interval_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::map<Key, int64_t, std::less<>> latest_;   // every commit since open
  std::map<Key, int64_t, std::less<>> pending_;  // commits not yet persisted
  bool closing_ = false;
  std::mutex persist_mu_;  // one Persist at a time
  std::thread thread_;
};

}  // namespace mqbroker

#endif  // MQBROKER_CONSUMER_OFFSET_MANAGER_H_

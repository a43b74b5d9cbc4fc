#include "mqclient/allocate_strategy.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <utility>

namespace mqclient {
namespace {

// A byte's weight in Java's string order: lead bytes of U+E000..U+FFFF move above every other
// byte (UTF-16 puts those characters after the surrogates of U+10000 and up). Kept one to one,
// so strings that are not UTF-8 still sort in a strict weak order.
unsigned JavaOrderWeight(char c) {
  const auto byte = static_cast<unsigned char>(c);
  return byte == 0xEE || byte == 0xEF ? byte + 0x100u : byte;
}

// MessageQueue.compareTo: topic, broker name, queue id. (Java subtracts the ids, which only
// differs for ids far apart enough to overflow; queue ids are small and non-negative.)
bool JavaQueueLess(const MessageQueue& a, const MessageQueue& b) {
  if (a.topic != b.topic) return JavaStringLess(a.topic, b.topic);
  if (a.broker_name != b.broker_name) return JavaStringLess(a.broker_name, b.broker_name);
  return a.queue_id < b.queue_id;
}

bool JavaIdLess(const std::string& a, const std::string& b) { return JavaStringLess(a, b); }

// The two lists in the order Java allocates over, copied only when the caller's are not in it.
class SortedInputs {
 public:
  SortedInputs(const std::vector<MessageQueue>& queues, const std::vector<std::string>& ids)
      : queues_(&queues), ids_(&ids) {
    if (!std::is_sorted(queues.begin(), queues.end(), JavaQueueLess)) {
      queue_copy_ = queues;
      std::sort(queue_copy_.begin(), queue_copy_.end(), JavaQueueLess);
      queues_ = &queue_copy_;
    }
    if (!std::is_sorted(ids.begin(), ids.end(), JavaIdLess)) {
      id_copy_ = ids;
      std::sort(id_copy_.begin(), id_copy_.end(), JavaIdLess);
      ids_ = &id_copy_;
    }
  }
  SortedInputs(const SortedInputs&) = delete;
  SortedInputs& operator=(const SortedInputs&) = delete;

  const std::vector<MessageQueue>& queues() const { return *queues_; }
  const std::vector<std::string>& ids() const { return *ids_; }

 private:
  const std::vector<MessageQueue>* queues_;
  const std::vector<std::string>* ids_;
  std::vector<MessageQueue> queue_copy_;
  std::vector<std::string> id_copy_;
};

// The checks every Java strategy but CONFIG makes before allocating; false = allocate nothing.
bool CanAllocate(const std::string& consumer_id, const std::vector<MessageQueue>& queues,
                 const std::vector<std::string>& ids) {
  return !consumer_id.empty() && !queues.empty() &&
         std::find(ids.begin(), ids.end(), consumer_id) != ids.end();
}

// Position of `consumer_id` in the sorted ids (its first, as Java's indexOf, if listed twice).
int64_t IndexOf(const std::vector<std::string>& ids, const std::string& consumer_id) {
  return std::find(ids.begin(), ids.end(), consumer_id) - ids.begin();
}

// MessageQueue.toString(), which is what Java hashes to place a queue on the ring. Spelled out
// here rather than taken from MessageQueue::ToString so a display change cannot move queues.
std::string JavaQueueString(const MessageQueue& queue) {
  return "MessageQueue [topic=" + queue.topic + ", brokerName=" + queue.broker_name +
         ", queueId=" + std::to_string(queue.queue_id) + "]";
}

class Averagely final : public AllocateStrategy {
 public:
  std::string_view Name() const override { return "AVG"; }

  std::vector<MessageQueue> Allocate(const std::string&, const std::string& consumer_id,
                                     const std::vector<MessageQueue>& all_queues,
                                     const std::vector<std::string>& all_ids) const override {
    std::vector<MessageQueue> result;
    if (!CanAllocate(consumer_id, all_queues, all_ids)) return result;
    const SortedInputs sorted(all_queues, all_ids);
    const std::vector<MessageQueue>& queues = sorted.queues();
    const auto queue_count = static_cast<int64_t>(queues.size());
    const auto member_count = static_cast<int64_t>(sorted.ids().size());
    const int64_t index = IndexOf(sorted.ids(), consumer_id);
    // Java's arithmetic as it is: the first `mod` members take one queue more.
    const int64_t mod = queue_count % member_count;
    const bool longer = mod > 0 && index < mod;
    const int64_t average_size =
        queue_count <= member_count ? 1 : queue_count / member_count + (longer ? 1 : 0);
    const int64_t start = longer ? index * average_size : index * average_size + mod;
    const int64_t range = std::min(average_size, queue_count - start);  // <= 0: none left
    for (int64_t i = 0; i < range; ++i) {
      result.push_back(queues[static_cast<size_t>((start + i) % queue_count)]);
    }
    return result;
  }
};

class AveragelyByCircle final : public AllocateStrategy {
 public:
  std::string_view Name() const override { return "AVG_BY_CIRCLE"; }

  std::vector<MessageQueue> Allocate(const std::string&, const std::string& consumer_id,
                                     const std::vector<MessageQueue>& all_queues,
                                     const std::vector<std::string>& all_ids) const override {
    std::vector<MessageQueue> result;
    if (!CanAllocate(consumer_id, all_queues, all_ids)) return result;
    const SortedInputs sorted(all_queues, all_ids);
    const size_t step = sorted.ids().size();
    for (auto i = static_cast<size_t>(IndexOf(sorted.ids(), consumer_id));
         i < sorted.queues().size(); i += step) {
      result.push_back(sorted.queues()[i]);
    }
    return result;
  }
};

class ConsistentHash final : public AllocateStrategy {
 public:
  explicit ConsistentHash(int virtual_nodes) : virtual_nodes_(std::max(virtual_nodes, 0)) {}

  std::string_view Name() const override { return "CONSISTENT_HASH"; }

  std::vector<MessageQueue> Allocate(const std::string&, const std::string& consumer_id,
                                     const std::vector<MessageQueue>& all_queues,
                                     const std::vector<std::string>& all_ids) const override {
    std::vector<MessageQueue> result;
    if (!CanAllocate(consumer_id, all_queues, all_ids)) return result;
    const SortedInputs sorted(all_queues, all_ids);
    // The ring as Java's ConsistentHashRouter builds it: members in order, each adding points
    // "<id>-<n>" numbered on from the points it already has (only a listed-twice id has any),
    // a later point taking over a hash an earlier one had.
    std::map<int64_t, const std::string*> ring;
    for (const std::string& id : sorted.ids()) {
      const auto existing = std::count_if(ring.begin(), ring.end(),
                                          [&id](const auto& point) { return *point.second == id; });
      for (int i = 0; i < virtual_nodes_; ++i) {
        ring[ConsistentHashOf(id + "-" + std::to_string(existing + i))] = &id;
      }
    }
    if (ring.empty()) return result;
    for (const MessageQueue& queue : sorted.queues()) {
      auto point = ring.lower_bound(ConsistentHashOf(JavaQueueString(queue)));
      if (point == ring.end()) point = ring.begin();  // past the last point: wrap around
      if (*point->second == consumer_id) result.push_back(queue);
    }
    return result;
  }

 private:
  const int virtual_nodes_;
};

class ByConfig final : public AllocateStrategy {
 public:
  explicit ByConfig(std::vector<MessageQueue> queues) : queues_(std::move(queues)) {}

  std::string_view Name() const override { return "CONFIG"; }

  std::vector<MessageQueue> Allocate(const std::string&, const std::string&,
                                     const std::vector<MessageQueue>&,
                                     const std::vector<std::string>&) const override {
    return queues_;
  }

 private:
  const std::vector<MessageQueue> queues_;
};

}  // namespace

bool JavaStringLess(std::string_view a, std::string_view b) {
  const auto [in_a, in_b] = std::mismatch(a.begin(), a.end(), b.begin(), b.end());
  if (in_b == b.end()) return false;  // equal, or b is a prefix of a
  if (in_a == a.end()) return true;   // a is a prefix of b
  return JavaOrderWeight(*in_a) < JavaOrderWeight(*in_b);
}

int64_t ConsistentHashOf(std::string_view key) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  if (EVP_Digest(key.data(), key.size(), digest.data(), &size, EVP_md5(), nullptr) != 1 ||
      size < 4) {
    // Only an OpenSSL without MD5 (FIPS mode) gets here. Guessing a hash would put this
    // consumer at odds with the rest of its group, so stop instead.
    std::fputs("mqclient: MD5 is unavailable from OpenSSL; consistent hashing needs it\n", stderr);
    std::abort();
  }
  int64_t hash = 0;
  for (int i = 0; i < 4; ++i) hash = (hash << 8) | digest[i];
  return hash;
}

std::shared_ptr<const AllocateStrategy> AllocateAveragely() {
  return std::make_shared<const Averagely>();
}

std::shared_ptr<const AllocateStrategy> AllocateAveragelyByCircle() {
  return std::make_shared<const AveragelyByCircle>();
}

std::shared_ptr<const AllocateStrategy> AllocateByConsistentHash(int virtual_nodes) {
  return std::make_shared<const ConsistentHash>(virtual_nodes);
}

std::shared_ptr<const AllocateStrategy> AllocateByConfig(std::vector<MessageQueue> queues) {
  return std::make_shared<const ByConfig>(std::move(queues));
}

}  // namespace mqclient

#include "topic_manager.h"

#include <algorithm>
#include <chrono>

#include "mqstore/message.h"

namespace mqbroker {

using mqstore::Result;
using mqstore::Status;
using mqstore::TopicConfig;

namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TopicConfig MakeTopic(std::string_view name, int32_t queues, int32_t perm) {
  TopicConfig config;
  config.name = std::string(name);
  config.read_queue_nums = queues;
  config.write_queue_nums = queues;
  config.perm = perm;
  return config;
}

}  // namespace

TopicManager::TopicManager(mqstore::MetadataStore* metadata, TopicManagerOptions options)
    : metadata_(metadata), options_(std::move(options)) {}

Result<std::unique_ptr<TopicManager>> TopicManager::Open(mqstore::MetadataStore* metadata,
                                                         const TopicManagerOptions& options) {
  if (metadata == nullptr) {
    return Status::InvalidArgument("the broker needs the store's metadata (enable_metadata)");
  }
  std::unique_ptr<TopicManager> manager(new TopicManager(metadata, options));
  MQ_ASSIGN_OR_RETURN(std::vector<TopicConfig> topics, metadata->ListTopics());
  for (TopicConfig& topic : topics) manager->cache_.emplace(topic.name, std::move(topic));

  // The broker's own topics, as a RocketMQ broker registers them: TBW102 can be inherited
  // from (auto-creation), the cluster and broker name topics let admin tools route by them.
  std::vector<TopicConfig> own = {
      MakeTopic(kAutoCreateTopicKey, options.default_topic_queue_nums,
                mqstore::perm::kReadWrite | mqstore::perm::kInherit),
      MakeTopic(kSelfTestTopic, 1, mqstore::perm::kReadWrite),
  };
  if (mqstore::ValidateTopic(options.cluster_name).ok()) {
    own.push_back(MakeTopic(options.cluster_name, 16, mqstore::perm::kReadWrite));
  }
  if (mqstore::ValidateTopic(options.broker_name).ok()) {
    own.push_back(MakeTopic(options.broker_name, 1, mqstore::perm::kReadWrite));
  }
  std::lock_guard<std::mutex> lock(manager->write_mu_);
  for (const TopicConfig& topic : own) {
    if (manager->cache_.count(topic.name) == 0) MQ_RETURN_IF_ERROR(manager->PutLocked(topic));
  }
  manager->version_ = {NowMs(), 1};
  return manager;
}

std::optional<TopicConfig> TopicManager::Find(std::string_view topic) const {
  std::shared_lock<std::shared_mutex> lock(cache_mu_);
  auto it = cache_.find(topic);
  if (it == cache_.end()) return std::nullopt;
  return it->second;
}

Result<TopicConfig> TopicManager::FindOrCreateForSend(std::string_view topic,
                                                      std::string_view default_topic,
                                                      int32_t requested_queue_nums) {
  if (std::optional<TopicConfig> found = Find(topic)) return *found;
  std::string missing = "topic[" + std::string(topic) + "] not exist, apply first please!";
  if (!options_.auto_create_topic_enable) return Status::NotFound(missing);
  std::optional<TopicConfig> parent =
      Find(default_topic.empty() ? kAutoCreateTopicKey : default_topic);
  if (!parent || (parent->perm & mqstore::perm::kInherit) == 0) return Status::NotFound(missing);

  std::lock_guard<std::mutex> lock(write_mu_);
  if (std::optional<TopicConfig> found = Find(topic)) return *found;  // created meanwhile
  int32_t queues = std::clamp(requested_queue_nums, 1, std::max(1, parent->write_queue_nums));
  TopicConfig config = MakeTopic(topic, queues, parent->perm & ~mqstore::perm::kInherit);
  MQ_RETURN_IF_ERROR(PutLocked(config));
  return config;
}

Result<TopicConfig> TopicManager::FindOrCreateSystemOwned(std::string_view topic,
                                                          int32_t queue_nums, int32_t perm) {
  if (std::optional<TopicConfig> found = Find(topic)) return *found;
  std::lock_guard<std::mutex> lock(write_mu_);
  if (std::optional<TopicConfig> found = Find(topic)) return *found;
  TopicConfig config = MakeTopic(topic, std::max(1, queue_nums), perm);
  MQ_RETURN_IF_ERROR(PutLocked(config));
  return config;
}

Status TopicManager::Put(const TopicConfig& config) {
  MQ_RETURN_IF_ERROR(mqstore::ValidateTopic(config.name));
  std::lock_guard<std::mutex> lock(write_mu_);
  return PutLocked(config);
}

Status TopicManager::PutLocked(const TopicConfig& config) {
  MQ_RETURN_IF_ERROR(metadata_->PutTopic(config));
  std::unique_lock<std::shared_mutex> lock(cache_mu_);
  cache_[config.name] = config;
  version_ = {NowMs(), version_.counter + 1};
  return Status::OK();
}

Status TopicManager::Delete(std::string_view topic) {
  std::lock_guard<std::mutex> lock(write_mu_);
  MQ_RETURN_IF_ERROR(metadata_->DeleteTopic(topic));
  std::unique_lock<std::shared_mutex> cache_lock(cache_mu_);
  auto it = cache_.find(topic);
  if (it != cache_.end()) cache_.erase(it);
  version_ = {NowMs(), version_.counter + 1};
  return Status::OK();
}

std::vector<TopicConfig> TopicManager::All() const {
  std::shared_lock<std::shared_mutex> lock(cache_mu_);
  std::vector<TopicConfig> all;
  all.reserve(cache_.size());
  for (const auto& [name, config] : cache_) all.push_back(config);
  return all;
}

TopicDataVersion TopicManager::data_version() const {
  std::shared_lock<std::shared_mutex> lock(cache_mu_);
  return version_;
}

mqremoting::TopicConfigSerializeWrapper TopicManager::SerializeWrapper() const {
  mqremoting::TopicConfigSerializeWrapper wrapper;
  std::shared_lock<std::shared_mutex> lock(cache_mu_);
  wrapper.data_version.timestamp = version_.timestamp_ms;
  wrapper.data_version.counter = version_.counter;
  for (const auto& [name, topic] : cache_) {
    mqremoting::TopicConfig& wire = wrapper.topic_config_table[name];
    wire.topic_name = topic.name;
    wire.read_queue_nums = topic.read_queue_nums;
    wire.write_queue_nums = topic.write_queue_nums;
    wire.perm = topic.perm;
    wire.topic_filter_type = topic.filter_type == mqstore::TopicFilterType::kMultiTag
                                 ? mqremoting::TopicFilterType::kMultiTag
                                 : mqremoting::TopicFilterType::kSingleTag;
    wire.topic_sys_flag = topic.topic_sys_flag;
    wire.order = topic.order;
    wire.attributes = {topic.attributes.begin(), topic.attributes.end()};
  }
  return wrapper;
}

bool TopicManager::IsSystemTopic(std::string_view topic) {
  static constexpr std::string_view kSystemTopics[] = {
      "TBW102",
      "SCHEDULE_TOPIC_XXXX",
      "BenchmarkTest",
      "OFFSET_MOVED_EVENT",
      "TRANS_CHECK_MAX_TIME_TOPIC",
      "SELF_TEST_TOPIC",
  };
  for (std::string_view system : kSystemTopics) {
    if (topic == system) return true;
  }
  return topic.starts_with("RMQ_SYS_") || topic.starts_with("rmq_sys_");
}

}  // namespace mqbroker

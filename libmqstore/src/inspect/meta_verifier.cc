#include "inspect/meta_verifier.h"

#include <algorithm>
#include <set>
#include <utility>

#include "log/record_codec.h"
#include "meta/meta_codec.h"
#include "meta/meta_validation.h"

namespace mqstore {
namespace {

std::string Quoted(std::string_view db, std::string_view key) {
  return std::string(db) + "['" + std::string(key) + "']";
}

}  // namespace

Result<MetaFacts> MetaVerifier::Run() {
  MetaFacts facts;
  if (!layout_.has_meta) return facts;
  data_path_ = layout_.meta_dir + "/data.mdb";
  if (!readable_) {
    sink_->Report(Severity::kNote, layout_.meta_dir, -1,
                  "not checked: LMDB reads only through the POSIX file system");
    return facts;
  }
  Result<RawMetadata> raw = ReadRawMetadata(layout_.meta_dir);
  if (!raw.ok()) {
    const Status& s = raw.status();
    if (s.IsNotFound()) {
      sink_->Report(Severity::kWarning, layout_.meta_dir, -1,
                    std::string(s.message()) + ": the next open creates an empty metadata store");
    } else if (s.IsCorruption()) {
      sink_->Report(Severity::kCorruption, data_path_, -1,
                    "cannot be read: " + std::string(s.message()));
    } else if (s.code() == Status::Code::kNotSupported) {
      sink_->Report(Severity::kWarning, data_path_, -1, "not checked: " + std::string(s.message()));
    } else if (s.code() == Status::Code::kFailedPrecondition) {
      // LMDB must not open an environment twice in one process (a Store here has it open).
      sink_->Report(Severity::kNote, layout_.meta_dir, -1,
                    "not checked: " + std::string(s.message()));
    } else {
      return s;
    }
    return facts;
  }
  facts.checked = true;
  facts.entries =
      raw->topics.size() + raw->groups.size() + raw->offsets.size() + raw->schedule.size();
  std::map<std::string, int32_t> topics = CheckTopics(*raw);
  CheckGroups(*raw);
  CheckOffsets(*raw, topics);
  CheckSchedule(*raw, &facts);
  return facts;
}

void MetaVerifier::Report(Severity severity, std::string message) {
  sink_->Report(severity, data_path_, -1, std::move(message));
}

void MetaVerifier::ReportUndecodable(const Status& status) {
  if (status.code() == Status::Code::kNotSupported) {
    Report(Severity::kWarning, std::string(status.message()) + " (written by a newer version)");
  } else {
    Report(Severity::kCorruption, std::string(status.message()));
  }
}

std::map<std::string, int32_t> MetaVerifier::CheckTopics(const RawMetadata& raw) {
  std::map<std::string, int32_t> queues;
  for (const RawMetaEntry& e : raw.topics) {
    TopicConfig topic;
    Status s = DecodeTopicValue(e.key, e.value, &topic);
    if (!s.ok()) {
      ReportUndecodable(s);
      continue;
    }
    queues[e.key] = std::max(topic.read_queue_nums, topic.write_queue_nums);
    s = ValidateTopic(e.key);
    if (s.ok()) s = ValidateTopicConfig(topic, kMaxQueuesPerTopicLimit);
    if (!s.ok())
      Report(Severity::kWarning, Quoted(kTopicsDb, e.key) + ": " + std::string(s.message()));
  }
  return queues;
}

void MetaVerifier::CheckGroups(const RawMetadata& raw) {
  for (const RawMetaEntry& e : raw.groups) {
    SubscriptionGroupConfig group;
    Status s = DecodeGroupValue(e.key, e.value, &group);
    if (!s.ok()) {
      ReportUndecodable(s);
      continue;
    }
    s = ValidateSubscriptionGroupConfig(group, kMaxQueuesPerTopicLimit);
    if (!s.ok())
      Report(Severity::kWarning, Quoted(kGroupsDb, e.key) + ": " + std::string(s.message()));
  }
}

void MetaVerifier::CheckOffsets(const RawMetadata& raw,
                                const std::map<std::string, int32_t>& topics) {
  std::set<std::pair<std::string, std::string>> pairs;  // (topic, group) with offsets
  for (const RawMetaEntry& e : raw.offsets) {
    std::string_view group, topic;
    int32_t queue_id = 0;
    int64_t offset = 0;
    Status s = DecodeOffsetKey(e.key, &group, &topic, &queue_id);
    if (s.ok()) s = DecodeOffsetValue(e.value, &offset).WithContext(DescribeOffsetKey(e.key));
    if (!s.ok()) {
      ReportUndecodable(s);
      continue;
    }
    pairs.emplace(std::string(topic), std::string(group));
    const std::string where = DescribeOffsetKey(e.key) + ": ";
    auto registered = topics.find(std::string(topic));
    if (registered == topics.end()) {
      Report(Severity::kWarning, where + "topic '" + std::string(topic) +
                                     "' is not registered (deleting a topic deletes its offsets)");
      continue;
    }
    if (queue_id < 0 || queue_id >= registered->second) {
      Report(Severity::kNote, where + "queue id " + std::to_string(queue_id) +
                                  " is not one of the topic's " +
                                  std::to_string(registered->second) +
                                  " queues (it was committed before the topic shrank)");
      continue;
    }
    auto span = facts_.queues.find({std::string(topic), queue_id});
    if (span != facts_.queues.end() && offset > span->second.next_queue_offset) {
      Report(Severity::kNote, where + "offset " + std::to_string(offset) +
                                  " is past the queue's last message in the log (next offset " +
                                  std::to_string(span->second.next_queue_offset) +
                                  "): the broker resets the consumer");
    }
  }
  // topic_groups indexes offsets: the same pairs, both ways.
  std::set<std::pair<std::string, std::string>> indexed;
  for (const RawMetaEntry& e : raw.topic_groups) {
    std::string_view topic, group;
    Status s = DecodeTopicGroupKey(e.key, &topic, &group);
    if (!s.ok()) {
      Report(Severity::kWarning, std::string(s.message()));
      continue;
    }
    std::string where = "topic_groups['" + std::string(topic) + "'/'" + std::string(group) + "']";
    if (!e.value.empty()) Report(Severity::kWarning, where + " has a value; it is always empty");
    if (!pairs.count({std::string(topic), std::string(group)})) {
      Report(Severity::kWarning, where + ": the group has no offsets for the topic");
    }
    indexed.emplace(std::string(topic), std::string(group));
  }
  for (const auto& [topic, group] : pairs) {
    if (!indexed.count({topic, group})) {
      Report(Severity::kWarning, "offsets of group '" + group + "' for topic '" + topic +
                                     "' are missing from topic_groups (DeleteTopic would leave "
                                     "them behind)");
    }
  }
}

void MetaVerifier::CheckSchedule(const RawMetadata& raw, MetaFacts* facts) {
  for (const RawMetaEntry& e : raw.schedule) {
    ScheduleProgress progress;
    Status s = DecodeScheduleValue(e.key, e.value, &progress);
    if (!s.ok()) {
      ReportUndecodable(s);
      continue;
    }
    facts->schedule.push_back(progress);
    s = ValidateScheduleProgress(progress);
    if (!s.ok()) {
      Report(Severity::kWarning, Quoted(kScheduleDb, e.key) + ": " + std::string(s.message()));
    }
  }
}

}  // namespace mqstore

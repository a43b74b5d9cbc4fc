// mqadmin: RocketMQ's admin tool subcommands (updateTopic, deleteTopic, topicList, topicRoute,
// topicStatus, clusterList, brokerStatus, consumerProgress, resetOffsetByTime, updateSubGroup,
// deleteSubGroup, consumerConnection, messageTrack, sendMessage, consumeMessage, queryMsgByKey,
// queryMsgById, queryMsgByOffset) over client-lite. Output
// follows RocketMQ's tables; errors go to stderr with exit status 1.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "mqclient/admin.h"
#include "mqclient/message.h"
#include "mqclient/producer.h"
#include "mqclient/pull_consumer.h"
#include "remoting/consumer_admin_bodies.h"

namespace {

using mqclient::Result;
using mqclient::Status;

int Fail(const std::string& command, const Status& status) {
  std::cerr << "mqadmin " << command << ": error: " << status.ToString() << "\n";
  return 1;
}

// "yyyy-MM-dd HH:mm:ss" in local time; "-" for 0.
std::string FormatTime(int64_t ms) {
  if (ms <= 0) return "-";
  std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm local{};
  localtime_r(&seconds, &local);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%d %H:%M:%S", &local);
  return text;
}

// -s of resetOffsetByTime: milliseconds since the epoch, "now", or -1 (the end).
Result<int64_t> ParseTimestamp(const std::string& text) {
  if (text == "now") {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  size_t used = 0;
  int64_t value = 0;
  try {
    value = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size() || value < -1) {
    return Status::InvalidArgument("-s " + text +
                                   ": give milliseconds since the epoch, 'now' or -1");
  }
  return value;
}

void PrintMessage(const mqclient::ReceivedMessage& m) {
  std::printf("%-20s %s\n", "OffsetID:", m.msg_id.c_str());
  std::printf("%-20s %s\n", "Unique Key:", m.unique_id.c_str());
  std::printf("%-20s %s\n", "Topic:", m.topic.c_str());
  std::printf("%-20s [%s]\n", "Tags:", m.tags.c_str());
  std::printf("%-20s [%s]\n", "Keys:", m.keys.c_str());
  std::printf("%-20s %d\n", "Queue ID:", m.queue_id);
  std::printf("%-20s %lld\n", "Queue Offset:", static_cast<long long>(m.queue_offset));
  std::printf("%-20s %lld\n", "CommitLog Offset:", static_cast<long long>(m.commit_log_offset));
  std::printf("%-20s %d\n", "Reconsume Times:", m.reconsume_times);
  std::printf("%-20s %lld\n", "Born Timestamp:", static_cast<long long>(m.born_timestamp_ms));
  std::printf("%-20s %lld\n", "Store Timestamp:", static_cast<long long>(m.store_timestamp_ms));
  std::printf("%-20s %s\n", "Born Host:", m.born_host.c_str());
  std::printf("%-20s %s\n", "Store Host:", m.store_host.c_str());
  std::string properties;
  for (const auto& [name, value] : m.properties) {
    if (!properties.empty()) properties += ", ";
    properties += name + "=" + value;
  }
  std::printf("%-20s {%s}\n", "Properties:", properties.c_str());
  std::printf("%-20s %s\n", "Body:", m.body.c_str());
}

struct Common {
  std::string namesrv;
};

void AddNamesrv(CLI::App* command, Common* common) {
  command
      ->add_option("-n,--namesrvAddr", common->namesrv,
                   "name server address list, e.g. 127.0.0.1:9876;127.0.0.1:9877")
      ->required();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"mqadmin: administer an mqstore (RocketMQ-compatible) cluster"};
  app.require_subcommand(1);
  Common common;

  // updateTopic
  mqclient::TopicSpec spec;
  std::string cluster, broker_addr;
  CLI::App* update = app.add_subcommand("updateTopic",
                                        "Create or update a topic on a broker or "
                                        "on every master of a cluster");
  AddNamesrv(update, &common);
  update->add_option("-t,--topic", spec.topic, "topic name")->required();
  auto* cluster_opt = update->add_option("-c,--clusterName", cluster,
                                         "create on every master "
                                         "broker of this cluster");
  auto* broker_opt = update->add_option("-b,--brokerAddr", broker_addr, "create on this broker");
  cluster_opt->excludes(broker_opt);
  update->add_option("-r,--readQueueNums", spec.read_queue_nums, "read queues (default 8)");
  update->add_option("-w,--writeQueueNums", spec.write_queue_nums, "write queues (default 8)");
  update->add_option("-p,--perm", spec.perm, "permission: 2 W, 4 R, 6 RW (default 6)");

  CLI::App* topic_list = app.add_subcommand("topicList", "List every topic the name server knows");
  AddNamesrv(topic_list, &common);

  std::string topic;
  CLI::App* topic_route = app.add_subcommand("topicRoute", "Show the route of a topic (JSON)");
  AddNamesrv(topic_route, &common);
  topic_route->add_option("-t,--topic", topic, "topic name")->required();

  CLI::App* cluster_list =
      app.add_subcommand("clusterList", "List the brokers of every cluster with runtime info");
  AddNamesrv(cluster_list, &common);

  // sendMessage
  std::string body, keys, tags, broker_name;
  int32_t queue_id = -1;
  std::vector<std::string> user_properties;
  CLI::App* send = app.add_subcommand("sendMessage", "Send one message");
  AddNamesrv(send, &common);
  send->add_option("-t,--topic", topic, "topic name")->required();
  send->add_option("-p,--body", body, "message body")->required();
  send->add_option("-k,--keys", keys, "message keys");
  send->add_option("-c,--tags", tags, "message tags");
  send->add_option("-b,--broker", broker_name, "send to this broker (with -i)");
  send->add_option("-i,--qid", queue_id, "send to this queue id");
  send->add_option("--property", user_properties, "user property NAME=VALUE (repeatable)");
  std::string compression = "zstd";
  send->add_option("--compression", compression,
                   "how a body of 4 KiB or more is compressed: zstd (default, RocketMQ 5), "
                   "zlib (what ali-ons and RocketMQ 4.x consumers can read) or none")
      ->check(CLI::IsMember({"zstd", "zlib", "none"}));

  // consumeMessage
  std::string group = "CID_MQADMIN";
  int64_t start_offset = 0;
  int64_t count = 128;
  int64_t wait_ms = 0;
  std::string subscription = "*";
  CLI::App* consume = app.add_subcommand(
      "consumeMessage", "Pull messages of a topic (all queues or one) and print them");
  AddNamesrv(consume, &common);
  consume->add_option("-t,--topic", topic, "topic name")->required();
  consume->add_option("-g,--consumerGroup", group, "consumer group (default CID_MQADMIN)");
  consume->add_option("-i,--queueId", queue_id, "only this queue id");
  consume->add_option("-b,-o,--offset", start_offset, "start offset in each queue (default 0)");
  consume->add_option("--broker", broker_name, "only queues of this broker");
  consume->add_option("-c,--count", count, "stop after this many messages (default 128)");
  consume->add_option("-s,--subExpression", subscription, "tag expression (default *)");
  consume->add_option("--wait-ms", wait_ms,
                      "keep long polling up to this long until -c messages arrived (default 0: "
                      "stop at the end of the queues)");

  // queryMsgByKey / queryMsgById
  std::string key, msg_id;
  CLI::App* by_key = app.add_subcommand("queryMsgByKey", "Find messages of a topic by key");
  AddNamesrv(by_key, &common);
  by_key->add_option("-t,--topic", topic, "topic name")->required();
  by_key->add_option("-k,--msgKey", key, "message key")->required();
  CLI::App* by_id = app.add_subcommand("queryMsgById", "Show a message by offset id or unique id");
  AddNamesrv(by_id, &common);
  by_id->add_option("-t,--topic", topic, "topic name (for unique-id lookups)")->required();
  by_id->add_option("-i,--msgId", msg_id, "message id (offset id or UNIQ_KEY)")->required();

  // deleteTopic
  CLI::App* delete_topic = app.add_subcommand(
      "deleteTopic", "Delete a topic from every master of a cluster and from the name servers");
  AddNamesrv(delete_topic, &common);
  delete_topic->add_option("-t,--topic", topic, "topic name")->required();
  delete_topic->add_option("-c,--clusterName", cluster, "cluster of the topic")->required();

  // topicStatus / consumerProgress / resetOffsetByTime
  CLI::App* topic_status =
      app.add_subcommand("topicStatus", "Show the min and max offset of every queue of a topic");
  AddNamesrv(topic_status, &common);
  topic_status->add_option("-t,--topic", topic, "topic name")->required();
  CLI::App* progress = app.add_subcommand(
      "consumerProgress",
      "Show a consumer group's committed offset and lag in every queue of a topic, or of every "
      "topic it has offsets in or subscribes to");
  AddNamesrv(progress, &common);
  progress->add_option("-g,--groupName", group, "consumer group")->required();
  progress->add_option("-t,--topic", topic, "only this topic");
  std::string timestamp_text;
  bool force = true;
  CLI::App* reset = app.add_subcommand(
      "resetOffsetByTime",
      "Move a consumer group's offsets in a topic to the first message stored at or after a "
      "time; each broker moves them and tells the group's running consumers");
  AddNamesrv(reset, &common);
  reset->add_option("-g,--group", group, "consumer group")->required();
  reset->add_option("-t,--topic", topic, "topic name")->required();
  reset
      ->add_option("-s,--timestamp", timestamp_text,
                   "milliseconds since the epoch, 'now', or -1 for the end of each queue")
      ->required();
  reset->add_option("-f,--force", force,
                    "true (default): move there even forward; false: only ever move back");

  // updateSubGroup / deleteSubGroup / consumerConnection / messageTrack
  mqstore::SubscriptionGroupConfig sub_group;
  CLI::App* update_group = app.add_subcommand(
      "updateSubGroup", "Create or update a consumer group's settings on a broker or cluster");
  AddNamesrv(update_group, &common);
  update_group->add_option("-g,--groupName", sub_group.group_name, "consumer group")->required();
  update_group->add_option("-b,--brokerAddr", broker_addr, "on this broker");
  update_group->add_option("-c,--clusterName", cluster, "on every master of this cluster");
  update_group->add_option("-s,--consumeEnable", sub_group.consume_enable,
                           "may the group pull (default true)");
  update_group->add_option("-m,--consumeFromMinEnable", sub_group.consume_from_min_enable,
                           "default true");
  update_group->add_option("-d,--consumeBroadcastEnable", sub_group.consume_broadcast_enable,
                           "default true");
  update_group->add_option("-o,--consumeMessageOrderly", sub_group.consume_message_orderly,
                           "default false");
  update_group
      ->add_option("-q,--retryQueueNums", sub_group.retry_queue_nums,
                   "queues of the group's retry topic (default 1)")
      ->check(CLI::NonNegativeNumber);
  update_group
      ->add_option("-r,--retryMaxTimes", sub_group.retry_max_times,
                   "deliveries before the dead-letter topic (default 16)")
      ->check(CLI::NonNegativeNumber);
  update_group->add_option("-i,--brokerId", sub_group.broker_id, "broker to consume from");
  update_group->add_option("-w,--whichBrokerWhenConsumeSlowly",
                           sub_group.which_broker_when_consume_slowly, "default 1");
  update_group->add_option("-a,--notifyConsumerIdsChanged",
                           sub_group.notify_consumer_ids_changed_enable,
                           "tell members when the group changes (default true)");
  bool remove_offset = false;
  CLI::App* delete_group = app.add_subcommand(
      "deleteSubGroup", "Delete a consumer group's settings from every master of a cluster");
  AddNamesrv(delete_group, &common);
  delete_group->add_option("-g,--groupName", group, "consumer group")->required();
  delete_group->add_option("-c,--clusterName", cluster, "cluster")->required();
  delete_group->add_option("-r,--removeOffset", remove_offset,
                           "also delete the group's committed offsets (default false)");
  CLI::App* connection = app.add_subcommand(
      "consumerConnection", "Show a consumer group's running members and subscriptions");
  AddNamesrv(connection, &common);
  connection->add_option("-g,--consumerGroup", group, "consumer group")->required();
  CLI::App* track = app.add_subcommand(
      "messageTrack",
      "Show where a message stands for every consumer group of its topic: consumed or not, "
      "retried, dead");
  AddNamesrv(track, &common);
  track->add_option("-t,--topic", topic, "topic name")->required();
  track->add_option("-i,--msgId", msg_id, "message id (offset id or UNIQ_KEY)")->required();

  // brokerStatus
  CLI::App* broker_status =
      app.add_subcommand("brokerStatus", "Show a broker's runtime info (key: value)");
  AddNamesrv(broker_status, &common);
  broker_status->add_option("-b,--brokerAddr", broker_addr, "broker address")->required();

  // queryMsgByOffset
  int64_t offset = 0;
  CLI::App* by_offset =
      app.add_subcommand("queryMsgByOffset", "Show the message at an offset of one queue");
  AddNamesrv(by_offset, &common);
  by_offset->add_option("-t,--topic", topic, "topic name")->required();
  by_offset->add_option("-b,--brokerName", broker_name, "broker name")->required();
  by_offset->add_option("-i,--queueId", queue_id, "queue id")->required();
  by_offset->add_option("-o,--offset", offset, "queue offset")->required();

  CLI11_PARSE(app, argc, argv);

  if (delete_topic->parsed()) {
    mqclient::Admin admin(common.namesrv);
    if (Status status = admin.DeleteTopic(topic, cluster); !status.ok()) {
      return Fail("deleteTopic", status);
    }
    std::printf("delete topic [%s] from cluster [%s] success.\n", topic.c_str(), cluster.c_str());
    std::printf("delete topic [%s] from NameServer success.\n", topic.c_str());
    return 0;
  }
  if (topic_status->parsed()) {
    mqclient::Admin admin(common.namesrv);
    Result<std::vector<mqclient::QueueProgress>> queues = admin.QueueOffsets(topic);
    if (!queues.ok()) return Fail("topicStatus", queues.status());
    std::printf("%-32s  %-4s  %-20s  %s\n", "#Broker Name", "#QID", "#Min Offset", "#Max Offset");
    for (const mqclient::QueueProgress& q : *queues) {
      std::printf("%-32s  %-4d  %-20lld  %lld\n", q.queue.broker_name.c_str(), q.queue.queue_id,
                  static_cast<long long>(q.min_offset), static_cast<long long>(q.max_offset));
    }
    return 0;
  }
  if (progress->parsed()) {
    mqclient::Admin admin(common.namesrv);
    double consume_tps = 0;
    Result<std::vector<mqclient::QueueProgress>> queues =
        admin.ConsumeProgress(group, topic, &consume_tps);
    if (!queues.ok()) return Fail("consumerProgress", queues.status());
    std::printf("%-32s  %-32s  %-4s  %-20s  %-20s  %-12s  %s\n", "#Topic", "#Broker Name", "#QID",
                "#Broker Offset", "#Consumer Offset", "#Diff", "#LastTime");
    int64_t total_lag = 0;
    for (const mqclient::QueueProgress& q : *queues) {
      total_lag += q.lag();
      std::printf("%-32s  %-32s  %-4d  %-20lld  %-20lld  %-12lld  %s\n", q.queue.topic.c_str(),
                  q.queue.broker_name.c_str(), q.queue.queue_id,
                  static_cast<long long>(q.max_offset), static_cast<long long>(q.consumer_offset),
                  static_cast<long long>(q.lag()), FormatTime(q.last_timestamp_ms).c_str());
    }
    std::printf("\nConsume TPS: %.2f\nDiff Total: %lld\n", consume_tps,
                static_cast<long long>(total_lag));
    return 0;
  }
  if (reset->parsed()) {
    Result<int64_t> timestamp = ParseTimestamp(timestamp_text);
    if (!timestamp.ok()) return Fail("resetOffsetByTime", timestamp.status());
    mqclient::Admin admin(common.namesrv);
    Result<std::vector<mqclient::QueueProgress>> queues =
        admin.ResetOffsetByTime(group, topic, *timestamp, force);
    if (!queues.ok()) return Fail("resetOffsetByTime", queues.status());
    std::printf("%-32s  %-4s  %s\n", "#Broker Name", "#QID", "#New Offset");
    for (const mqclient::QueueProgress& q : *queues) {
      std::printf("%-32s  %-4d  %lld\n", q.queue.broker_name.c_str(), q.queue.queue_id,
                  static_cast<long long>(q.consumer_offset));
    }
    return 0;
  }
  if (update_group->parsed()) {
    if (cluster.empty() == broker_addr.empty()) {
      std::cerr << "mqadmin updateSubGroup: error: give exactly one of -c CLUSTER or -b "
                   "BROKERADDR\n";
      return 1;
    }
    mqclient::Admin admin(common.namesrv);
    std::vector<std::string> updated{broker_addr};
    if (broker_addr.empty()) {
      Result<std::vector<std::string>> masters =
          admin.UpdateSubscriptionGroupInCluster(sub_group, cluster);
      if (!masters.ok()) return Fail("updateSubGroup", masters.status());
      updated = *masters;
    } else if (Status status = admin.UpdateSubscriptionGroup(sub_group, broker_addr);
               !status.ok()) {
      return Fail("updateSubGroup", status);
    }
    for (const std::string& address : updated) {
      std::printf("create subscription group to %s success.\n", address.c_str());
    }
    std::printf("%s\n", mqremoting::EncodeSubscriptionGroupConfig(sub_group).c_str());
    return 0;
  }
  if (delete_group->parsed()) {
    mqclient::Admin admin(common.namesrv);
    Status status = admin.DeleteSubscriptionGroup(group, cluster, remove_offset);
    if (!status.ok()) return Fail("deleteSubGroup", status);
    std::printf("delete subscription group [%s] from cluster [%s] success.\n", group.c_str(),
                cluster.c_str());
    return 0;
  }
  if (connection->parsed()) {
    mqclient::Admin admin(common.namesrv);
    Result<mqremoting::ConsumerConnection> members = admin.ConsumerConnection(group);
    if (!members.ok()) return Fail("consumerConnection", members.status());
    std::printf("%-4s  %-48s  %-24s  %-8s  %s\n", "#", "#ClientId", "#ClientAddr", "#Language",
                "#Version");
    int n = 0;
    for (const mqremoting::ClientConnection& c : members->connections) {
      std::printf("%-4d  %-48s  %-24s  %-8s  %d\n", ++n, c.client_id.c_str(), c.client_addr.c_str(),
                  c.language.c_str(), c.version);
    }
    std::printf("\nBelow is subscription:\n");
    n = 0;
    for (const mqremoting::SubscriptionData& sub : members->subscriptions) {
      std::printf("%-4d  Topic: %-48s SubExpression: %s\n", ++n, sub.topic.c_str(),
                  sub.sub_string.c_str());
    }
    std::printf("\nConsumeType: %s\nMessageModel: %s\nConsumeFromWhere: %s\n",
                members->consume_type.c_str(), members->message_model.c_str(),
                members->consume_from_where.c_str());
    return 0;
  }
  if (track->parsed()) {
    mqclient::Admin admin(common.namesrv);
    Result<mqclient::ReceivedMessage> message = admin.QueryMessageById(topic, msg_id);
    if (!message.ok()) return Fail("messageTrack", message.status());
    PrintMessage(*message);
    Result<std::vector<mqclient::MessageTrack>> tracks = admin.TrackMessage(topic, msg_id);
    if (!tracks.ok()) return Fail("messageTrack", tracks.status());
    std::printf("\n%-48s  %-24s  %-8s  %-8s  %s\n", "#ConsumerGroup", "#TrackType", "#Online",
                "#Retries", "#Dead");
    for (const mqclient::MessageTrack& t : *tracks) {
      std::printf("%-48s  %-24s  %-8s  %-8d  %s\n", t.group.c_str(),
                  std::string(mqclient::TrackTypeName(t.type)).c_str(), t.online ? "true" : "false",
                  t.retries, t.dead ? "true" : "false");
    }
    if (tracks->empty())
      std::printf("no consumer group subscribes to or consumed %s\n", topic.c_str());
    return 0;
  }
  if (broker_status->parsed()) {
    mqclient::Admin admin(common.namesrv);
    Result<std::map<std::string, std::string>> runtime = admin.BrokerRuntime(broker_addr);
    if (!runtime.ok()) return Fail("brokerStatus", runtime.status());
    for (const auto& [name, value] : *runtime) {
      std::printf("%-32s: %s\n", name.c_str(), value.c_str());
    }
    return 0;
  }
  if (by_offset->parsed()) {
    mqclient::Admin admin(common.namesrv);
    Result<mqclient::ReceivedMessage> found =
        admin.QueryMessageByOffset({topic, broker_name, queue_id}, offset);
    if (!found.ok()) return Fail("queryMsgByOffset", found.status());
    PrintMessage(*found);
    return 0;
  }

  if (update->parsed()) {
    if (cluster.empty() == broker_addr.empty()) {
      std::cerr << "mqadmin updateTopic: error: give exactly one of -c CLUSTER or -b BROKERADDR\n";
      return 1;
    }
    mqclient::Admin admin(common.namesrv);
    std::vector<std::string> created;
    if (!broker_addr.empty()) {
      Status status = admin.CreateTopicOnBroker(spec, broker_addr);
      if (!status.ok()) return Fail("updateTopic", status);
      created.push_back(broker_addr);
    } else {
      Result<std::vector<std::string>> masters = admin.CreateTopicInCluster(spec, cluster);
      if (!masters.ok()) return Fail("updateTopic", masters.status());
      created = *masters;
    }
    for (const std::string& address : created) {
      std::printf("create topic to %s success.\n", address.c_str());
    }
    std::printf("TopicConfig [topicName=%s, readQueueNums=%d, writeQueueNums=%d, perm=%d]\n",
                spec.topic.c_str(), spec.read_queue_nums, spec.write_queue_nums, spec.perm);
    return 0;
  }
  if (topic_list->parsed()) {
    mqclient::Admin admin(common.namesrv);
    Result<mqremoting::TopicList> topics = admin.TopicList();
    if (!topics.ok()) return Fail("topicList", topics.status());
    for (const std::string& name : topics->topic_list) std::printf("%s\n", name.c_str());
    return 0;
  }
  if (topic_route->parsed()) {
    mqclient::Admin admin(common.namesrv);
    Result<mqremoting::TopicRouteData> route = admin.TopicRoute(topic);
    if (!route.ok()) return Fail("topicRoute", route.status());
    std::printf("%s\n", mqremoting::EncodeJson(*route).c_str());
    return 0;
  }
  if (cluster_list->parsed()) {
    mqclient::Admin admin(common.namesrv);
    Result<std::vector<mqclient::BrokerStatus>> brokers = admin.ClusterList();
    if (!brokers.ok()) return Fail("clusterList", brokers.status());
    std::printf("%-22s  %-22s  %-4s  %-22s  %-10s  %-12s  %-20s\n", "#Cluster Name", "#Broker Name",
                "#BID", "#Addr", "#Version", "#Role", "#CommitLogMaxOffset");
    for (const mqclient::BrokerStatus& b : *brokers) {
      auto get = [&b](const char* name) {
        auto it = b.runtime.find(name);
        return it == b.runtime.end() ? std::string("-") : it->second;
      };
      std::printf("%-22s  %-22s  %-4lld  %-22s  %-10s  %-12s  %-20s\n", b.cluster.c_str(),
                  b.broker_name.c_str(), static_cast<long long>(b.broker_id), b.address.c_str(),
                  get("brokerVersionDesc").c_str(), get("brokerRole").c_str(),
                  get("commitLogMaxOffset").c_str());
    }
    return 0;
  }
  if (send->parsed()) {
    mqclient::ProducerOptions options;
    options.namesrv_addr = common.namesrv;
    options.group = "PID_MQADMIN";
    if (compression == "zlib") options.compression_type = mqstore::CompressionType::kZlib;
    if (compression == "none") options.compress_bodies_from_bytes = 0;
    mqclient::Producer producer(options);
    if (Status started = producer.Start(); !started.ok()) return Fail("sendMessage", started);
    mqclient::Message message;
    message.topic = topic;
    message.body = body;
    message.keys = keys;
    message.tags = tags;
    for (const std::string& property : user_properties) {
      size_t eq = property.find('=');
      if (eq == std::string::npos || eq == 0) {
        return Fail("sendMessage",
                    Status::InvalidArgument("--property wants NAME=VALUE, got " + property));
      }
      message.user_properties[property.substr(0, eq)] = property.substr(eq + 1);
    }
    Result<mqclient::SendResult> result = Status::Aborted("not sent");
    if (queue_id >= 0) {
      if (broker_name.empty()) {
        Result<mqremoting::TopicRouteData> route = producer.name_server()->GetRoute(topic);
        if (!route.ok()) return Fail("sendMessage", route.status());
        if (route->queue_datas.empty()) {
          return Fail("sendMessage", Status::NotFound("topic " + topic + " has no queues"));
        }
        broker_name = route->queue_datas.front().broker_name;
      }
      result = producer.SendToQueue(message, {topic, broker_name, queue_id});
    } else {
      result = producer.Send(message);
    }
    if (!result.ok()) return Fail("sendMessage", result.status());
    std::printf("%-32s  %-4s  %-20s  %-32s  %s\n", "#Broker Name", "#QID", "#Send Result", "#MsgId",
                "#UniqueId");
    std::printf("%-32s  %-4d  %-20s  %-32s  %s\n", result->queue.broker_name.c_str(),
                result->queue.queue_id, std::string(SendStatusName(result->status)).c_str(),
                result->msg_id.c_str(), result->unique_id.c_str());
    return 0;
  }
  if (consume->parsed()) {
    mqclient::PullConsumerOptions options;
    options.namesrv_addr = common.namesrv;
    options.group = group;
    options.subscription = subscription;
    mqclient::PullConsumer consumer(options);
    if (Status started = consumer.Start(); !started.ok()) return Fail("consumeMessage", started);
    Result<std::vector<mqclient::MessageQueue>> all = consumer.FetchQueues(topic);
    if (!all.ok()) return Fail("consumeMessage", all.status());
    std::vector<mqclient::MessageQueue> queues;
    for (const mqclient::MessageQueue& q : *all) {
      if (queue_id >= 0 && q.queue_id != queue_id) continue;
      if (!broker_name.empty() && q.broker_name != broker_name) continue;
      queues.push_back(q);
    }
    if (queues.empty()) {
      return Fail("consumeMessage", Status::NotFound("no matching queue of topic " + topic));
    }
    std::map<mqclient::MessageQueue, int64_t> offsets;
    for (const auto& q : queues) offsets[q] = start_offset;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
    int64_t received = 0;
    while (received < count) {
      bool any_found = false;
      for (const mqclient::MessageQueue& q : queues) {
        if (received >= count) break;
        Result<mqclient::PullResult> pulled = consumer.Pull(
            q, offsets[q], static_cast<int32_t>(std::min<int64_t>(32, count - received)));
        if (!pulled.ok()) return Fail("consumeMessage", pulled.status());
        if (pulled->status == mqclient::PullStatus::kOffsetIllegal &&
            pulled->next_begin_offset == offsets[q]) {
          continue;
        }
        offsets[q] = pulled->next_begin_offset;
        for (const mqclient::ReceivedMessage& m : pulled->messages) {
          if (received >= count) break;
          ++received;
          any_found = true;
          std::printf(
              "MSGID: %s UNIQ: %s BROKER: %s QUEUE: %d OFFSET: %lld TAGS: [%s] KEYS: [%s] "
              "BODY: %s\n",
              m.msg_id.c_str(), m.unique_id.c_str(), q.broker_name.c_str(), m.queue_id,
              static_cast<long long>(m.queue_offset), m.tags.c_str(), m.keys.c_str(),
              m.body.c_str());
          for (const auto& [name, value] : m.UserProperties()) {
            std::printf("  PROPERTY: %s=%s\n", name.c_str(), value.c_str());
          }
        }
        if (pulled->status == mqclient::PullStatus::kNoMatchedMessage) any_found = true;
      }
      if (!any_found) {
        if (std::chrono::steady_clock::now() >= deadline) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
    std::fflush(stdout);
    std::fprintf(stderr, "consumed %lld messages\n", static_cast<long long>(received));
    return 0;
  }
  if (by_key->parsed()) {
    mqclient::Admin admin(common.namesrv);
    Result<std::vector<mqclient::ReceivedMessage>> found = admin.QueryMessageByKey(topic, key);
    if (!found.ok()) return Fail("queryMsgByKey", found.status());
    std::printf("%-50s %4s %40s\n", "#Message ID", "#QID", "#Offset");
    for (const auto& m : *found) {
      std::printf("%-50s %4d %40lld\n", m.unique_id.c_str(), m.queue_id,
                  static_cast<long long>(m.queue_offset));
    }
    return 0;
  }
  if (by_id->parsed()) {
    mqclient::Admin admin(common.namesrv);
    Result<mqclient::ReceivedMessage> found = admin.QueryMessageById(topic, msg_id);
    if (!found.ok()) return Fail("queryMsgById", found.status());
    PrintMessage(*found);
    return 0;
  }
  return 1;
}

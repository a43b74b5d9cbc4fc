// Broker end to end in one process: a name server and a broker on 127.0.0.1 (ephemeral
// ports, a temp store), driven by a RemotingClient the way RocketMQ clients drive them.
#include "broker.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "mqstore/coding.h"
#include "mqstore/message.h"
#include "mqstore/store.h"
#include "name_server.h"
#include "remoting/codes.h"
#include "remoting/consumer_admin_bodies.h"
#include "remoting/heartbeat_data.h"
#include "remoting/route_data.h"
#include "remoting/transport.h"
#include "support/raw_socket.h"
#include "support/server_test_util.h"
#include "support/test_util.h"

namespace mqbroker {
namespace {

using mqremoting::RemotingCommand;
namespace rc = mqremoting::request_code;
namespace code = mqremoting::response_code;
using namespace std::chrono_literals;

constexpr auto kTimeout = 10s;

class BrokerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto namesrv = mqstore::test::StartLoopbackNameServer();
    ASSERT_TRUE(namesrv.ok()) << namesrv.status().ToString();
    namesrv_ = std::move(namesrv).value();
    namesrv_addr_ = "127.0.0.1:" + std::to_string(namesrv_->port());
    config_ = mqstore::test::LoopbackBrokerConfig(dir_.path(), namesrv_addr_);
    client_ = mqremoting::RemotingClient::Create({});
    StartBroker();
  }

  void TearDown() override {
    if (broker_) {
      ASSERT_TRUE(broker_->Shutdown().ok());
    }
    client_->Shutdown();
    namesrv_->Stop();
  }

  void StartBroker() {
    BrokerConfig& config = config_;
    // Every delay level 1 s: a send-back (level 3 + retries) comes back within seconds.
    config.messageDelayLevel = "1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s";
    auto broker = Broker::Start(config);
    ASSERT_TRUE(broker.ok()) << broker.status().ToString();
    broker_ = std::move(broker).value();
    broker_addr_ = broker_->identity().broker_addr;
  }

  RemotingCommand Call(const std::string& address, RemotingCommand request,
                       std::chrono::milliseconds timeout = kTimeout) {
    auto response = client_->InvokeSync(address, std::move(request), timeout);
    EXPECT_TRUE(response.ok()) << response.status().ToString();
    return response.ok() ? std::move(response).value() : RemotingCommand{};
  }
  RemotingCommand CallBroker(RemotingCommand request) {
    return Call(broker_addr_, std::move(request));
  }

  // Under ASYNC_FLUSH a put is acknowledged before the dispatcher makes it readable.
  void AwaitDispatched() {
    mqstore::Store* store = broker_->store();
    ASSERT_TRUE(store->AwaitDispatched(store->Stats().appended_offset, 10000).ok());
  }

  void CreateTopic(const std::string& topic, int queues) {
    RemotingCommand request = RemotingCommand::Request(rc::kUpdateAndCreateTopic);
    request.SetExt("topic", topic);
    request.SetExt("defaultTopic", "TBW102");
    request.SetExt("readQueueNums", int64_t{queues});
    request.SetExt("writeQueueNums", int64_t{queues});
    request.SetExt("perm", int64_t{6});
    request.SetExt("topicFilterType", "SINGLE_TAG");
    RemotingCommand response = CallBroker(std::move(request));
    ASSERT_EQ(response.code, code::kSuccess) << response.remark.value_or("");
  }

  static RemotingCommand SendRequest(const std::string& topic, int queue_id, std::string body,
                                     const std::string& tags = "", const std::string& keys = "") {
    return mqstore::test::SendMessageV2Request(topic, queue_id, std::move(body), tags, keys);
  }

  static RemotingCommand PullRequest(const std::string& group, const std::string& topic,
                                     int queue_id, int64_t offset, int64_t suspend_ms,
                                     const std::string& subscription = "*", int sys_flag = 4 | 2) {
    RemotingCommand request = RemotingCommand::Request(rc::kPullMessage);
    request.SetExt("consumerGroup", group);
    request.SetExt("topic", topic);
    request.SetExt("queueId", int64_t{queue_id});
    request.SetExt("queueOffset", offset);
    request.SetExt("maxMsgNums", int64_t{32});
    request.SetExt("sysFlag", int64_t{sys_flag});
    request.SetExt("commitOffset", int64_t{0});
    request.SetExt("suspendTimeoutMillis", suspend_ms);
    request.SetExt("subscription", subscription);
    request.SetExt("subVersion", int64_t{0});
    return request;
  }

  // The records of a pull (or query) body.
  // The records point into `body`, which must outlive them (hence no temporaries).
  // `verify_checksums`: false for bodies the broker re-encodes (a checked half message).
  static std::vector<mqstore::ParsedRecord> Records(std::string&& body,
                                                    bool verify_checksums = true) = delete;
  static std::vector<mqstore::ParsedRecord> Records(const std::string& body,
                                                    bool verify_checksums = true) {
    std::vector<mqstore::ParsedRecord> records;
    std::string_view rest = body;
    while (!rest.empty()) {
      if (rest.size() < 4) {
        ADD_FAILURE() << "truncated body";
        break;
      }
      uint32_t size = mqstore::DecodeBig32(rest.data());
      mqstore::ParsedRecord record;
      mqstore::Status parsed =
          mqstore::ParseRecord(rest.substr(0, size), verify_checksums, &record);
      EXPECT_TRUE(parsed.ok()) << parsed.ToString();
      if (!parsed.ok()) break;
      records.push_back(record);
      rest.remove_prefix(size);
    }
    return records;
  }

  // A HEART_BEAT of one consumer of `group` subscribing to `topic` with a tag expression.
  static RemotingCommand ConsumerHeartbeat(const std::string& client_id, const std::string& group,
                                           const std::string& topic, const std::string& tags) {
    mqremoting::HeartbeatData heartbeat;
    heartbeat.client_id = client_id;
    mqremoting::ConsumerData consumer;
    consumer.group_name = group;
    mqremoting::SubscriptionData subscription;
    subscription.topic = topic;
    subscription.sub_string = tags;
    if (tags != "*") subscription.tags_set = {tags};
    consumer.subscriptions = {subscription};
    heartbeat.consumers = {consumer};
    RemotingCommand beat = RemotingCommand::Request(rc::kHeartBeat);
    beat.body = mqremoting::EncodeHeartbeatData(heartbeat);
    return beat;
  }

  static std::string Ext(const RemotingCommand& command, const std::string& key) {
    const std::string* value = command.FindExt(key);
    return value ? *value : "<missing>";
  }

  BrokerConfig config_;  // what StartBroker starts with; tests may change it first
  mqstore::test::TempDir dir_;
  std::unique_ptr<mqnamesrv::NameServer> namesrv_;
  std::string namesrv_addr_;
  std::unique_ptr<Broker> broker_;
  std::string broker_addr_;
  std::unique_ptr<mqremoting::RemotingClient> client_;
};

TEST_F(BrokerTest, ACreatedTopicIsRoutedByTheNameServer) {
  CreateTopic("Orders", 4);
  RemotingCommand request = RemotingCommand::Request(rc::kGetRouteInfoByTopic);
  request.SetExt("topic", "Orders");
  RemotingCommand response = Call(namesrv_addr_, std::move(request));
  ASSERT_EQ(response.code, code::kSuccess) << response.remark.value_or("");
  auto route = mqremoting::DecodeJson<mqremoting::TopicRouteData>(response.body);
  ASSERT_TRUE(route.ok()) << route.status().ToString();
  ASSERT_EQ(route->broker_datas.size(), 1u);
  EXPECT_EQ(route->broker_datas[0].broker_addrs.at(0), broker_addr_);
  ASSERT_EQ(route->queue_datas.size(), 1u);
  EXPECT_EQ(route->queue_datas[0].write_queue_nums, 4);
  EXPECT_EQ(route->queue_datas[0].perm, 6);
}

TEST_F(BrokerTest, ASentMessageIsPulledBackWithItsPropertiesAndAUniqueId) {
  CreateTopic("Orders", 4);
  RemotingCommand sent = CallBroker(SendRequest("Orders", 2, "hello", "TagA", "k1 k2"));
  ASSERT_EQ(sent.code, code::kSuccess) << sent.remark.value_or("");
  EXPECT_EQ(Ext(sent, "queueId"), "2");
  EXPECT_EQ(Ext(sent, "queueOffset"), "0");
  EXPECT_EQ(Ext(sent, "msgId").size(), 32u);
  const std::string unique_id = Ext(sent, "transactionId");
  EXPECT_EQ(unique_id.size(), 32u);
  AwaitDispatched();

  RemotingCommand pulled = CallBroker(PullRequest("CID_A", "Orders", 2, 0, 0));
  ASSERT_EQ(pulled.code, code::kSuccess) << pulled.remark.value_or("");
  EXPECT_EQ(Ext(pulled, "nextBeginOffset"), "1");
  EXPECT_EQ(Ext(pulled, "minOffset"), "0");
  EXPECT_EQ(Ext(pulled, "maxOffset"), "1");
  EXPECT_EQ(Ext(pulled, "suggestWhichBrokerId"), "0");
  auto records = Records(pulled.body);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].body, "hello");
  EXPECT_EQ(records[0].topic, "Orders");
  EXPECT_EQ(mqstore::FindProperty(records[0].properties, "TAGS").value_or(""), "TagA");
  EXPECT_EQ(mqstore::FindProperty(records[0].properties, "KEYS").value_or(""), "k1 k2");
  EXPECT_EQ(mqstore::FindProperty(records[0].properties, "UNIQ_KEY").value_or(""), unique_id);
  EXPECT_EQ(mqstore::FindProperty(records[0].properties, "CLUSTER").value_or(""), "DefaultCluster");
  EXPECT_EQ(mqstore::MakeOffsetMessageId(records[0].store_host, records[0].physical_offset),
            Ext(sent, "msgId"));
}

TEST_F(BrokerTest, ASendIsAnsweredInItsRequestsHeaderType) {
  CreateTopic("Orders", 1);
  int64_t expected_offset = 0;
  for (auto type : {mqremoting::SerializeType::kRocketMq, mqremoting::SerializeType::kJson}) {
    RemotingCommand request = SendRequest("Orders", 0, "typed");
    request.serialize_type = type;
    RemotingCommand sent = CallBroker(std::move(request));
    ASSERT_EQ(sent.code, code::kSuccess) << sent.remark.value_or("");
    EXPECT_EQ(sent.serialize_type, type);
    EXPECT_EQ(Ext(sent, "queueOffset"), std::to_string(expected_offset++));
    EXPECT_EQ(Ext(sent, "msgId").size(), 32u);
  }
  // A refused send as well.
  RemotingCommand refused = SendRequest("Orders", 9, "x");
  refused.serialize_type = mqremoting::SerializeType::kRocketMq;
  RemotingCommand answer = CallBroker(std::move(refused));
  EXPECT_EQ(answer.code, code::kInvalidParameter);
  EXPECT_EQ(answer.serialize_type, mqremoting::SerializeType::kRocketMq);
}

// Frames that arrive together are put together (the sends of one read share one append);
// each is still answered on its own, a bad one with its own code, in queue order, and a
// request of another kind among them is served as well.
TEST_F(BrokerTest, SendsThatArriveTogetherAreEachAnsweredAndStoredInOrder) {
  CreateTopic("Together", 2);
  std::string frames;
  std::vector<int> queue_of;  // by opaque - 1; -1 for the refused send, -2 for the query
  for (int i = 0; i < 40; ++i) {
    RemotingCommand request = SendRequest("Together", i % 2, "body " + std::to_string(i));
    int queue = i % 2;
    if (i == 17) {
      request = SendRequest("Together", 9, "no such queue");
      queue = -1;
    } else if (i == 25) {
      request = RemotingCommand::Request(rc::kGetMaxOffset);
      request.SetExt("topic", "Together");
      request.SetExt("queueId", int64_t{0});
      queue = -2;
    }
    request.opaque = i + 1;
    queue_of.push_back(queue);
    frames += mqremoting::EncodeFrame(request);
  }
  const std::string host = broker_addr_.substr(broker_addr_.rfind(':') + 1);
  mqremoting::test::RawSocket raw(static_cast<uint16_t>(std::stoi(host)));
  ASSERT_TRUE(raw.connected());
  ASSERT_TRUE(raw.Write(frames));
  std::vector<std::optional<RemotingCommand>> answers(queue_of.size());
  for (size_t n = 0; n < queue_of.size(); ++n) {
    mqstore::Result<RemotingCommand> response = raw.ReadFrame();
    ASSERT_TRUE(response.ok()) << response.status().ToString();
    ASSERT_GE(response->opaque, 1);
    ASSERT_LE(response->opaque, static_cast<int32_t>(queue_of.size()));
    auto& slot = answers[static_cast<size_t>(response->opaque - 1)];
    EXPECT_FALSE(slot.has_value()) << "answered twice: " << response->opaque;
    slot = std::move(response).value();
  }
  std::vector<int64_t> next_offset(2, 0);
  std::vector<std::vector<std::string>> bodies(2);
  for (size_t i = 0; i < queue_of.size(); ++i) {
    SCOPED_TRACE("request " + std::to_string(i));
    const RemotingCommand& answer = *answers[i];
    if (queue_of[i] == -1) {
      EXPECT_EQ(answer.code, code::kInvalidParameter);
      continue;
    }
    ASSERT_EQ(answer.code, code::kSuccess) << answer.remark.value_or("");
    if (queue_of[i] == -2) continue;
    const size_t q = static_cast<size_t>(queue_of[i]);
    EXPECT_EQ(Ext(answer, "queueId"), std::to_string(q));
    EXPECT_EQ(Ext(answer, "queueOffset"), std::to_string(next_offset[q]++));
    bodies[q].push_back("body " + std::to_string(i));
  }
  AwaitDispatched();
  for (int q = 0; q < 2; ++q) {
    RemotingCommand pulled = CallBroker(PullRequest("CID_T", "Together", q, 0, 0));
    ASSERT_EQ(pulled.code, code::kSuccess) << pulled.remark.value_or("");
    const std::string body = pulled.BodyBytes();
    auto records = Records(body);
    ASSERT_EQ(records.size(), bodies[static_cast<size_t>(q)].size());
    for (size_t k = 0; k < records.size(); ++k) {
      EXPECT_EQ(records[k].body, bodies[static_cast<size_t>(q)][k]);
    }
  }
}

TEST_F(BrokerTest, ASendToAnUnknownTopicCreatesItFromTheDefaultTopic) {
  RemotingCommand sent = CallBroker(SendRequest("NewTopic", 1, "x"));
  ASSERT_EQ(sent.code, code::kSuccess) << sent.remark.value_or("");
  RemotingCommand request = RemotingCommand::Request(rc::kGetAllTopicConfig);
  RemotingCommand all = CallBroker(std::move(request));
  ASSERT_EQ(all.code, code::kSuccess);
  auto table = mqremoting::DecodeJson<mqremoting::TopicConfigSerializeWrapper>(all.body);
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  ASSERT_EQ(table->topic_config_table.count("NewTopic"), 1u);
  EXPECT_EQ(table->topic_config_table.at("NewTopic").write_queue_nums, 4);
}

TEST_F(BrokerTest, BadSendsGetTheCodesAJavaBrokerGives) {
  CreateTopic("Orders", 4);
  EXPECT_EQ(CallBroker(SendRequest("bad topic!", 0, "x")).code, code::kInvalidParameter);
  EXPECT_EQ(CallBroker(SendRequest("SCHEDULE_TOPIC_XXXX", 0, "x")).code, code::kNoPermission);
  EXPECT_EQ(CallBroker(SendRequest("Orders", 9, "x")).code, code::kInvalidParameter);
  RemotingCommand missing = SendRequest("Orders", 0, "x");
  missing.ext_fields.erase("b");
  RemotingCommand response = CallBroker(std::move(missing));
  EXPECT_EQ(response.code, code::kSystemError);
  EXPECT_NE(response.remark.value_or("").find("b"), std::string::npos);
  EXPECT_EQ(CallBroker(SendRequest("Orders", 0, std::string(5 << 20, 'x'))).code,
            code::kMessageIllegal);
  EXPECT_EQ(CallBroker(RemotingCommand::Request(9999)).code, code::kRequestCodeNotSupported);
  // The broker still serves.
  EXPECT_EQ(CallBroker(SendRequest("Orders", 0, "ok")).code, code::kSuccess);
}

TEST_F(BrokerTest, AHeldPullIsAnsweredByTheNextMessage) {
  CreateTopic("Orders", 1);
  std::promise<mqstore::Result<RemotingCommand>> answered;
  client_->InvokeAsync(
      broker_addr_, PullRequest("CID_A", "Orders", 0, 0, 30000), 40s,
      [&answered](mqstore::Result<RemotingCommand> r) { answered.set_value(std::move(r)); });
  std::future<mqstore::Result<RemotingCommand>> pull = answered.get_future();
  // The pull is held: nothing comes back while the queue is empty.
  EXPECT_EQ(pull.wait_for(300ms), std::future_status::timeout);
  ASSERT_EQ(CallBroker(SendRequest("Orders", 0, "wake")).code, code::kSuccess);
  // A 30 s hold ends with the message well before its timeout (the test's own bound is 20 s).
  ASSERT_EQ(pull.wait_for(20s), std::future_status::ready);
  mqstore::Result<RemotingCommand> response = pull.get();
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  ASSERT_EQ(response->code, code::kSuccess) << response->remark.value_or("");
  const std::string body = response->BodyBytes();
  auto records = Records(body);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].body, "wake");
}

TEST_F(BrokerTest, AHeldPullWithoutMessagesEndsAsNotFoundWithAllOffsets) {
  CreateTopic("Orders", 1);
  RemotingCommand response = CallBroker(PullRequest("CID_A", "Orders", 0, 0, 200));
  EXPECT_EQ(response.code, code::kPullNotFound);
  EXPECT_EQ(Ext(response, "nextBeginOffset"), "0");
  EXPECT_EQ(Ext(response, "minOffset"), "0");
  EXPECT_EQ(Ext(response, "maxOffset"), "0");
}

TEST_F(BrokerTest, PullsOutsideTheQueueAreMovedToItsBounds) {
  CreateTopic("Orders", 1);
  ASSERT_EQ(CallBroker(SendRequest("Orders", 0, "one")).code, code::kSuccess);
  AwaitDispatched();
  RemotingCommand response = CallBroker(PullRequest("CID_A", "Orders", 0, 50, 0));
  EXPECT_EQ(response.code, code::kPullOffsetMoved);
  EXPECT_EQ(Ext(response, "nextBeginOffset"), "1");
  EXPECT_EQ(CallBroker(PullRequest("CID_A", "Nope", 0, 0, 0)).code, code::kTopicNotExist);
  EXPECT_EQ(CallBroker(PullRequest("CID_A", "Orders", 5, 0, 0)).code, code::kSystemError);
}

TEST_F(BrokerTest, ATagSubscriptionGetsOnlyItsTags) {
  CreateTopic("Orders", 1);
  for (int i = 0; i < 6; ++i) {
    ASSERT_EQ(
        CallBroker(SendRequest("Orders", 0, "m" + std::to_string(i), i % 2 ? "TagB" : "TagA")).code,
        code::kSuccess);
  }
  AwaitDispatched();
  RemotingCommand response = CallBroker(PullRequest("CID_A", "Orders", 0, 0, 0, "TagB || TagC"));
  ASSERT_EQ(response.code, code::kSuccess) << response.remark.value_or("");
  const std::string body = response.BodyBytes();
  auto records = Records(body);
  ASSERT_EQ(records.size(), 3u);
  for (const auto& record : records) {
    EXPECT_EQ(mqstore::FindProperty(record.properties, "TAGS").value_or(""), "TagB");
  }
  EXPECT_EQ(Ext(response, "nextBeginOffset"), "6");
}

TEST_F(BrokerTest, APullWithoutSubscriptionUsesTheHeartbeatsOne) {
  CreateTopic("Orders", 1);
  ASSERT_EQ(CallBroker(SendRequest("Orders", 0, "m", "TagA")).code, code::kSuccess);
  AwaitDispatched();
  // No heartbeat yet: the broker does not know what the group subscribes to.
  EXPECT_EQ(CallBroker(PullRequest("CID_A", "Orders", 0, 0, 0, "", 0)).code,
            code::kSubscriptionNotExist);

  ASSERT_EQ(CallBroker(ConsumerHeartbeat("127.0.0.1@1", "CID_A", "Orders", "TagB")).code,
            code::kSuccess);

  // TagB only: the TagA message is skipped.
  RemotingCommand response = CallBroker(PullRequest("CID_A", "Orders", 0, 0, 0, "", 0));
  EXPECT_EQ(response.code, code::kPullRetryImmediately);
  EXPECT_EQ(Ext(response, "nextBeginOffset"), "1");
}

TEST_F(BrokerTest, TheBrokerIsRoutableAsSoonAsStartReturns) {
  // No waiting: Start registered with the name server before it returned.
  RemotingCommand info = RemotingCommand::Request(rc::kGetBrokerClusterInfo);
  RemotingCommand answer = Call(namesrv_addr_, std::move(info));
  ASSERT_EQ(answer.code, code::kSuccess);
  auto cluster = mqremoting::DecodeJson<mqremoting::ClusterInfo>(answer.body);
  ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
  ASSERT_EQ(cluster->broker_addr_table.count(config_.brokerName), 1u);
  RemotingCommand route = RemotingCommand::Request(rc::kGetRouteInfoByTopic);
  route.SetExt("topic", "TBW102");
  EXPECT_EQ(Call(namesrv_addr_, std::move(route)).code, code::kSuccess);
}

TEST_F(BrokerTest, AHeartbeatRegistersTheConsumerAndItsRoutableRetryTopic) {
  mqremoting::HeartbeatData heartbeat;
  heartbeat.client_id = "10.0.0.5@4242";
  mqremoting::ConsumerData consumer;
  consumer.group_name = "CID_B";
  heartbeat.consumers = {consumer};
  RemotingCommand beat = RemotingCommand::Request(rc::kHeartBeat);
  beat.body = mqremoting::EncodeHeartbeatData(heartbeat);
  ASSERT_EQ(CallBroker(std::move(beat)).code, code::kSuccess);

  RemotingCommand list = RemotingCommand::Request(rc::kGetConsumerListByGroup);
  list.SetExt("consumerGroup", "CID_B");
  RemotingCommand ids = CallBroker(std::move(list));
  ASSERT_EQ(ids.code, code::kSuccess);
  auto parsed = mqremoting::ParseConsumerIdList(ids.body);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, std::vector<std::string>{"10.0.0.5@4242"});

  // Registered with the name server before the heartbeat was answered.
  RemotingCommand route = RemotingCommand::Request(rc::kGetRouteInfoByTopic);
  route.SetExt("topic", "%RETRY%CID_B");
  EXPECT_EQ(Call(namesrv_addr_, std::move(route)).code, code::kSuccess);

  RemotingCommand unknown = RemotingCommand::Request(rc::kGetConsumerListByGroup);
  unknown.SetExt("consumerGroup", "CID_NOBODY");
  EXPECT_EQ(CallBroker(std::move(unknown)).code, code::kSystemError);
}

TEST_F(BrokerTest, CommittedOffsetsSurviveARestart) {
  CreateTopic("Orders", 2);
  ASSERT_EQ(CallBroker(SendRequest("Orders", 1, "m")).code, code::kSuccess);
  AwaitDispatched();
  auto query = [&]() {
    RemotingCommand request = RemotingCommand::Request(rc::kQueryConsumerOffset);
    request.SetExt("consumerGroup", "CID_C");
    request.SetExt("topic", "Orders");
    request.SetExt("queueId", int64_t{1});
    return CallBroker(std::move(request));
  };
  // A new group on a queue that still starts at 0 starts at 0.
  RemotingCommand first = query();
  ASSERT_EQ(first.code, code::kSuccess);
  EXPECT_EQ(Ext(first, "offset"), "0");

  RemotingCommand update = RemotingCommand::Request(rc::kUpdateConsumerOffset);
  update.SetExt("consumerGroup", "CID_C");
  update.SetExt("topic", "Orders");
  update.SetExt("queueId", int64_t{1});
  update.SetExt("commitOffset", int64_t{1});
  ASSERT_EQ(CallBroker(std::move(update)).code, code::kSuccess);
  EXPECT_EQ(Ext(query(), "offset"), "1");

  ASSERT_TRUE(broker_->Shutdown().ok());
  broker_.reset();
  StartBroker();
  EXPECT_EQ(Ext(query(), "offset"), "1");

  RemotingCommand max = RemotingCommand::Request(rc::kGetMaxOffset);
  max.SetExt("topic", "Orders");
  max.SetExt("queueId", int64_t{1});
  EXPECT_EQ(Ext(CallBroker(std::move(max)), "offset"), "1");
}

TEST_F(BrokerTest, ABatchIsStoredAsConsecutiveMessages) {
  CreateTopic("Orders", 1);
  std::string body;
  for (int i = 0; i < 3; ++i) {
    std::string message_body = "b" + std::to_string(i);
    std::string properties;
    mqstore::AppendProperty("KEYS", "key" + std::to_string(i), &properties);
    uint32_t total = 4 + 4 + 4 + 4 + 4 + message_body.size() + 2 + properties.size();
    mqstore::PutBig32(&body, total);
    mqstore::PutBig32(&body, 0);
    mqstore::PutBig32(&body, 0);
    mqstore::PutBig32(&body, 0);
    mqstore::PutBig32(&body, static_cast<uint32_t>(message_body.size()));
    body += message_body;
    mqstore::PutBig16(&body, static_cast<uint16_t>(properties.size()));
    body += properties;
  }
  RemotingCommand request = SendRequest("Orders", 0, body);
  request.code = rc::kSendBatchMessage;
  RemotingCommand sent = CallBroker(std::move(request));
  ASSERT_EQ(sent.code, code::kSuccess) << sent.remark.value_or("");
  EXPECT_EQ(Ext(sent, "queueOffset"), "0");
  const std::string ids = Ext(sent, "msgId");
  EXPECT_EQ(std::count(ids.begin(), ids.end(), ','), 2) << ids;
  AwaitDispatched();
  const std::string pulled = CallBroker(PullRequest("CID_A", "Orders", 0, 0, 0)).BodyBytes();
  auto records = Records(pulled);
  ASSERT_EQ(records.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(records[i].body, "b" + std::to_string(i));
    EXPECT_EQ(records[i].queue_offset, i);
  }
}

TEST_F(BrokerTest, ASentBackMessageComesBackThroughTheRetryTopic) {
  CreateTopic("Orders", 1);
  ASSERT_EQ(CallBroker(SendRequest("Orders", 0, "retry me", "TagA")).code, code::kSuccess);
  AwaitDispatched();
  const std::string body = CallBroker(PullRequest("CID_R", "Orders", 0, 0, 0)).BodyBytes();
  auto records = Records(body);
  ASSERT_EQ(records.size(), 1u);

  RemotingCommand back = RemotingCommand::Request(rc::kConsumerSendMsgBack);
  back.version = mqremoting::version::kV3_4_9;
  back.SetExt("offset", records[0].physical_offset);
  back.SetExt("group", "CID_R");
  back.SetExt("delayLevel", int64_t{0});
  back.SetExt("maxReconsumeTimes", int64_t{16});
  RemotingCommand answered = CallBroker(std::move(back));
  ASSERT_EQ(answered.code, code::kSuccess) << answered.remark.value_or("");

  // Delay level 3 is 1 s in this broker; a long poll sees it arrive.
  RemotingCommand retried =
      Call(broker_addr_, PullRequest("CID_R", "%RETRY%CID_R", 0, 0, 15000), 20s);
  ASSERT_EQ(retried.code, code::kSuccess) << retried.remark.value_or("");
  const std::string retried_body = retried.BodyBytes();
  auto copies = Records(retried_body);
  ASSERT_EQ(copies.size(), 1u);
  EXPECT_EQ(copies[0].body, "retry me");
  EXPECT_EQ(copies[0].reconsume_times, 1);
  EXPECT_EQ(mqstore::FindProperty(copies[0].properties, "RETRY_TOPIC").value_or(""), "Orders");
}

TEST_F(BrokerTest, AMessageIsFoundByKeyAndByOffset) {
  CreateTopic("Orders", 1);
  RemotingCommand sent = CallBroker(SendRequest("Orders", 0, "findme", "", "order-42"));
  ASSERT_EQ(sent.code, code::kSuccess);
  broker_->store()->Flush().IgnoreError();

  RemotingCommand query = RemotingCommand::Request(rc::kQueryMessage);
  query.SetExt("topic", "Orders");
  query.SetExt("key", "order-42");
  query.SetExt("maxNum", int64_t{10});
  query.SetExt("beginTimestamp", int64_t{0});
  query.SetExt("endTimestamp", int64_t{INT64_MAX});
  RemotingCommand found;
  // The index is written by the dispatcher, just after the put returns.
  for (int attempt = 0; attempt < 100; ++attempt) {
    found = CallBroker(query);
    if (found.code == code::kSuccess) break;
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(found.code, code::kSuccess) << found.remark.value_or("");
  const std::string body = found.BodyBytes();
  auto records = Records(body);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].body, "findme");

  auto decoded = mqstore::DecodeOffsetMessageId(Ext(sent, "msgId"));
  ASSERT_TRUE(decoded.has_value());
  RemotingCommand view = RemotingCommand::Request(rc::kViewMessageById);
  view.SetExt("offset", decoded->second);
  RemotingCommand viewed = CallBroker(std::move(view));
  ASSERT_EQ(viewed.code, code::kSuccess);
  const std::string viewed_body = viewed.BodyBytes();
  EXPECT_EQ(Records(viewed_body).at(0).body, "findme");
}

// Receives the requests a broker sends to its clients.
class RecordingHandler : public mqremoting::RequestHandler {
 public:
  void OnRequest(const std::shared_ptr<mqremoting::Connection>&, RemotingCommand request) override {
    std::lock_guard<std::mutex> lock(mu_);
    requests_.push_back(std::move(request));
    arrived_.notify_all();
  }
  // The first request with `code`, waiting up to `timeout`.
  std::optional<RemotingCommand> Await(int32_t code, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    std::optional<RemotingCommand> found;
    arrived_.wait_for(lock, timeout, [&] {
      for (const RemotingCommand& r : requests_) {
        if (r.code == code) {
          found = r;
          return true;
        }
      }
      return false;
    });
    return found;
  }

 private:
  std::mutex mu_;
  std::condition_variable arrived_;
  std::vector<RemotingCommand> requests_;
};

TEST_F(BrokerTest, AHalfMessageIsInvisibleUntilCommitted) {
  CreateTopic("Orders", 1);
  RemotingCommand prepared = SendRequest("Orders", 0, "half");
  std::string properties;
  mqstore::AppendProperty("TRAN_MSG", "true", &properties);
  mqstore::AppendProperty("PGROUP", "PID_TX", &properties);
  prepared.SetExt("i", properties);
  prepared.SetExt("f", int64_t{0x4});  // TRANSACTION_PREPARED_TYPE
  RemotingCommand sent = CallBroker(std::move(prepared));
  ASSERT_EQ(sent.code, code::kSuccess) << sent.remark.value_or("");
  AwaitDispatched();
  EXPECT_EQ(CallBroker(PullRequest("CID_T", "Orders", 0, 0, 0)).code, code::kPullNotFound);

  auto decoded = mqstore::DecodeOffsetMessageId(Ext(sent, "msgId"));
  ASSERT_TRUE(decoded.has_value());
  RemotingCommand end = RemotingCommand::Request(rc::kEndTransaction);
  end.SetExt("producerGroup", "PID_TX");
  end.SetExt("tranStateTableOffset", Ext(sent, "queueOffset"));
  end.SetExt("commitLogOffset", decoded->second);
  end.SetExt("commitOrRollback", int64_t{8});
  end.SetExt("msgId", Ext(sent, "transactionId"));
  ASSERT_EQ(CallBroker(std::move(end)).code, code::kSuccess);
  AwaitDispatched();
  RemotingCommand pulled = CallBroker(PullRequest("CID_T", "Orders", 0, 0, 5000));
  ASSERT_EQ(pulled.code, code::kSuccess) << pulled.remark.value_or("");
  const std::string body = pulled.BodyBytes();
  EXPECT_EQ(Records(body).at(0).body, "half");

  RemotingCommand bad = RemotingCommand::Request(rc::kEndTransaction);
  bad.SetExt("producerGroup", "PID_TX");
  bad.SetExt("tranStateTableOffset", int64_t{0});
  bad.SetExt("commitLogOffset", int64_t{123456789});
  bad.SetExt("commitOrRollback", int64_t{8});
  bad.SetExt("msgId", "x");
  EXPECT_EQ(CallBroker(std::move(bad)).code, code::kSystemError);
}

TEST_F(BrokerTest, AnUnresolvedHalfMessageIsCheckedWithItsProducer) {
  ASSERT_TRUE(broker_->Shutdown().ok());
  broker_.reset();
  config_.transactionTimeOut = 100;
  config_.transactionCheckInterval = 200;
  StartBroker();
  CreateTopic("Orders", 1);

  auto handler = std::make_shared<RecordingHandler>();
  auto producer = mqremoting::RemotingClient::Create({}, handler);
  mqremoting::HeartbeatData heartbeat;
  heartbeat.client_id = "127.0.0.1@7";
  heartbeat.producers = {mqremoting::ProducerData{"PID_TX"}};
  RemotingCommand beat = RemotingCommand::Request(rc::kHeartBeat);
  beat.body = mqremoting::EncodeHeartbeatData(heartbeat);
  auto beat_response = producer->InvokeSync(broker_addr_, std::move(beat), kTimeout);
  ASSERT_TRUE(beat_response.ok() && beat_response->code == code::kSuccess);

  RemotingCommand prepared = SendRequest("Orders", 0, "forgotten");
  std::string properties;
  mqstore::AppendProperty("TRAN_MSG", "true", &properties);
  mqstore::AppendProperty("PGROUP", "PID_TX", &properties);
  prepared.SetExt("i", properties);
  prepared.SetExt("f", int64_t{0x4});
  auto sent = producer->InvokeSync(broker_addr_, std::move(prepared), kTimeout);
  ASSERT_TRUE(sent.ok() && sent->code == code::kSuccess);

  std::optional<RemotingCommand> check = handler->Await(rc::kCheckTransactionState, 20s);
  ASSERT_TRUE(check.has_value()) << "no CHECK_TRANSACTION_STATE within 20 s";
  EXPECT_TRUE(check->is_oneway());
  EXPECT_EQ(Ext(*check, "topic"), "Orders");
  EXPECT_EQ(Ext(*check, "msgId"), Ext(*sent, "transactionId"));
  auto records = Records(check->body, /*verify_checksums=*/false);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].topic, "Orders");
  EXPECT_EQ(records[0].body, "forgotten");

  // The producer answers with a commit of the checked copy.
  RemotingCommand end = RemotingCommand::Request(rc::kEndTransaction);
  end.SetExt("producerGroup", "PID_TX");
  end.SetExt("tranStateTableOffset", Ext(*check, "tranStateTableOffset"));
  end.SetExt("commitLogOffset", Ext(*check, "commitLogOffset"));
  end.SetExt("commitOrRollback", int64_t{8});
  end.SetExt("fromTransactionCheck", true);
  end.SetExt("msgId", Ext(*check, "msgId"));
  auto ended = producer->InvokeSync(broker_addr_, std::move(end), kTimeout);
  ASSERT_TRUE(ended.ok() && ended->code == code::kSuccess);
  RemotingCommand pulled = CallBroker(PullRequest("CID_T", "Orders", 0, 0, 10000));
  ASSERT_EQ(pulled.code, code::kSuccess) << pulled.remark.value_or("");
  const std::string pulled_body = pulled.BodyBytes();
  EXPECT_EQ(Records(pulled_body).at(0).body, "forgotten");
  producer->Shutdown();
}

TEST_F(BrokerTest, MembersAreToldWhenTheirGroupChanges) {
  auto first_handler = std::make_shared<RecordingHandler>();
  auto first = mqremoting::RemotingClient::Create({}, first_handler);
  auto second = mqremoting::RemotingClient::Create({});
  auto beat = [&](mqremoting::RemotingClient* client, const std::string& client_id) {
    mqremoting::HeartbeatData heartbeat;
    heartbeat.client_id = client_id;
    mqremoting::ConsumerData consumer;
    consumer.group_name = "CID_N";
    heartbeat.consumers = {consumer};
    RemotingCommand request = RemotingCommand::Request(rc::kHeartBeat);
    request.body = mqremoting::EncodeHeartbeatData(heartbeat);
    auto response = client->InvokeSync(broker_addr_, std::move(request), kTimeout);
    ASSERT_TRUE(response.ok() && response->code == code::kSuccess);
  };
  beat(first.get(), "10.0.0.1@1");
  beat(second.get(), "10.0.0.2@2");
  std::optional<RemotingCommand> notify = first_handler->Await(rc::kNotifyConsumerIdsChanged, 10s);
  ASSERT_TRUE(notify.has_value());
  EXPECT_TRUE(notify->is_oneway());
  EXPECT_EQ(Ext(*notify, "consumerGroup"), "CID_N");

  // A member that goes away (its connection closes) leaves the list.
  second->Shutdown();
  RemotingCommand list = RemotingCommand::Request(rc::kGetConsumerListByGroup);
  list.SetExt("consumerGroup", "CID_N");
  std::vector<std::string> ids;
  for (int attempt = 0; attempt < 200; ++attempt) {
    auto parsed = mqremoting::ParseConsumerIdList(CallBroker(list).body);
    ASSERT_TRUE(parsed.ok());
    ids = *parsed;
    if (ids.size() == 1) break;
    std::this_thread::sleep_for(25ms);
  }
  EXPECT_EQ(ids, std::vector<std::string>{"10.0.0.1@1"});
  first->Shutdown();
}

// GET_CONSUME_STATS says where the group's pulls left off and how fast it pulled over the last
// minute; GET_CONSUMER_CONNECTION_LIST says what language and version each member's frames
// carried (all three used to be placeholders: commit offset, 0.0, OTHER/0).
TEST_F(BrokerTest, ConsumeStatsAndConnectionsReportPullsAndClientVersions) {
  CreateTopic("Stats", 1);
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(CallBroker(SendRequest("Stats", 0, "m" + std::to_string(i))).code, code::kSuccess);
  }
  AwaitDispatched();

  RemotingCommand beat = ConsumerHeartbeat("127.0.0.1@stats", "CID_STATS", "Stats", "*");
  beat.language = "JAVA";
  beat.version = 433;
  ASSERT_EQ(CallBroker(std::move(beat)).code, code::kSuccess);

  RemotingCommand list = RemotingCommand::Request(rc::kGetConsumerConnectionList);
  list.SetExt("consumerGroup", "CID_STATS");
  RemotingCommand listed = CallBroker(std::move(list));
  ASSERT_EQ(listed.code, code::kSuccess) << listed.remark.value_or("");
  auto connection = mqremoting::ParseConsumerConnection(listed.BodyBytes());
  ASSERT_TRUE(connection.ok()) << connection.status().ToString();
  ASSERT_EQ(connection->connections.size(), 1u);
  EXPECT_EQ(connection->connections[0].language, "JAVA");
  EXPECT_EQ(connection->connections[0].version, 433);

  auto consume_stats = [&]() {
    RemotingCommand request = RemotingCommand::Request(rc::kGetConsumeStats);
    request.SetExt("consumerGroup", "CID_STATS");
    request.SetExt("topic", "Stats");
    RemotingCommand response = CallBroker(std::move(request));
    EXPECT_EQ(response.code, code::kSuccess) << response.remark.value_or("");
    auto stats = mqremoting::ParseConsumeStats(response.BodyBytes());
    EXPECT_TRUE(stats.ok()) << stats.status().ToString();
    return stats.ok() ? *stats : mqremoting::ConsumeStats{};
  };
  mqremoting::ConsumeStats before = consume_stats();
  ASSERT_EQ(before.offset_table.size(), 1u);
  EXPECT_EQ(before.offset_table[0].second.pull_offset, 0);  // nothing pulled, nothing committed
  EXPECT_EQ(before.consume_tps, 0.0);

  // Pull 5 messages without committing: the pull offset moves, the consumer offset does not.
  RemotingCommand pulled = CallBroker(PullRequest("CID_STATS", "Stats", 0, 0, 0));
  ASSERT_EQ(pulled.code, code::kSuccess) << pulled.remark.value_or("");
  mqremoting::ConsumeStats after = consume_stats();
  ASSERT_EQ(after.offset_table.size(), 1u);
  EXPECT_EQ(after.offset_table[0].second.pull_offset, 5);
  EXPECT_EQ(after.offset_table[0].second.consumer_offset, 0);
  EXPECT_EQ(after.offset_table[0].second.broker_offset, 5);
  EXPECT_DOUBLE_EQ(after.consume_tps, 5.0 / 60);  // 5 messages in the last minute
}

}  // namespace
}  // namespace mqbroker

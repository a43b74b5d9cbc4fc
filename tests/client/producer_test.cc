// Producer against an in-process name server and broker: a round trip through a pull consumer
// keeps every field, failed sends are retried on another broker's queue, and the per-topic
// publish info is built once, reused by every send, and rebuilt after a route change once the
// route was refreshed (explicitly, by a retry, or by the background refresh).
#include "mqclient/producer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cluster_fixture.h"
#include "mqclient/pull_consumer.h"
#include "remoting/codes.h"
#include "remoting/route_data.h"

namespace mqclient {
namespace {

using namespace std::chrono_literals;
using mqremoting::RemotingCommand;

// Sends `n` messages with SendAsync and waits (bounded) for every completion.
std::vector<Result<SendResult>> SendAsyncAndWait(Producer& producer, const Message& message,
                                                 int n) {
  struct Results {
    std::mutex mu;
    std::condition_variable done;
    std::vector<Result<SendResult>> results;
  };
  auto results = std::make_shared<Results>();
  for (int i = 0; i < n; ++i) {
    producer.SendAsync(message, [results](Result<SendResult> result) {
      std::lock_guard<std::mutex> lock(results->mu);
      results->results.push_back(std::move(result));
      results->done.notify_all();
    });
  }
  std::unique_lock<std::mutex> lock(results->mu);
  results->done.wait_for(lock, 30s, [&] { return results->results.size() == size_t(n); });
  return results->results;
}

class ProducerTest : public ClusterFixture {
 protected:
  // CreateTopic, then waits (bounded) until the name server serves the new queue count.
  void CreateTopicAndAwaitRoute(const std::string& topic, int queues) {
    CreateTopic(topic, queues);
    auto deadline = std::chrono::steady_clock::now() + 10s;
    for (;;) {
      auto route = namesrv_->registry().GetRoute(topic);
      if (route && !route->queue_datas.empty() &&
          route->queue_datas[0].write_queue_nums == queues) {
        return;
      }
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "route of " << topic;
      std::this_thread::sleep_for(5ms);
    }
  }
  ProducerOptions Options() const {
    ProducerOptions options;
    options.namesrv_addr = namesrv_addr_;
    options.route_refresh_interval = 0ms;  // refreshed only where a test says so
    return options;
  }
  static Message MessageTo(const std::string& topic) {
    Message message;
    message.topic = topic;
    message.body = "payload";
    return message;
  }
};

TEST_F(ProducerTest, RoundTripKeepsBodyTagsKeysPropertiesAndIds) {
  CreateTopic("RoundTrip", 2);
  ProducerOptions options;
  options.namesrv_addr = namesrv_addr_;
  Producer producer(options);
  ASSERT_TRUE(producer.Start().ok());

  std::vector<SendResult> sent;
  for (int i = 0; i < 6; ++i) {
    Message message;
    message.topic = "RoundTrip";
    message.body = "body-" + std::to_string(i);
    message.tags = i % 2 == 0 ? "TagA" : "TagB";
    message.keys = "key-" + std::to_string(i) + " shared";
    message.user_properties = {{"color", "red"}, {"index", std::to_string(i)}};
    Result<SendResult> result = producer.Send(message);
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_EQ(result->status, SendStatus::kSendOk);
    EXPECT_EQ(result->attempts, 1);
    EXPECT_EQ(result->unique_id.size(), 32u);
    EXPECT_TRUE(mqstore::DecodeOffsetMessageId(result->msg_id).has_value()) << result->msg_id;
    sent.push_back(*result);
  }
  // Round robin over both queues: offsets 0,1,2 in each.
  std::set<std::string> unique_ids;
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(sent[i].queue.queue_id, i % 2);
    EXPECT_EQ(sent[i].queue_offset, i / 2);
    unique_ids.insert(sent[i].unique_id);
  }
  EXPECT_EQ(unique_ids.size(), 6u);
  AwaitDispatched();

  PullConsumerOptions consumer_options;
  consumer_options.namesrv_addr = namesrv_addr_;
  consumer_options.group = "CID_ROUND_TRIP";
  PullConsumer consumer(consumer_options);
  ASSERT_TRUE(consumer.Start().ok());
  Result<std::vector<MessageQueue>> queues = consumer.FetchQueues("RoundTrip");
  ASSERT_TRUE(queues.ok()) << queues.status().ToString();
  ASSERT_EQ(queues->size(), 2u);
  int matched = 0;
  for (const MessageQueue& queue : *queues) {
    Result<PullResult> pulled = consumer.Pull(queue, 0, 32, 2s);
    ASSERT_TRUE(pulled.ok()) << pulled.status().ToString();
    ASSERT_EQ(pulled->status, PullStatus::kFound);
    ASSERT_EQ(pulled->messages.size(), 3u);
    EXPECT_EQ(pulled->next_begin_offset, 3);
    for (const ReceivedMessage& m : pulled->messages) {
      const SendResult& original = sent[m.queue_offset * 2 + m.queue_id];
      int i = static_cast<int>(m.queue_offset * 2 + m.queue_id);
      EXPECT_EQ(m.topic, "RoundTrip");
      EXPECT_EQ(m.body, "body-" + std::to_string(i));
      EXPECT_EQ(m.tags, i % 2 == 0 ? "TagA" : "TagB");
      EXPECT_EQ(m.keys, "key-" + std::to_string(i) + " shared");
      EXPECT_EQ(m.UserProperties(), (std::map<std::string, std::string>{
                                        {"color", "red"}, {"index", std::to_string(i)}}));
      EXPECT_EQ(m.unique_id, original.unique_id);
      EXPECT_EQ(m.msg_id, original.msg_id);
      EXPECT_EQ(m.queue_id, original.queue.queue_id);
      EXPECT_GT(m.store_timestamp_ms, 0);
      EXPECT_GT(m.born_timestamp_ms, 0);
      EXPECT_EQ(m.reconsume_times, 0);
      ++matched;
    }
  }
  EXPECT_EQ(matched, 6);
}

TEST_F(ProducerTest, SendToNewTopicUsesTheDefaultTopicRoute) {
  ProducerOptions options;
  options.namesrv_addr = namesrv_addr_;
  Producer producer(options);
  ASSERT_TRUE(producer.Start().ok());
  Message message;
  message.topic = "AutoCreated";
  message.body = "x";
  Result<SendResult> result = producer.Send(message);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->queue.broker_name, broker_name_);
  EXPECT_EQ(result->queue_offset, 0);
}

TEST_F(ProducerTest, HeartbeatToNewBrokersReachesEachBrokerOnce) {
  CreateTopicAndAwaitRoute("Beating", 2);
  Producer producer(Options());
  ASSERT_TRUE(producer.Start().ok());
  EXPECT_TRUE(producer.SendHeartbeatToNewBrokers().ok());  // no topic sent to yet: nobody
  ASSERT_TRUE(producer.Send(MessageTo("Beating")).ok());
  ASSERT_TRUE(producer.SendHeartbeatToNewBrokers().ok());  // the broker is new: it is told
  // With the broker gone, only a heartbeat that really goes out can fail.
  ASSERT_TRUE(broker_->Shutdown().ok());
  EXPECT_TRUE(producer.SendHeartbeatToNewBrokers().ok());
  EXPECT_FALSE(producer.SendHeartbeat().ok());
  producer.Shutdown();
}

TEST_F(ProducerTest, StartWithoutNameServerIsAnError) {
  Producer producer(ProducerOptions{});
  EXPECT_TRUE(producer.Start().IsInvalidArgument());
  Message message;
  message.topic = "T";
  EXPECT_TRUE(producer.Send(message).status().IsFailedPrecondition());
}

// ---- compression ----

// The record a send stored: its sys_flag and the size of its stored body.
struct StoredShape {
  int32_t sys_flag = -1;
  size_t body_bytes = 0;
};

class CompressionTest : public ProducerTest {
 protected:
  StoredShape Stored(const SendResult& sent) {
    auto id = mqstore::DecodeOffsetMessageId(sent.msg_id);
    EXPECT_TRUE(id.has_value()) << sent.msg_id;
    if (!id) return {};
    auto record = broker_->store()->ReadRecord(id->second);
    EXPECT_TRUE(record.ok()) << record.status().ToString();
    if (!record.ok()) return {};
    mqstore::ParsedRecord parsed;
    EXPECT_TRUE(mqstore::ParseRecord(record->bytes, /*verify_checksums=*/true, &parsed).ok());
    return {parsed.sys_flag, parsed.body.size()};
  }
  // Every message of `topic`'s queue 0 from offset 0.
  std::vector<ReceivedMessage> PullAll(const std::string& topic) {
    AwaitDispatched();
    PullConsumerOptions options;
    options.namesrv_addr = namesrv_addr_;
    options.group = "CID_COMPRESSION";
    PullConsumer consumer(options);
    EXPECT_TRUE(consumer.Start().ok());
    Result<PullResult> pulled = consumer.Pull({topic, broker_name_, 0}, 0, 32, 2s);
    EXPECT_TRUE(pulled.ok()) << pulled.status().ToString();
    return pulled.ok() ? pulled->messages : std::vector<ReceivedMessage>{};
  }
};

TEST_F(CompressionTest, BodiesFromFourKiBGoCompressedAndComeBackAsSent) {
  CreateTopic("Compressed", 1);
  Producer producer(Options());
  ASSERT_TRUE(producer.Start().ok());
  std::string random_bytes(8192, '\0');
  uint32_t x = 12345;
  for (char& c : random_bytes) c = static_cast<char>((x = x * 1103515245u + 12345u) >> 24);
  const std::vector<std::string> bodies = {std::string(4095, 'a'), std::string(4096, 'b'),
                                           std::string(100000, 'c') + "end", random_bytes};
  std::vector<StoredShape> stored;
  for (const std::string& body : bodies) {
    Message message = MessageTo("Compressed");
    message.body = body;
    message.tags = "TagZ";
    Result<SendResult> sent = producer.Send(message);
    ASSERT_TRUE(sent.ok()) << sent.status().ToString();
    stored.push_back(Stored(*sent));
  }
  const int32_t zstd = mqstore::sysflag::kCompressed | 0x200;  // RocketMQ 5: type 2 = ZSTD
  EXPECT_EQ(stored[0].sys_flag, 0);                            // below RocketMQ's 4 KiB
  EXPECT_EQ(stored[0].body_bytes, 4095u);
  EXPECT_EQ(stored[1].sys_flag, zstd);
  EXPECT_LT(stored[1].body_bytes, 100u);
  EXPECT_EQ(stored[2].sys_flag, zstd);
  EXPECT_LT(stored[2].body_bytes, 1000u);
  EXPECT_EQ(stored[3].sys_flag, 0);  // does not shrink: sent as it is
  EXPECT_EQ(stored[3].body_bytes, 8192u);

  std::vector<ReceivedMessage> received = PullAll("Compressed");
  ASSERT_EQ(received.size(), bodies.size());
  for (size_t i = 0; i < bodies.size(); ++i) {
    EXPECT_EQ(received[i].body, bodies[i]) << i;
    EXPECT_EQ(received[i].sys_flag, 0) << i;
    EXPECT_EQ(received[i].tags, "TagZ");
  }
}

TEST_F(CompressionTest, ZlibForConsumersThatKnowOnlyZlibAndZeroTurnsItOff) {
  CreateTopic("Zlib", 1);
  ProducerOptions zlib_options = Options();
  zlib_options.compression_type = mqstore::CompressionType::kZlib;
  Producer zlib_producer(zlib_options);
  ASSERT_TRUE(zlib_producer.Start().ok());
  ProducerOptions off_options = Options();
  off_options.compress_bodies_from_bytes = 0;
  Producer plain_producer(off_options);
  ASSERT_TRUE(plain_producer.Start().ok());
  Message message = MessageTo("Zlib");
  message.body = std::string(20000, 'q');
  Result<SendResult> zlib_sent = zlib_producer.Send(message);
  ASSERT_TRUE(zlib_sent.ok()) << zlib_sent.status().ToString();
  Result<SendResult> plain_sent = plain_producer.Send(message);
  ASSERT_TRUE(plain_sent.ok()) << plain_sent.status().ToString();
  EXPECT_EQ(Stored(*zlib_sent).sys_flag, mqstore::sysflag::kCompressed | 0x300);
  EXPECT_EQ(Stored(*plain_sent).sys_flag, 0);
  EXPECT_EQ(Stored(*plain_sent).body_bytes, 20000u);
  std::vector<ReceivedMessage> received = PullAll("Zlib");
  ASSERT_EQ(received.size(), 2u);
  EXPECT_EQ(received[0].body, message.body);
  EXPECT_EQ(received[1].body, message.body);
}

TEST_F(CompressionTest, StartRefusesACompressionItCannotDo) {
  ProducerOptions bad_level = Options();
  bad_level.compression_level = 99;
  EXPECT_TRUE(Producer(bad_level).Start().IsInvalidArgument());
  ProducerOptions lz4 = Options();
  lz4.compression_type = mqstore::CompressionType::kLz4;
  EXPECT_EQ(Producer(lz4).Start().code(), mqstore::Status::Code::kNotSupported);
  lz4.compress_bodies_from_bytes = 0;  // never compresses: nothing to refuse
  EXPECT_TRUE(Producer(lz4).Start().ok());
}

// ---- ordered sends (queue selectors) and oneway ----

TEST_F(ProducerTest, TheHashSelectorPicksQueuesAsJavasStringHashCodeDoes) {
  CreateTopicAndAwaitRoute("Ordered", 4);
  Producer producer(Options());
  ASSERT_TRUE(producer.Start().ok());
  // Java: Math.abs("key".hashCode() % 4). "order-1" hashes to -1207111310, and
  // "polygenelubricants" to Integer.MIN_VALUE.
  const std::vector<std::pair<std::string, int32_t>> expected = {{"order-1", 2},
                                                                 {"order-2", 1},
                                                                 {"order-7", 0},
                                                                 {"abc", 2},
                                                                 {"key-1", 3},
                                                                 {"polygenelubricants", 0},
                                                                 {"\xE8\xAE\xA2\xE5\x8D\x95-9", 3}};
  std::map<int32_t, std::vector<int64_t>> offsets_by_queue;
  for (int round = 0; round < 2; ++round) {
    for (const auto& [key, queue_id] : expected) {
      Message message = MessageTo("Ordered");
      message.body = key + "#" + std::to_string(round);
      Result<SendResult> sent = producer.Send(message, SelectQueueByHash(), key);
      ASSERT_TRUE(sent.ok()) << sent.status().ToString();
      EXPECT_EQ(sent->queue.queue_id, queue_id) << key;
      EXPECT_EQ(sent->attempts, 1);
      offsets_by_queue[sent->queue.queue_id].push_back(sent->queue_offset);
    }
  }
  // One queue per key, so each key's messages follow each other in their queue's order.
  for (const auto& [queue_id, offsets] : offsets_by_queue) {
    EXPECT_TRUE(std::is_sorted(offsets.begin(), offsets.end())) << queue_id;
  }
}

TEST_F(ProducerTest, TheRandomSelectorAndOwnSelectorsPickAWritableQueue) {
  CreateTopicAndAwaitRoute("Selected", 4);
  Producer producer(Options());
  ASSERT_TRUE(producer.Start().ok());
  std::set<int32_t> seen;
  for (int i = 0; i < 64; ++i) {
    Result<SendResult> sent = producer.Send(MessageTo("Selected"), SelectQueueByRandom(), "");
    ASSERT_TRUE(sent.ok()) << sent.status().ToString();
    seen.insert(sent->queue.queue_id);
  }
  EXPECT_GT(seen.size(), 1u);  // 64 picks of 4 all alike: (1/4)^63
  EXPECT_LE(*seen.rbegin(), 3);

  size_t offered = 0;
  auto last = [&offered](const std::vector<MessageQueue>& queues, const Message& message,
                         std::string_view arg) {
    offered = queues.size();
    EXPECT_EQ(message.topic, "Selected");
    EXPECT_EQ(arg, "the arg");
    return queues.size() - 1;
  };
  Result<SendResult> sent = producer.Send(MessageTo("Selected"), last, "the arg");
  ASSERT_TRUE(sent.ok()) << sent.status().ToString();
  EXPECT_EQ(offered, 4u);
  EXPECT_EQ(sent->queue.queue_id, 3);

  auto beyond = [](const std::vector<MessageQueue>& queues, const Message&, std::string_view) {
    return queues.size();
  };
  Result<SendResult> refused = producer.Send(MessageTo("Selected"), beyond, "");
  EXPECT_TRUE(refused.status().IsInvalidArgument()) << refused.status().ToString();
  EXPECT_NE(refused.status().message().find("picked queue 4"), std::string::npos);
  EXPECT_TRUE(producer.Send(MessageTo("Selected"), nullptr, "").status().IsInvalidArgument());
  // The stock selectors called on no queues pick one that is out of range, not undefined.
  const Message any = MessageTo("Selected");
  EXPECT_EQ(SelectQueueByHash()({}, any, "k"), 0u);
  EXPECT_EQ(SelectQueueByRandom()({}, any, "k"), 0u);
}

TEST_F(ProducerTest, OnewaySendsAreStoredWithoutAnAnswer) {
  CreateTopicAndAwaitRoute("Oneway", 2);
  Producer producer(Options());
  ASSERT_TRUE(producer.Start().ok());
  for (int i = 0; i < 10; ++i) {
    Message message = MessageTo("Oneway");
    message.body = "oneway-" + std::to_string(i);
    ASSERT_TRUE(producer.SendOneway(message).ok());
  }
  // Nothing answers a oneway send: wait (bounded) until the broker has stored all ten.
  mqstore::Store* store = broker_->store();
  auto deadline = std::chrono::steady_clock::now() + 10s;
  auto stored = [&] {
    EXPECT_TRUE(store->AwaitDispatched(store->Stats().appended_offset, 10000).ok());
    int64_t n = 0;
    for (int32_t queue = 0; queue < 2; ++queue) {
      Result<mqstore::QueueBounds> bounds = store->GetQueueBounds("Oneway", queue);
      if (bounds.ok()) n += bounds->max_offset;
    }
    return n;
  };
  while (stored() < 10 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(stored(), 10);
  producer.Shutdown();
  Message message = MessageTo("Oneway");
  EXPECT_TRUE(producer.SendOneway(message).IsFailedPrecondition());
}

// ---- batches ----

std::vector<std::string> SplitCommas(const std::string& text) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t comma; (comma = text.find(',', start)) != std::string::npos; start = comma + 1) {
    parts.push_back(text.substr(start, comma - start));
  }
  parts.push_back(text.substr(start));
  return parts;
}

TEST_F(ProducerTest, ABatchIsStoredTogetherInOrderWithEachMessagesOwnFields) {
  CreateTopicAndAwaitRoute("Batched", 2);
  Producer producer(Options());
  ASSERT_TRUE(producer.Start().ok());
  ASSERT_TRUE(producer.Send(MessageTo("Batched")).ok());  // queue 0 gets offset 0
  std::vector<Message> batch;
  for (int i = 0; i < 5; ++i) {
    Message message = MessageTo("Batched");
    message.body = "batched-" + std::to_string(i) + std::string(i * 3000, 'z');  // 12 KB max
    message.tags = "Tag" + std::to_string(i % 2);
    message.keys = "batch-key-" + std::to_string(i);
    message.flag = i;
    message.user_properties = {{"index", std::to_string(i)}};
    batch.push_back(message);
  }
  Result<SendResult> sent = producer.Send(batch);
  ASSERT_TRUE(sent.ok()) << sent.status().ToString();
  EXPECT_EQ(sent->status, SendStatus::kSendOk);
  EXPECT_EQ(sent->queue.queue_id, 1);  // round robin goes on
  EXPECT_EQ(sent->queue_offset, 0);
  const std::vector<std::string> offset_ids = SplitCommas(sent->msg_id);
  const std::vector<std::string> unique_ids = SplitCommas(sent->unique_id);
  ASSERT_EQ(offset_ids.size(), 5u) << sent->msg_id;
  ASSERT_EQ(unique_ids.size(), 5u) << sent->unique_id;

  AwaitDispatched();
  PullConsumerOptions consumer_options;
  consumer_options.namesrv_addr = namesrv_addr_;
  consumer_options.group = "CID_BATCH";
  PullConsumer consumer(consumer_options);
  ASSERT_TRUE(consumer.Start().ok());
  Result<PullResult> pulled = consumer.Pull({"Batched", broker_name_, 1}, 0, 32, 2s);
  ASSERT_TRUE(pulled.ok()) << pulled.status().ToString();
  ASSERT_EQ(pulled->messages.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    const ReceivedMessage& m = pulled->messages[i];
    EXPECT_EQ(m.queue_offset, i);
    EXPECT_EQ(m.body, batch[i].body);  // stored as sent: a batch is not compressed
    EXPECT_EQ(m.sys_flag, 0);
    EXPECT_EQ(m.tags, batch[i].tags);
    EXPECT_EQ(m.keys, batch[i].keys);
    EXPECT_EQ(m.flag, i);
    EXPECT_EQ(m.UserProperties(), batch[i].user_properties);
    EXPECT_EQ(m.unique_id, unique_ids[i]);
    EXPECT_EQ(m.msg_id, offset_ids[i]);
  }
}

TEST_F(ProducerTest, BatchesRocketMqRefusesAreRefused) {
  CreateTopicAndAwaitRoute("BadBatch", 1);
  Producer producer(Options());
  EXPECT_TRUE(
      producer.Send(std::vector<Message>{MessageTo("BadBatch")}).status().IsFailedPrecondition());
  ASSERT_TRUE(producer.Start().ok());
  EXPECT_TRUE(producer.Send(std::vector<Message>{}).status().IsInvalidArgument());
  std::vector<Message> two_topics = {MessageTo("BadBatch"), MessageTo("Other")};
  EXPECT_TRUE(producer.Send(two_topics).status().IsInvalidArgument());
  std::vector<Message> delayed = {MessageTo("BadBatch"), MessageTo("BadBatch")};
  delayed[1].delay_level = 3;
  EXPECT_TRUE(producer.Send(delayed).status().IsInvalidArgument());
  std::vector<Message> retry_topic = {MessageTo("%RETRY%CID_BATCH")};
  EXPECT_TRUE(producer.Send(retry_topic).status().IsInvalidArgument());
  std::vector<Message> huge_properties = {MessageTo("BadBatch")};
  huge_properties[0].user_properties["big"] = std::string(40000, 'p');
  EXPECT_TRUE(producer.Send(huge_properties).status().IsInvalidArgument());
  mqstore::Store* store = broker_->store();
  ASSERT_TRUE(store->AwaitDispatched(store->Stats().appended_offset, 10000).ok());
  Result<mqstore::QueueBounds> bounds = store->GetQueueBounds("BadBatch", 0);
  EXPECT_TRUE(!bounds.ok() || bounds->max_offset == 0);  // nothing of them was stored
}

// A name server answering every route request with `route`, and a broker that refuses every
// send with SYSTEM_ERROR and counts them.
class FakeServer : public mqremoting::RequestHandler {
 public:
  void OnRequest(const std::shared_ptr<mqremoting::Connection>& connection,
                 RemotingCommand request) override {
    if (request.code == mqremoting::request_code::kGetRouteInfoByTopic) {
      ++route_requests;
      RemotingCommand response =
          RemotingCommand::ResponseTo(request, mqremoting::response_code::kSuccess);
      {
        std::lock_guard<std::mutex> lock(mu);
        response.body = mqremoting::EncodeJson(route);
      }
      connection->Send(std::move(response));
      return;
    }
    const int sends_before = refused_sends++;
    {
      std::lock_guard<std::mutex> lock(mu);
      last_send_code = request.code;
      last_send_type = request.serialize_type;
      last_send_fields = request.ext_fields;
      last_send_body = request.body;
    }
    const bool accept = succeed_after >= 0 && sends_before >= succeed_after;
    RemotingCommand response = RemotingCommand::ResponseTo(
        request, accept ? mqremoting::response_code::kSuccess : send_code, "refused by the test");
    response.SetExt("msgId", "7F00000100002A9F0000000000000000");
    response.SetExt("queueId", request.FindExt("e") ? *request.FindExt("e") : "0");
    response.SetExt("queueOffset", "7");
    connection->Send(std::move(response));
  }
  std::mutex mu;
  mqremoting::TopicRouteData route;  // guarded by mu once a producer may ask for it
  int32_t send_code = mqremoting::response_code::kSystemError;
  std::atomic<int> refused_sends{0};   // every send request, whatever send_code says
  std::atomic<int> succeed_after{-1};  // >= 0: sends after this many are answered SUCCESS
  std::atomic<int> route_requests{0};
  int32_t last_send_code = 0;  // the last send request, guarded by mu
  mqremoting::SerializeType last_send_type = mqremoting::SerializeType::kJson;
  mqremoting::ExtFields last_send_fields;
  std::string last_send_body;
};

class RetryTest : public ClusterFixture {
 protected:
  void StartFake() {
    fake_ = std::make_shared<FakeServer>();
    mqremoting::ServerOptions server_options;
    server_options.bind_address = "127.0.0.1";
    auto server = mqremoting::RemotingServer::Start(server_options, fake_);
    ASSERT_TRUE(server.ok());
    server_ = std::move(server).value();
    fake_addr_ = "127.0.0.1:" + std::to_string(server_->port());
  }
  void AddBroker(const std::string& name, const std::string& address) {
    std::lock_guard<std::mutex> lock(fake_->mu);
    fake_->route.queue_datas.push_back({name, 2, 2, 6, 0});
    mqremoting::BrokerData broker;
    broker.cluster = "DefaultCluster";
    broker.broker_name = name;
    broker.broker_addrs[0] = address;
    fake_->route.broker_datas.push_back(broker);
  }
  // Takes `name` out of the route the fake name server serves (the broker is gone).
  void RemoveBroker(const std::string& name) {
    std::lock_guard<std::mutex> lock(fake_->mu);
    std::erase_if(fake_->route.queue_datas,
                  [&](const mqremoting::QueueData& data) { return data.broker_name == name; });
    std::erase_if(fake_->route.broker_datas,
                  [&](const mqremoting::BrokerData& data) { return data.broker_name == name; });
  }
  ProducerOptions FakeOptions() const {
    ProducerOptions options;
    options.namesrv_addr = fake_addr_;  // the fake also serves the route
    options.route_refresh_interval = 0ms;
    return options;
  }
  void TearDown() override {
    if (server_) server_->Stop();
    ClusterFixture::TearDown();
  }
  std::shared_ptr<FakeServer> fake_;
  std::unique_ptr<mqremoting::RemotingServer> server_;
  std::string fake_addr_;
};

TEST_F(RetryTest, FailedSendIsRetriedOnAnotherBroker) {
  CreateTopic("Retried", 2);
  StartFake();
  AddBroker("aaa-refusing", fake_addr_);  // first in the round robin
  AddBroker(broker_name_, broker_addr_);
  ProducerOptions options;
  options.namesrv_addr = fake_addr_;  // the fake also serves the route
  Producer producer(options);
  ASSERT_TRUE(producer.Start().ok());
  Message message;
  message.topic = "Retried";
  message.body = "payload";
  Result<SendResult> result = producer.Send(message);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->attempts, 2);
  EXPECT_EQ(result->queue.broker_name, broker_name_);
  EXPECT_EQ(fake_->refused_sends.load(), 1);
}

TEST_F(RetryTest, LatencyFaultAvoidanceStopsPickingAFailedBroker) {
  CreateTopic("Avoided", 2);
  StartFake();
  AddBroker("aaa-refusing", fake_addr_);
  AddBroker(broker_name_, broker_addr_);
  Message message;
  message.topic = "Avoided";
  message.body = "payload";
  for (bool avoid : {false, true}) {
    fake_->refused_sends = 0;
    ProducerOptions options = FakeOptions();
    options.send_latency_fault_enable = avoid;
    Producer producer(options);
    ASSERT_TRUE(producer.Start().ok());
    for (int i = 0; i < 10; ++i) {
      Result<SendResult> result = producer.Send(message);
      ASSERT_TRUE(result.ok()) << result.status().ToString();
      EXPECT_EQ(result->queue.broker_name, broker_name_);
    }
    if (avoid) {
      // Once refused, the broker is paused: no send goes there again.
      EXPECT_LE(fake_->refused_sends.load(), 1);
    } else {
      // Round robin keeps coming back to it (and retrying elsewhere).
      EXPECT_GE(fake_->refused_sends.load(), 4);
    }
  }
}

TEST_F(RetryTest, AFailedBatchIsRetriedOnAnotherBroker) {
  CreateTopic("RetriedBatch", 2);
  StartFake();
  AddBroker("aaa-refusing", fake_addr_);  // first in the round robin
  AddBroker(broker_name_, broker_addr_);
  Producer producer(FakeOptions());
  ASSERT_TRUE(producer.Start().ok());
  Message message;
  message.topic = "RetriedBatch";
  message.body = "payload";
  Result<SendResult> result = producer.Send(std::vector<Message>{message, message});
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->attempts, 2);
  EXPECT_EQ(result->queue.broker_name, broker_name_);
  EXPECT_EQ(SplitCommas(result->msg_id).size(), 2u);
  EXPECT_EQ(fake_->refused_sends.load(), 1);
  std::lock_guard<std::mutex> lock(fake_->mu);
  EXPECT_EQ(fake_->last_send_code, mqremoting::request_code::kSendBatchMessage);
  EXPECT_EQ(fake_->last_send_fields["m"], "true");
  EXPECT_EQ(fake_->last_send_fields["b"], "RetriedBatch");
}

TEST_F(RetryTest, GivesUpAfterTwoRetries) {
  StartFake();
  AddBroker("only-refusing", fake_addr_);
  ProducerOptions options;
  options.namesrv_addr = fake_addr_;
  Producer producer(options);
  ASSERT_TRUE(producer.Start().ok());
  Message message;
  message.topic = "Refused";
  message.body = "payload";
  Result<SendResult> result = producer.Send(message);
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(result.status().IsIOError()) << result.status().ToString();
  EXPECT_NE(result.status().message().find("3 attempts"), std::string_view::npos);
  EXPECT_NE(result.status().message().find("refused by the test"), std::string_view::npos);
  EXPECT_EQ(fake_->refused_sends.load(), 3);
}

TEST_F(RetryTest, IllegalMessageIsNotRetried) {
  StartFake();
  fake_->send_code = mqremoting::response_code::kMessageIllegal;
  AddBroker("first", fake_addr_);
  AddBroker("second", fake_addr_);
  ProducerOptions options;
  options.namesrv_addr = fake_addr_;
  Producer producer(options);
  ASSERT_TRUE(producer.Start().ok());
  Message message;
  message.topic = "Illegal";
  Result<SendResult> result = producer.Send(message);
  EXPECT_TRUE(result.status().IsInvalidArgument()) << result.status().ToString();
  EXPECT_EQ(fake_->refused_sends.load(), 1);
}

TEST_F(RetryTest, FlushDiskTimeoutIsReportedNotRetried) {
  StartFake();
  fake_->send_code = mqremoting::response_code::kFlushDiskTimeout;
  AddBroker("slow-disk", fake_addr_);
  ProducerOptions options;
  options.namesrv_addr = fake_addr_;
  Producer producer(options);
  ASSERT_TRUE(producer.Start().ok());
  Message message;
  message.topic = "Slow";
  Result<SendResult> result = producer.Send(message);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->status, SendStatus::kFlushDiskTimeout);
  EXPECT_EQ(SendStatusName(result->status), "FLUSH_DISK_TIMEOUT");
  EXPECT_EQ(result->queue_offset, 7);
  EXPECT_EQ(result->msg_id, "7F00000100002A9F0000000000000000");
  EXPECT_EQ(fake_->refused_sends.load(), 1);
}

TEST_F(RetryTest, NotStoredOkIsRetriedOnAnotherBrokerWhenAskedTo) {
  CreateTopic("StoreOk", 2);
  StartFake();
  fake_->send_code = mqremoting::response_code::kFlushDiskTimeout;
  AddBroker("aaa-slow-disk", fake_addr_);  // first in the round robin
  AddBroker(broker_name_, broker_addr_);
  ProducerOptions options = FakeOptions();
  options.retry_another_broker_when_not_store_ok = true;
  Producer producer(options);
  ASSERT_TRUE(producer.Start().ok());
  Message message;
  message.topic = "StoreOk";
  message.body = "x";
  Result<SendResult> result = producer.Send(message);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->status, SendStatus::kSendOk);
  EXPECT_EQ(result->attempts, 2);
  EXPECT_EQ(result->queue.broker_name, broker_name_);
  EXPECT_EQ(fake_->refused_sends.load(), 1);
  // With the slow broker alone, the last attempt's answer is what the send returns.
  RemoveBroker(broker_name_);
  ASSERT_TRUE(producer.RefreshRoutes().ok());
  result = producer.Send(message);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->status, SendStatus::kFlushDiskTimeout);
  EXPECT_EQ(result->attempts, 3);
  EXPECT_EQ(fake_->refused_sends.load(), 4);
}

// SendAsync's result, waited for.
Result<SendResult> SendAsyncAndWait(Producer* producer, const Message& message) {
  std::promise<Result<SendResult>> promise;
  producer->SendAsync(
      message, [&promise](Result<SendResult> result) { promise.set_value(std::move(result)); });
  std::future<Result<SendResult>> future = promise.get_future();
  if (future.wait_for(30s) != std::future_status::ready) {
    return Status::TimedOut("SendAsync did not call back");
  }
  return future.get();
}

TEST_F(RetryTest, AsyncSendsAreRetriedOnTheSameQueue) {
  StartFake();
  fake_->send_code = mqremoting::response_code::kSystemBusy;
  fake_->succeed_after = 2;  // the third attempt is stored
  AddBroker("busy-broker", fake_addr_);
  Producer producer(FakeOptions());
  ASSERT_TRUE(producer.Start().ok());
  Message message;
  message.topic = "AsyncRetried";
  message.body = "x";
  Result<SendResult> result = SendAsyncAndWait(&producer, message);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->attempts, 3);
  EXPECT_EQ(fake_->refused_sends.load(), 3);
  {
    std::lock_guard<std::mutex> lock(fake_->mu);
    EXPECT_EQ(fake_->last_send_body, "x");  // the same request went again
  }

  // Out of retries: the last refusal is the result.
  fake_->succeed_after = -1;
  result = SendAsyncAndWait(&producer, message);
  EXPECT_EQ(result.status().code(), Status::Code::kBusy) << result.status().ToString();
  EXPECT_EQ(fake_->refused_sends.load(), 6);
  ProducerOptions once = FakeOptions();
  once.retry_times_when_send_async_failed = 0;
  Producer no_retry(once);
  ASSERT_TRUE(no_retry.Start().ok());
  EXPECT_FALSE(SendAsyncAndWait(&no_retry, message).ok());
  EXPECT_EQ(fake_->refused_sends.load(), 7);
  // An illegal message is not tried again.
  fake_->send_code = mqremoting::response_code::kMessageIllegal;
  EXPECT_TRUE(SendAsyncAndWait(&producer, message).status().IsInvalidArgument());
  EXPECT_EQ(fake_->refused_sends.load(), 8);
}

TEST_F(RetryTest, LatencyFaultAvoidanceCoversAsyncSends) {
  CreateTopic("AsyncAvoided", 2);
  StartFake();
  AddBroker("aaa-refusing", fake_addr_);  // first in the round robin
  AddBroker(broker_name_, broker_addr_);
  Message message;
  message.topic = "AsyncAvoided";
  message.body = "payload";
  for (bool avoid : {false, true}) {
    fake_->refused_sends = 0;
    ProducerOptions options = FakeOptions();
    options.send_latency_fault_enable = avoid;
    Producer producer(options);
    ASSERT_TRUE(producer.Start().ok());
    int failed = 0;
    for (int i = 0; i < 8; ++i) {
      Result<SendResult> result = SendAsyncAndWait(&producer, message);
      if (!result.ok()) {
        ++failed;
        continue;
      }
      EXPECT_EQ(result->queue.broker_name, broker_name_);
    }
    if (avoid) {
      // The first refusal pauses the broker: that send's retry goes to the other broker
      // (recorded in the callback, before the retry picks), and no later send goes there.
      EXPECT_EQ(failed, 0);
      EXPECT_EQ(fake_->refused_sends.load(), 1);
    } else {
      // Round robin keeps coming back to it, and async retries stay on its queue.
      EXPECT_GE(failed, 1);
      EXPECT_GE(fake_->refused_sends.load(), 3 * failed);
    }
  }
  // Oneway sends, which time nothing, still avoid a broker the others paused.
  fake_->refused_sends = 0;
  ProducerOptions options = FakeOptions();
  options.send_latency_fault_enable = true;
  Producer producer(options);
  ASSERT_TRUE(producer.Start().ok());
  ASSERT_TRUE(SendAsyncAndWait(&producer, message).ok());
  ASSERT_EQ(fake_->refused_sends.load(), 1);
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(producer.SendOneway(message).ok());
  // The fake is the name server too, over the same connection: once it answered a route
  // request sent after them, it has read any oneway send that went its way.
  ASSERT_TRUE(producer.RefreshRoutes().ok());
  EXPECT_EQ(fake_->refused_sends.load(), 1);
}

TEST_F(ProducerTest, RouteFailsOverToTheSecondNameServer) {
  CreateTopic("Failover", 1);
  ProducerOptions options;
  options.namesrv_addr = DeadAddress() + ";" + namesrv_addr_;
  Producer producer(options);
  ASSERT_TRUE(producer.Start().ok());
  Message message;
  message.topic = "Failover";
  message.body = "b";
  Result<SendResult> result = producer.Send(message);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->queue.queue_id, 0);
}

TEST_F(ProducerTest, PublishInfoIsBuiltOnceAndSharedBySyncAndAsyncSends) {
  CreateTopic("Cached", 4);
  Producer producer(Options());
  ASSERT_TRUE(producer.Start().ok());
  const Message message = MessageTo("Cached");
  std::set<int32_t> queue_ids;
  for (int i = 0; i < 8; ++i) {
    Result<SendResult> result = producer.Send(message);
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    queue_ids.insert(result->queue.queue_id);
  }
  for (const Result<SendResult>& result : SendAsyncAndWait(producer, message, 8)) {
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_EQ(result->queue.broker_name, broker_name_);
    queue_ids.insert(result->queue.queue_id);
  }
  ASSERT_TRUE(producer.SendToQueue(message, {"Cached", broker_name_, 3}).ok());
  EXPECT_EQ(queue_ids, (std::set<int32_t>{0, 1, 2, 3}));
  EXPECT_EQ(producer.publish_info_builds(), 1);
}

TEST_F(ProducerTest, MoreQueuesArePickedUpAfterARefresh) {
  CreateTopicAndAwaitRoute("Grown", 2);
  Producer producer(Options());
  ASSERT_TRUE(producer.Start().ok());
  const Message message = MessageTo("Grown");
  std::set<int32_t> queue_ids;
  for (int i = 0; i < 4; ++i) {
    Result<SendResult> result = producer.Send(message);
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    queue_ids.insert(result->queue.queue_id);
  }
  EXPECT_EQ(queue_ids, (std::set<int32_t>{0, 1}));

  CreateTopicAndAwaitRoute("Grown", 4);  // re-created with more queues
  // Until a refresh the cached route stays in use.
  queue_ids.clear();
  for (const Result<SendResult>& result : SendAsyncAndWait(producer, message, 8)) {
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    queue_ids.insert(result->queue.queue_id);
  }
  EXPECT_EQ(queue_ids, (std::set<int32_t>{0, 1}));
  EXPECT_EQ(producer.publish_info_builds(), 1);

  ASSERT_TRUE(producer.RefreshRoutes().ok());
  EXPECT_EQ(producer.publish_info_builds(), 2);
  queue_ids.clear();
  for (const Result<SendResult>& result : SendAsyncAndWait(producer, message, 8)) {
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    queue_ids.insert(result->queue.queue_id);
  }
  EXPECT_EQ(queue_ids, (std::set<int32_t>{0, 1, 2, 3}));
  // A refresh that finds the same route keeps the publish info.
  ASSERT_TRUE(producer.RefreshRoutes().ok());
  ASSERT_TRUE(producer.Send(message).ok());
  EXPECT_EQ(producer.publish_info_builds(), 2);
}

TEST_F(ProducerTest, BackgroundRefreshPicksUpARouteChange) {
  CreateTopicAndAwaitRoute("Refreshed", 1);
  ProducerOptions options = Options();
  options.route_refresh_interval = 10ms;
  Producer producer(options);
  ASSERT_TRUE(producer.Start().ok());
  const Message message = MessageTo("Refreshed");
  Result<SendResult> first = producer.Send(message);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->queue.queue_id, 0);

  CreateTopicAndAwaitRoute("Refreshed", 3);
  // No explicit refresh: the background one brings queue 2 into the rotation.
  bool reached_new_queue = false;
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!reached_new_queue && std::chrono::steady_clock::now() < deadline) {
    Result<SendResult> result = producer.Send(message);
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    reached_new_queue = result->queue.queue_id == 2;
    if (!reached_new_queue) std::this_thread::sleep_for(5ms);
  }
  EXPECT_TRUE(reached_new_queue);
  EXPECT_GE(producer.publish_info_builds(), 2);
}

// The closed loop mqbench runs: every completion (on the transport thread) sends the next
// message, also after the cached route was dropped there (a transport thread cannot fetch a
// route, so the last publish info stays in use).
TEST_F(ProducerTest, CompletionsSendTheNextMessageOnTheTransportThread) {
  CreateTopic("Chained", 2);
  Producer producer(Options());
  ASSERT_TRUE(producer.Start().ok());
  const Message message = MessageTo("Chained");

  struct Chain {
    std::mutex mu;
    std::condition_variable done;
    int ok = 0;
    int failed = 0;
    std::string first_error;
  };
  Chain chain;
  constexpr int kMessages = 50;
  std::function<void(Result<SendResult>)> on_sent = [&](Result<SendResult> result) {
    int finished;
    {
      std::lock_guard<std::mutex> lock(chain.mu);
      if (result.ok()) {
        ++chain.ok;
      } else {
        ++chain.failed;
        if (chain.first_error.empty()) chain.first_error = result.status().ToString();
      }
      finished = chain.ok + chain.failed;
      if (finished == kMessages) chain.done.notify_all();
    }
    if (finished == 1) producer.name_server()->Invalidate("Chained");
    if (finished < kMessages) producer.SendAsync(message, on_sent);
  };
  producer.SendAsync(message, on_sent);  // fetches the route on this thread
  {
    std::unique_lock<std::mutex> lock(chain.mu);
    EXPECT_TRUE(
        chain.done.wait_for(lock, 30s, [&] { return chain.ok + chain.failed == kMessages; }));
    EXPECT_EQ(chain.ok, kMessages) << chain.first_error;
  }
  EXPECT_EQ(producer.publish_info_builds(), 1);
  producer.Shutdown();  // no completion runs any more: `on_sent` and `chain` may go
}

TEST_F(RetryTest, RoutesAreFetchedOncePerTopic) {
  CreateTopic("FetchedOnce", 2);
  StartFake();
  AddBroker(broker_name_, broker_addr_);
  Producer producer(FakeOptions());
  ASSERT_TRUE(producer.Start().ok());
  Message message;
  message.topic = "FetchedOnce";
  message.body = "payload";
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(producer.Send(message).ok());
  for (const Result<SendResult>& result : SendAsyncAndWait(producer, message, 5)) {
    ASSERT_TRUE(result.ok()) << result.status().ToString();
  }
  EXPECT_EQ(fake_->route_requests.load(), 1);
  EXPECT_EQ(producer.publish_info_builds(), 1);
}

TEST_F(RetryTest, GoneBrokerIsDroppedAfterARefresh) {
  CreateTopic("Shrunk", 2);
  StartFake();
  AddBroker("aaa-gone", fake_addr_);
  AddBroker(broker_name_, broker_addr_);
  ProducerOptions options = FakeOptions();
  options.retry_times_when_send_async_failed = 0;  // one refusal per send to count
  Producer producer(options);
  ASSERT_TRUE(producer.Start().ok());
  Message message;
  message.topic = "Shrunk";
  message.body = "payload";
  int failed = 0;
  for (const Result<SendResult>& result : SendAsyncAndWait(producer, message, 8)) {
    failed += result.ok() ? 0 : 1;
  }
  EXPECT_EQ(failed, 4);  // half the queues are the refusing broker's
  EXPECT_EQ(fake_->refused_sends.load(), 4);

  RemoveBroker("aaa-gone");
  ASSERT_TRUE(producer.RefreshRoutes().ok());
  for (const Result<SendResult>& result : SendAsyncAndWait(producer, message, 8)) {
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_EQ(result->queue.broker_name, broker_name_);
  }
  EXPECT_EQ(fake_->refused_sends.load(), 4);
  EXPECT_EQ(producer.publish_info_builds(), 2);
}

TEST_F(RetryTest, RetryRefreshesTheRoute) {
  CreateTopic("Moved", 2);
  StartFake();
  AddBroker("aaa-gone", fake_addr_);
  ProducerOptions options = FakeOptions();
  options.retry_times_when_send_async_failed = 0;  // one refusal per send to count
  Producer producer(options);
  ASSERT_TRUE(producer.Start().ok());
  Message message;
  message.topic = "Moved";
  message.body = "payload";
  std::vector<Result<SendResult>> warmup = SendAsyncAndWait(producer, message, 1);
  ASSERT_EQ(warmup.size(), 1u);
  EXPECT_FALSE(warmup[0].ok());  // refused: the cached route knows only the gone broker

  // The topic moved to the real broker; the producer does not know yet.
  RemoveBroker("aaa-gone");
  AddBroker(broker_name_, broker_addr_);
  Result<SendResult> result = producer.Send(message);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->attempts, 2);
  EXPECT_EQ(result->queue.broker_name, broker_name_);
  EXPECT_EQ(fake_->refused_sends.load(), 2);
  // Later sends go straight to the new route.
  Result<SendResult> next = producer.Send(message);
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(next->attempts, 1);
}

TEST_F(RetryTest, SendRequestCarriesTheV2Fields) {
  StartFake();
  fake_->send_code = mqremoting::response_code::kSuccess;
  AddBroker("fields", fake_addr_);
  Producer producer(FakeOptions());
  ASSERT_TRUE(producer.Start().ok());
  Message message;
  message.topic = "Fields";
  message.body = std::string(1024, 'b');
  message.tags = "TagA";
  message.flag = 5;
  Result<SendResult> result = producer.Send(message);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  std::lock_guard<std::mutex> lock(fake_->mu);
  EXPECT_EQ(fake_->last_send_code, mqremoting::request_code::kSendMessageV2);
  EXPECT_EQ(fake_->last_send_type, mqremoting::SerializeType::kRocketMq) << "the default";
  mqremoting::ExtFields fields = fake_->last_send_fields;
  const std::string born = fields["g"];
  EXPECT_GT(std::stoll(born), 1600000000000LL) << born;
  fields.erase("g");
  EXPECT_EQ(fields, (mqremoting::ExtFields{
                        {"a", "PID_MQCLIENT"},
                        {"b", "Fields"},
                        {"c", "TBW102"},
                        {"d", "4"},
                        {"e", std::to_string(result->queue.queue_id)},
                        {"f", "0"},
                        {"h", "5"},
                        {"i", EncodeSendProperties(message, result->unique_id)},
                        {"j", "0"},
                        {"k", "false"},
                        {"m", "false"},
                    }));
  EXPECT_EQ(fake_->last_send_body, message.body);
}

TEST_F(RetryTest, EverySendPathUsesTheHeaderTypeAskedFor) {
  // Sync, batch and async sends each build their request: each must carry the option.
  StartFake();
  fake_->send_code = mqremoting::response_code::kSuccess;
  AddBroker("types", fake_addr_);
  for (mqremoting::SerializeType type :
       {mqremoting::SerializeType::kJson, mqremoting::SerializeType::kRocketMq}) {
    ProducerOptions options = FakeOptions();
    options.send_header_type = type;
    Producer producer(options);
    ASSERT_TRUE(producer.Start().ok());
    Message message;
    message.topic = "Types";
    message.body = "b";
    message.keys = "k1 k2";  // properties with separators, escaped in JSON
    auto last_send = [&] {
      std::lock_guard<std::mutex> lock(fake_->mu);
      return std::make_pair(fake_->last_send_code, fake_->last_send_type);
    };
    Result<SendResult> result = producer.Send(message);
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_EQ(last_send(), std::make_pair(mqremoting::request_code::kSendMessageV2, type));
    Result<SendResult> batch = producer.Send(std::vector<Message>{message, message});
    ASSERT_TRUE(batch.ok()) << batch.status().ToString();
    EXPECT_EQ(last_send(), std::make_pair(mqremoting::request_code::kSendBatchMessage, type));
    Result<SendResult> async = SendAsyncAndWait(&producer, message);
    ASSERT_TRUE(async.ok()) << async.status().ToString();
    EXPECT_EQ(last_send(), std::make_pair(mqremoting::request_code::kSendMessageV2, type));
  }
}

// Selectors index the queues in RocketMQ's order, by broker name, whatever order the route
// lists the brokers in: a Java producer and this one then send a key to the same queue.
TEST_F(RetryTest, SelectorsSeeTheQueuesSortedByBrokerName) {
  CreateTopic("SortedQueues", 2);
  StartFake();
  AddBroker("zzz-real", broker_addr_);  // listed first
  AddBroker("aaa-refusing", fake_addr_);
  Producer producer(FakeOptions());
  ASSERT_TRUE(producer.Start().ok());
  std::vector<MessageQueue> offered;
  auto pick = [&offered](size_t index) {
    return [&offered, index](const std::vector<MessageQueue>& queues, const Message&,
                             std::string_view) {
      offered = queues;
      return index;
    };
  };
  Message message;
  message.topic = "SortedQueues";
  message.body = "x";
  Result<SendResult> sent = producer.Send(message, pick(2), "");
  ASSERT_TRUE(sent.ok()) << sent.status().ToString();
  EXPECT_EQ(sent->queue.broker_name, "zzz-real");
  EXPECT_EQ(sent->queue.queue_id, 0);
  ASSERT_EQ(offered.size(), 4u);
  EXPECT_EQ(offered[0].broker_name, "aaa-refusing");
  EXPECT_EQ(offered[1].broker_name, "aaa-refusing");
  EXPECT_EQ(offered[1].queue_id, 1);
  EXPECT_EQ(offered[2].broker_name, "zzz-real");
  // An ordered send is not retried elsewhere: that would break the order.
  Result<SendResult> refused = producer.Send(message, pick(0), "");
  EXPECT_FALSE(refused.ok());
  EXPECT_EQ(fake_->refused_sends.load(), 1);
}

}  // namespace
}  // namespace mqclient

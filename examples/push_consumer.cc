// Quick start: a push consumer of a clustering group (RocketMQ's PushConsumer quick start).
// Members started with the same group share the topic's queues; each message is handed to
// one member. Prints one line per message and, when its share of queues changes, a QUEUES
// line; stops on SIGINT/SIGTERM (or after --count messages), committing its offsets.
// With --orderly it consumes each queue in order (an orderly listener holding the queue's
// broker lock) and marks each RECEIVED line with when the listener call began and ended
// (CLOCK_MONOTONIC, the same clock for every process of the machine), so a test can check
// that no two members ever consumed one queue at once. With --broadcasting it is a member of
// a broadcasting group instead (every member gets every message; offsets in --offsets FILE);
// with --reconsume-later every delivery fails, so each message is retried until it is dead.
//
//   example_push_consumer -n 127.0.0.1:9876 -t TopicTest -g CID_QUICKSTART -s "TagA || TagB"
#include "mqclient/push_consumer.h"

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

std::atomic<bool> stop_requested{false};
void OnSignal(int) { stop_requested.store(true); }

std::string Hex(const std::string& bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    hex.push_back(kDigits[c >> 4]);
    hex.push_back(kDigits[c & 0xF]);
  }
  return hex;
}

int64_t MonotonicNs() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Consumes a topic as one member of a consumer group (clustering by default)."};
  mqclient::PushConsumerOptions options;
  options.namesrv_addr = "127.0.0.1:9876";
  options.group = "CID_QUICKSTART";
  std::string topic = "TopicTest";
  std::string expression = "*";
  std::string from = "last";
  long count = 0;
  bool orderly = false;
  bool broadcasting = false;
  bool reconsume_later = false;
  int consume_ms = 0;
  app.add_option("-n,--namesrvAddr", options.namesrv_addr, "name servers, 'host:port;host:port'")
      ->capture_default_str();
  app.add_option("-t,--topic", topic, "topic to consume")->capture_default_str();
  app.add_option("-g,--consumerGroup", options.group, "consumer group")->capture_default_str();
  app.add_option("-s,--subExpression", expression, "tag expression: '*' or 'TagA || TagB'")
      ->capture_default_str();
  app.add_option("--from", from,
                 "where a group without committed offsets starts: last, first or timestamp "
                 "(30 minutes ago)")
      ->check(CLI::IsMember({"last", "first", "timestamp"}))
      ->capture_default_str();
  app.add_option("--count", count, "exit after this many messages (0: run until a signal)")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--orderly", orderly, "consume each queue in order, one message at a time");
  app.add_option("--consume-ms", consume_ms, "pretend each listener call works this long")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--reconsume-later", reconsume_later,
               "fail every delivery (RECONSUME_LATER): each message is retried through the "
               "group's retry topic until it goes to its dead-letter topic");
  app.add_flag("--broadcasting", broadcasting,
               "a broadcasting member: every message of every queue, offsets in a local file");
  app.add_option("--offsets", options.local_offset_path,
                 "with --broadcasting: this member's offset file (default "
                 "~/.mqclient_offsets/<group>/offsets.json)");
  CLI11_PARSE(app, argc, argv);
  if (broadcasting) options.message_model = mqclient::MessageModel::kBroadcasting;
  options.consume_from_where = from == "first"       ? mqclient::ConsumeFromWhere::kFirstOffset
                               : from == "timestamp" ? mqclient::ConsumeFromWhere::kTimestamp
                                                     : mqclient::ConsumeFromWhere::kLastOffset;

  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);

  std::mutex out_mu;
  std::atomic<long> received{0};
  mqclient::PushConsumer consumer(options);
  mqstore::Status subscribed = consumer.Subscribe(topic, expression);
  if (!subscribed.ok()) {
    std::fprintf(stderr, "subscribe: %s\n", subscribed.ToString().c_str());
    return 2;
  }
  auto print = [&](const std::vector<mqclient::ReceivedMessage>& messages, int64_t begin_ns) {
    if (consume_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(consume_ms));
    std::lock_guard<std::mutex> lock(out_mu);
    for (const mqclient::ReceivedMessage& m : messages) {
      std::printf(
          "RECEIVED topic=%s queue=%d offset=%lld reconsume=%d tags=%s keys=%s id=%s "
          "body_hex=%s",
          m.topic.c_str(), m.queue_id, static_cast<long long>(m.queue_offset), m.reconsume_times,
          m.tags.c_str(), m.keys.c_str(), m.unique_id.c_str(), Hex(m.body).c_str());
      if (orderly) {
        std::printf(" begin_ns=%lld end_ns=%lld", static_cast<long long>(begin_ns),
                    static_cast<long long>(MonotonicNs()));
      }
      std::printf("\n");
      received.fetch_add(1);
    }
    std::fflush(stdout);
  };
  if (orderly) {
    consumer.RegisterOrderlyListener([&](const std::vector<mqclient::ReceivedMessage>& messages) {
      print(messages, MonotonicNs());
      return mqclient::OrderlyConsumeStatus::kSuccess;
    });
  } else {
    consumer.RegisterListener([&](const std::vector<mqclient::ReceivedMessage>& messages) {
      print(messages, 0);
      return reconsume_later ? mqclient::ConsumeStatus::kReconsumeLater
                             : mqclient::ConsumeStatus::kSuccess;
    });
  }
  mqstore::Status started = consumer.Start();
  if (!started.ok()) {
    std::fprintf(stderr, "start: %s\n", started.ToString().c_str());
    return 1;
  }
  {
    std::lock_guard<std::mutex> lock(out_mu);
    std::printf("STARTED client_id=%s group=%s topic=%s\n", consumer.client_id().c_str(),
                options.group.c_str(), topic.c_str());
    std::fflush(stdout);
  }
  std::vector<mqclient::MessageQueue> shown;
  while (!stop_requested.load() && (count == 0 || received.load() < count)) {
    std::vector<mqclient::MessageQueue> queues = consumer.Stats().assigned_queues;
    if (queues != shown) {
      shown = queues;
      std::string line = "QUEUES";
      for (const mqclient::MessageQueue& q : queues) {
        if (q.topic == topic) line += " " + q.broker_name + ":" + std::to_string(q.queue_id);
      }
      std::lock_guard<std::mutex> lock(out_mu);
      std::printf("%s\n", line.c_str());
      std::fflush(stdout);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  consumer.Shutdown();
  std::printf("STOPPED received=%ld\n", received.load());
  return 0;
}

// Quick start: a lite pull consumer of a clustering group (RocketMQ's LitePullConsumer
// subscribe quick start). The application polls instead of registering a listener: members
// started with the same group share the topic's queues, each polls its share, and the offsets
// of what it polled are committed after each batch is processed (CommitSync) and at exit.
// Prints one line per message and, when its share of queues changes, a QUEUES line; stops on
// SIGINT/SIGTERM (or after --count messages).
//
//   example_lite_pull_consumer -n 127.0.0.1:9876 -t TopicTest -g CID_LITE -s "TagA || TagB"
#include "mqclient/lite_pull_consumer.h"

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <string>
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

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Polls a topic as one member of a clustering consumer group."};
  mqclient::LitePullConsumerOptions options;
  options.namesrv_addr = "127.0.0.1:9876";
  options.group = "CID_LITE_QUICKSTART";
  std::string topic = "TopicTest";
  std::string expression = "*";
  std::string from = "last";
  long count = 0;
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
  CLI11_PARSE(app, argc, argv);
  options.consume_from_where = from == "first"       ? mqclient::ConsumeFromWhere::kFirstOffset
                               : from == "timestamp" ? mqclient::ConsumeFromWhere::kTimestamp
                                                     : mqclient::ConsumeFromWhere::kLastOffset;
  // Committed explicitly below, once each batch is processed.
  options.auto_commit = false;

  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);

  mqclient::LitePullConsumer consumer(options);
  mqstore::Status subscribed = consumer.Subscribe(topic, expression);
  if (!subscribed.ok()) {
    std::fprintf(stderr, "subscribe: %s\n", subscribed.ToString().c_str());
    return 2;
  }
  mqstore::Status started = consumer.Start();
  if (!started.ok()) {
    std::fprintf(stderr, "start: %s\n", started.ToString().c_str());
    return 1;
  }
  std::printf("STARTED client_id=%s group=%s topic=%s\n", consumer.client_id().c_str(),
              options.group.c_str(), topic.c_str());
  std::fflush(stdout);

  long received = 0;
  std::vector<mqclient::MessageQueue> shown;
  while (!stop_requested.load() && (count == 0 || received < count)) {
    std::vector<mqclient::MessageQueue> queues = consumer.Assignment();
    if (queues != shown) {
      shown = queues;
      std::string line = "QUEUES";
      for (const mqclient::MessageQueue& q : queues) {
        line += " " + q.broker_name + ":" + std::to_string(q.queue_id);
      }
      std::printf("%s\n", line.c_str());
    }
    // Short, so that a signal is noticed soon.
    mqstore::Result<std::vector<mqclient::ReceivedMessage>> messages =
        consumer.Poll(std::chrono::milliseconds(200));
    if (!messages.ok()) {
      std::fprintf(stderr, "poll: %s\n", messages.status().ToString().c_str());
      break;
    }
    for (const mqclient::ReceivedMessage& m : *messages) {
      std::printf("RECEIVED topic=%s queue=%d offset=%lld tags=%s keys=%s id=%s body_hex=%s\n",
                  m.topic.c_str(), m.queue_id, static_cast<long long>(m.queue_offset),
                  m.tags.c_str(), m.keys.c_str(), m.unique_id.c_str(), Hex(m.body).c_str());
      ++received;
    }
    std::fflush(stdout);
    if (!messages->empty()) {
      // Processed: commit, so that a restarted member (or the next owner of a queue) goes on
      // after these.
      mqstore::Status committed = consumer.CommitSync();
      if (!committed.ok()) std::fprintf(stderr, "commit: %s\n", committed.ToString().c_str());
    }
  }
  consumer.Shutdown();
  std::printf("STOPPED received=%ld\n", received);
  return 0;
}

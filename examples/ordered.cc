// Ordered messages: the steps of each order go to one queue (the queue picked by hashing the
// order id, as RocketMQ's SelectMessageQueueByHash), and an orderly push consumer sees each
// queue's messages one at a time in the order they were sent. Sends, consumes, then checks
// that every order's steps arrived in order.
//
//   example_ordered -n 127.0.0.1:9876 -t OrderTopic --orders 10
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "mqclient/producer.h"
#include "mqclient/push_consumer.h"

int main(int argc, char** argv) {
  CLI::App app{"Sends the steps of several orders in order and consumes them orderly."};
  std::string namesrv = "127.0.0.1:9876";
  std::string topic = "OrderTopic";
  int orders = 10;
  app.add_option("-n,--namesrvAddr", namesrv, "name servers")->capture_default_str();
  app.add_option("-t,--topic", topic, "topic (must exist, or be auto-created)")
      ->capture_default_str();
  app.add_option("--orders", orders, "orders to send")->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);
  const std::vector<std::string> steps = {"created", "paid", "shipped", "done"};

  mqclient::ProducerOptions producer_options;
  producer_options.namesrv_addr = namesrv;
  mqclient::Producer producer(producer_options);
  if (mqstore::Status s = producer.Start(); !s.ok()) {
    std::fprintf(stderr, "producer start: %s\n", s.ToString().c_str());
    return 1;
  }
  for (const std::string& step : steps) {
    for (int order = 0; order < orders; ++order) {
      mqclient::Message message;
      message.topic = topic;
      message.keys = "order-" + std::to_string(order);
      message.body = step;
      auto sent = producer.Send(message, mqclient::SelectQueueByHash(), message.keys);
      if (!sent.ok()) {
        std::fprintf(stderr, "send: %s\n", sent.status().ToString().c_str());
        return 1;
      }
    }
  }
  producer.Shutdown();

  std::mutex mu;
  std::map<std::string, std::vector<std::string>> seen;  // order -> steps in arrival order
  size_t received = 0;
  mqclient::PushConsumerOptions options;
  options.namesrv_addr = namesrv;
  options.group = "CID_ORDERED_EXAMPLE";
  options.consume_from_where = mqclient::ConsumeFromWhere::kFirstOffset;
  mqclient::PushConsumer consumer(options);
  (void)consumer.Subscribe(topic);
  consumer.RegisterOrderlyListener([&](const std::vector<mqclient::ReceivedMessage>& batch) {
    std::lock_guard<std::mutex> lock(mu);
    for (const mqclient::ReceivedMessage& m : batch) {
      seen[m.keys].push_back(m.body);
      ++received;
      std::printf("queue %d offset %lld: %s %s\n", m.queue_id,
                  static_cast<long long>(m.queue_offset), m.keys.c_str(), m.body.c_str());
    }
    return mqclient::OrderlyConsumeStatus::kSuccess;
  });
  if (mqstore::Status s = consumer.Start(); !s.ok()) {
    std::fprintf(stderr, "consumer start: %s\n", s.ToString().c_str());
    return 1;
  }
  const size_t expected = steps.size() * static_cast<size_t>(orders);
  for (int i = 0; i < 300; ++i) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (received >= expected) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  consumer.Shutdown();
  int out_of_order = 0;
  for (const auto& [order, got] : seen) {
    // Earlier runs of this example may have left steps behind; look at this run's tail.
    if (got.size() < steps.size() ||
        !std::equal(steps.begin(), steps.end(), got.end() - static_cast<long>(steps.size()))) {
      ++out_of_order;
    }
  }
  std::printf("%zu messages, %zu orders, %d not in order\n", received, seen.size(), out_of_order);
  return received >= expected && out_of_order == 0 ? 0 : 1;
}

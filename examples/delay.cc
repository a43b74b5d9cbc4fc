// Scheduled (delayed) messages: a message sent with a delay level is delivered only after
// that level's delay (the broker's messageDelayLevel: level 3 is 10 s by default). Sends one,
// consumes it, and prints how long after sending it arrived.
//
//   example_delay -n 127.0.0.1:9876 -t DelayTopic --level 2
#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "mqclient/producer.h"
#include "mqclient/push_consumer.h"

int main(int argc, char** argv) {
  CLI::App app{"Sends a message with a delay level and reports when it arrives."};
  std::string namesrv = "127.0.0.1:9876";
  std::string topic = "DelayTopic";
  int level = 2;
  app.add_option("-n,--namesrvAddr", namesrv, "name servers")->capture_default_str();
  app.add_option("-t,--topic", topic, "topic")->capture_default_str();
  app.add_option("--level", level, "delay level (1 = 1s, 2 = 5s, 3 = 10s, ... by default)")
      ->check(CLI::Range(1, 18))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  const std::string body =
      "delayed " + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
  std::atomic<bool> arrived{false};
  const auto sent_at = std::chrono::steady_clock::now();
  mqclient::PushConsumerOptions options;
  options.namesrv_addr = namesrv;
  options.group = "CID_DELAY_EXAMPLE";
  // The send below may create the topic: find its route soon, and read it from its start
  // (the message is told apart by its body).
  options.consume_from_where = mqclient::ConsumeFromWhere::kFirstOffset;
  options.route_refresh_interval = std::chrono::seconds(1);
  mqclient::PushConsumer consumer(options);
  (void)consumer.Subscribe(topic);
  consumer.RegisterListener([&](const std::vector<mqclient::ReceivedMessage>& messages) {
    for (const mqclient::ReceivedMessage& m : messages) {
      if (m.body != body) continue;
      const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now() - sent_at);
      std::printf("arrived after %lld ms: %s\n", static_cast<long long>(waited.count()),
                  m.body.c_str());
      arrived = true;
    }
    return mqclient::ConsumeStatus::kSuccess;
  });

  mqclient::ProducerOptions producer_options;
  producer_options.namesrv_addr = namesrv;
  mqclient::Producer producer(producer_options);
  if (mqstore::Status s = producer.Start(); !s.ok()) {
    std::fprintf(stderr, "producer start: %s\n", s.ToString().c_str());
    return 1;
  }
  mqclient::Message message;
  message.topic = topic;
  message.body = body;
  message.delay_level = level;
  auto sent = producer.Send(message);  // also creates the topic when it is new
  if (!sent.ok()) {
    std::fprintf(stderr, "send: %s\n", sent.status().ToString().c_str());
    return 1;
  }
  std::printf("sent with delay level %d\n", level);
  std::fflush(stdout);
  if (mqstore::Status s = consumer.Start(); !s.ok()) {
    std::fprintf(stderr, "consumer start: %s\n", s.ToString().c_str());
    return 1;
  }
  for (int i = 0; i < 3000 && !arrived; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  consumer.Shutdown();
  producer.Shutdown();
  return arrived ? 0 : 1;
}

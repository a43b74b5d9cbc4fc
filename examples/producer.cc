// Quick start: a producer sending messages with a tag and a key, synchronously (RocketMQ's
// Producer quick start). Prints each send's status, message id and queue.
//
//   example_producer -n 127.0.0.1:9876 -t TopicTest --count 10 --tag TagA
#include "mqclient/producer.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

int main(int argc, char** argv) {
  CLI::App app{"Sends messages to a topic and prints where each went."};
  mqclient::ProducerOptions options;
  options.namesrv_addr = "127.0.0.1:9876";
  options.group = "PID_QUICKSTART";
  std::string topic = "TopicTest";
  std::string tag = "TagA";
  int count = 10;
  app.add_option("-n,--namesrvAddr", options.namesrv_addr, "name servers, 'host:port;host:port'")
      ->capture_default_str();
  app.add_option("-t,--topic", topic, "topic to send to")->capture_default_str();
  app.add_option("--tag", tag, "tag of every message")->capture_default_str();
  app.add_option("--count", count, "messages to send")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  mqclient::Producer producer(options);
  mqstore::Status started = producer.Start();
  if (!started.ok()) {
    std::fprintf(stderr, "start: %s\n", started.ToString().c_str());
    return 1;
  }
  int failed = 0;
  for (int i = 0; i < count; ++i) {
    mqclient::Message message;
    message.topic = topic;
    message.tags = tag;
    message.keys = "key-" + std::to_string(i);
    message.body = "Hello RocketMQ " + std::to_string(i);
    mqstore::Result<mqclient::SendResult> sent = producer.Send(message);
    if (!sent.ok()) {
      std::fprintf(stderr, "send %d: %s\n", i, sent.status().ToString().c_str());
      ++failed;
      continue;
    }
    std::printf("%s id=%s queue=%s offset=%lld\n",
                std::string(mqclient::SendStatusName(sent->status)).c_str(),
                sent->unique_id.c_str(), sent->queue.ToString().c_str(),
                static_cast<long long>(sent->queue_offset));
  }
  producer.Shutdown();
  return failed == 0 ? 0 : 1;
}

// Batch send: several messages of one topic in one request (SEND_BATCH_MESSAGE), stored
// together in one queue with consecutive offsets. Prints the ids the broker gave them.
//
//   example_batch -n 127.0.0.1:9876 -t BatchTopic --count 5
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "mqclient/producer.h"

int main(int argc, char** argv) {
  CLI::App app{"Sends messages as one batch."};
  mqclient::ProducerOptions options;
  options.namesrv_addr = "127.0.0.1:9876";
  std::string topic = "BatchTopic";
  int count = 5;
  app.add_option("-n,--namesrvAddr", options.namesrv_addr, "name servers")->capture_default_str();
  app.add_option("-t,--topic", topic, "topic")->capture_default_str();
  app.add_option("--count", count, "messages in the batch")->check(CLI::Range(1, 1000));
  CLI11_PARSE(app, argc, argv);

  mqclient::Producer producer(options);
  if (mqstore::Status s = producer.Start(); !s.ok()) {
    std::fprintf(stderr, "start: %s\n", s.ToString().c_str());
    return 1;
  }
  std::vector<mqclient::Message> batch;
  for (int i = 0; i < count; ++i) {
    mqclient::Message message;
    message.topic = topic;
    message.tags = "TagBatch";
    message.keys = "batch-key-" + std::to_string(i);
    message.body = "batch message " + std::to_string(i);
    batch.push_back(std::move(message));
  }
  auto sent = producer.Send(batch);
  if (!sent.ok()) {
    std::fprintf(stderr, "send: %s\n", sent.status().ToString().c_str());
    return 1;
  }
  std::printf("%s to %s, first offset %lld\nunique ids: %s\n",
              std::string(mqclient::SendStatusName(sent->status)).c_str(),
              sent->queue.ToString().c_str(), static_cast<long long>(sent->queue_offset),
              sent->unique_id.c_str());
  producer.Shutdown();
  return 0;
}

// Broadcasting consumption: every member of the group receives every message (clustering
// shares them out instead). Each member keeps its offsets in a local file, so run members
// on one host with their own --offsets file. Stops on SIGINT/SIGTERM.
//
//   example_broadcasting -n 127.0.0.1:9876 -t NewsTopic --offsets /tmp/member-a.json
#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <string>
#include <thread>

#include "mqclient/push_consumer.h"

namespace {
std::atomic<bool> stop_requested{false};
void OnSignal(int) { stop_requested = true; }
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Consumes every message of a topic as one member of a broadcasting group."};
  mqclient::PushConsumerOptions options;
  options.namesrv_addr = "127.0.0.1:9876";
  options.group = "CID_BROADCAST_EXAMPLE";
  options.message_model = mqclient::MessageModel::kBroadcasting;
  std::string topic = "NewsTopic";
  app.add_option("-n,--namesrvAddr", options.namesrv_addr, "name servers")->capture_default_str();
  app.add_option("-t,--topic", topic, "topic")->capture_default_str();
  app.add_option("-g,--consumerGroup", options.group, "consumer group")->capture_default_str();
  app.add_option("--offsets", options.local_offset_path,
                 "this member's offset file (default ~/.mqclient_offsets/<group>/offsets.json)");
  CLI11_PARSE(app, argc, argv);
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);

  mqclient::PushConsumer consumer(options);
  (void)consumer.Subscribe(topic);
  consumer.RegisterListener([](const std::vector<mqclient::ReceivedMessage>& messages) {
    for (const mqclient::ReceivedMessage& m : messages) {
      std::printf("queue %d offset %lld: %s\n", m.queue_id, static_cast<long long>(m.queue_offset),
                  m.body.c_str());
    }
    std::fflush(stdout);
    return mqclient::ConsumeStatus::kSuccess;
  });
  if (mqstore::Status s = consumer.Start(); !s.ok()) {
    std::fprintf(stderr, "start: %s\n", s.ToString().c_str());
    return 1;
  }
  while (!stop_requested) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  consumer.Shutdown();
  return 0;
}

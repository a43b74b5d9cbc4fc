// Transactional messages: each message is stored as a half message, the local transaction
// decides (here: commit even numbers, roll back odd ones, leave every fifth unknown so the
// broker's check-back resolves it), and only committed messages reach consumers.
//
//   example_transaction -n 127.0.0.1:9876 -t TransactionTopic --count 10
//
// Checks go to any live member of the producer group: a member started with --wait resolves
// what another one that died left unknown (give them distinct --first numbers).
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "mqclient/transaction_producer.h"

namespace {

mqclient::LocalTransactionState Decide(const std::string& body) {
  const int n = std::stoi(body.substr(body.rfind(' ') + 1));
  return n % 2 == 0 ? mqclient::LocalTransactionState::kCommit
                    : mqclient::LocalTransactionState::kRollback;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Sends messages in transactions, committing some and rolling back others."};
  mqclient::ProducerOptions options;
  options.namesrv_addr = "127.0.0.1:9876";
  options.group = "PID_TRANSACTION_EXAMPLE";
  std::string topic = "TransactionTopic";
  int count = 10;
  int wait_seconds = 0;
  app.add_option("-n,--namesrvAddr", options.namesrv_addr, "name servers")->capture_default_str();
  app.add_option("-t,--topic", topic, "topic")->capture_default_str();
  app.add_option("-g,--producerGroup", options.group, "producer group")->capture_default_str();
  int first = 0;
  app.add_option("--count", count, "messages")->check(CLI::PositiveNumber);
  app.add_option("--first", first, "number of the first message ('payment N')")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--wait", wait_seconds,
                 "seconds to stay up answering the broker's checks (it asks about unknown "
                 "outcomes after transactionTimeOut, 6 s by default)")
      ->check(CLI::NonNegativeNumber);
  CLI11_PARSE(app, argc, argv);

  // What the broker asks about: the unknown ones. The same rule decides them now.
  mqclient::TransactionProducer producer(options, [](const mqclient::ReceivedMessage& half) {
    std::printf("check-back: %s\n", half.body.c_str());
    std::fflush(stdout);
    return Decide(half.body);
  });
  if (mqstore::Status s = producer.Start(); !s.ok()) {
    std::fprintf(stderr, "start: %s\n", s.ToString().c_str());
    return 1;
  }
  for (int i = first; i < first + count; ++i) {
    mqclient::Message message;
    message.topic = topic;
    message.body = "payment " + std::to_string(i);
    auto sent = producer.SendMessageInTransaction(
        message, [i](const mqclient::Message& m, const mqclient::SendResult&) {
          if (i % 5 == 4) return mqclient::LocalTransactionState::kUnknown;
          return Decide(m.body);
        });
    if (!sent.ok()) {
      std::fprintf(stderr, "send: %s\n", sent.status().ToString().c_str());
      return 1;
    }
    const char* state = sent->local_state == mqclient::LocalTransactionState::kCommit ? "commit"
                        : sent->local_state == mqclient::LocalTransactionState::kRollback
                            ? "rollback"
                            : "unknown";
    std::printf("%s: %s (half %s)\n", message.body.c_str(), state, sent->half.unique_id.c_str());
    std::fflush(stdout);
  }
  std::this_thread::sleep_for(std::chrono::seconds(wait_seconds));
  producer.Shutdown();
  return 0;
}

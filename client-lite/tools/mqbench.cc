// mqbench: load client for a running name server + broker.
//
//   mqbench produce -n NAMESRV -t TOPIC --producers P --inflight W --size B --count N
//   mqbench consume -n NAMESRV -t TOPIC -g GROUP --count N
//   mqbench --mode {sync|async|consume} ...   (the form /work/shared/peers/mq.sh templates)
//
// Produce: P threads, each with its own Producer, keeps W asynchronous sends in flight
// (Producer::SendAsync with a window; sync mode = W 1). Latency is send -> response. A failed
// send is counted as an error and sent again (within a budget) so that N messages are stored.
// Consume: one thread per queue long-polls from offset 0 until N messages arrived; latency is
// receive time - born timestamp (the producer's clock, millisecond resolution).
// Both end with one machine-readable line:
//   msgs_s=N mb_s=N p50_us=N p99_us=N p999_us=N msgs=N
#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "mqclient/admin.h"
#include "mqclient/producer.h"
#include "mqclient/pull_consumer.h"

namespace {

using Clock = std::chrono::steady_clock;
using mqclient::Result;
using mqclient::Status;

struct BenchOptions {
  std::string namesrv;
  std::string topic = "BenchTopic";
  std::string group = "CID_MQBENCH";
  int producers = 1;
  int inflight = 64;
  size_t size = 1024;
  int64_t count = 10000;
  int create_queues = 8;
  int timeout_s = 60;
};

int64_t Percentile(const std::vector<int64_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  size_t index = static_cast<size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(index, sorted.size() - 1)];
}

void Report(const char* what, int64_t messages, size_t size, double seconds,
            std::vector<int64_t> latencies_us, int64_t errors) {
  std::sort(latencies_us.begin(), latencies_us.end());
  double msgs_s = seconds > 0 ? static_cast<double>(messages) / seconds : 0;
  double mb_s = msgs_s * static_cast<double>(size) / (1024.0 * 1024.0);
  std::printf("%s: %lld messages of %zu bytes in %.3f s, %lld errors\n", what,
              static_cast<long long>(messages), size, seconds, static_cast<long long>(errors));
  std::printf("%s: %.0f msgs/s, %.2f MB/s, latency p50 %lld us, p99 %lld us, p999 %lld us\n", what,
              msgs_s, mb_s, static_cast<long long>(Percentile(latencies_us, 0.50)),
              static_cast<long long>(Percentile(latencies_us, 0.99)),
              static_cast<long long>(Percentile(latencies_us, 0.999)));
  std::printf("msgs_s=%.0f mb_s=%.2f p50_us=%lld p99_us=%lld p999_us=%lld msgs=%lld\n", msgs_s,
              mb_s, static_cast<long long>(Percentile(latencies_us, 0.50)),
              static_cast<long long>(Percentile(latencies_us, 0.99)),
              static_cast<long long>(Percentile(latencies_us, 0.999)),
              static_cast<long long>(messages));
  std::fflush(stdout);
}

// Creates the topic on every master of the first cluster when the name servers know no route.
Status EnsureTopic(const BenchOptions& options) {
  mqclient::Admin admin(options.namesrv);
  Result<mqremoting::TopicRouteData> route = admin.TopicRoute(options.topic);
  if (route.ok()) return Status::OK();
  if (!route.status().IsNotFound()) return route.status();
  MQ_ASSIGN_OR_RETURN(mqremoting::ClusterInfo info, admin.ClusterInfo());
  if (info.cluster_addr_table.empty()) return Status::NotFound("no broker is registered");
  mqclient::TopicSpec spec;
  spec.topic = options.topic;
  spec.read_queue_nums = spec.write_queue_nums = options.create_queues;
  return admin.CreateTopicInCluster(spec, info.cluster_addr_table.begin()->first).status();
}

int Produce(const BenchOptions& options) {
  if (Status ready = EnsureTopic(options); !ready.ok()) {
    std::fprintf(stderr, "mqbench produce: error: %s\n", ready.ToString().c_str());
    return 1;
  }
  std::atomic<int64_t> next{0}, ok{0}, errors{0};
  // A failed send (e.g. the broker's flow control) is sent again, so that --count messages
  // get stored, within a budget so a dead broker still ends the run.
  std::atomic<int64_t> resend_budget{options.count / 10 + 100};
  std::mutex latencies_mu;
  std::vector<int64_t> latencies;
  latencies.reserve(static_cast<size_t>(options.count));
  std::string first_error;
  const std::string body(options.size, 'x');
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int p = 0; p < options.producers; ++p) {
    threads.emplace_back([&] {
      mqclient::ProducerOptions producer_options;
      producer_options.namesrv_addr = options.namesrv;
      producer_options.group = "PID_MQBENCH";
      mqclient::Producer producer(producer_options);
      if (Status started = producer.Start(); !started.ok()) {
        ++errors;
        return;
      }
      std::mutex mu;
      std::condition_variable cv;
      int inflight = 0;
      mqclient::Message message;
      message.topic = options.topic;
      message.body = body;
      // Claims one message at a time; a failed send gives its claim back (next.fetch_sub), so
      // after draining, look again.
      auto claim = [&] {
        if (next.fetch_add(1) < options.count) return true;
        next.fetch_sub(1);
        return false;
      };
      for (;;) {
        while (claim()) {
          {
            std::unique_lock<std::mutex> lock(mu);
            cv.wait(lock, [&] { return inflight < options.inflight; });
            ++inflight;
          }
          const auto sent_at = Clock::now();
          producer.SendAsync(message, [&, sent_at](Result<mqclient::SendResult> result) {
            int64_t us =
                std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - sent_at)
                    .count();
            {
              std::lock_guard<std::mutex> lock(latencies_mu);
              if (result.ok()) {
                latencies.push_back(us);
              } else if (first_error.empty()) {
                first_error = result.status().ToString();
              }
            }
            if (result.ok()) {
              ++ok;
            } else {
              ++errors;
              if (resend_budget.fetch_sub(1) > 0) next.fetch_sub(1);
            }
            std::lock_guard<std::mutex> lock(mu);
            --inflight;
            cv.notify_all();
          });
        }
        {
          std::unique_lock<std::mutex> lock(mu);
          cv.wait(lock, [&] { return inflight == 0; });
        }
        if (next.load() >= options.count) break;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (!first_error.empty())
    std::fprintf(stderr, "mqbench produce: first error: %s\n", first_error.c_str());
  Report("produce", ok.load(), options.size, seconds, std::move(latencies), errors.load());
  return ok.load() >= options.count ? 0 : 1;
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int Consume(const BenchOptions& options) {
  mqclient::PullConsumerOptions consumer_options;
  consumer_options.namesrv_addr = options.namesrv;
  consumer_options.group = options.group;
  mqclient::PullConsumer consumer(consumer_options);
  Result<std::vector<mqclient::MessageQueue>> queues =
      consumer.Start().ok() ? consumer.FetchQueues(options.topic)
                            : Result<std::vector<mqclient::MessageQueue>>(
                                  Status::InvalidArgument("no name server address given"));
  if (!queues.ok()) {
    std::fprintf(stderr, "mqbench consume: error: %s\n", queues.status().ToString().c_str());
    return 1;
  }
  std::atomic<int64_t> received{0}, bytes{0}, errors{0};
  std::mutex latencies_mu;
  std::vector<int64_t> latencies;
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::seconds(options.timeout_s);
  std::vector<std::thread> threads;
  for (const mqclient::MessageQueue& queue : *queues) {
    threads.emplace_back([&, queue] {
      int64_t offset = 0;
      std::vector<int64_t> local;
      while (received.load() < options.count && Clock::now() < deadline) {
        Result<mqclient::PullResult> pulled =
            consumer.Pull(queue, offset, 32, std::chrono::milliseconds(500));
        if (!pulled.ok()) {
          ++errors;
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
          continue;
        }
        offset = pulled->next_begin_offset;
        const int64_t now_ms = NowMs();
        for (const mqclient::ReceivedMessage& m : pulled->messages) {
          local.push_back((now_ms - m.born_timestamp_ms) * 1000);
          bytes += static_cast<int64_t>(m.body.size());
        }
        received += static_cast<int64_t>(pulled->messages.size());
      }
      std::lock_guard<std::mutex> lock(latencies_mu);
      latencies.insert(latencies.end(), local.begin(), local.end());
    });
  }
  for (std::thread& thread : threads) thread.join();
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  int64_t n = received.load();
  size_t average = n > 0 ? static_cast<size_t>(bytes.load() / n) : options.size;
  Report("consume", n, average, seconds, std::move(latencies), errors.load());
  if (n < options.count) {
    std::fprintf(stderr, "mqbench consume: only %lld of %lld messages within %d s\n",
                 static_cast<long long>(n), static_cast<long long>(options.count),
                 options.timeout_s);
    return 1;
  }
  return 0;
}

void AddCommon(CLI::App* app, BenchOptions* options) {
  app->add_option("-n,--namesrvAddr", options->namesrv, "name server address list")->required();
  app->add_option("-t,--topic", options->topic, "topic (default BenchTopic)");
  app->add_option("--count", options->count, "messages to send / receive (default 10000)");
  app->add_option("--timeout-s", options->timeout_s, "give up after this long (default 60)");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"mqbench: produce / consume load against a name server and broker"};
  BenchOptions produce_options, consume_options, mode_options;
  std::string mode;

  CLI::App* produce = app.add_subcommand("produce", "send --count messages and report rates");
  AddCommon(produce, &produce_options);
  produce->add_option("--producers", produce_options.producers, "producer threads (default 1)");
  produce->add_option("--inflight", produce_options.inflight,
                      "async sends in flight per producer (default 64)");
  produce->add_option("--size", produce_options.size, "body bytes (default 1024)");
  produce->add_option("--queues", produce_options.create_queues,
                      "queues when the topic has to be created (default 8)");

  CLI::App* consume = app.add_subcommand("consume", "pull --count messages from every queue");
  AddCommon(consume, &consume_options);
  consume->add_option("-g,--consumerGroup", consume_options.group, "group (default CID_MQBENCH)");

  // The peer-script form: one command line for every mode.
  app.add_option("--mode", mode, "sync | async | consume (instead of a subcommand)");
  app.add_option("-n,--namesrvAddr", mode_options.namesrv, "name server address list");
  app.add_option("-t,--topic", mode_options.topic, "topic");
  app.add_option("--count", mode_options.count, "messages");
  app.add_option("--size", mode_options.size, "body bytes");
  app.add_option("--producers", mode_options.producers, "producer threads");
  app.add_option("--inflight,--window", mode_options.inflight, "sends in flight (async mode)");
  app.add_option("-g,--consumerGroup", mode_options.group, "group (consume mode)");
  app.add_option("--timeout-s", mode_options.timeout_s, "give up after this long");
  CLI11_PARSE(app, argc, argv);

  if (produce->parsed()) return Produce(produce_options);
  if (consume->parsed()) return Consume(consume_options);
  if (mode.empty() || mode_options.namesrv.empty()) {
    std::fprintf(stderr, "mqbench: give a subcommand (produce / consume) or --mode and -n\n");
    return 1;
  }
  if (mode == "consume") return Consume(mode_options);
  if (mode == "sync") mode_options.inflight = 1;
  return Produce(mode_options);
}

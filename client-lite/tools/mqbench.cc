// mqbench: load client for a running name server + broker.
//
//   mqbench produce -n NAMESRV -t TOPIC --producers P --inflight W --size B --count N
//   mqbench consume -n NAMESRV -t TOPIC -g GROUP --count N --batch B
//   mqbench --mode {sync|async|consume} -n NAMESRV -t TOPIC --size B --count N --window W
//           --batch B [--producers P]   (the form /work/shared/peers/mq.sh templates)
//
// Produce: P producers (each its own Producer and connection) keep W asynchronous sends in
// flight each, as a closed loop: a producer starts W sends, and each completion (on a
// transport thread) records the result and sends the next message right there, so no thread
// hand-off per message; the producer's own thread only waits for the end. The producers share
// --io-threads transport threads (default 1), as the producers of one RocketMQ client process
// share its client instance; --io-threads 0 gives each producer a thread of its own. Each
// producer has its own connection, as producers in separate processes (or with their own
// instanceName) do; --clients C spreads them over C client instances instead, whose producers
// share one connection per broker, as the producers of one Java process do. Latency
// is send -> response. A failed send is counted as an error and sent again (within a budget)
// so that N messages get stored. --mode sync and --mode async
// produce the same way (P 16, W 16 by default): what differs is the broker's flushDiskType,
// which the peer script's broker command chooses.
// --rate R paces the sends (message n at start + n/R) to measure latency at a throughput.
// Consume: one thread per queue pulls (up to --batch messages a pull, long polling) from
// offset 0 until N messages arrived; the rate is N over the time until the N-th arrived.
// Latency is receive time - born timestamp (the producer's clock, millisecond resolution).
// Both end with one machine-readable line:
//   msgs_s=N mb_s=N p50_us=N p99_us=N p999_us=N msgs=N
#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "mqclient/admin.h"
#include "mqclient/producer.h"
#include "mqclient/pull_consumer.h"
#include "remoting/transport.h"

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
  int batch = 32;  // RocketMQ's default pullBatchSize
  int timeout_s = 60;
  double rate = 0;     // produce: messages per second over all producers; 0 = as fast as possible
  int io_threads = 1;  // produce: transport threads shared by the producers; 0 = one each
  int clients = 0;     // produce: client instances the producers share; 0 = none (one each)
  int pace_tick_us = 500;  // produce --rate: the pacing thread sleeps at least this long
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

// What every producer of a produce run shares: the message, the claim counter and the totals.
class ProduceRun {
 public:
  explicit ProduceRun(const BenchOptions& options)
      : options_(options), resend_budget_(options.count / 10 + 100) {
    message_.topic = options.topic;
    message_.body.assign(options.size, 'x');
  }

  const BenchOptions& options() const { return options_; }
  const mqclient::Message& message() const { return message_; }

  // Takes the next of the --count messages; false once all are taken.
  bool Claim() { return next_.fetch_add(1, std::memory_order_relaxed) < options_.count; }
  // Claim, returning the message's number (0-based), or -1 once all are taken.
  int64_t ClaimNumber() {
    int64_t n = next_.fetch_add(1, std::memory_order_relaxed);
    return n < options_.count ? n : -1;
  }

  void CountSent() { ok_.fetch_add(1, std::memory_order_relaxed); }
  // Counts a failed send; true when it may be sent again (the budget lets a dead broker still
  // end the run).
  bool CountFailure(const Status& status) {
    errors_.fetch_add(1, std::memory_order_relaxed);
    {
      std::lock_guard<std::mutex> lock(error_mu_);
      if (first_error_.empty()) first_error_ = status.ToString();
    }
    return resend_budget_.fetch_sub(1, std::memory_order_relaxed) > 0;
  }

  int64_t ok() const { return ok_.load(); }
  int64_t errors() const { return errors_.load(); }
  std::string first_error() {
    std::lock_guard<std::mutex> lock(error_mu_);
    return first_error_;
  }

 private:
  const BenchOptions& options_;
  mqclient::Message message_;
  std::atomic<int64_t> next_{0};
  std::atomic<int64_t> ok_{0};
  std::atomic<int64_t> errors_{0};
  std::atomic<int64_t> resend_budget_;
  std::mutex error_mu_;
  std::string first_error_;
};

// One producer of the run: its Producer, its latencies and the count of its send chains
// ("lanes") still going.
struct ProducerState {
  explicit ProducerState(const mqclient::ProducerOptions& producer_options)
      : producer(producer_options) {}

  void Record(int64_t latency_us) {
    std::lock_guard<std::mutex> lock(mu);
    latencies_us.push_back(latency_us);
  }
  void LaneEnded() {
    std::lock_guard<std::mutex> lock(mu);
    if (--active_lanes == 0) all_ended.notify_all();
  }
  void AwaitLanes() {
    std::unique_lock<std::mutex> lock(mu);
    all_ended.wait(lock, [this] { return active_lanes == 0; });
  }

  std::mutex mu;
  std::condition_variable all_ended;
  int active_lanes = 0;               // guarded by mu
  std::vector<int64_t> latencies_us;  // guarded by mu
  mqclient::Producer producer;
};

// One send chain of a producer, one message in flight at a time: claim a message, send it,
// and from its completion send the next. A completion that comes back on the calling thread
// (SendAsync failing at once) continues in Run's loop instead of recursing.
class Lane {
 public:
  Lane(ProduceRun* run, ProducerState* producer) : run_(run), producer_(producer) {}

  void Run() {
    for (;;) {
      if (!resend_ && !run_->Claim()) {
        producer_->LaneEnded();  // the last use of this lane: it may be destroyed now
        return;
      }
      resend_ = false;
      phase_.store(kSending);
      sent_at_ = Clock::now();
      producer_->producer.SendAsync(
          run_->message(), [this](Result<mqclient::SendResult> result) { OnSent(result); });
      if (phase_.exchange(kReturned) != kCompleted) return;  // the completion goes on
    }
  }

 private:
  enum Phase { kSending, kReturned, kCompleted };

  void OnSent(const Result<mqclient::SendResult>& result) {
    if (result.ok()) {
      producer_->Record(
          std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - sent_at_).count());
      run_->CountSent();
    } else {
      resend_ = run_->CountFailure(result.status());
    }
    // SendAsync already returned: the chain goes on here, on the transport thread.
    if (phase_.exchange(kCompleted) == kReturned) Run();
  }

  ProduceRun* const run_;
  ProducerState* const producer_;
  std::atomic<Phase> phase_{kSending};
  Clock::time_point sent_at_;  // set before the send, read by its completion
  bool resend_ = false;        // the last send failed and goes again (within the budget)
};

// --rate: message n is due at start + n / rate. One pacing thread sends every message that
// is due to the producers in turn (at most W in flight each) and sleeps until the next one
// is due, but at least --pace-tick-us after it last woke: at 50k msgs/s a wake-up per
// message (every 20 us) cost the client more CPU than the sends, on a machine it shares
// with the broker. Due messages go out together, as those of many application threads
// would: each connection's share of a wake-up in one write (a WriteBatch), which cut the
// client's system CPU by about 40 % at 60k msgs/s. Completions only record. Latency is counted from
// when a send starts. Sends that start more than 1 ms after they were due are counted: then the
// client, not the broker, set the pace. A failed send is counted, not sent again. Returns when
// every send has ended.
struct PacingReport {
  Clock::time_point start;
  int64_t late_sends = 0;
  int64_t max_lag_us = 0;
};

PacingReport RunPaced(ProduceRun* run, std::vector<std::unique_ptr<ProducerState>>* states,
                      int window) {
  struct Pacer {
    std::mutex mu;
    std::condition_variable room;  // a send of a full producer ended
    std::vector<int> inflight;     // per producer, guarded by mu
  } pacer;
  pacer.inflight.assign(states->size(), 0);
  PacingReport report;
  report.start = Clock::now();
  const double rate = run->options().rate;
  const auto tick = std::chrono::microseconds(std::max(0, run->options().pace_tick_us));
  Clock::time_point woke = report.start;
  size_t next_producer = 0;
  // The sends due at one wake-up go out together, one system call per connection, when the
  // pacer is about to wait: as an application thread that sends a burst asynchronously.
  // A burst lasts at most a tick, also when the pacer runs behind and never sleeps.
  std::optional<mqremoting::WriteBatch> burst;
  Clock::time_point burst_started;
  for (int64_t n = run->ClaimNumber(); n >= 0; n = run->ClaimNumber()) {
    const Clock::time_point due =
        report.start +
        std::chrono::nanoseconds(static_cast<int64_t>(static_cast<double>(n) * 1e9 / rate));
    if (Clock::now() < due) {
      burst.reset();
      std::this_thread::sleep_until(std::max(due, woke + tick));
      woke = Clock::now();
    }
    const size_t p = next_producer;
    next_producer = (next_producer + 1) % states->size();
    {
      std::unique_lock<std::mutex> lock(pacer.mu);
      if (pacer.inflight[p] >= window && burst) {
        // The window opens only once the sends the burst holds have gone out.
        lock.unlock();
        burst.reset();
        lock.lock();
      }
      pacer.room.wait(lock, [&] { return pacer.inflight[p] < window; });
      ++pacer.inflight[p];
    }
    ProducerState* state = (*states)[p].get();
    const auto sent_at = Clock::now();
    if (burst && sent_at - burst_started >= tick) burst.reset();
    if (!burst) {
      burst.emplace();
      burst_started = sent_at;
    }
    const int64_t lag_us =
        std::chrono::duration_cast<std::chrono::microseconds>(sent_at - due).count();
    if (lag_us > 1000) ++report.late_sends;
    report.max_lag_us = std::max(report.max_lag_us, lag_us);
    state->producer.SendAsync(
        run->message(), [run, state, sent_at, p, &pacer](Result<mqclient::SendResult> result) {
          const int64_t us =
              std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - sent_at).count();
          if (result.ok()) {
            state->Record(us);
            run->CountSent();
          } else {
            run->CountFailure(result.status());
          }
          std::lock_guard<std::mutex> lock(pacer.mu);
          --pacer.inflight[p];
          pacer.room.notify_all();
        });
  }
  burst.reset();
  std::unique_lock<std::mutex> lock(pacer.mu);
  pacer.room.wait(lock, [&] {
    return std::all_of(pacer.inflight.begin(), pacer.inflight.end(),
                       [](int in) { return in == 0; });
  });
  return report;
}

int Produce(const BenchOptions& options) {
  if (Status ready = EnsureTopic(options); !ready.ok()) {
    std::fprintf(stderr, "mqbench produce: error: %s\n", ready.ToString().c_str());
    return 1;
  }
  ProduceRun run(options);
  const int producers = std::max(1, options.producers);
  const int window = std::max(1, options.inflight);
  mqclient::ProducerOptions producer_options;
  producer_options.namesrv_addr = options.namesrv;
  producer_options.group = "PID_MQBENCH";
  if (options.io_threads > 0) {
    producer_options.transport_threads = mqremoting::TransportThreads::Start(options.io_threads);
  }
  std::vector<std::shared_ptr<mqclient::ClientInstance>> instances;
  for (int c = 0; c < options.clients; ++c) {
    mqclient::ClientInstanceOptions instance_options;
    instance_options.transport_threads = producer_options.transport_threads;
    instances.push_back(mqclient::ClientInstance::Create(instance_options));
  }
  std::vector<std::unique_ptr<ProducerState>> states;
  for (int p = 0; p < producers; ++p) {
    if (!instances.empty()) producer_options.client_instance = instances[p % instances.size()];
    states.push_back(std::make_unique<ProducerState>(producer_options));
    // Claims are shared, so a producer may take more than its share: leave room.
    states.back()->latencies_us.reserve(static_cast<size_t>(options.count / producers) +
                                        static_cast<size_t>(options.count / 10 + window));
  }
  std::printf(
      "produce: %d producers x %d in flight, %lld messages of %zu bytes to %s, %s%s\n", producers,
      window, static_cast<long long>(options.count), options.size, options.topic.c_str(),
      (options.io_threads > 0 ? std::to_string(options.io_threads) + " shared transport thread(s)"
                              : std::string("a transport thread per producer"))
          .append(options.clients > 0
                      ? ", " + std::to_string(options.clients) + " client instance(s)"
                      : std::string(", a connection per producer"))
          .c_str(),
      options.rate > 0
          ? (", paced at " + std::to_string(static_cast<int64_t>(options.rate)) + " msgs/s").c_str()
          : "");
  std::fflush(stdout);
  auto start = Clock::now();
  std::vector<std::thread> threads;
  std::optional<PacingReport> pacing;
  if (options.rate > 0) {
    bool started = true;
    for (auto& state : states) {
      if (Status s = state->producer.Start(); !s.ok()) {
        run.CountFailure(s);
        started = false;
      }
    }
    if (started) {
      pacing = RunPaced(&run, &states, window);
      start = pacing->start;
    }
    for (auto& state : states) state->producer.Shutdown();
  } else {
    for (int p = 0; p < producers; ++p) {
      threads.emplace_back([&run, &state = *states[p], window] {
        if (Status started = state.producer.Start(); !started.ok()) {
          run.CountFailure(started);
          return;
        }
        std::vector<std::unique_ptr<Lane>> lanes;
        for (int i = 0; i < window; ++i) lanes.push_back(std::make_unique<Lane>(&run, &state));
        {
          std::lock_guard<std::mutex> lock(state.mu);
          state.active_lanes = window;
        }
        for (auto& lane : lanes) lane->Run();
        state.AwaitLanes();
        state.producer.Shutdown();  // ends the transport's use of the lanes before they go
      });
    }
    for (std::thread& thread : threads) thread.join();
  }
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<int64_t> latencies;
  size_t total = 0;
  for (const auto& state : states) total += state->latencies_us.size();
  latencies.reserve(total);
  for (const auto& state : states) {
    latencies.insert(latencies.end(), state->latencies_us.begin(), state->latencies_us.end());
  }
  if (std::string error = run.first_error(); !error.empty()) {
    std::fprintf(stderr, "mqbench produce: first error: %s\n", error.c_str());
  }
  if (pacing) {
    std::printf("pacing: %lld of %lld sends started more than 1 ms late (at most %lld us)%s\n",
                static_cast<long long>(pacing->late_sends), static_cast<long long>(options.count),
                static_cast<long long>(pacing->max_lag_us),
                pacing->late_sends * 100 > options.count
                    ? ": the client could not keep the rate, latencies are understated"
                    : "");
  }
  Report("produce", run.ok(), options.size, seconds, std::move(latencies), run.errors());
  return run.ok() >= options.count ? 0 : 1;
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
  const int32_t batch = std::max(1, options.batch);
  std::printf("consume: %zu queues, batch %d, %lld messages from %s\n", queues->size(), batch,
              static_cast<long long>(options.count), options.topic.c_str());
  std::fflush(stdout);
  // Messages counted towards --count; a pull that crosses it counts only what was missing,
  // and stamps the end of the run.
  std::atomic<int64_t> counted{0}, bytes{0}, errors{0};
  std::atomic<int64_t> end_ns{0};
  std::mutex latencies_mu;
  std::vector<int64_t> latencies;
  latencies.reserve(static_cast<size_t>(options.count));
  std::mutex progress_mu;
  std::condition_variable progress;
  size_t running = queues->size();  // guarded by progress_mu
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::seconds(options.timeout_s);
  std::vector<std::thread> threads;
  for (const mqclient::MessageQueue& queue : *queues) {
    threads.emplace_back([&, queue] {
      int64_t offset = 0;
      std::vector<int64_t> local;
      while (counted.load(std::memory_order_relaxed) < options.count && Clock::now() < deadline) {
        Result<mqclient::PullResult> pulled =
            consumer.Pull(queue, offset, batch, std::chrono::milliseconds(500));
        if (!pulled.ok()) {
          if (counted.load() >= options.count) break;  // cut short by the shutdown at the end
          errors.fetch_add(1);
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
          continue;
        }
        offset = pulled->next_begin_offset;
        const int64_t n = static_cast<int64_t>(pulled->messages.size());
        if (n == 0) continue;
        const int64_t before = counted.fetch_add(n);
        const int64_t take = std::clamp<int64_t>(options.count - before, 0, n);
        if (take == 0) break;
        if (before + n >= options.count) {
          end_ns.store(
              std::chrono::duration_cast<std::chrono::nanoseconds>((Clock::now() - start)).count());
          std::lock_guard<std::mutex> lock(progress_mu);
          progress.notify_all();
        }
        const int64_t now_ms = NowMs();
        for (int64_t i = 0; i < take; ++i) {
          const mqclient::ReceivedMessage& m = pulled->messages[static_cast<size_t>(i)];
          local.push_back((now_ms - m.born_timestamp_ms) * 1000);
          bytes.fetch_add(static_cast<int64_t>(m.body.size()), std::memory_order_relaxed);
        }
      }
      {
        std::lock_guard<std::mutex> lock(latencies_mu);
        latencies.insert(latencies.end(), local.begin(), local.end());
      }
      std::lock_guard<std::mutex> lock(progress_mu);
      --running;
      progress.notify_all();
    });
  }
  {
    // Once --count arrived, the threads still long-polling empty queues are cut short rather
    // than waited for.
    std::unique_lock<std::mutex> lock(progress_mu);
    progress.wait(lock, [&] { return counted.load() >= options.count || running == 0; });
  }
  consumer.Shutdown();
  for (std::thread& thread : threads) thread.join();
  const int64_t n = std::min(counted.load(), options.count);
  double seconds = end_ns.load() > 0 ? static_cast<double>(end_ns.load()) / 1e9
                                     : std::chrono::duration<double>(Clock::now() - start).count();
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
  app->add_option("--timeout-s", options->timeout_s,
                  "give up after this long (default 60; consume only)");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"mqbench: produce / consume load against a name server and broker"};
  BenchOptions produce_options, consume_options, mode_options;
  // The peer-script form: peer-level load by default (16 producers x 16 in flight).
  mode_options.producers = 16;
  mode_options.inflight = 16;
  std::string mode;

  CLI::App* produce = app.add_subcommand(
      "produce", "send --count messages, W in flight per producer, and report rates");
  AddCommon(produce, &produce_options);
  produce->add_option("--producers", produce_options.producers,
                      "producers, each with its own connection (default 1)");
  produce->add_option("--inflight,--window", produce_options.inflight,
                      "sends in flight per producer (default 64)");
  produce->add_option("--size", produce_options.size, "body bytes (default 1024)");
  produce->add_option("--queues", produce_options.create_queues,
                      "queues when the topic has to be created (default 8)");
  produce
      ->add_option("--rate", produce_options.rate,
                   "send at this many msgs/s in total (default 0: as fast as the window "
                   "allows); for latency at a given throughput")
      ->check(CLI::NonNegativeNumber);
  produce
      ->add_option("--pace-tick-us", produce_options.pace_tick_us,
                   "with --rate: the pacing thread wakes at most this often and sends what is "
                   "due (default 500; 0: wakes for every message)")
      ->check(CLI::NonNegativeNumber);
  produce
      ->add_option("--io-threads", produce_options.io_threads,
                   "transport threads all producers share (default 1); 0: each producer runs "
                   "its own")
      ->check(CLI::NonNegativeNumber);
  produce
      ->add_option("--clients", produce_options.clients,
                   "client instances the producers are spread over, each with one connection "
                   "per broker that its producers share, as the producers of one Java process "
                   "share its MQClientInstance (default 0: a connection per producer)")
      ->check(CLI::NonNegativeNumber);

  CLI::App* consume =
      app.add_subcommand("consume", "pull --count messages from offset 0 of every queue");
  AddCommon(consume, &consume_options);
  consume->add_option("-g,--consumerGroup", consume_options.group, "group (default CID_MQBENCH)");
  consume->add_option("--batch", consume_options.batch,
                      "messages per pull, maxMsgNums (default 32, RocketMQ's pullBatchSize)");

  // The peer-script form: one command line for every mode.
  app.add_option("--mode", mode,
                 "sync | async: produce (the two differ only in the broker's flushDiskType); "
                 "consume: consume (instead of a subcommand)");
  app.add_option("-n,--namesrvAddr", mode_options.namesrv, "name server address list");
  app.add_option("-t,--topic", mode_options.topic, "topic (default BenchTopic)");
  app.add_option("--count", mode_options.count, "messages (default 10000)");
  app.add_option("--size", mode_options.size, "body bytes (default 1024)");
  app.add_option(
      "--producers", mode_options.producers,
      "sync/async: producers, each with its own connection unless --clients (default 16)");
  app.add_option("--inflight,--window", mode_options.inflight,
                 "sync/async: sends in flight per producer (default 16)");
  app.add_option("--queues", mode_options.create_queues,
                 "sync/async: queues when the topic has to be created (default 8)");
  app.add_option("--rate", mode_options.rate,
                 "sync/async: send at this many msgs/s in total (default 0: unpaced)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--pace-tick-us", mode_options.pace_tick_us,
                 "sync/async with --rate: the pacer wakes at most this often (default 500)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--io-threads", mode_options.io_threads,
                 "sync/async: transport threads all producers share (default 1); 0: one per "
                 "producer")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--clients", mode_options.clients,
                 "sync/async: client instances the producers share, one connection per broker "
                 "each (default 0: a connection per producer)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--batch", mode_options.batch, "consume: messages per pull (default 32)");
  app.add_option("-g,--consumerGroup", mode_options.group, "consume: group (default CID_MQBENCH)");
  app.add_option("--timeout-s", mode_options.timeout_s,
                 "consume: give up after this long (default 60)");
  CLI11_PARSE(app, argc, argv);

  if (produce->parsed()) return Produce(produce_options);
  if (consume->parsed()) return Consume(consume_options);
  if (mode.empty() || mode_options.namesrv.empty()) {
    std::fprintf(stderr, "mqbench: give a subcommand (produce / consume) or --mode and -n\n");
    return 1;
  }
  if (mode == "consume") return Consume(mode_options);
  if (mode == "sync" || mode == "async") return Produce(mode_options);
  std::fprintf(stderr, "mqbench: --mode must be sync, async or consume, not '%s'\n", mode.c_str());
  return 1;
}

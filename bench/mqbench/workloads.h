// The workloads of mqbench. Each runs against a store directory through the public Store
// API, prints its report to stdout and returns the process exit code (0 ok, 1 the store
// failed). Arguments are validated by the command line layer (mqbench.cc) before.
#ifndef MQSTORE_BENCH_MQBENCH_WORKLOADS_H_
#define MQSTORE_BENCH_MQBENCH_WORKLOADS_H_

#include <cstddef>
#include <cstdint>
#include <string>

namespace mqbench {

// `mqbench append`: `threads` writers put `count` messages in total, `batch` per call
// (Put when batch == 1, PutBatch otherwise), each call to the next of `queues` queues.
struct AppendConfig {
  std::string store;
  std::string topic = "bench";
  int queues = 4;
  uint64_t count = 1'000'000;
  size_t size = 1024;
  int threads = 1;
  bool sync = false;  // FlushMode::kSync instead of kAsync
  int batch = 1;
  // > 0: each thread keeps up to this many calls in flight through Store::PutAsync /
  // PutBatchAsync (as a server does) instead of one blocking call at a time.
  int in_flight = 0;
  int64_t cache_window_mb = -1;     // StoreOptions::cached_log_window_bytes in MiB; -1: default
  int64_t zero_ahead_mb = -1;       // StoreOptions::log_zero_ahead_bytes in MiB; -1: default
  int64_t resident_window_mb = -1;  // StoreOptions::resident_log_window_bytes in MiB; -1: default
};

// `mqbench read`: reads queues 0..queues-1 of an existing store from their min offset to
// the max offset seen at the start, `batch` messages per Read call, `threads` readers each
// taking whole queues.
struct ReadConfig {
  std::string store;
  std::string topic = "bench";
  int queues = 4;
  int batch = 32;
  uint64_t max_bytes = uint64_t{4} << 20;
  int threads = 1;
  bool verify = false;  // check body and record CRCs of every record
};

// `mqbench embedded`: the contract of /work/shared/peers/embedded (see bench_common.h
// there): one writer appends `n` messages of `size` bytes to queue 0 of topic "bench",
// `batch` per call, until done or `max_secs` passed, and prints exactly one line
//   msgs=<n> secs=<s> msgs_s=<n> mb_s=<n> p50_us=<n> p99_us=<n>
struct EmbeddedConfig {
  std::string dir;
  uint64_t n = 1'000'000;
  size_t size = 1024;
  int batch = 1;
  bool sync = false;
  double max_secs = 60;
};

int RunAppend(const AppendConfig& config);
int RunRead(const ReadConfig& config);
int RunEmbedded(const EmbeddedConfig& config);

}  // namespace mqbench

#endif  // MQSTORE_BENCH_MQBENCH_WORKLOADS_H_

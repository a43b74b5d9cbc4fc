// mqbench: load tool for the mqstore library (no network).
//
//   mqbench append   --store DIR [--topic T] [--queues Q] [--count N] [--size B]
//                    [--threads K] [--flush async|sync] [--batch M]
//   mqbench read     --store DIR [--topic T] [--queues Q] [--batch M] [--max-bytes X]
//                    [--threads K] [--verify]
//   mqbench embedded <dir> <n> <value_size> <batch> <sync 0|1> [max_secs]
//
// append and read print human lines, then `rss_peak_mb=... rss_mb=...`, then as the last
// line `msgs_s=N mb_s=N p50_us=N p99_us=N p999_us=N`. embedded prints only the line the peer
// scripts expect (/work/shared/peers/embedded). MB is 10^6 bytes of payload (message bodies).
// Exit codes: 0 done, 1 the store reported an error, 2 bad command line.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <string>

#include "workloads.h"

namespace {

constexpr size_t kMaxBodyBytes = size_t{4} << 20;  // StoreOptions::max_message_bytes default

void AddAppendCommand(CLI::App& app, mqbench::AppendConfig& c, std::string& flush) {
  CLI::App* cmd = app.add_subcommand(
      "append",
      "Put --count messages of --size random bytes into a store from --threads writers "
      "(round-robin over --queues queues) and report throughput and per-call latency.");
  cmd->add_option("--store", c.store,
                  "Store directory; created when missing, appended to when it exists")
      ->required();
  cmd->add_option("--topic", c.topic, "Topic to write")->capture_default_str();
  cmd->add_option("--queues", c.queues,
                  "Queues of the topic (ids 0..Q-1); each put call goes to the next one")
      ->check(CLI::Range(1, 65536))
      ->capture_default_str();
  cmd->add_option("--count", c.count, "Messages to put in total, over all threads")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--size", c.size, "Body size in bytes (incompressible random bytes), 1..4 MiB")
      ->check(CLI::Range(size_t{1}, kMaxBodyBytes))
      ->capture_default_str();
  cmd->add_option("--threads", c.threads,
                  "Concurrent writer threads; in sync mode concurrent puts share one fdatasync "
                  "(group commit)")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  cmd->add_option("--flush", flush,
                  "async: acknowledged once in the page cache, flushed every 500 ms; "
                  "sync: a put returns once its record is durable")
      ->check(CLI::IsMember({"async", "sync"}))
      ->capture_default_str();
  cmd->add_option("--batch", c.batch,
                  "Messages per call: 1 uses Store::Put, more uses one Store::PutBatch per "
                  "call (all to one queue); latency is per call")
      ->check(CLI::Range(1, 65536))
      ->capture_default_str();
  cmd->add_option("--in-flight", c.in_flight,
                  "Calls each thread keeps in flight through Store::PutAsync / PutBatchAsync "
                  "(how a server drives the store: a few threads, many concurrent sends); "
                  "0 makes one blocking call at a time; latency is from issue to completion")
      ->check(CLI::Range(0, 65536))
      ->capture_default_str();
  cmd->add_option("--cache-window-mb", c.cache_window_mb,
                  "Log MiB kept in the page cache behind the append position "
                  "(StoreOptions::cached_log_window_bytes); 0 leaves the cache to the kernel; "
                  "default: the store's default")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  cmd->add_option("--resident-window-mb", c.resident_window_mb,
                  "Log MiB kept mapped behind the append position "
                  "(StoreOptions::resident_log_window_bytes); 0 keeps everything mapped; "
                  "default: the store's default")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  cmd->add_option("--zero-ahead-mb", c.zero_ahead_mb,
                  "With --flush sync: log MiB written with zeros ahead of the append position "
                  "(StoreOptions::log_zero_ahead_bytes); 0 turns it off; default: the store's "
                  "default")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
}

void AddReadCommand(CLI::App& app, mqbench::ReadConfig& c) {
  CLI::App* cmd = app.add_subcommand(
      "read",
      "Read queues 0..Q-1 of an existing store from their min offset to their end and "
      "report throughput and per-Read latency.");
  cmd->add_option("--store", c.store, "Directory of an existing store")->required();
  cmd->add_option("--topic", c.topic, "Topic to read")->capture_default_str();
  cmd->add_option("--queues", c.queues, "Queues to read (ids 0..Q-1); each must exist")
      ->check(CLI::Range(1, 65536))
      ->capture_default_str();
  cmd->add_option("--batch", c.batch, "Messages per Store::Read call at most")
      ->check(CLI::Range(1, 65536))
      ->capture_default_str();
  cmd->add_option("--max-bytes", c.max_bytes,
                  "Record bytes per Store::Read call at most (one message is always returned)")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 30))
      ->capture_default_str();
  cmd->add_option("--threads", c.threads, "Reader threads; each reads whole queues")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  cmd->add_flag("--verify", c.verify, "Check the body and record CRC of every record read");
}

void AddEmbeddedCommand(CLI::App& app, mqbench::EmbeddedConfig& c, int& sync) {
  CLI::App* cmd = app.add_subcommand(
      "embedded",
      "The peer contract of /work/shared/peers/embedded/embedded.sh (MQ_EMBED_CMD): one "
      "writer appends to queue 0 of topic 'bench' and prints one line "
      "'msgs=<n> secs=<s> msgs_s=<n> mb_s=<n> p50_us=<n> p99_us=<n>' (latency per call).");
  cmd->add_option("dir", c.dir, "Store directory (created when missing)")->required();
  cmd->add_option("n", c.n, "Messages to append")->required()->check(CLI::PositiveNumber);
  cmd->add_option("value_size", c.size, "Body size in bytes, 1..4 MiB")
      ->required()
      ->check(CLI::Range(size_t{1}, kMaxBodyBytes));
  cmd->add_option("batch", c.batch, "Messages per call: 1 = Store::Put, more = Store::PutBatch")
      ->required()
      ->check(CLI::Range(1, 65536));
  cmd->add_option("sync", sync, "1 = FlushMode::kSync (durable before return), 0 = kAsync")
      ->required()
      ->check(CLI::Range(0, 1));
  cmd->add_option("max_secs", c.max_secs, "Stop early after this many seconds")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"mqbench: load tool for the mqstore message store library", "mqbench"};
  app.require_subcommand(1);
  mqbench::AppendConfig append;
  std::string flush = "async";
  mqbench::ReadConfig read;
  mqbench::EmbeddedConfig embedded;
  int embedded_sync = 0;
  AddAppendCommand(app, append, flush);
  AddReadCommand(app, read);
  AddEmbeddedCommand(app, embedded, embedded_sync);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);  // prints the help text or the error
    return code == 0 ? 0 : 2;
  }

  try {
    if (app.got_subcommand("append")) {
      append.sync = flush == "sync";
      return mqbench::RunAppend(append);
    }
    if (app.got_subcommand("read")) return mqbench::RunRead(read);
    embedded.sync = embedded_sync != 0;
    return mqbench::RunEmbedded(embedded);
  } catch (const std::exception& e) {  // e.g. no memory for latency samples, no threads
    std::fprintf(stderr, "mqbench: %s\n", e.what());
    return 1;
  }
}

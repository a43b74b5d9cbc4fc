// mqdump: look inside an mqstore directory without changing it.
//
//   mqdump commitlog DIR [--from OFFSET] [--limit N] [--json]
//   mqdump consumequeue DIR TOPIC QUEUE [--from N] [--limit N] [--json]
//   mqdump message DIR (--offset OFFSET | --id ID [--topic TOPIC]) [--json]
//   mqdump index DIR --key KEY [--topic TOPIC] [--begin MS] [--end MS] [--limit N] [--json]
//   mqdump meta DIR [--json]
//   mqdump stats DIR [--json]
//   mqdump timer DIR [--json]
//   mqdump verify DIR [--quiet]
//
// Exit status: 0 success (verify: no corruption), 1 verify found corruption, 2 bad usage,
// no store, or an I/O error. Every file is opened read-only; no lock is taken and nothing
// is recovered, so a crashed store is shown exactly as the crash left it.
#include <CLI/CLI.hpp>
#include <exception>
#include <iostream>

#include "commands.h"

namespace {

constexpr const char* kFormatDocs = "Formats: docs/format/*.md in the mqstore sources.";

void AddDir(CLI::App* cmd, std::string* dir) {
  cmd->add_option("DIR", *dir, "store directory (the one passed to Store::Open)")
      ->required()
      ->check(CLI::ExistingDirectory);
}

int Main(int argc, char** argv) {
  CLI::App app{
      "mqdump: inspect and verify an mqstore directory. Read-only: it takes no lock, runs no "
      "recovery and writes nothing."};
  app.require_subcommand(1);
  app.footer("Exit status: 0 ok, 1 verify found corruption, 2 usage or I/O error.\n" +
             std::string(kFormatDocs));

  mqdump::CommitLogArgs log_args;
  CLI::App* log_cmd =
      app.add_subcommand("commitlog", "list commit-log records, blanks and where the log ends");
  log_cmd->footer(
      "List commit-log entries in log order, one per line: each record (offset, size, topic, "
      "queue, queue offset, store time, body size, tags, keys), the blank that closes each "
      "segment, and an END line saying why the log stops there (zeros, a torn or damaged "
      "record). A record whose CRC or PHYSICALOFFSET is wrong is marked DAMAGED. A "
      "compressed body (sysflag) is decompressed to give its size: body=STORED (TYPE, N "
      "decompressed), or (TYPE, does not decompress).");
  AddDir(log_cmd, &log_args.dir);
  log_cmd
      ->add_option("--from", log_args.from,
                   "start at the first entry at or after this commit-log offset")
      ->check(CLI::NonNegativeNumber);
  log_cmd->add_option("--limit", log_args.limit, "print at most N entries (0: all)");
  log_cmd->add_flag("--json", log_args.json, "one JSON object per line");

  mqdump::ConsumeQueueArgs queue_args;
  CLI::App* queue_cmd = app.add_subcommand("consumequeue", "list the entries of one consume queue");
  queue_cmd->footer(
      "List the entries of one consume queue (consumequeue/TOPIC/QUEUE/): queue offset, the "
      "record's commit-log offset and size, and the tags hash. Stops where the store's own "
      "load rule ends the queue (an empty entry, or one not after its predecessor).");
  AddDir(queue_cmd, &queue_args.dir);
  queue_cmd->add_option("TOPIC", queue_args.topic, "topic name")->required();
  queue_cmd->add_option("QUEUE", queue_args.queue_id, "queue id")
      ->required()
      ->check(CLI::NonNegativeNumber);
  queue_cmd->add_option("--from", queue_args.from, "first queue offset to print")
      ->check(CLI::NonNegativeNumber);
  queue_cmd->add_option("--limit", queue_args.limit, "print at most N entries (0: all)");
  queue_cmd->add_flag("--json", queue_args.json, "one JSON object per line");

  mqdump::MessageArgs message_args;
  CLI::App* message_cmd = app.add_subcommand("message", "show one record in full");
  message_cmd->footer(
      "Show one record in full: every header field, the offset message id, properties "
      "decoded, the body as text when printable and as a hex dump otherwise, and whether its "
      "checksums hold. A compressed body (sysflag: zlib, zstd; lz4 is not supported) is shown "
      "decompressed, with its type and stored size; one that does not decompress is shown as "
      "stored, with the reason. The record is the one starting at --offset, or the one with "
      "message "
      "id --id: an offset message id (store host + offset, 32 hex digits; 56 for IPv6) "
      "naming a record of this store, or else a unique id (UNIQ_KEY, also 32 hex digits from "
      "RocketMQ clients) looked up in the hash index of --topic, newest first.");
  AddDir(message_cmd, &message_args.dir);
  CLI::Option* offset_opt =
      message_cmd->add_option("--offset", message_args.offset, "commit-log offset of the record")
          ->check(CLI::NonNegativeNumber);
  CLI::Option* id_opt =
      message_cmd->add_option("--id", message_args.id, "offset message id or unique id");
  offset_opt->excludes(id_opt);
  message_cmd
      ->add_option("--topic", message_args.topic,
                   "topic to look a unique id up in (the index hashes topic#key)")
      ->needs(id_opt);
  message_cmd->add_flag("--json", message_args.json, "one JSON object");

  mqdump::IndexArgs index_args;
  CLI::App* index_cmd = app.add_subcommand("index", "find records by key (KEYS or UNIQ_KEY)");
  index_cmd->footer(
      "Find the records carrying a key, one of their KEYS (space-separated) or their "
      "UNIQ_KEY, newest first; one line each (offset, size, topic, queue, queue offset, store "
      "time, body size, tags, keys, unique key, body preview; a compressed body is "
      "previewed decompressed), then a summary line.\n\n"
      "With --topic the hash index (index/) is searched: it hashes topic#key, and every "
      "candidate it gives is read and checked against the record's topic and keys (keys "
      "sharing a hash are counted, not shown). --begin/--end then filter on the time each "
      "record was indexed at. Without --topic the index cannot be used: the whole commit log "
      "is scanned instead (every topic; times are the records' store times).");
  AddDir(index_cmd, &index_args.dir);
  index_cmd->add_option("--key", index_args.key, "the key (a KEYS token or a UNIQ_KEY)")
      ->required();
  index_cmd->add_option("--topic", index_args.topic,
                        "topic to search through the index (omitted: scan the commit log)");
  index_cmd->add_option("--begin", index_args.begin_ms,
                        "earliest store time, ms since the epoch (default: any)");
  index_cmd->add_option("--end", index_args.end_ms,
                        "latest store time, ms since the epoch (default: any)");
  index_cmd->add_option("--limit", index_args.limit, "print at most N records (0: all)")
      ->capture_default_str();
  index_cmd->add_flag("--json", index_args.json,
                      "one JSON object per record (body_preview: up to 64 bytes of a text body, "
                      "null for a binary one), no summary line");

  mqdump::MetaArgs meta_args;
  CLI::App* meta_cmd =
      app.add_subcommand("meta", "list topics, groups, consumer offsets, schedule progress");
  meta_cmd->footer(
      "List the metadata store in DIR/meta (LMDB, opened read-only): topic configs, "
      "subscription groups, every consumer offset (group, topic, queue, offset) and the "
      "delay/timer schedule progress. A value that does not decode is an error here; "
      "mqdump verify lists them all.");
  AddDir(meta_cmd, &meta_args.dir);
  meta_cmd->add_flag("--json", meta_args.json, "one JSON object");

  mqdump::StatsArgs stats_args;
  CLI::App* stats_cmd =
      app.add_subcommand("stats", "summarise segments, queues, checkpoint and log end");
  stats_cmd->footer(
      "Summarise the store: segment size and count, where recovery would end the log, both "
      "checkpoint slots, the abort marker, and every queue with its min and max offset.");
  AddDir(stats_cmd, &stats_args.dir);
  stats_cmd->add_flag("--json", stats_args.json, "one JSON object");

  mqdump::TimerArgs timer_args;
  CLI::App* timer_cmd =
      app.add_subcommand("timer", "summarise the timer log: segments, entries, pending timers");
  timer_cmd->footer(
      "Summarise the timer log (DIR/timer/log/, docs/format/timer.md): precision and segment "
      "size, each segment with its entries, roll entries and slot range, the log end, the "
      "timer's committed progress from meta/ (when it can be read), and the timers not yet "
      "delivered grouped by due time. Damage is not listed here: mqdump verify reports it.");
  AddDir(timer_cmd, &timer_args.dir);
  timer_cmd->add_flag("--json", timer_args.json, "one JSON object");

  mqdump::VerifyArgs verify_args;
  CLI::App* verify_cmd =
      app.add_subcommand("verify", "check the whole store; exit 1 on corruption");
  verify_cmd->footer(
      "Check the whole store the way recovery relies on it: every record's body CRC, "
      "whole-record CRC and PHYSICALOFFSET; contiguous queue offsets; blanks closing "
      "segments; contiguous equal-sized segments; every consume-queue entry against its "
      "record; both checkpoint slots. The hash index: each file's header copies and size, "
      "files in log order, every entry's offset, time and chain link, every slot head, and "
      "every entry against the record it points at. The metadata (meta/): that it opens, "
      "every value decodes, offsets name registered topics and queues. The timer log "
      "(timer/log/): segment sizes, names, contiguity and headers, every entry's CRC and "
      "type, its slot against its delivery time and precision, its chain link (PREV: the "
      "newest earlier entry of the same slot), the record it points at, and the committed "
      "timer progress in meta/ against the log's end. Prints each problem with its file and byte "
      "offset as a note (a torn tail or "
      "queue tail the next open repairs), a warning, or corruption (damage below the "
      "checkpoint's durable offset, or data after it). Progress goes to stderr when stderr "
      "is a terminal.\n\nExit status: 0 no corruption (notes and warnings allowed), 1 "
      "corruption, 2 usage or I/O error.");
  AddDir(verify_cmd, &verify_args.dir);
  verify_cmd->add_flag("--quiet,-q", verify_args.quiet, "print only the summary line");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);  // prints help or the usage error
    return code == 0 ? mqdump::kExitOk : mqdump::kExitError;
  }
  if (*log_cmd) return mqdump::RunCommitLog(log_args);
  if (*queue_cmd) return mqdump::RunConsumeQueue(queue_args);
  if (*message_cmd) {
    if (offset_opt->count() == 0 && id_opt->count() == 0) {
      std::cerr << "mqdump message: give --offset or --id\n";
      return mqdump::kExitError;
    }
    return mqdump::RunMessage(message_args);
  }
  if (*index_cmd) return mqdump::RunIndex(index_args);
  if (*meta_cmd) return mqdump::RunMeta(meta_args);
  if (*stats_cmd) return mqdump::RunStats(stats_args);
  if (*timer_cmd) return mqdump::RunTimer(timer_args);
  if (*verify_cmd) return mqdump::RunVerify(verify_args);
  return mqdump::kExitError;
}

}  // namespace

int main(int argc, char** argv) {
  // The library reports through Status; this only catches what the CLI and JSON libraries
  // or the standard library may throw (bad_alloc), so that no input ends in a crash.
  try {
    return Main(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "mqdump: " << e.what() << "\n";
    return mqdump::kExitError;
  }
}

// mqdump: look inside an mqstore directory without changing it.
//
//   mqdump commitlog DIR [--from OFFSET] [--limit N] [--json]
//   mqdump consumequeue DIR TOPIC QUEUE [--from N] [--limit N] [--json]
//   mqdump message DIR --offset OFFSET [--json]
//   mqdump stats DIR [--json]
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
      "record). A record whose CRC or PHYSICALOFFSET is wrong is marked DAMAGED.");
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
      "Show the record starting at a commit-log offset in full: every header field, the "
      "offset message id, properties decoded, the body as text when printable and as a hex "
      "dump otherwise, and whether its checksums hold.");
  AddDir(message_cmd, &message_args.dir);
  message_cmd->add_option("--offset", message_args.offset, "commit-log offset of the record")
      ->required()
      ->check(CLI::NonNegativeNumber);
  message_cmd->add_flag("--json", message_args.json, "one JSON object");

  mqdump::StatsArgs stats_args;
  CLI::App* stats_cmd =
      app.add_subcommand("stats", "summarise segments, queues, checkpoint and log end");
  stats_cmd->footer(
      "Summarise the store: segment size and count, where recovery would end the log, both "
      "checkpoint slots, the abort marker, and every queue with its min and max offset.");
  AddDir(stats_cmd, &stats_args.dir);
  stats_cmd->add_flag("--json", stats_args.json, "one JSON object");

  mqdump::VerifyArgs verify_args;
  CLI::App* verify_cmd =
      app.add_subcommand("verify", "check the whole store; exit 1 on corruption");
  verify_cmd->footer(
      "Check the whole store the way recovery relies on it: every record's body CRC, "
      "whole-record CRC and PHYSICALOFFSET; contiguous queue offsets; blanks closing "
      "segments; contiguous equal-sized segments; every consume-queue entry against its "
      "record; both checkpoint slots. Prints each problem with its file and byte offset as "
      "a note (a torn tail or queue tail the next open repairs), a warning, or corruption "
      "(damage below the checkpoint's durable offset, or data after it). Progress goes to "
      "stderr when stderr is a terminal.\n\nExit status: 0 no corruption (notes and warnings "
      "allowed), 1 corruption, 2 usage or I/O error.");
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
  if (*message_cmd) return mqdump::RunMessage(message_args);
  if (*stats_cmd) return mqdump::RunStats(stats_args);
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

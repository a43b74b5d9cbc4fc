// Kills a real writer process (mq_crash_writer) with SIGKILL at random moments and checks
// after each kill that the store opens and holds every message the writer saw acknowledged
// as durable, byte for byte (by hash) at its queue offset and physical offset. The same
// store directory is used for every round, so recovery runs on top of earlier recoveries.
//
// Every other round the check runs in a forked child that exits without closing the store,
// so the next writer starts on a crashed store and the kill may land in its recovery.
//
// MQ_CRASH_ROUNDS=<n> sets the number of rounds (default 50); MQ_CRASH_PROCESS_SEED=<n> the
// seed of the kill delays and the writer's workload (default 1).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "crash_process/crash_process_common.h"
#include "mqstore/store.h"
#include "support/test_util.h"

namespace mqstore::crash_process {
namespace {

std::string ReadTextFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteTextFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

uint64_t EnvOr(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v ? std::strtoull(v, nullptr, 10) : fallback;
}

// Starts the writer with stderr redirected to `err_path`; returns its pid.
pid_t StartWriter(const std::vector<std::string>& args, const std::string& err_path) {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) dup2(fd, 2);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

// Every acknowledgement is readable with the acknowledged hash, offsets and size; every
// queue reads back contiguously from 0 with valid records. "" or the first problem.
std::string CheckStore(Store* store, const std::vector<Ack>& acks) {
  for (const Ack& a : acks) {
    std::string where =
        "queue " + std::to_string(a.queue_id) + " offset " + std::to_string(a.queue_offset) + ": ";
    auto read = store->Read(kTopic, a.queue_id, a.queue_offset, 1, 1);
    if (!read.ok()) return where + read.status().ToString();
    if (read->status != ReadStatus::kFound) {
      return where + "acknowledged message is gone (" + ReadStatusName(read->status) + ", max " +
             std::to_string(read->max_offset) + ")";
    }
    const StoredMessage& m = read->messages[0];
    ParsedRecord p;
    Status parsed = ParseRecord(m.record, true, &p);
    if (!parsed.ok()) return where + parsed.ToString();
    if (m.physical_offset != a.physical_offset) return where + "at another physical offset";
    if (static_cast<int32_t>(m.record.size()) != a.record_size) return where + "another size";
    if (BodyHash(p.body) != a.body_hash) return where + "another body";
    auto record = store->ReadRecord(a.physical_offset);
    if (!record.ok()) return where + "ReadRecord: " + record.status().ToString();
    if (record->bytes != m.record) return where + "ReadRecord shows other bytes";
  }
  for (int32_t q = 0; q < kQueues; ++q) {
    auto bounds = store->GetQueueBounds(kTopic, q);
    if (!bounds.ok()) continue;
    int64_t offset = 0;
    while (offset < bounds->max_offset) {
      auto r = store->Read(kTopic, q, offset, 256, 1 << 22);
      std::string where = "queue " + std::to_string(q) + " at " + std::to_string(offset) + ": ";
      if (!r.ok() || r->status != ReadStatus::kFound) return where + "unreadable";
      for (const StoredMessage& m : r->messages) {
        ParsedRecord p;
        if (m.queue_offset != offset) return where + "offsets not contiguous";
        Status parsed = ParseRecord(m.record, true, &p);
        if (!parsed.ok()) return where + parsed.ToString();
        ++offset;
      }
    }
  }
  return "";
}

// Opens the store after a kill and checks it. "" or the problem.
std::string OpenAndCheck(const std::string& dir, const std::vector<Ack>& acks,
                         bool expect_crash_recovery, std::unique_ptr<Store>* out) {
  auto opened = Store::Open(WriterOptions(), dir);
  if (!opened.ok()) return "open after the kill: " + opened.status().ToString();
  *out = std::move(opened).value();
  if (expect_crash_recovery && !(*out)->Stats().recovered_from_crash) {
    return "open after the kill did not report a crash recovery";
  }
  return CheckStore(out->get(), acks);
}

// Runs OpenAndCheck in a child process that then dies without closing the store.
std::string OpenCheckAndDieInChild(const std::string& dir, const std::vector<Ack>& acks,
                                   bool expect_crash_recovery, const std::string& result_path) {
  pid_t pid = fork();
  if (pid == 0) {
    std::unique_ptr<Store> store;
    std::string problem = OpenAndCheck(dir, acks, expect_crash_recovery, &store);
    WriteTextFile(result_path, problem.empty() ? "ok" : problem);
    _exit(0);  // no Close: the next writer finds the abort marker
  }
  if (pid < 0) return "fork failed";
  int wstatus = 0;
  if (waitpid(pid, &wstatus, 0) != pid || !WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
    return "the checking child died (status " + std::to_string(wstatus) + ")";
  }
  std::string result = ReadTextFile(result_path);
  return result == "ok" ? "" : result;
}

TEST(CrashProcessTest, KilledWriterKeepsEveryAcknowledgedMessage) {
  const uint64_t rounds = EnvOr("MQ_CRASH_ROUNDS", 50);
  const uint64_t seed = EnvOr("MQ_CRASH_PROCESS_SEED", 1);
  std::mt19937_64 rng(seed);
  test::TempDir temp;
  const std::string dir = temp.Sub("store");
  std::vector<Ack> all_acks;
  int64_t rounds_with_acks = 0;
  auto started = std::chrono::steady_clock::now();

  for (uint64_t round = 0; round < rounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round) +
                 " (MQ_CRASH_PROCESS_SEED=" + std::to_string(seed) + ")");
    const std::string name = std::to_string(round);
    const std::string ack_path = temp.Sub("acks-" + name);
    const std::string ready_path = temp.Sub("ready-" + name);
    const std::string err_path = temp.Sub("writer-" + name + ".err");
    int threads = 1 + static_cast<int>(rng() % 4);
    pid_t pid = StartWriter({MQ_CRASH_WRITER_PATH, dir, ack_path, std::to_string(rng()),
                             std::to_string(threads), ready_path},
                            err_path);
    ASSERT_GT(pid, 0) << "fork failed";
    // The crash point: a random moment in the writer's life, sometimes during its recovery.
    // In half the rounds the moment is counted from when the writer has the store open:
    // recovery grows with the store (and is slow under the sanitizers), so counted from the
    // start most kills could land before the first put.
    if (rng() % 2 == 0) {
      const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
      while (access(ready_path.c_str(), F_OK) != 0 && std::chrono::steady_clock::now() < give_up) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20 + rng() % 281));
    ASSERT_EQ(kill(pid, SIGKILL), 0);
    int wstatus = 0;
    ASSERT_EQ(waitpid(pid, &wstatus, 0), pid);
    ASSERT_FALSE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 127)
        << "could not execute " << MQ_CRASH_WRITER_PATH;
    ASSERT_TRUE(WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL)
        << "the writer ended on its own (status " << wstatus << "): " << ReadTextFile(err_path);

    auto acks = ParseAcks(ReadTextFile(ack_path));
    ASSERT_TRUE(acks.has_value()) << "malformed acknowledgement log " << ack_path;
    all_acks.insert(all_acks.end(), acks->begin(), acks->end());
    if (!acks->empty()) ++rounds_with_acks;

    // The writer had the store open (so its abort marker is there) once it said so.
    bool writer_had_it_open = access(ready_path.c_str(), F_OK) == 0;
    if (round % 2 == 0) {
      std::unique_ptr<Store> store;
      std::string problem = OpenAndCheck(dir, all_acks, writer_had_it_open, &store);
      ASSERT_EQ(problem, "");
      ASSERT_TRUE(store->Close().ok());
    } else {
      std::string problem =
          OpenCheckAndDieInChild(dir, all_acks, writer_had_it_open, temp.Sub("check-" + name));
      ASSERT_EQ(problem, "");
    }
  }
  auto seconds = std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now() - started)
                     .count() /
                 1000.0;
  std::printf("[ crash    ] %llu rounds (%lld with acknowledged puts), %zu acknowledged messages "
              "checked, %.1f s\n",
              static_cast<unsigned long long>(rounds), static_cast<long long>(rounds_with_acks),
              all_acks.size(), seconds);
  EXPECT_GT(rounds_with_acks, static_cast<int64_t>(rounds / 2))
      << "the writer rarely got a message acknowledged before it was killed";
}

}  // namespace
}  // namespace mqstore::crash_process

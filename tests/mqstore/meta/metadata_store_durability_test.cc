// Offsets acknowledged by CommitOffsets survive the process being killed at any moment.
//
// A forked child (which starts no threads) commits ever larger offsets, each batch covering
// every queue of two topics, and writes each acknowledged value to a pipe. The parent kills
// it with SIGKILL after some acknowledgements, reopens the environment and checks that the
// stored offsets are the last acknowledged value or the one after it (committed, not yet
// acknowledged), and the same in every queue (the batch was atomic).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <vector>

#include "mqstore/metadata.h"
#include "support/test_util.h"

namespace mqstore {
namespace {

using test::TempDir;

constexpr int kQueuesPerTopic = 64;
constexpr int64_t kAcksBeforeKill = 150;

// The child's whole life; it never returns.
[[noreturn]] void CommitUntilKilled(const std::string& dir, int ack_fd) {
  auto meta = OpenMetadataStore(dir, {});
  if (!meta.ok()) _exit(2);
  for (const char* name : {"T", "U"}) {
    TopicConfig topic;
    topic.name = name;
    topic.read_queue_nums = topic.write_queue_nums = kQueuesPerTopic;
    if (!(*meta)->PutTopic(topic).ok()) _exit(3);
  }
  std::vector<ConsumerOffset> batch;
  for (int64_t value = 1;; ++value) {
    batch.clear();
    for (const char* name : {"T", "U"}) {
      for (int q = 0; q < kQueuesPerTopic; ++q) batch.push_back({name, q, value});
    }
    if (!(*meta)->CommitOffsets("G", batch).ok()) _exit(4);
    if (write(ack_fd, &value, sizeof(value)) != sizeof(value)) _exit(5);
  }
}

TEST(MetadataStoreDurabilityTest, AcknowledgedOffsetsSurviveSigkill) {
  TempDir tmp;
  const std::string dir = tmp.Sub("store/meta");
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    CommitUntilKilled(dir, fds[1]);
  }
  close(fds[1]);

  int64_t last_ack = 0;
  int64_t value = 0;
  auto read_ack = [&] {
    size_t got = 0;
    while (got < sizeof(value)) {
      ssize_t n = read(fds[0], reinterpret_cast<char*>(&value) + got, sizeof(value) - got);
      if (n <= 0) return false;  // EOF: the child is gone (a torn ack cannot happen: 8 < PIPE_BUF)
      got += static_cast<size_t>(n);
    }
    return true;
  };
  while (last_ack < kAcksBeforeKill && read_ack()) last_ack = value;
  kill(child, SIGKILL);
  int wstatus = 0;
  ASSERT_EQ(waitpid(child, &wstatus, 0), child);
  ASSERT_TRUE(WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL)
      << "the child ended by itself, status " << wstatus << ", after " << last_ack << " acks";
  while (read_ack()) last_ack = value;  // acks written before the kill landed
  close(fds[0]);
  ASSERT_GE(last_ack, kAcksBeforeKill);

  ASSERT_OK_AND_ASSIGN(std::unique_ptr<MetadataStore> meta, OpenMetadataStore(dir, {}));
  ASSERT_OK_AND_ASSIGN(std::vector<ConsumerOffset> offsets, meta->GetGroupOffsets("G"));
  ASSERT_EQ(offsets.size(), static_cast<size_t>(2 * kQueuesPerTopic));
  int64_t stored = offsets.front().offset;
  EXPECT_GE(stored, last_ack);
  EXPECT_LE(stored, last_ack + 1);
  for (const ConsumerOffset& o : offsets) {
    EXPECT_EQ(o.offset, stored) << o.topic << " queue " << o.queue_id;
  }
  // The environment takes writes again after the crash.
  std::vector<ConsumerOffset> next = {{"T", 0, stored + 1}};
  EXPECT_OK(meta->CommitOffsets("G", next));
}

}  // namespace
}  // namespace mqstore

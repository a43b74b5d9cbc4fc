// Scheduled delivery with its progress in LMDB, killed with SIGKILL: a forked child runs a
// SYNC_FLUSH store on the real file system (metadata in meta/, so schedule progress and
// consumer offsets are LMDB transactions), puts delay-level and timer messages with unique
// keys, moves its manual clock so that rounds deliver some of them, and consumes the real
// queue, committing its consumer offset. It reports every acknowledged put and every
// committed offset through a pipe, and is killed after a seeded number of acknowledged puts,
// wherever its scheduler rounds are then. The parent reopens the
// store, moves the clock past every due time and checks:
//   - every acknowledged message is in the real queue at least once, at most twice;
//   - the index finds every acknowledged key there;
//   - the group's committed offset is at least the last one acknowledged, and within the
//     queue.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "mqstore/store.h"
#include "mqstore/store/store_test_util.h"
#include "support/test_util.h"

namespace mqstore::test {
namespace {

constexpr int64_t kStartMs = 1'700'000'000'000;
constexpr char kGroup[] = "Consumers";

StoreOptions Options(Clock* clock) {
  StoreOptions o;
  o.clock = clock;
  o.flush_mode = FlushMode::kSync;
  o.commitlog_segment_bytes = 1 << 20;
  o.consume_queue_entries_per_file = 1024;
  o.max_message_bytes = 64 << 10;
  o.write_buffer_bytes = 1 << 20;
  o.index_slots_per_file = 1024;
  o.index_entries_per_file = 4096;
  return o;
}

// What the child tells the parent: a put acknowledged as durable, or an offset committed.
struct Report {
  int64_t kind;  // 1: put of key number `value`; 2: offset `value` committed
  int64_t value;
};

void Send(int fd, Report r) {
  if (write(fd, &r, sizeof(r)) != static_cast<ssize_t>(sizeof(r))) std::_Exit(3);
}

[[noreturn]] void RunChild(const std::string& dir, int fd, uint64_t seed) {
  ManualClock clock(kStartMs);
  auto opened = Store::Open(Options(&clock), dir);
  if (!opened.ok()) std::_Exit(4);
  std::unique_ptr<Store> store = std::move(opened).value();
  TopicConfig topic;
  topic.name = "Orders";
  topic.read_queue_nums = topic.write_queue_nums = 1;
  if (!store->metadata()->PutTopic(topic).ok()) std::_Exit(5);
  std::mt19937_64 rng(seed);
  int64_t consumed = 0;
  for (int64_t i = 0; i < 5000; ++i) {
    Message m = MakeMessage("Orders", 0, "body-" + std::to_string(i), "TagA",
                            "key-" + std::to_string(i));
    if (rng() % 2) {
      m.SetProperty("DELAY", std::to_string(1 + rng() % 3));  // 1 s, 5 s, 10 s
    } else {
      m.SetProperty("TIMER_DELAY_MS", std::to_string(rng() % 12'000));
    }
    auto put = PutMessage(store.get(), m);
    if (!put.ok()) std::_Exit(6);
    if (put->durable) Send(fd, {1, i});
    if (i % 4 == 3) {
      clock.Advance(static_cast<int64_t>(rng() % 5'000));
      if (!store->AwaitScheduleRound(10'000).ok()) std::_Exit(7);
      auto bounds = store->GetQueueBounds("Orders", 0);
      if (bounds.ok() && bounds->max_offset > consumed) {
        consumed = bounds->max_offset;
        ConsumerOffset offsets[] = {{"Orders", 0, consumed}};
        if (!store->metadata()->CommitOffsets(kGroup, offsets).ok()) std::_Exit(8);
        Send(fd, {2, consumed});
      }
    }
  }
  std::_Exit(0);  // nobody killed us
}

void RunRound(uint64_t seed) {
  SCOPED_TRACE("seed " + std::to_string(seed));
  TempDir tmp;
  const std::string dir = tmp.Sub("store");
  std::mt19937_64 rng(seed);
  const int kill_after = 8 + static_cast<int>(rng() % 40);  // acknowledged puts

  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    RunChild(dir, fds[1], seed);
  }
  close(fds[1]);
  std::vector<int64_t> acked;
  int64_t committed = 0;
  auto read_report = [&] {
    Report r{};
    size_t got = 0;
    while (got < sizeof(r)) {
      ssize_t n = read(fds[0], reinterpret_cast<char*>(&r) + got, sizeof(r) - got);
      if (n <= 0) return false;  // EOF: the child is gone (16 bytes < PIPE_BUF: never torn)
      got += static_cast<size_t>(n);
    }
    if (r.kind == 1) acked.push_back(r.value);
    if (r.kind == 2) committed = r.value;
    return true;
  };
  while (static_cast<int>(acked.size()) < kill_after && read_report()) {
  }
  kill(child, SIGKILL);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "the child ended by itself with status " << status;
  while (read_report()) {
  }
  close(fds[0]);
  ASSERT_GE(static_cast<int>(acked.size()), kill_after);

  ManualClock clock(kStartMs + int64_t{10} * 60 * 60 * 1000);  // past every due time
  auto opened = Store::Open(Options(&clock), dir);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  std::unique_ptr<Store> store = std::move(opened).value();
  for (int round = 0; round < 3; ++round) {
    Status s = store->AwaitScheduleRound(10'000);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  ASSERT_TRUE(store->AwaitDispatched(store->Stats().appended_offset, 10'000).ok());

  auto read = ReadQueue(store.get(), "Orders", 0);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  std::map<std::string, int> copies;
  for (const ReadBack& r : *read) {
    ParsedRecord p;
    ASSERT_TRUE(r.Parse(&p).ok());
    copies[std::string(FindProperty(p.properties, property::kKeys).value_or(""))]++;
  }
  for (int64_t i : acked) {
    std::string key = "key-" + std::to_string(i);
    EXPECT_GE(copies[key], 1) << key << " was acknowledged and lost";
    EXPECT_LE(copies[key], 2) << key << " delivered more often than one crash allows";
    auto found = store->QueryByKey("Orders", key, 0, std::numeric_limits<int64_t>::max(), 4);
    ASSERT_TRUE(found.ok());
    EXPECT_FALSE(found->empty()) << key << " is not in the index";
  }
  auto offsets = store->metadata()->GetGroupOffsets(kGroup);
  ASSERT_TRUE(offsets.ok()) << offsets.status().ToString();
  int64_t stored = 0;
  for (const ConsumerOffset& o : *offsets) {
    if (o.topic == "Orders" && o.queue_id == 0) stored = o.offset;
  }
  std::printf("[ sigkill  ] seed %llu: %zu puts acknowledged, offset %lld committed before the kill, "
              "%zu messages in the real queue after recovery\n",
              static_cast<unsigned long long>(seed), acked.size(),
              static_cast<long long>(committed), read->size());
  EXPECT_GE(stored, committed) << "an acknowledged offset commit was lost";
  EXPECT_LE(stored, static_cast<int64_t>(read->size()));
  ASSERT_TRUE(store->Close().ok());
}

TEST(ScheduleSigkillTest, LmdbProgressAndOffsetsSurviveSigkill) {
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    RunRound(seed);
    if (::testing::Test::HasFailure()) break;
  }
}

}  // namespace
}  // namespace mqstore::test

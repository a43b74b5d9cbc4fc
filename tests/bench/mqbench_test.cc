// mqbench (the store load tool) end to end: every message it reports as put is in the store
// afterwards, with blocking calls and with calls kept in flight (--in-flight).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <regex>
#include <string>

#include "mqstore/store.h"
#include "support/test_util.h"

namespace mqstore {
namespace {

const std::regex kResultLine(
    "msgs_s=[0-9]+ mb_s=[0-9.]+ p50_us=[0-9.]+ p99_us=[0-9.]+ p999_us=[0-9.]+\n$");

class MqbenchAppendTest : public ::testing::Test {
 protected:
  // Runs `mqbench append --store <dir> <args>`; expects exit 0 and the result line last.
  void Append(const std::string& args) {
    std::string cmd =
        std::string(MQBENCH_PATH) + " append --store " + dir_.Sub("store") + " " + args + " 2>&1";
    FILE* pipe = popen(cmd.c_str(), "r");
    ASSERT_NE(pipe, nullptr);
    std::string out;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
    int status = pclose(pipe);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << cmd << "\n" << out;
    EXPECT_TRUE(std::regex_search(out, kResultLine)) << out;
    EXPECT_NE(out.find("flush_disk_timeouts=0"), std::string::npos) << out;
    out_ = out;
  }

  // Messages in queues 0..queues-1 of topic "bench", each body checked for `size` bytes.
  // (Checked with CRCs: what the tool wrote is whole.)
  int64_t CountMessages(int queues, size_t size) {
    auto opened = Store::Open(StoreOptions{}, dir_.Sub("store"));
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    if (!opened.ok()) return -1;
    auto store = std::move(opened).value();
    int64_t total = 0;
    for (int q = 0; q < queues; ++q) {
      for (int64_t offset = 0;;) {
        auto read = store->Read("bench", q, offset, 256, uint64_t{1} << 20);
        EXPECT_TRUE(read.ok()) << read.status().ToString();
        if (!read.ok() || read->messages.empty()) break;
        for (const auto& m : read->messages) {
          ParsedRecord record;
          Status parsed = ParseRecord(m.record, /*verify_checksums=*/true, &record);
          EXPECT_TRUE(parsed.ok()) << parsed.ToString();
          if (parsed.ok()) {
            EXPECT_EQ(record.body.size(), size);
          }
        }
        total += static_cast<int64_t>(read->messages.size());
        offset = read->next_offset;
      }
    }
    EXPECT_TRUE(store->Close().ok());
    return total;
  }

  test::TempDir dir_;
  std::string out_;
};

TEST_F(MqbenchAppendTest, BlockingPutsAllLand) {
  Append("--count 1000 --size 100 --threads 2 --queues 4 --flush sync");
  EXPECT_NE(out_.find("2 thread(s), batch 1, in flight 0, flush sync"), std::string::npos) << out_;
  EXPECT_EQ(CountMessages(4, 100), 1000);
}

TEST_F(MqbenchAppendTest, PutsKeptInFlightAllLandBeforeTheToolReports) {
  Append("--count 3000 --size 100 --threads 2 --in-flight 8 --queues 4 --flush sync");
  EXPECT_NE(out_.find("2 thread(s), batch 1, in flight 8, flush sync"), std::string::npos) << out_;
  EXPECT_NE(out_.find("latency over 3000 calls"), std::string::npos) << out_;
  EXPECT_EQ(CountMessages(4, 100), 3000);
  // Batches in flight, without waiting for the disk, appended to the same store.
  Append("--count 2000 --size 100 --threads 1 --batch 10 --in-flight 3 --queues 4 --flush async");
  EXPECT_NE(out_.find("latency over 200 calls"), std::string::npos) << out_;
  EXPECT_EQ(CountMessages(4, 100), 5000);
}

}  // namespace
}  // namespace mqstore

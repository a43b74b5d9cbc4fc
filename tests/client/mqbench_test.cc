// mqbench end to end: the built tool produces then consumes against an in-process name server
// and broker, in both command-line forms, and prints its machine-readable result line.
#include <gtest/gtest.h>

#include <regex>
#include <string>

#include "cluster_fixture.h"

namespace mqclient {
namespace {

const std::regex kResultLine(
    "msgs_s=[0-9]+ mb_s=[0-9.]+ p50_us=[0-9]+ p99_us=[0-9]+ p999_us=[0-9]+ msgs=([0-9]+)\n$");

class MqbenchTest : public ClusterFixture {
 protected:
  // Runs mqbench with `args`; expects exit 0 and returns the msgs= of the last line.
  std::string RunBench(const std::string& args, std::string* out) {
    int status = Run(std::string(MQBENCH_PATH) + " " + args, out);
    EXPECT_EQ(status, 0) << *out;
    std::smatch match;
    if (!std::regex_search(*out, match, kResultLine)) {
      ADD_FAILURE() << "no result line at the end of: " << *out;
      return "";
    }
    return match[1];
  }
  // The peer script's command line (shared/peers/mq.sh MQ_BENCH_CMD).
  std::string ModeArgs(const std::string& mode, const std::string& topic, int count) const {
    return "--mode " + mode + " -n '" + namesrv_addr_ + "' -t " + topic + " --size 100 --count " +
           std::to_string(count) + " --window 4 --batch 1000";
  }
};

TEST_F(MqbenchTest, SubcommandsProduceThenConsumeEveryMessage) {
  const std::string ns = " -n '" + namesrv_addr_ + "' -t BenchSmoke";
  std::string out;
  EXPECT_EQ(
      RunBench("produce" + ns + " --producers 2 --inflight 8 --size 100 --count 200 --queues 4",
               &out),
      "200");
  EXPECT_NE(out.find("produce: 2 producers x 8 in flight"), std::string::npos) << out;
  EXPECT_NE(out.find(", 0 errors"), std::string::npos) << out;

  EXPECT_EQ(RunBench("consume" + ns + " -g CID_SMOKE --count 200 --batch 64 --timeout-s 60", &out),
            "200");
  EXPECT_NE(out.find("consume: 4 queues, batch 64"), std::string::npos) << out;
}

TEST_F(MqbenchTest, SyncAndAsyncModesBothKeepTheWindowInFlight) {
  std::string out;
  EXPECT_EQ(RunBench(ModeArgs("async", "ModeAsync", 300) + " --producers 3", &out), "300");
  EXPECT_NE(out.find("produce: 3 producers x 4 in flight"), std::string::npos) << out;
  EXPECT_EQ(RunBench(ModeArgs("sync", "ModeSync", 300) + " --producers 3", &out), "300");
  EXPECT_NE(out.find("produce: 3 producers x 4 in flight"), std::string::npos) << out;
  // Without --producers / --window: 16 x 16, the peers' load.
  EXPECT_EQ(RunBench("--mode async -n '" + namesrv_addr_ + "' -t ModeDefault --count 100", &out),
            "100");
  EXPECT_NE(out.find("produce: 16 producers x 16 in flight"), std::string::npos) << out;
  EXPECT_NE(out.find("1 shared transport thread(s)"), std::string::npos) << out;
  // Each producer on a transport thread of its own.
  EXPECT_EQ(
      RunBench(ModeArgs("async", "ModeOwnThreads", 200) + " --producers 3 --io-threads 0", &out),
      "200");
  EXPECT_NE(out.find("a transport thread per producer"), std::string::npos) << out;
  EXPECT_NE(out.find(", a connection per producer"), std::string::npos) << out;
}

TEST_F(MqbenchTest, ProducersOnSharedClientInstancesStoreEveryMessage) {
  std::string out;
  // 5 producers over 2 instances (3 + 2 producers sharing a connection each).
  EXPECT_EQ(RunBench(ModeArgs("sync", "ModeShared", 300) + " --producers 5 --clients 2", &out),
            "300");
  EXPECT_NE(out.find("produce: 5 producers x 4 in flight"), std::string::npos) << out;
  EXPECT_NE(out.find(", 2 client instance(s)"), std::string::npos) << out;
  EXPECT_NE(out.find(", 0 errors"), std::string::npos) << out;
  EXPECT_EQ(RunBench("consume -n '" + namesrv_addr_ +
                         "' -t ModeShared -g CID_SHARED --count 300 --timeout-s 60",
                     &out),
            "300");
}

TEST_F(MqbenchTest, ConsumeModeTakesTheBatchAndCountsExactly) {
  std::string out;
  ASSERT_EQ(RunBench(ModeArgs("async", "ModeConsume", 500), &out), "500");
  EXPECT_EQ(RunBench(ModeArgs("consume", "ModeConsume", 500), &out), "500");
  EXPECT_NE(out.find("batch 1000"), std::string::npos) << out;
  // Fewer than there are: exactly --count is counted, not what the last pulls overshot.
  EXPECT_EQ(RunBench(ModeArgs("consume", "ModeConsume", 123), &out), "123");
}

TEST_F(MqbenchTest, ARatePacesTheSends) {
  std::string out;
  // 300 messages at 1,000 msgs/s: the last is not sent before 299 ms after the start, so
  // the reported rate cannot exceed the pace (pacing only delays; nothing here is a speed
  // assertion about the broker).
  EXPECT_EQ(RunBench(ModeArgs("async", "ModePaced", 300) + " --producers 2 --rate 1000", &out),
            "300");
  EXPECT_NE(out.find("paced at 1000 msgs/s"), std::string::npos) << out;
  EXPECT_TRUE(
      std::regex_search(out, std::regex("pacing: [0-9]+ of 300 sends started more than 1 ms late")))
      << out;
  std::smatch rate;
  ASSERT_TRUE(std::regex_search(out, rate, std::regex("msgs_s=([0-9]+) ")));
  EXPECT_LE(std::stoll(rate[1]), 1000 * 300 / 299) << out;
  EXPECT_NE(Run(std::string(MQBENCH_PATH) + " " + ModeArgs("async", "ModePaced", 10) + " --rate -5",
                &out),
            0);
}

TEST_F(MqbenchTest, ThePacerWakesOncePerTick) {
  std::string out;
  // 1,000 msgs/s with a 50 ms tick: the pacer sleeps 50 ms between rounds, so messages due
  // just after it woke go up to 50 ms late, and say so; the pace over the run still holds.
  EXPECT_EQ(
      RunBench(ModeArgs("async", "ModeTick", 200) + " --rate 1000 --pace-tick-us 50000", &out),
      "200");
  std::smatch pacing;
  ASSERT_TRUE(
      std::regex_search(out, pacing,
                        std::regex("pacing: ([0-9]+) of 200 sends started more than 1 ms late "
                                   "\\(at most ([0-9]+) us\\)")))
      << out;
  EXPECT_GT(std::stoll(pacing[1]), 0) << out;
  EXPECT_GT(std::stoll(pacing[2]), 1000) << out;
  std::smatch rate;
  ASSERT_TRUE(std::regex_search(out, rate, std::regex("msgs_s=([0-9]+) ")));
  EXPECT_LE(std::stoll(rate[1]), 1000 * 200 / 199) << out;
}

TEST_F(MqbenchTest, UnknownModeIsAnError) {
  std::string out;
  EXPECT_NE(Run(std::string(MQBENCH_PATH) + " " + ModeArgs("fast", "ModeFast", 10), &out), 0);
  EXPECT_NE(out.find("--mode must be sync, async or consume"), std::string::npos) << out;
}

}  // namespace
}  // namespace mqclient

// mqbench smoke test: the built tool produces then consumes a small count against an
// in-process name server and broker and prints its machine-readable result line.
#include <gtest/gtest.h>

#include <regex>
#include <string>

#include "cluster_fixture.h"

namespace mqclient {
namespace {

class MqbenchTest : public ClusterFixture {};

TEST_F(MqbenchTest, ProduceThenConsumeReportsRates) {
  const std::string bench = std::string(MQBENCH_PATH);
  const std::string ns = " -n '" + namesrv_addr_ + "' -t BenchSmoke";
  std::string out;
  ASSERT_EQ(Run(bench + " produce" + ns +
                    " --producers 2 --inflight 8 --size 100 --count 200 "
                    "--queues 4",
                &out),
            0)
      << out;
  const std::regex line(
      "msgs_s=[0-9]+ mb_s=[0-9.]+ p50_us=[0-9]+ p99_us=[0-9]+ p999_us=[0-9]+ "
      "msgs=([0-9]+)");
  std::smatch match;
  ASSERT_TRUE(std::regex_search(out, match, line)) << out;
  EXPECT_EQ(match[1], "200");

  ASSERT_EQ(Run(bench + " consume" + ns + " -g CID_SMOKE --count 200 --timeout-s 60", &out), 0)
      << out;
  ASSERT_TRUE(std::regex_search(out, match, line)) << out;
  EXPECT_EQ(match[1], "200");

  // The peer-script form.
  ASSERT_EQ(Run(bench + " --mode sync" + ns + " --count 10 --size 10", &out), 0) << out;
  ASSERT_TRUE(std::regex_search(out, match, line)) << out;
  EXPECT_EQ(match[1], "10");
}

}  // namespace
}  // namespace mqclient

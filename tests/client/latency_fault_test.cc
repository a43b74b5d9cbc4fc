// LatencyFaultTolerance: Java's pause per latency bucket, failures pausing for 10 minutes,
// availability coming back when the pause is over.
#include "latency_fault.h"

#include <gtest/gtest.h>

namespace mqclient {
namespace {

using std::chrono::milliseconds;

TEST(LatencyFaultTest, PausesFollowJavasBuckets) {
  EXPECT_EQ(LatencyFaultTolerance::PauseAfter(milliseconds(0)), milliseconds(0));
  EXPECT_EQ(LatencyFaultTolerance::PauseAfter(milliseconds(549)), milliseconds(0));
  EXPECT_EQ(LatencyFaultTolerance::PauseAfter(milliseconds(550)), milliseconds(30000));
  EXPECT_EQ(LatencyFaultTolerance::PauseAfter(milliseconds(1000)), milliseconds(60000));
  EXPECT_EQ(LatencyFaultTolerance::PauseAfter(milliseconds(2500)), milliseconds(120000));
  EXPECT_EQ(LatencyFaultTolerance::PauseAfter(milliseconds(3000)), milliseconds(180000));
  EXPECT_EQ(LatencyFaultTolerance::PauseAfter(milliseconds(15000)), milliseconds(600000));
}

TEST(LatencyFaultTest, ABrokerIsAvailableAgainWhenItsPauseIsOver) {
  LatencyFaultTolerance faults;
  const auto t0 = LatencyFaultTolerance::Clock::now();
  EXPECT_TRUE(faults.IsAvailable("a", t0));  // never seen
  faults.Update("a", milliseconds(20), /*failed=*/false, t0);
  EXPECT_TRUE(faults.IsAvailable("a", t0));  // fast: no pause
  faults.Update("a", milliseconds(600), /*failed=*/false, t0);
  EXPECT_FALSE(faults.IsAvailable("a", t0 + milliseconds(29999)));
  EXPECT_TRUE(faults.IsAvailable("a", t0 + milliseconds(30000)));
  // A failure pauses for 10 minutes, whatever its latency.
  faults.Update("b", milliseconds(1), /*failed=*/true, t0);
  EXPECT_FALSE(faults.IsAvailable("b", t0 + milliseconds(599999)));
  EXPECT_TRUE(faults.IsAvailable("b", t0 + milliseconds(600000)));
  // A later fast send lifts a pause at once.
  faults.Update("b", milliseconds(1), /*failed=*/false, t0 + milliseconds(1));
  EXPECT_TRUE(faults.IsAvailable("b", t0 + milliseconds(1)));
}

TEST(LatencyFaultTest, LeastPausedIsTheOneAvailableFirst) {
  LatencyFaultTolerance faults;
  EXPECT_FALSE(faults.LeastPaused().has_value());
  const auto t0 = LatencyFaultTolerance::Clock::now();
  faults.Update("a", milliseconds(1), /*failed=*/true, t0);
  faults.Update("b", milliseconds(1000), /*failed=*/false, t0);
  EXPECT_EQ(faults.LeastPaused(), "b");
}

}  // namespace
}  // namespace mqclient

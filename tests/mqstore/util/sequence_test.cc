// The write counters of two-copy files (util/sequence.h).
#include "util/sequence.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace mqstore {
namespace {

TEST(SequenceTest, WriteNGoesToCopyNModTwo) {
  EXPECT_EQ(CopyOfSequence(1), 1u);
  EXPECT_EQ(CopyOfSequence(2), 0u);
  EXPECT_EQ(CopyOfSequence(UINT64_MAX), 1u);
  EXPECT_EQ(CopyOfSequence(0), 0u);  // the write after UINT64_MAX: the other copy
}

TEST(SequenceTest, NewerIsOneMoreAndWrapsAround) {
  EXPECT_TRUE(SequenceNewer(2, 1));
  EXPECT_FALSE(SequenceNewer(1, 2));
  EXPECT_FALSE(SequenceNewer(7, 7));
  EXPECT_TRUE(SequenceNewer(0, UINT64_MAX));
  EXPECT_FALSE(SequenceNewer(UINT64_MAX, 0));
  // Every value has a successor that beats it.
  for (uint64_t s : {uint64_t{0}, uint64_t{1}, uint64_t{INT64_MAX}, uint64_t{INT64_MAX} + 1,
                     UINT64_MAX - 1, UINT64_MAX}) {
    EXPECT_TRUE(SequenceNewer(s + 1, s)) << s;
    EXPECT_FALSE(SequenceNewer(s, s + 1)) << s;
  }
}

}  // namespace
}  // namespace mqstore

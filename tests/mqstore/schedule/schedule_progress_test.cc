// The in-memory progress store that tests and metadata-less stores use.
#include "schedule/schedule_progress.h"

#include <gtest/gtest.h>

#include <vector>

#include "support/test_util.h"

namespace mqstore {
namespace {

TEST(ScheduleProgressTest, LoadsWhatWasCommittedLaterEntriesWin) {
  InMemoryScheduleProgressStore store;
  ASSERT_OK_AND_ASSIGN(auto none, store.Load("delay-level-1"));
  EXPECT_FALSE(none.has_value());
  std::vector<ScheduleProgressEntry> batch = {
      {"delay-level-1", 5, 100}, {"timer-log", 96, 0}, {"delay-level-1", 7, 200}};
  ASSERT_OK(store.Commit(batch));
  ASSERT_OK_AND_ASSIGN(auto level, store.Load("delay-level-1"));
  ASSERT_TRUE(level.has_value());
  EXPECT_EQ(*level, (ScheduleProgressEntry{"delay-level-1", 7, 200}));
  ASSERT_OK_AND_ASSIGN(auto log, store.Load("timer-log"));
  EXPECT_EQ(log, (std::optional<ScheduleProgressEntry>({"timer-log", 96, 0})));
  EXPECT_EQ(store.commit_count(), 1u);
}

TEST(ScheduleProgressTest, ACommitIsAllOrNothing) {
  InMemoryScheduleProgressStore store;
  std::vector<ScheduleProgressEntry> first = {{"a", 1, 1}};
  ASSERT_OK(store.Commit(first));
  std::vector<ScheduleProgressEntry> bad = {{"a", 2, 2}, {"b", -1, 0}};
  EXPECT_TRUE(store.Commit(bad).IsInvalidArgument());
  EXPECT_EQ(store.Load("a").value()->offset, 1);
  EXPECT_FALSE(store.Load("b").value().has_value());

  store.FailNextCommits(1);
  std::vector<ScheduleProgressEntry> second = {{"a", 3, 3}};
  EXPECT_TRUE(store.Commit(second).IsIOError());
  EXPECT_EQ(store.Load("a").value()->offset, 1);
  ASSERT_OK(store.Commit(second));
  EXPECT_EQ(store.Load("a").value()->offset, 3);
  EXPECT_EQ(store.commit_count(), 2u);
}

}  // namespace
}  // namespace mqstore

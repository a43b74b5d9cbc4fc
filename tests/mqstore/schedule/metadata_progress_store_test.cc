// MetadataProgressStore over a real LMDB metadata store: entries round trip, commits are
// atomic, and a reopened metadata store still has them.
#include "schedule/metadata_progress_store.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "mqstore/metadata.h"
#include "support/test_util.h"

namespace mqstore {
namespace {

TEST(MetadataProgressStoreTest, CommitsAtomicallyAndSurvivesAReopen) {
  test::TempDir dir;
  MetadataOptions options;
  options.initial_map_bytes = 1 << 20;
  {
    ASSERT_OK_AND_ASSIGN(auto meta, OpenMetadataStore(dir.Sub("meta"), options));
    MetadataProgressStore progress(*meta);
    ASSERT_OK_AND_ASSIGN(auto none, progress.Load("timer-log"));
    EXPECT_FALSE(none.has_value());
    std::vector<ScheduleProgressEntry> timer = {
        {"timer-enqueue", 10, 0}, {"timer-log", 480, 0}, {"timer-dequeue", 3, 1'700'000'000'000}};
    ASSERT_OK(progress.Commit(timer));
    std::vector<ScheduleProgressEntry> bad = {{"timer-log", 960, 0}, {"", 1, 1}};
    EXPECT_TRUE(progress.Commit(bad).IsInvalidArgument());
  }
  ASSERT_OK_AND_ASSIGN(auto meta, OpenMetadataStore(dir.Sub("meta"), options));
  MetadataProgressStore progress(*meta);
  ASSERT_OK_AND_ASSIGN(auto log, progress.Load("timer-log"));
  EXPECT_EQ(log, (std::optional<ScheduleProgressEntry>({"timer-log", 480, 0})));
  ASSERT_OK_AND_ASSIGN(auto dequeue, progress.Load("timer-dequeue"));
  EXPECT_EQ(dequeue,
            (std::optional<ScheduleProgressEntry>({"timer-dequeue", 3, 1'700'000'000'000})));
}

}  // namespace
}  // namespace mqstore

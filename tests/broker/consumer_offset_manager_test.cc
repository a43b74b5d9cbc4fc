#include "consumer_offset_manager.h"

#include <gtest/gtest.h>

#include "mqstore/metadata.h"
#include "support/test_util.h"

namespace mqbroker {
namespace {

using namespace std::chrono_literals;

class ConsumerOffsetManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto meta = mqstore::OpenMetadataStore(dir_.Sub("meta"), {});
    ASSERT_TRUE(meta.ok());
    meta_ = std::move(meta).value();
    mqstore::TopicConfig topic;
    topic.name = "Orders";
    topic.read_queue_nums = topic.write_queue_nums = 4;
    ASSERT_TRUE(meta_->PutTopic(topic).ok());
  }

  mqstore::test::TempDir dir_;
  std::unique_ptr<mqstore::MetadataStore> meta_;
};

TEST_F(ConsumerOffsetManagerTest, CommitsAreVisibleAtOnceAndPersistedOnClose) {
  {
    // An interval far beyond the test: only Close persists.
    ConsumerOffsetManager offsets(meta_.get(), 1h);
    EXPECT_FALSE(offsets.Query("G", "Orders", 1).has_value());
    offsets.Commit("G", "Orders", 1, 7);
    offsets.Commit("G", "Orders", 1, 9);
    offsets.Commit("G", "Orders", 2, -1);  // "nothing consumed yet": ignored
    EXPECT_EQ(offsets.Query("G", "Orders", 1), 9);
    EXPECT_FALSE(offsets.Query("G", "Orders", 2).has_value());
    EXPECT_TRUE(meta_->GetOffset("G", "Orders", 1).status().IsNotFound());
    ASSERT_TRUE(offsets.Close().ok());
  }
  auto stored = meta_->GetOffset("G", "Orders", 1);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(*stored, 9);
  ConsumerOffsetManager reopened(meta_.get(), 1h);
  EXPECT_EQ(reopened.Query("G", "Orders", 1), 9);
  EXPECT_EQ(reopened.GroupOffsets("G").size(), 1u);
}

TEST_F(ConsumerOffsetManagerTest, ABadEntryDoesNotStopTheGroupsOthers) {
  ConsumerOffsetManager offsets(meta_.get(), 1h);
  offsets.Commit("G", "Orders", 0, 3);
  offsets.Commit("G", "Deleted", 0, 5);  // not a registered topic
  mqstore::Status persisted = offsets.Persist();
  EXPECT_FALSE(persisted.ok());
  auto stored = meta_->GetOffset("G", "Orders", 0);
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  EXPECT_EQ(*stored, 3);
  ASSERT_TRUE(offsets.Close().ok());  // nothing pending any more
}

}  // namespace
}  // namespace mqbroker

#include "topic_manager.h"

#include <gtest/gtest.h>

#include "mqstore/metadata.h"
#include "support/test_util.h"

namespace mqbroker {
namespace {

class TopicManagerTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(options_); }
  void Reopen(const TopicManagerOptions& options) {
    manager_.reset();
    meta_.reset();
    auto meta = mqstore::OpenMetadataStore(dir_.Sub("meta"), {});
    ASSERT_TRUE(meta.ok()) << meta.status().ToString();
    meta_ = std::move(meta).value();
    auto manager = TopicManager::Open(meta_.get(), options);
    ASSERT_TRUE(manager.ok()) << manager.status().ToString();
    manager_ = std::move(manager).value();
  }

  mqstore::test::TempDir dir_;
  TopicManagerOptions options_;
  std::unique_ptr<mqstore::MetadataStore> meta_;
  std::unique_ptr<TopicManager> manager_;
};

TEST_F(TopicManagerTest, TheBrokersOwnTopicsExistFromTheStart) {
  auto tbw = manager_->Find("TBW102");
  ASSERT_TRUE(tbw.has_value());
  EXPECT_EQ(tbw->perm, mqstore::perm::kReadWrite | mqstore::perm::kInherit);
  EXPECT_EQ(tbw->write_queue_nums, 8);
  EXPECT_TRUE(manager_->Find("DefaultCluster").has_value());
  EXPECT_TRUE(manager_->Find("broker-a").has_value());
}

TEST_F(TopicManagerTest, AutoCreationInheritsFromTheDefaultTopicWithoutTheInheritBit) {
  auto created = manager_->FindOrCreateForSend("Orders", "TBW102", 4);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->write_queue_nums, 4);
  EXPECT_EQ(created->perm, mqstore::perm::kReadWrite);
  // Capped by the default topic's queues.
  auto big = manager_->FindOrCreateForSend("Big", "TBW102", 64);
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big->write_queue_nums, 8);
  // Persisted.
  int64_t counter = manager_->data_version().counter;
  Reopen(options_);
  ASSERT_TRUE(manager_->Find("Orders").has_value());
  EXPECT_EQ(manager_->Find("Orders")->write_queue_nums, 4);
  EXPECT_GE(counter, 3);
}

TEST_F(TopicManagerTest, WithoutAutoCreationAnUnknownTopicIsNotFound) {
  TopicManagerOptions options;
  options.auto_create_topic_enable = false;
  Reopen(options);
  auto created = manager_->FindOrCreateForSend("Orders", "TBW102", 4);
  EXPECT_TRUE(created.status().IsNotFound());
  EXPECT_NE(created.status().message().find("apply first"), std::string::npos);
  // A default topic without the inherit bit cannot be inherited from either.
  Reopen(options_);
  ASSERT_TRUE(manager_->FindOrCreateForSend("Plain", "TBW102", 1).ok());
  EXPECT_TRUE(manager_->FindOrCreateForSend("Child", "Plain", 1).status().IsNotFound());
}

TEST_F(TopicManagerTest, ChangesBumpTheDataVersionAndShowInTheWireTable) {
  int64_t before = manager_->data_version().counter;
  mqstore::TopicConfig config;
  config.name = "Orders";
  config.read_queue_nums = config.write_queue_nums = 2;
  ASSERT_TRUE(manager_->Put(config).ok());
  EXPECT_EQ(manager_->data_version().counter, before + 1);
  auto wire = manager_->SerializeWrapper();
  EXPECT_EQ(wire.data_version.counter, before + 1);
  ASSERT_EQ(wire.topic_config_table.count("Orders"), 1u);
  EXPECT_EQ(wire.topic_config_table.at("Orders").read_queue_nums, 2);
  ASSERT_TRUE(manager_->Delete("Orders").ok());
  EXPECT_FALSE(manager_->Find("Orders").has_value());
  EXPECT_EQ(manager_->data_version().counter, before + 2);
  EXPECT_TRUE(manager_->Delete("Orders").IsNotFound());
  config.name = "bad topic";
  EXPECT_TRUE(manager_->Put(config).IsInvalidArgument());
}

TEST_F(TopicManagerTest, SystemTopicsAreRecognised) {
  for (const char* topic : {"TBW102", "SCHEDULE_TOPIC_XXXX", "RMQ_SYS_TRANS_HALF_TOPIC",
                            "rmq_sys_wheel_timer", "TRANS_CHECK_MAX_TIME_TOPIC"}) {
    EXPECT_TRUE(TopicManager::IsSystemTopic(topic)) << topic;
  }
  for (const char* topic : {"Orders", "%RETRY%g", "%DLQ%g", "rmq_user"}) {
    EXPECT_FALSE(TopicManager::IsSystemTopic(topic)) << topic;
  }
}

}  // namespace
}  // namespace mqbroker

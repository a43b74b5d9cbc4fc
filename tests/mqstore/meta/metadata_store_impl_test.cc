#include "meta/metadata_store_impl.h"

#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "meta/lmdb_env.h"
#include "meta/meta_codec.h"
#include "mqstore/metadata.h"
#include "support/test_util.h"

namespace mqstore {
namespace {

using test::TempDir;

TopicConfig Topic(std::string name, int32_t queues = 4) {
  TopicConfig c;
  c.name = std::move(name);
  c.read_queue_nums = queues;
  c.write_queue_nums = queues;
  return c;
}

SubscriptionGroupConfig Group(std::string name) {
  SubscriptionGroupConfig c;
  c.group_name = std::move(name);
  return c;
}

::testing::AssertionResult HasCode(const Status& s, Status::Code code, std::string_view needle) {
  if (s.code() != code) {
    return ::testing::AssertionFailure()
           << "expected " << StatusCodeName(code) << ", got " << s.ToString();
  }
  if (s.message().find(needle) == std::string_view::npos) {
    return ::testing::AssertionFailure() << s.ToString() << " does not mention " << needle;
  }
  return ::testing::AssertionSuccess();
}

class MetadataStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }

  void Open(const MetadataOptions& options = {}) {
    meta_.reset();
    auto opened = OpenMetadataStore(dir(), options);
    ASSERT_OK(opened.status());
    meta_ = std::move(opened).value();
  }
  std::string dir() const { return tmp_.Sub("store/meta"); }

  std::vector<ConsumerOffset> OffsetsOf(std::string_view group) {
    auto r = meta_->GetGroupOffsets(group);
    EXPECT_OK(r.status());
    return r.ok() ? *r : std::vector<ConsumerOffset>{};
  }

  TempDir tmp_;
  std::unique_ptr<MetadataStore> meta_;
};

// ---- Topics

TEST_F(MetadataStoreTest, TopicsRoundTripAndListSortedByName) {
  TopicConfig orders = Topic("Orders", 8);
  orders.perm = perm::kRead;
  orders.order = true;
  orders.filter_type = TopicFilterType::kMultiTag;
  orders.attributes = {{"message.type", "FIFO"}};
  ASSERT_OK(meta_->PutTopic(orders));
  ASSERT_OK(meta_->PutTopic(Topic("Audit")));
  ASSERT_OK_AND_ASSIGN(TopicConfig back, meta_->GetTopic("Orders"));
  EXPECT_EQ(back, orders);
  ASSERT_OK_AND_ASSIGN(std::vector<TopicConfig> all, meta_->ListTopics());
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].name, "Audit");
  EXPECT_EQ(all[1], orders);

  orders.write_queue_nums = 2;  // replace
  ASSERT_OK(meta_->PutTopic(orders));
  ASSERT_OK_AND_ASSIGN(back, meta_->GetTopic("Orders"));
  EXPECT_EQ(back.write_queue_nums, 2);
}

TEST_F(MetadataStoreTest, TopicDefaultsAreRocketMQs) {
  TopicConfig c;
  EXPECT_EQ(c.read_queue_nums, 16);
  EXPECT_EQ(c.write_queue_nums, 16);
  EXPECT_EQ(c.perm, 6);
  EXPECT_EQ(c.filter_type, TopicFilterType::kSingleTag);
  EXPECT_FALSE(c.order);
}

TEST_F(MetadataStoreTest, AnUnknownTopicIsNotFound) {
  EXPECT_TRUE(HasCode(meta_->GetTopic("Nope").status(), Status::Code::kNotFound, "'Nope'"));
  EXPECT_TRUE(HasCode(meta_->DeleteTopic("Nope"), Status::Code::kNotFound, "'Nope'"));
}

TEST_F(MetadataStoreTest, InvalidTopicsAreRejectedAndNotStored) {
  TopicConfig bad = Topic("bad topic");
  EXPECT_TRUE(HasCode(meta_->PutTopic(bad), Status::Code::kInvalidArgument, "bad topic"));
  EXPECT_TRUE(
      HasCode(meta_->PutTopic(Topic("T", 0)), Status::Code::kInvalidArgument, "read_queue_nums 0"));
  EXPECT_TRUE(HasCode(meta_->PutTopic(Topic("T", 1025)), Status::Code::kInvalidArgument,
                      "read_queue_nums 1025"));
  TopicConfig perm = Topic("T");
  perm.perm = 9;
  EXPECT_TRUE(HasCode(meta_->PutTopic(perm), Status::Code::kInvalidArgument, "perm 9"));
  ASSERT_OK_AND_ASSIGN(std::vector<TopicConfig> all, meta_->ListTopics());
  EXPECT_TRUE(all.empty());
}

TEST_F(MetadataStoreTest, MaxQueuesPerTopicIsAnOption) {
  MetadataOptions options;
  options.max_queues_per_topic = 8;
  Open(options);
  EXPECT_OK(meta_->PutTopic(Topic("T", 8)));
  EXPECT_TRUE(meta_->PutTopic(Topic("T", 9)).IsInvalidArgument());
  meta_.reset();
  options.max_queues_per_topic = 0;
  EXPECT_TRUE(OpenMetadataStore(dir(), options).status().IsInvalidArgument());
}

TEST_F(MetadataStoreTest, DeletingATopicDeletesItsOffsetsInTheSameTransaction) {
  ASSERT_OK(meta_->PutTopic(Topic("T")));
  ASSERT_OK(meta_->PutTopic(Topic("U")));
  std::vector<ConsumerOffset> batch = {{"T", 0, 5}, {"T", 1, 6}, {"U", 0, 7}};
  ASSERT_OK(meta_->CommitOffsets("G", batch));
  ASSERT_OK(meta_->CommitOffsets("H", std::vector<ConsumerOffset>{{"T", 3, 1}}));

  ASSERT_OK(meta_->DeleteTopic("T"));
  EXPECT_TRUE(meta_->GetTopic("T").status().IsNotFound());
  EXPECT_EQ(OffsetsOf("G"), (std::vector<ConsumerOffset>{{"U", 0, 7}}));
  EXPECT_TRUE(OffsetsOf("H").empty());
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> groups, meta_->GetGroupsOfTopic("T"));
  EXPECT_TRUE(groups.empty());

  // A topic registered again under the same name starts without offsets.
  ASSERT_OK(meta_->PutTopic(Topic("T")));
  EXPECT_TRUE(meta_->GetOffset("G", "T", 0).status().IsNotFound());
}

TEST_F(MetadataStoreTest, ShrinkingATopicKeepsItsOffsets) {
  ASSERT_OK(meta_->PutTopic(Topic("T", 8)));
  ASSERT_OK(meta_->CommitOffsets("G", std::vector<ConsumerOffset>{{"T", 7, 70}}));
  ASSERT_OK(meta_->PutTopic(Topic("T", 2)));
  ASSERT_OK_AND_ASSIGN(int64_t offset, meta_->GetOffset("G", "T", 7));
  EXPECT_EQ(offset, 70);
  // ... but queue 7 no longer takes commits.
  EXPECT_TRUE(
      meta_->CommitOffsets("G", std::vector<ConsumerOffset>{{"T", 7, 71}}).IsInvalidArgument());
}

// ---- Subscription groups

TEST_F(MetadataStoreTest, GroupDefaultsAreRocketMQs) {
  SubscriptionGroupConfig c;
  EXPECT_TRUE(c.consume_enable);
  EXPECT_TRUE(c.consume_from_min_enable);
  EXPECT_TRUE(c.consume_broadcast_enable);
  EXPECT_FALSE(c.consume_message_orderly);
  EXPECT_EQ(c.retry_queue_nums, 1);
  EXPECT_EQ(c.retry_max_times, 16);
  EXPECT_EQ(c.broker_id, 0);
  EXPECT_EQ(c.which_broker_when_consume_slowly, 1);
  EXPECT_TRUE(c.notify_consumer_ids_changed_enable);
  EXPECT_EQ(c.consume_timeout_minute, 15);
}

TEST_F(MetadataStoreTest, GroupsRoundTripListAndDelete) {
  SubscriptionGroupConfig billing = Group("Billing");
  billing.retry_max_times = 3;
  billing.consume_broadcast_enable = false;
  billing.broker_id = 1;
  billing.attributes = {{"k", "v"}};
  ASSERT_OK(meta_->PutSubscriptionGroup(billing));
  ASSERT_OK(meta_->PutSubscriptionGroup(Group("Audit")));
  ASSERT_OK_AND_ASSIGN(SubscriptionGroupConfig back, meta_->GetSubscriptionGroup("Billing"));
  EXPECT_EQ(back, billing);
  ASSERT_OK_AND_ASSIGN(std::vector<SubscriptionGroupConfig> all, meta_->ListSubscriptionGroups());
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].group_name, "Audit");
  EXPECT_EQ(all[1], billing);

  ASSERT_OK(meta_->DeleteSubscriptionGroup("Audit", GroupOffsets::kKeep));
  EXPECT_TRUE(
      HasCode(meta_->GetSubscriptionGroup("Audit").status(), Status::Code::kNotFound, "'Audit'"));
  EXPECT_TRUE(meta_->DeleteSubscriptionGroup("Audit", GroupOffsets::kKeep).IsNotFound());
  EXPECT_TRUE(
      HasCode(meta_->PutSubscriptionGroup(Group("")), Status::Code::kInvalidArgument, "empty"));
  SubscriptionGroupConfig bad = Group("G");
  bad.retry_max_times = -1;
  EXPECT_TRUE(meta_->PutSubscriptionGroup(bad).IsInvalidArgument());
}

TEST_F(MetadataStoreTest, DeletingAGroupKeepsOrDeletesItsOffsetsAsAsked) {
  ASSERT_OK(meta_->PutTopic(Topic("T")));
  for (const char* g : {"Keep", "Drop"}) {
    ASSERT_OK(meta_->PutSubscriptionGroup(Group(g)));
    ASSERT_OK(meta_->CommitOffsets(g, std::vector<ConsumerOffset>{{"T", 0, 9}}));
  }
  ASSERT_OK(meta_->DeleteSubscriptionGroup("Keep", GroupOffsets::kKeep));
  ASSERT_OK(meta_->DeleteSubscriptionGroup("Drop", GroupOffsets::kDelete));
  EXPECT_EQ(OffsetsOf("Keep").size(), 1u);
  EXPECT_TRUE(OffsetsOf("Drop").empty());
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> groups, meta_->GetGroupsOfTopic("T"));
  EXPECT_EQ(groups, std::vector<std::string>{"Keep"});
}

// ---- Consumer offsets

TEST_F(MetadataStoreTest, OffsetsRoundTripByQueueGroupAndTopic) {
  ASSERT_OK(meta_->PutTopic(Topic("T")));
  ASSERT_OK(meta_->PutTopic(Topic("%RETRY%G", 1)));
  ASSERT_OK(meta_->CommitOffsets(
      "G", std::vector<ConsumerOffset>{{"T", 2, 20}, {"T", 0, 0}, {"%RETRY%G", 0, 3}}));
  ASSERT_OK(meta_->CommitOffsets("H", std::vector<ConsumerOffset>{{"T", 1, 11}}));

  ASSERT_OK_AND_ASSIGN(int64_t offset, meta_->GetOffset("G", "T", 2));
  EXPECT_EQ(offset, 20);
  EXPECT_TRUE(HasCode(meta_->GetOffset("G", "T", 1).status(), Status::Code::kNotFound,
                      "topic 'T' queue 1"));
  EXPECT_EQ(OffsetsOf("G"),
            (std::vector<ConsumerOffset>{{"%RETRY%G", 0, 3}, {"T", 0, 0}, {"T", 2, 20}}));
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> groups, meta_->GetGroupsOfTopic("T"));
  EXPECT_EQ(groups, (std::vector<std::string>{"G", "H"}));

  ASSERT_OK_AND_ASSIGN(uint64_t deleted, meta_->DeleteGroupOffsets("G"));
  EXPECT_EQ(deleted, 3u);
  EXPECT_TRUE(OffsetsOf("G").empty());
  ASSERT_OK_AND_ASSIGN(groups, meta_->GetGroupsOfTopic("T"));
  EXPECT_EQ(groups, std::vector<std::string>{"H"});
  ASSERT_OK_AND_ASSIGN(deleted, meta_->DeleteGroupOffsets("G"));
  EXPECT_EQ(deleted, 0u);
}

TEST_F(MetadataStoreTest, BadOffsetsAreRejectedWithTheValueNamed) {
  ASSERT_OK(meta_->PutTopic(Topic("T", 4)));
  auto commit = [&](std::string_view group, ConsumerOffset o) {
    return meta_->CommitOffsets(group, std::vector<ConsumerOffset>{o});
  };
  EXPECT_TRUE(HasCode(commit("G", {"T", 0, -1}), Status::Code::kInvalidArgument, "offset -1"));
  EXPECT_TRUE(HasCode(commit("G", {"Unknown", 0, 1}), Status::Code::kNotFound, "'Unknown'"));
  EXPECT_TRUE(HasCode(commit("G", {"T", 4, 1}), Status::Code::kInvalidArgument, "queue id 4"));
  EXPECT_TRUE(HasCode(commit("G", {"T", -1, 1}), Status::Code::kInvalidArgument, "queue id -1"));
  EXPECT_TRUE(
      HasCode(commit("G", {"bad topic", 0, 1}), Status::Code::kInvalidArgument, "bad topic"));
  EXPECT_TRUE(
      HasCode(commit("bad group", {"T", 0, 1}), Status::Code::kInvalidArgument, "bad group"));
  EXPECT_TRUE(OffsetsOf("G").empty());
  EXPECT_TRUE(meta_->GetOffset("bad group", "T", 0).status().IsInvalidArgument());
  EXPECT_TRUE(meta_->GetGroupsOfTopic(std::string("T\0", 2)).status().IsInvalidArgument());
}

TEST_F(MetadataStoreTest, QueueIdsRunUpToTheLargerQueueCount) {
  TopicConfig t = Topic("T");
  t.read_queue_nums = 2;
  t.write_queue_nums = 6;
  ASSERT_OK(meta_->PutTopic(t));
  EXPECT_OK(meta_->CommitOffsets("G", std::vector<ConsumerOffset>{{"T", 5, 1}}));
  EXPECT_TRUE(
      meta_->CommitOffsets("G", std::vector<ConsumerOffset>{{"T", 6, 1}}).IsInvalidArgument());
}

TEST_F(MetadataStoreTest, ABatchWithOneBadEntryCommitsNothing) {
  ASSERT_OK(meta_->PutTopic(Topic("T", 4)));
  ASSERT_OK(meta_->CommitOffsets("G", std::vector<ConsumerOffset>{{"T", 0, 10}, {"T", 1, 10}}));
  std::vector<ConsumerOffset> batch = {{"T", 0, 20}, {"T", 1, 20}, {"T", 2, 20}, {"T", 99, 20}};
  EXPECT_TRUE(
      HasCode(meta_->CommitOffsets("G", batch), Status::Code::kInvalidArgument, "queue id 99"));
  batch.back() = {"Missing", 0, 20};
  EXPECT_TRUE(meta_->CommitOffsets("G", batch).IsNotFound());
  EXPECT_EQ(OffsetsOf("G"), (std::vector<ConsumerOffset>{{"T", 0, 10}, {"T", 1, 10}}));
}

TEST_F(MetadataStoreTest, ALaterEntryForTheSameQueueWinsAndAnEmptyBatchIsANoOp) {
  ASSERT_OK(meta_->PutTopic(Topic("T")));
  ASSERT_OK(meta_->CommitOffsets("G", std::vector<ConsumerOffset>{{"T", 0, 5}, {"T", 0, 3}}));
  ASSERT_OK_AND_ASSIGN(int64_t offset, meta_->GetOffset("G", "T", 0));
  EXPECT_EQ(offset, 3);  // offsets may move backwards (a reset)
  EXPECT_OK(meta_->CommitOffsets("G", {}));
}

// ---- Schedule progress

TEST_F(MetadataStoreTest, ScheduleProgressRoundTripsAtomically) {
  std::vector<ScheduleProgress> levels = {{"delay-level-2", 5, 1000}, {"delay-level-1", 7, 2000}};
  ASSERT_OK(meta_->CommitScheduleProgress(levels));
  ASSERT_OK_AND_ASSIGN(std::vector<ScheduleProgress> loaded, meta_->LoadScheduleProgress());
  EXPECT_EQ(loaded, (std::vector<ScheduleProgress>{levels[1], levels[0]}));

  std::vector<ScheduleProgress> bad = {{"delay-level-1", 8, 3000}, {"timer", -1, 0}};
  EXPECT_TRUE(
      HasCode(meta_->CommitScheduleProgress(bad), Status::Code::kInvalidArgument, "offset -1"));
  ASSERT_OK_AND_ASSIGN(loaded, meta_->LoadScheduleProgress());
  EXPECT_EQ(loaded, (std::vector<ScheduleProgress>{levels[1], levels[0]}));
}

// ---- Lifecycle

TEST_F(MetadataStoreTest, EverythingSurvivesCloseAndReopen) {
  ASSERT_OK(meta_->PutTopic(Topic("T")));
  ASSERT_OK(meta_->PutSubscriptionGroup(Group("G")));
  ASSERT_OK(meta_->CommitOffsets("G", std::vector<ConsumerOffset>{{"T", 3, 33}}));
  ASSERT_OK(meta_->CommitScheduleProgress(std::vector<ScheduleProgress>{{"timer", 1, 2}}));
  Open();
  ASSERT_OK_AND_ASSIGN(TopicConfig topic, meta_->GetTopic("T"));
  EXPECT_EQ(topic, Topic("T"));
  ASSERT_OK_AND_ASSIGN(SubscriptionGroupConfig group, meta_->GetSubscriptionGroup("G"));
  EXPECT_EQ(group, Group("G"));
  ASSERT_OK_AND_ASSIGN(int64_t offset, meta_->GetOffset("G", "T", 3));
  EXPECT_EQ(offset, 33);
  ASSERT_OK_AND_ASSIGN(std::vector<ScheduleProgress> progress, meta_->LoadScheduleProgress());
  EXPECT_EQ(progress, (std::vector<ScheduleProgress>{{"timer", 1, 2}}));
}

TEST_F(MetadataStoreTest, TheMapGrowsBeneathTheStore) {
  MetadataOptions options;
  options.initial_map_bytes = 64 << 10;
  Open(options);
  std::vector<ConsumerOffset> batch;
  for (int t = 0; t < 40; ++t) {
    std::string name = "Topic-" + std::to_string(t);
    ASSERT_OK(meta_->PutTopic(Topic(name, 64)));
    for (int q = 0; q < 64; ++q) batch.push_back({name, q, t * 1000 + q});
  }
  ASSERT_OK(meta_->CommitOffsets("G", batch));
  EXPECT_GT(static_cast<MetadataStoreImpl*>(meta_.get())->env().map_bytes(), 64u << 10);
  EXPECT_EQ(OffsetsOf("G").size(), batch.size());
}

TEST_F(MetadataStoreTest, ADirectoryOpenTwiceIsRefused) {
  auto second = OpenMetadataStore(dir(), {});
  EXPECT_TRUE(second.status().IsFailedPrecondition()) << second.status().ToString();
}

TEST_F(MetadataStoreTest, AMissingDirectoryWithoutCreateIsNotFound) {
  MetadataOptions options;
  options.create_if_missing = false;
  EXPECT_TRUE(OpenMetadataStore(tmp_.Sub("elsewhere"), options).status().IsNotFound());
}

TEST_F(MetadataStoreTest, AnotherLmdbEnvironmentIsCorruptionNamingThePath) {
  meta_.reset();
  std::string other = tmp_.Sub("other");
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<LmdbEnv> env, LmdbEnv::Open(other, {}));
    ASSERT_OK(env->Write([&](LmdbWriteTxn& txn) {
      MQ_ASSIGN_OR_RETURN(LmdbDb db, txn.OpenDb("someone-else", true));
      return txn.Put(db, "k", "v");
    }));
  }
  auto opened = OpenMetadataStore(other, {});
  EXPECT_TRUE(HasCode(opened.status(), Status::Code::kCorruption, other));
}

TEST_F(MetadataStoreTest, ANonLmdbDirectoryIsCorruptionNamingThePath) {
  meta_.reset();
  std::string garbage = tmp_.Sub("garbage");
  std::filesystem::create_directories(garbage);
  {
    std::ofstream out(garbage + "/data.mdb", std::ios::binary);
    out << std::string(8192, 'x');
  }
  auto opened = OpenMetadataStore(garbage, {});
  EXPECT_TRUE(HasCode(opened.status(), Status::Code::kCorruption, garbage));
}

TEST_F(MetadataStoreTest, ANewerFormatVersionIsNotSupported) {
  meta_.reset();
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<LmdbEnv> env, LmdbEnv::Open(dir(), {}));
    ASSERT_OK(env->Write([&](LmdbWriteTxn& txn) {
      MQ_ASSIGN_OR_RETURN(LmdbDb db, txn.OpenDb(kStoreInfoDb, false));
      return txn.Put(db, kFormatVersionKey, EncodeFormatVersion(kMetaFormatVersion + 1));
    }));
  }
  auto opened = OpenMetadataStore(dir(), {});
  EXPECT_TRUE(HasCode(opened.status(), Status::Code::kNotSupported, "version 2"));
}

}  // namespace
}  // namespace mqstore

#include "transaction_processor.h"

#include <gtest/gtest.h>

#include <string>

#include "mqstore/store.h"
#include "support/test_util.h"

namespace mqbroker {
namespace {

// A stored record read back from a real store, then given another topic.
TEST(RecordWithTopicTest, ReplacesTopicAndQueueAndKeepsEverythingElse) {
  mqstore::test::TempDir dir;
  mqstore::StoreOptions options;
  options.commitlog_segment_bytes = 1 << 20;
  auto store = mqstore::Store::Open(options, dir.path());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  mqstore::Message message;
  message.topic = "RMQ_SYS_TRANS_HALF_TOPIC";
  message.body = "payload";
  message.SetKeys("k");
  std::string properties;
  auto put = (*store)->Put(message.View(&properties));
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  auto record = (*store)->ReadRecord(put->physical_offset);
  ASSERT_TRUE(record.ok());
  mqstore::ParsedRecord parsed;
  ASSERT_TRUE(mqstore::ParseRecord(record->bytes, true, &parsed).ok());

  for (const std::string& topic : {std::string("Orders"), std::string(200, 'x')}) {
    std::string rewritten = RecordWithTopic(record->bytes, parsed, topic, 3);
    mqstore::ParsedRecord out;
    ASSERT_TRUE(mqstore::ParseRecord(rewritten, /*verify_checksums=*/false, &out).ok());
    EXPECT_EQ(out.topic, topic);
    EXPECT_EQ(out.queue_id, 3);
    EXPECT_EQ(out.total_size, static_cast<int32_t>(rewritten.size()));
    EXPECT_EQ(out.body, "payload");
    EXPECT_EQ(out.properties, parsed.properties);
    EXPECT_EQ(out.physical_offset, parsed.physical_offset);
    EXPECT_EQ(out.store_timestamp_ms, parsed.store_timestamp_ms);
  }
  ASSERT_TRUE((*store)->Close().ok());
}

}  // namespace
}  // namespace mqbroker

// Golden bytes for docs/format/consume_queue.md.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "log/record_codec.h"
#include "mqstore/format/golden.h"
#include "mqstore/store.h"
#include "queue/consume_queue.h"
#include "support/test_util.h"
#include "util/filename.h"

namespace mqstore {
namespace {

using test::Hex;
using test::HexLines;
using test::ReadFormatDoc;

// The worked example: the entry of commitlog.md's example record (offset 1000, 132 bytes,
// TAGS "tagA").
TEST(ConsumeQueueFormatTest, WorkedExampleEntry) {
  char entry[kQueueEntrySize];
  EncodeQueueEntry(QueueEntry{1000, 132, TagsHashCode("tagA")}, entry);
  std::string bytes(entry, sizeof(entry));
  EXPECT_EQ(Hex(bytes),
            "00000000000003e8"
            "00000084"
            "00000000003633e7");
  std::string doc = ReadFormatDoc("consume_queue.md");
  ASSERT_FALSE(doc.empty()) << "docs/format/consume_queue.md is missing";
  EXPECT_NE(doc.find(HexLines(bytes)), std::string::npos)
      << "consume_queue.md must show the example entry as:\n"
      << HexLines(bytes);
}

TEST(ConsumeQueueFormatTest, TagsHashIsJavaStringHashCode) {
  EXPECT_EQ(TagsHashCode(""), 0);
  EXPECT_EQ(TagsHashCode("tagA"), 3552231);  // "tagA".hashCode()
  // UTF-16 code units of the decoded string, not UTF-8 bytes: "标签" is U+6807 U+7B7E.
  EXPECT_EQ(TagsHashCode("\xe6\xa0\x87\xe7\xad\xbe"), 0x6807 * 31 + 0x7B7E);
  // A negative 32-bit hash is sign-extended into the 64-bit field.
  EXPECT_EQ(TagsHashCode("polygenelubricants"), -2147483648LL);
  char entry[kQueueEntrySize];
  EncodeQueueEntry(QueueEntry{0, 1, TagsHashCode("polygenelubricants")}, entry);
  EXPECT_EQ(Hex(std::string_view(entry + 12, 8)), "ffffffff80000000");
}

TEST(ConsumeQueueFormatTest, FilesAreNamedByTheirFirstByteOffset) {
  EXPECT_EQ(filename::ConsumeQueueFile("/s", "TopicA", 3, 6'000'000),
            "/s/consumequeue/TopicA/3/00000000000006000000");

  test::TempDir dir;
  StoreOptions options;
  options.consume_queue_entries_per_file = 4;  // 80-byte files
  options.commitlog_segment_bytes = 64 * 1024;
  {
    ASSERT_OK_AND_ASSIGN(auto store, Store::Open(options, dir.path()));
    for (int i = 0; i < 10; ++i) {
      std::string props;
      Message m = test::MakeMessage("TopicA", 3, "m" + std::to_string(i));
      ASSERT_OK(store->Put(m.View(&props)).status());
    }
    ASSERT_OK(store->Close());
  }
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir.Sub("consumequeue/TopicA/3"))) {
    names.push_back(e.path().filename().string());
    EXPECT_EQ(std::filesystem::file_size(e.path()), 80u);
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"00000000000000000000", "00000000000000000080",
                                             "00000000000000000160"}));
}

}  // namespace
}  // namespace mqstore

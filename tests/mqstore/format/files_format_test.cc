// docs/format/files.md: which files a store directory holds, and when.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "mqstore/format/golden.h"
#include "mqstore/store.h"
#include "support/test_util.h"
#include "util/filename.h"

namespace mqstore {
namespace {

std::set<std::string> Entries(const std::string& dir) {
  std::set<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    names.insert(e.path().filename().string());
  }
  return names;
}

TEST(FilesFormatTest, SegmentNamesAreTwentyDigitBaseOffsets) {
  EXPECT_EQ(filename::OffsetName(0), "00000000000000000000");
  EXPECT_EQ(filename::OffsetName(1073741824), "00000000001073741824");
  EXPECT_EQ(filename::CommitLogSegment("/s", 2147483648), "/s/commitlog/00000000002147483648");
  EXPECT_EQ(filename::ParseOffsetName("00000000001073741824"), 1073741824);
  EXPECT_FALSE(filename::ParseOffsetName("1073741824").has_value());
}

TEST(FilesFormatTest, OpenStoreHasAbortMarkerAndClosedStoreDoesNot) {
  test::TempDir dir;
  std::string root = dir.Sub("store");
  StoreOptions options;
  options.commitlog_segment_bytes = 64 * 1024;
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(options, root));
  std::string props;
  Message m = test::MakeMessage("TopicA", 0, "hello", "tagA");
  ASSERT_OK(store->Put(m.View(&props)).status());
  EXPECT_EQ(Entries(root), (std::set<std::string>{"abort", "checkpoint", "commitlog",
                                                  "consumequeue", "lock", "meta", "timer"}));
  std::ifstream abort_file(root + "/abort");
  std::string pid;
  std::getline(abort_file, pid);
  EXPECT_EQ(pid, std::to_string(getpid()));

  ASSERT_OK(store->Close());
  EXPECT_EQ(Entries(root),
            (std::set<std::string>{"checkpoint", "commitlog", "consumequeue", "lock", "meta",
                                   "timer"}));
  EXPECT_EQ(std::filesystem::file_size(root + "/checkpoint"), 8192u);
  // Segments are created at full size; the allocator may have made the next one already.
  for (const auto& e : std::filesystem::directory_iterator(root + "/commitlog")) {
    EXPECT_EQ(std::filesystem::file_size(e.path()), 64u * 1024);
    EXPECT_TRUE(filename::ParseOffsetName(e.path().filename().string()).has_value());
  }
  EXPECT_TRUE(std::filesystem::exists(root + "/consumequeue/TopicA/0/00000000000000000000"));
  std::string doc = test::ReadFormatDoc("files.md");
  ASSERT_FALSE(doc.empty()) << "docs/format/files.md is missing";
  for (const char* name :
       {"commitlog/", "consumequeue/", "checkpoint", "abort", "lock", "index/", "meta/"}) {
    EXPECT_NE(doc.find(name), std::string::npos) << name;
  }
}

}  // namespace
}  // namespace mqstore

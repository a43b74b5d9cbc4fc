// The mqdump binary: exit codes and the shape of its output, run as a user would.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "mqstore/store.h"
#include "support/test_util.h"
#include "util/filename.h"

namespace mqstore {
namespace {

const std::string kMqdump = std::string(MQ_BINARY_DIR) + "/tools/mqdump/mqdump";

struct ToolRun {
  int exit_code = -1;
  std::string out;  // stdout and stderr
};

class MqdumpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kMqdump)) GTEST_SKIP() << kMqdump << " is not built";
    StoreOptions options;
    options.commitlog_segment_bytes = 16 * 1024;
    ASSERT_OK_AND_ASSIGN(auto store, Store::Open(options, store_dir_));
    for (int i = 0; i < 50; ++i) {
      Message m = test::MakeMessage("TopicA", i % 2, "hello " + std::to_string(i), "tagA");
      if (i == 7) m.body = std::string("\x00\x01\x02\xff", 4);  // binary body
      std::string props;
      ASSERT_OK_AND_ASSIGN(PutResult put, store->Put(m.View(&props)));
      offsets_.push_back(put.physical_offset);
    }
    ASSERT_OK(store->Close());
  }

  ToolRun Mqdump(const std::string& args) {
    std::string out_path = tmp_.Sub("out.txt");
    std::string cmd = kMqdump + " " + args + " >" + out_path + " 2>&1";
    int status = std::system(cmd.c_str());
    ToolRun r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::ifstream in(out_path);
    std::stringstream ss;
    ss << in.rdbuf();
    r.out = ss.str();
    return r;
  }

  test::TempDir tmp_;
  std::string store_dir_ = tmp_.Sub("store");
  std::vector<int64_t> offsets_;
};

TEST_F(MqdumpTest, VerifyExitCodes) {
  ToolRun clean = Mqdump("verify " + store_dir_);
  EXPECT_EQ(clean.exit_code, 0) << clean.out;
  EXPECT_NE(clean.out.find(": OK"), std::string::npos) << clean.out;

  std::string segment = filename::CommitLogSegment(store_dir_, 0);
  {
    std::fstream f(segment, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(offsets_[3] + 90);
    f.put('#');
  }
  ToolRun corrupt = Mqdump("verify " + store_dir_);
  EXPECT_EQ(corrupt.exit_code, 1) << corrupt.out;
  EXPECT_NE(corrupt.out.find("corruption: " + segment + " @ " + std::to_string(offsets_[3])),
            std::string::npos)
      << corrupt.out;
  EXPECT_NE(corrupt.out.find("CORRUPT"), std::string::npos);
}

TEST_F(MqdumpTest, Dumps) {
  ToolRun log = Mqdump("commitlog " + store_dir_ + " --limit 5 --json");
  EXPECT_EQ(log.exit_code, 0) << log.out;
  std::istringstream lines(log.out);
  int n = 0;
  for (std::string line; std::getline(lines, line); ++n) {
    EXPECT_EQ(line.front(), '{') << line;
    EXPECT_EQ(line.back(), '}') << line;
    EXPECT_NE(line.find("\"offset\":" + std::to_string(offsets_[n])), std::string::npos) << line;
  }
  EXPECT_EQ(n, 5);

  ToolRun queue = Mqdump("consumequeue " + store_dir_ + " TopicA 1 --from 2 --limit 3");
  EXPECT_EQ(queue.exit_code, 0) << queue.out;
  EXPECT_NE(queue.out.find("queue_offset=2 offset=" + std::to_string(offsets_[5])),
            std::string::npos)
      << queue.out;

  ToolRun message = Mqdump("message " + store_dir_ + " --offset " + std::to_string(offsets_[4]));
  EXPECT_EQ(message.exit_code, 0) << message.out;
  EXPECT_NE(message.out.find("offset message id"), std::string::npos) << message.out;
  EXPECT_NE(message.out.find("TAGS = tagA"), std::string::npos) << message.out;
  EXPECT_NE(message.out.find("hello 4"), std::string::npos) << message.out;

  ToolRun binary = Mqdump("message " + store_dir_ + " --offset " + std::to_string(offsets_[7]));
  EXPECT_NE(binary.out.find("4 bytes, binary"), std::string::npos) << binary.out;
  EXPECT_NE(binary.out.find("00 01 02 ff"), std::string::npos) << binary.out;

  ToolRun stats = Mqdump("stats " + store_dir_);
  EXPECT_EQ(stats.exit_code, 0) << stats.out;
  EXPECT_NE(stats.out.find("TopicA/1 min=0 max=25"), std::string::npos) << stats.out;
}

TEST_F(MqdumpTest, ErrorsAreCleanExitsNotCrashes) {
  EXPECT_EQ(Mqdump("verify " + tmp_.Sub("missing")).exit_code, 2);
  EXPECT_EQ(Mqdump("stats " + tmp_.path()).exit_code, 2);  // a directory, not a store
  EXPECT_EQ(Mqdump("message " + store_dir_ + " --offset 3").exit_code, 2);
  EXPECT_EQ(Mqdump("consumequeue " + store_dir_ + " Nope 0").exit_code, 2);
  EXPECT_EQ(Mqdump("").exit_code, 2);
  EXPECT_EQ(Mqdump("commitlog").exit_code, 2);
  ToolRun help = Mqdump("verify --help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("Exit status"), std::string::npos) << help.out;
}

}  // namespace
}  // namespace mqstore

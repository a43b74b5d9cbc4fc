// FaultInjectionEnv (tests/support): injected errors, crash points and the per-component
// operation counts the randomized crash tests rely on.
#include "support/fault_injection_env.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "support/test_util.h"

namespace mqstore::test {
namespace {

class FaultInjectionEnvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(env_.CreateDir("/s/commitlog"));
    ASSERT_OK(env_.CreateDir("/s/consumequeue/T/0"));
  }
  std::unique_ptr<File> Create(const std::string& path) {
    auto f = env_.OpenFile(path, OpenMode::kCreate);
    EXPECT_TRUE(f.ok()) << f.status().ToString();
    return f.ok() ? std::move(f).value() : nullptr;
  }
  // Which of `n` one-byte writes to `file` fail: "." for ok, "E" for EIO, "S" for ENOSPC.
  static std::string WritePattern(File* file, int n) {
    std::string out;
    for (int i = 0; i < n; ++i) {
      Status s = file->Write(static_cast<uint64_t>(i), "x");
      out += s.ok() ? '.' : s.IsResourceExhausted() ? 'S' : s.IsIOError() ? 'E' : '?';
    }
    return out;
  }

  std::unique_ptr<MemEnv> mem_ = NewMemEnv();
  FaultInjectionEnv env_{mem_.get()};
};

TEST_F(FaultInjectionEnvTest, TheNthMatchingOperationFailsOnce) {
  auto f = Create("/s/commitlog/00000000000000000000");
  env_.InjectErrors({.ops = kOpWrite, .nth = 2, .code = Status::Code::kResourceExhausted});
  EXPECT_EQ(WritePattern(f.get(), 5), "..S..");
  EXPECT_EQ(env_.errors_injected(), 1u);
  EXPECT_EQ(env_.first_error(), "Write commitlog");
  EXPECT_EQ(env_.first_error_component(), StoreComponent::kCommitLog);
}

TEST_F(FaultInjectionEnvTest, AStickyRuleFailsEveryMatchingOperationUntilCleared) {
  auto f = Create("/s/commitlog/00000000000000000000");
  env_.InjectErrors({.ops = kOpWrite, .nth = 1, .sticky = true});
  EXPECT_EQ(WritePattern(f.get(), 4), ".EEE");
  EXPECT_TRUE(f->Sync().ok()) << "a write rule fails only writes";
  env_.ClearErrors();
  EXPECT_EQ(WritePattern(f.get(), 2), "..");
}

TEST_F(FaultInjectionEnvTest, APathPartLimitsTheRuleToOneComponent) {
  auto log = Create("/s/commitlog/00000000000000000000");
  auto queue = Create("/s/consumequeue/T/0/00000000000000000000");
  env_.InjectErrors({.ops = kAllOps, .path_part = "/consumequeue/", .sticky = true});
  EXPECT_EQ(WritePattern(log.get(), 3), "...");
  EXPECT_EQ(WritePattern(queue.get(), 2), "EE");
  EXPECT_TRUE(queue->Sync().IsIOError());
  EXPECT_TRUE(env_.OpenFile("/s/consumequeue/T/0/x", OpenMode::kCreate).status().IsIOError());
  EXPECT_TRUE(env_.OpenFile("/s/commitlog/x", OpenMode::kCreate).ok());
}

TEST_F(FaultInjectionEnvTest, RandomFailuresReplayFromTheirSeed) {
  auto f = Create("/s/commitlog/00000000000000000000");
  auto pattern = [&](uint64_t seed) {
    env_.InjectErrors({.ops = kOpWrite, .probability = 0.3, .seed = seed});
    return WritePattern(f.get(), 64);
  };
  std::string a = pattern(7);
  EXPECT_EQ(pattern(7), a);
  EXPECT_NE(pattern(8), a);
  EXPECT_NE(a.find('E'), std::string::npos);
  EXPECT_NE(a.find('.'), std::string::npos);
}

TEST_F(FaultInjectionEnvTest, ErrorsReachMappedSyncsAndDirectoryOperations) {
  auto f = Create("/s/commitlog/00000000000000000000");
  ASSERT_OK(f->Allocate(8192));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<MappedRegion> region, f->Map(8192, true));
  env_.InjectErrors({.ops = kOpSync | kOpSyncDir | kOpRename | kOpMap, .sticky = true});
  EXPECT_TRUE(region->Sync(0, 4096).IsIOError());
  EXPECT_TRUE(env_.SyncDir("/s").IsIOError());
  EXPECT_TRUE(env_.RenameFile("/s/commitlog/00000000000000000000", "/s/x").IsIOError());
  EXPECT_TRUE(f->Map(4096, false).status().IsIOError());
  EXPECT_EQ(env_.errors_injected(), 4u);
}

TEST_F(FaultInjectionEnvTest, ACrashPointTakesTheImageJustBeforeItsOperation) {
  auto f = Create("/s/commitlog/00000000000000000000");
  ASSERT_OK(env_.SyncDir("/s/commitlog"));
  ASSERT_OK(f->Write(0, "durable"));
  ASSERT_OK(f->Sync());
  env_.Arm(1, {CrashMode::kDropUnsynced, 0});
  ASSERT_OK(f->Write(7, "+late"));  // operation 0
  ASSERT_OK(f->Sync());             // operation 1: the image is taken before it
  EXPECT_EQ(env_.Disarm(), 2u);
  std::unique_ptr<MemEnv> image = env_.TakeImage();
  ASSERT_NE(image, nullptr);
  EXPECT_EQ(env_.crash_point(), "Sync commitlog");
  EXPECT_EQ(*image->GetFileSize("/s/commitlog/00000000000000000000"), 7u);
  EXPECT_EQ(env_.TakeImage(), nullptr) << "the image is handed out once";
}

TEST_F(FaultInjectionEnvTest, OnlyTheArmedThreadCountsTowardsTheCrashPoint) {
  auto f = Create("/s/commitlog/00000000000000000000");
  env_.Arm(0, {});
  std::thread other([&] { ASSERT_OK(f->Write(0, "x")); });
  other.join();
  EXPECT_EQ(env_.Disarm(), 0u);
  EXPECT_EQ(env_.TakeImage(), nullptr);
}

TEST_F(FaultInjectionEnvTest, OperationsAreCountedPerComponent) {
  auto before = env_.OperationCounts();
  auto log = Create("/s/commitlog/00000000000000000000");           // 1 commitlog
  auto queue = Create("/s/consumequeue/T/0/00000000000000000000");  // 1 queue
  auto checkpoint = Create("/s/checkpoint");                        // 1 checkpoint
  ASSERT_OK(log->Write(0, "a"));                                    // 2 commitlog
  ASSERT_OK(checkpoint->Sync());                                    // 2 checkpoint
  ASSERT_OK(env_.SyncDir("/s"));                                    // 1 other
  auto after = env_.OperationCounts();
  auto delta = [&](StoreComponent c) {
    return after[static_cast<size_t>(c)] - before[static_cast<size_t>(c)];
  };
  EXPECT_EQ(delta(StoreComponent::kCommitLog), 2u);
  EXPECT_EQ(delta(StoreComponent::kConsumeQueue), 1u);
  EXPECT_EQ(delta(StoreComponent::kCheckpoint), 2u);
  EXPECT_EQ(delta(StoreComponent::kOther), 1u);
}

TEST(StoreComponentTest, PathsMapToTheirComponent) {
  EXPECT_EQ(ComponentOf("/s/commitlog/00000000000000000000"), StoreComponent::kCommitLog);
  EXPECT_EQ(ComponentOf("/s/consumequeue/T/3/00000000000000000000"), StoreComponent::kConsumeQueue);
  EXPECT_EQ(ComponentOf("/s/index/20260101000000000"), StoreComponent::kIndex);
  EXPECT_EQ(ComponentOf("/s/timer/log/00000000000000000000"), StoreComponent::kTimer);
  EXPECT_EQ(ComponentOf("/s/schedule_progress.tmp"), StoreComponent::kScheduleProgress);
  EXPECT_EQ(ComponentOf("/s/checkpoint"), StoreComponent::kCheckpoint);
  EXPECT_EQ(ComponentOf("/s/abort"), StoreComponent::kOther);
  EXPECT_STREQ(StoreComponentName(StoreComponent::kConsumeQueue), "consumequeue");
}

}  // namespace
}  // namespace mqstore::test

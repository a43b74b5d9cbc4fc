// MemEnv::CrashCopy is taken while a store is running (its allocator, flusher and checkpoint
// threads still touch files): it must be safe against concurrent file operations.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include "mqstore/mem_env.h"
#include "support/test_util.h"

namespace mqstore {
namespace {

// MemFile::Write / Allocate / Truncate hold the file's mutex and then take the env mutex
// (space accounting); CrashCopy must not take them in the other order. The test fails
// (leaking the two stuck threads) if 20,000 copies next to a growing durable file do not
// finish within 60 s.
TEST(CrashCopyConcurrencyTest, CrashCopyWhileADurableFileGrows) {
  auto env = std::shared_ptr<MemEnv>(NewMemEnv().release());
  ASSERT_OK(env->CreateDir("/d"));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<File> file, env->OpenFile("/d/f", OpenMode::kCreate));
  ASSERT_OK(env->SyncDir("/d"));  // durable from now on
  std::shared_ptr<File> shared(std::move(file));
  auto done = std::make_shared<std::promise<void>>();
  std::future<void> finished = done->get_future();
  std::thread runner([env, shared, done] {
    std::atomic<bool> stop{false};
    std::atomic<int> copies{0};
    std::thread copier([&] {
      for (; copies < 20'000 && !stop.load(); ++copies)
        env->CrashCopy({CrashMode::kDropUnsynced, 0});
      stop.store(true);
    });
    while (!stop.load()) {
      if (!shared->Truncate(0).ok() || !shared->Write(0, std::string(64, 'x')).ok()) break;
    }
    stop.store(true);
    copier.join();
    done->set_value();
  });
  if (finished.wait_for(std::chrono::seconds(60)) != std::future_status::ready) {
    runner.detach();  // stuck for good: leak it rather than hang the test binary
    FAIL() << "CrashCopy and a growing write deadlocked";
  }
  runner.join();
}

}  // namespace
}  // namespace mqstore

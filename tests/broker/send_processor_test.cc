// SendProcessor through a running broker whose store's commit-log syncs can be held up:
// flow control when the disk does not keep up (broker-shell/src/send_processor.cc).
#include "send_processor.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "broker.h"
#include "mqstore/env.h"
#include "mqstore/store.h"
#include "name_server.h"
#include "remoting/codes.h"
#include "remoting/transport.h"
#include "support/server_test_util.h"
#include "support/test_util.h"

namespace mqbroker {
namespace {

using mqremoting::RemotingCommand;
namespace code = mqremoting::response_code;
using namespace std::chrono_literals;

constexpr auto kTimeout = 10s;
constexpr int kDiskWaitLimit = 4;

RemotingCommand SendRequest(const std::string& topic, const std::string& body) {
  return mqstore::test::SendMessageV2Request(topic, 0, body);
}

// Responses of asynchronous sends, in arrival order.
struct Answers {
  void Add(mqstore::Result<RemotingCommand> response) {
    std::lock_guard<std::mutex> lock(mu);
    responses.push_back(std::move(response));
  }
  size_t size() {
    std::lock_guard<std::mutex> lock(mu);
    return responses.size();
  }
  std::mutex mu;
  std::vector<mqstore::Result<RemotingCommand>> responses;
};

bool WaitFor(const std::function<bool()>& condition) {
  const auto deadline = std::chrono::steady_clock::now() + kTimeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

// The file system, except that while the gate is closed writes and syncs of commit-log files
// block: a disk that does not keep up. (FaultInjectionEnv sits on a MemEnv, where the broker
// would have no LMDB metadata.)
class GatedSyncEnv final : public mqstore::Env {
 public:
  bool OnFileSystem() const override { return true; }

  void CloseGate() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
  }
  void OpenGate() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = false;
    changed_.notify_all();
  }
  // Waits until a commit-log write or sync is held at the closed gate.
  bool WaitForBlocked() {
    std::unique_lock<std::mutex> lock(mu_);
    return changed_.wait_for(lock, kTimeout, [this] { return blocked_ > 0; });
  }

  mqstore::Result<std::unique_ptr<mqstore::File>> OpenFile(const std::string& path,
                                                           mqstore::OpenMode mode) override {
    MQ_ASSIGN_OR_RETURN(std::unique_ptr<mqstore::File> file, base_->OpenFile(path, mode));
    if (path.find("/commitlog/") == std::string::npos) return file;
    return std::unique_ptr<mqstore::File>(new GatedFile(this, std::move(file)));
  }
  bool FileExists(const std::string& path) override { return base_->FileExists(path); }
  mqstore::Result<std::vector<std::string>> GetChildren(const std::string& dir) override {
    return base_->GetChildren(dir);
  }
  mqstore::Status CreateDir(const std::string& dir) override { return base_->CreateDir(dir); }
  mqstore::Status RemoveFile(const std::string& path) override { return base_->RemoveFile(path); }
  mqstore::Status RemoveDir(const std::string& dir) override { return base_->RemoveDir(dir); }
  mqstore::Status RenameFile(const std::string& from, const std::string& to) override {
    return base_->RenameFile(from, to);
  }
  mqstore::Status SyncDir(const std::string& dir) override { return base_->SyncDir(dir); }
  mqstore::Result<uint64_t> GetFileSize(const std::string& path) override {
    return base_->GetFileSize(path);
  }
  mqstore::Result<mqstore::DiskSpace> GetDiskSpace(const std::string& path) override {
    return base_->GetDiskSpace(path);
  }
  mqstore::Result<std::unique_ptr<mqstore::FileLock>> LockFile(const std::string& path) override {
    return base_->LockFile(path);
  }

 private:
  class GatedFile final : public mqstore::File {
   public:
    GatedFile(GatedSyncEnv* env, std::unique_ptr<mqstore::File> base)
        : File(base->path()), env_(env), base_(std::move(base)) {}
    mqstore::Status Read(uint64_t offset, size_t n, char* scratch, size_t* bytes_read) override {
      return base_->Read(offset, n, scratch, bytes_read);
    }
    mqstore::Status Write(uint64_t offset, std::string_view data) override {
      env_->PassGate();
      return base_->Write(offset, data);
    }
    mqstore::Status Sync() override {
      env_->PassGate();
      return base_->Sync();
    }
    mqstore::Status Allocate(uint64_t size) override { return base_->Allocate(size); }
    mqstore::Status Truncate(uint64_t size) override { return base_->Truncate(size); }
    mqstore::Status ZeroRange(uint64_t offset, uint64_t len) override {
      return base_->ZeroRange(offset, len);
    }
    void DropCache(uint64_t offset, uint64_t len) override { base_->DropCache(offset, len); }
    mqstore::Result<uint64_t> Size() override { return base_->Size(); }
    mqstore::Result<std::unique_ptr<mqstore::MappedRegion>> Map(size_t len,
                                                                bool writable) override {
      return base_->Map(len, writable);
    }

   private:
    GatedSyncEnv* const env_;
    const std::unique_ptr<mqstore::File> base_;
  };

  void PassGate() {
    std::unique_lock<std::mutex> lock(mu_);
    ++blocked_;
    changed_.notify_all();
    changed_.wait(lock, [this] { return !closed_; });
    --blocked_;
  }

  mqstore::Env* const base_ = mqstore::Env::Default();
  std::mutex mu_;
  std::condition_variable changed_;
  bool closed_ = false;
  int blocked_ = 0;
};

class SendFlowControlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto namesrv = mqstore::test::StartLoopbackNameServer();
    ASSERT_TRUE(namesrv.ok()) << namesrv.status().ToString();
    namesrv_ = std::move(namesrv).value();
    config_ = mqstore::test::LoopbackBrokerConfig(dir_.path(),
                                                  "127.0.0.1:" + std::to_string(namesrv_->port()));
    config_.flushDiskType = FlushDiskType::kSyncFlush;
    client_ = mqremoting::RemotingClient::Create({});
  }
  void StartBroker() {
    auto broker = Broker::Start(config_, &env_);
    ASSERT_TRUE(broker.ok()) << broker.status().ToString();
    broker_ = std::move(broker).value();
    // The topic exists and the log has its first segment before the disk gets stuck.
    auto first = client_->InvokeSync(broker_->identity().broker_addr,
                                     SendRequest("FlowTopic", "before"), kTimeout);
    ASSERT_TRUE(first.ok()) << first.status().ToString();
    ASSERT_EQ(first->code, code::kSuccess) << first->remark.value_or("");
  }

  void TearDown() override {
    env_.OpenGate();
    client_->Shutdown();
    if (broker_) {
      EXPECT_TRUE(broker_->Shutdown().ok());
    }
    namesrv_->Stop();
  }

  void SendAsync(const std::string& body, Answers* answers) {
    client_->InvokeAsync(broker_->identity().broker_addr, SendRequest("FlowTopic", body), kTimeout,
                         [answers](mqstore::Result<RemotingCommand> response) {
                           answers->Add(std::move(response));
                         });
  }
  int64_t appended() { return broker_->store()->Stats().appended_offset; }

  mqstore::test::TempDir dir_;
  GatedSyncEnv env_;
  BrokerConfig config_;
  std::unique_ptr<mqnamesrv::NameServer> namesrv_;
  std::unique_ptr<Broker> broker_;
  std::unique_ptr<mqremoting::RemotingClient> client_;
};

TEST_F(SendFlowControlTest, SendsBeyondTheDiskWaitLimitAreAnsweredSystemBusyAtOnce) {
  config_.sendThreadPoolQueueCapacity = kDiskWaitLimit;
  ASSERT_NO_FATAL_FAILURE(StartBroker());

  env_.CloseGate();
  Answers waiting;
  for (int i = 0; i < kDiskWaitLimit; ++i) {
    const int64_t before = appended();
    SendAsync("waits " + std::to_string(i), &waiting);
    ASSERT_TRUE(WaitFor([&] { return appended() > before; }));  // admitted and appended
  }
  ASSERT_TRUE(env_.WaitForBlocked());
  EXPECT_EQ(waiting.size(), 0u) << "a SYNC_FLUSH send was answered before its sync";

  // One more than the limit: answered now, while the disk is still stuck, and not stored.
  const int64_t before_refused = appended();
  auto refused = client_->InvokeSync(broker_->identity().broker_addr,
                                     SendRequest("FlowTopic", "refused"), kTimeout);
  ASSERT_TRUE(refused.ok()) << refused.status().ToString();
  EXPECT_EQ(refused->code, code::kSystemBusy);
  EXPECT_NE(refused->remark.value_or("").find("[PC_SYNCHRONIZED]"), std::string::npos)
      << refused->remark.value_or("");
  EXPECT_EQ(appended(), before_refused);
  EXPECT_EQ(waiting.size(), 0u);

  // The disk comes back: the waiting sends succeed, and new sends are admitted again.
  env_.OpenGate();
  ASSERT_TRUE(WaitFor([&] { return waiting.size() == static_cast<size_t>(kDiskWaitLimit); }));
  {
    std::lock_guard<std::mutex> lock(waiting.mu);
    for (const auto& response : waiting.responses) {
      ASSERT_TRUE(response.ok()) << response.status().ToString();
      EXPECT_EQ(response->code, code::kSuccess) << response->remark.value_or("");
    }
  }
  auto after = client_->InvokeSync(broker_->identity().broker_addr,
                                   SendRequest("FlowTopic", "after"), kTimeout);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->code, code::kSuccess) << after->remark.value_or("");
}

TEST_F(SendFlowControlTest, WhileAPutHoldsTheCommitLogSendsAreRefusedInsteadOfWaiting) {
  config_.mappedFileSizeCommitLog = 64 << 20;  // no segment roll in this test
  // Well above what copying a 1 MiB body takes, well below the time the stuck put is held.
  config_.osPageCacheBusyTimeOutMills = 100;
  constexpr int64_t kStuckMs = 300;
  ASSERT_NO_FATAL_FAILURE(StartBroker());
  mqstore::Store* store = broker_->store();

  // The disk takes nothing: the flusher waits in its write-out, puts fill the write buffer
  // (16 MiB), and the put that finds it full waits for the flusher holding the append lock.
  env_.CloseGate();
  Answers filling;
  const std::string body(1 << 20, 'f');
  size_t issued = 0;
  for (int i = 0; i < 20 && store->AppendLockHeldMs() <= kStuckMs; ++i) {
    const int64_t before = store->Stats().appended_offset;
    SendAsync(body, &filling);
    ++issued;
    ASSERT_TRUE(WaitFor([&] {
      return store->Stats().appended_offset > before || store->AppendLockHeldMs() > kStuckMs;
    }));
  }
  ASSERT_GT(store->AppendLockHeldMs(), kStuckMs) << "no put ever waited on the full write buffer";

  // Another producer is refused at once rather than left waiting on the lock, and nothing
  // of it is stored. Its connection is the broker's second, and so goes to the other
  // transport thread (connections are dealt to them in turn): the stuck put holds the
  // thread of the first.
  auto other = mqremoting::RemotingClient::Create({});
  const int64_t appended = store->Stats().appended_offset;
  auto refused = other->InvokeSync(broker_->identity().broker_addr,
                                   SendRequest("FlowTopic", "refused"), kTimeout);
  ASSERT_TRUE(refused.ok()) << refused.status().ToString();
  EXPECT_EQ(refused->code, code::kSystemBusy);
  EXPECT_NE(refused->remark.value_or("").find("[REJECTREQUEST]"), std::string::npos)
      << refused->remark.value_or("");
  EXPECT_EQ(store->Stats().appended_offset, appended);

  // The disk comes back: every send that got in is stored and answered SUCCESS, and sends
  // are taken again.
  const size_t sent = [&] {
    std::lock_guard<std::mutex> lock(filling.mu);
    return filling.responses.size();
  }();
  EXPECT_EQ(sent, 0u);
  env_.OpenGate();
  ASSERT_TRUE(WaitFor([&] { return store->AppendLockHeldMs() == 0; }));
  auto after = other->InvokeSync(broker_->identity().broker_addr, SendRequest("FlowTopic", "after"),
                                 kTimeout);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->code, code::kSuccess) << after->remark.value_or("");
  other->Shutdown();
  // Every send that got in is answered before `filling` goes out of scope.
  ASSERT_TRUE(WaitFor([&] { return filling.size() == issued; }));
  std::lock_guard<std::mutex> lock(filling.mu);
  for (const auto& response : filling.responses) {
    ASSERT_TRUE(response.ok()) << response.status().ToString();
    EXPECT_EQ(response->code, code::kSuccess) << response->remark.value_or("");
  }
}

}  // namespace
}  // namespace mqbroker

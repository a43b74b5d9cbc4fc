// ConnectionImpl's writing from threads that are not the connection's own (remoting/src/
// connection_writing.cc): such a thread writes its frames itself, or at the end of its WriteBatch,
// and leaves to the connection's thread only what the socket would not take at once.
// Observed from a plain socket at the other end, so every byte and its order is checked.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "remoting/codes.h"
#include "remoting/transport.h"
#include "transport_test_fixture.h"

namespace mqremoting {
namespace {

using namespace std::chrono_literals;

using test::kLong;
using test::RawSocket;
using test::TestHandler;
using test::TransportTest;
using test::WaitFor;

constexpr int32_t kNumberedCode = 4321;

// A request the server sends to the peer, numbered by its sender and position.
RemotingCommand Numbered(int sender, int seq, std::string body = "") {
  RemotingCommand command = RemotingCommand::Request(kNumberedCode);
  command.opaque = seq + 1;
  command.flag = flag::kOneway;
  command.SetExt("sender", int64_t{sender});
  command.SetExt("seq", int64_t{seq});
  command.body = std::move(body);
  return command;
}

// Reads one frame and returns its (sender, seq); (-1, -1) when none could be read.
std::pair<int, int> ReadNumbered(RawSocket& raw, std::string* body = nullptr) {
  Result<RemotingCommand> frame = raw.ReadFrame();
  if (!frame.ok() || frame->code != kNumberedCode) return {-1, -1};
  const std::string* sender = frame->FindExt("sender");
  const std::string* seq = frame->FindExt("seq");
  if (sender == nullptr || seq == nullptr) return {-1, -1};
  if (body != nullptr) *body = frame->body;
  return {std::stoi(*sender), std::stoi(*seq)};
}

// Bytes that differ from one position to the next, so a misplaced piece shows.
std::string Pattern(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1664525u + 1013904223u;
    s[i] = static_cast<char>(x >> 24);
  }
  return s;
}

class ConnectionWriteTest : public TransportTest {
 protected:
  // Starts the server with `handler` and connects `peers` plain sockets; server_side(i) is
  // the server's end of peer i.
  void Connect(std::shared_ptr<TestHandler> handler, size_t peers, ServerOptions options = {}) {
    handler_ = std::move(handler);
    StartServer(handler_, options);
    for (size_t i = 0; i < peers; ++i) {
      peers_.push_back(std::make_unique<RawSocket>(server_->port()));
      ASSERT_TRUE(peers_.back()->connected());
      ASSERT_TRUE(WaitFor([&] { return handler_->connected() == i + 1; }));
    }
  }
  std::shared_ptr<Connection> server_side(size_t i) { return handler_->connection(i); }
  RawSocket& peer(size_t i) { return *peers_[i]; }

  std::shared_ptr<TestHandler> handler_;
  std::vector<std::unique_ptr<RawSocket>> peers_;
};

TEST_F(ConnectionWriteTest, AnotherThreadsSendGoesOutWhileTheConnectionsThreadIsBusy) {
  // The server's only I/O thread is held inside a request handler; a frame sent meanwhile
  // from this thread must still reach the peer, because this thread writes it.
  struct Gate {  // shared with the handler, which may still be leaving it after the test
    std::mutex mu;
    std::condition_variable cv;
    bool entered = false;
    bool release = false;
  };
  auto gate = std::make_shared<Gate>();
  struct ReleaseOnExit {  // also when an assertion returns early: the server must stop
    std::shared_ptr<Gate> gate;
    ~ReleaseOnExit() {
      {
        std::lock_guard<std::mutex> l(gate->mu);
        gate->release = true;
      }
      gate->cv.notify_all();
    }
  } release_on_exit{gate};
  auto handler =
      std::make_shared<TestHandler>([gate](const std::shared_ptr<Connection>&, RemotingCommand) {
        std::unique_lock<std::mutex> l(gate->mu);
        gate->entered = true;
        gate->cv.notify_all();
        gate->cv.wait(l, [&] { return gate->release; });
      });
  ServerOptions options;
  options.io_threads = 1;
  Connect(handler, 1, options);
  RemotingCommand hold = RemotingCommand::Request(request_code::kHeartBeat);
  hold.flag = flag::kOneway;
  ASSERT_TRUE(peer(0).Write(EncodeFrame(hold)));
  {
    std::unique_lock<std::mutex> l(gate->mu);
    ASSERT_TRUE(gate->cv.wait_for(l, kLong, [&] { return gate->entered; }));
  }
  server_side(0)->Send(Numbered(0, 7));
  EXPECT_EQ(ReadNumbered(peer(0)), std::make_pair(0, 7));
}

TEST_F(ConnectionWriteTest, AWriteBatchWritesEachConnectionsFramesWhenTheOutermostBatchEnds) {
  Connect(std::make_shared<TestHandler>(), 2);
  {
    WriteBatch batch;
    for (int seq = 0; seq < 3; ++seq) server_side(0)->Send(Numbered(0, seq));
    {
      WriteBatch inner;
      for (int seq = 0; seq < 2; ++seq) server_side(1)->Send(Numbered(1, seq));
    }
    server_side(0)->Send(Numbered(0, 3));
    // Nothing may write these before the batch ends: not this thread, not the I/O threads.
    EXPECT_FALSE(peer(0).Readable(100ms));
    EXPECT_FALSE(peer(1).Readable(0ms));
  }
  for (int seq = 0; seq < 4; ++seq) EXPECT_EQ(ReadNumbered(peer(0)), std::make_pair(0, seq));
  for (int seq = 0; seq < 2; ++seq) EXPECT_EQ(ReadNumbered(peer(1)), std::make_pair(1, seq));
  // After the batch, a send is written at once again.
  server_side(1)->Send(Numbered(1, 2));
  EXPECT_EQ(ReadNumbered(peer(1)), std::make_pair(1, 2));
}

TEST_F(ConnectionWriteTest, InvokeSyncInsideABatchWritesTheBatchBeforeItWaits) {
  // A thread that holds a WriteBatch and then waits for an answer must not hold back the very
  // request it waits on (nor the frames it sent before it): the batch is written first.
  Connect(std::make_shared<TestHandler>(), 2);
  std::thread answerer([&] {
    EXPECT_EQ(ReadNumbered(peer(1)), std::make_pair(1, 0));
    EXPECT_EQ(ReadNumbered(peer(0)), std::make_pair(0, 0));
    Result<RemotingCommand> request = peer(0).ReadFrame();
    ASSERT_TRUE(request.ok());
    RemotingCommand response = RemotingCommand::ResponseTo(*request, response_code::kSuccess);
    response.body = "answer";
    EXPECT_TRUE(peer(0).Write(EncodeFrame(response)));
  });
  {
    WriteBatch batch;
    server_side(1)->Send(Numbered(1, 0));
    server_side(0)->Send(Numbered(0, 0));
    Result<RemotingCommand> answer =
        server_side(0)->InvokeSync(RemotingCommand::Request(kNumberedCode), kLong);
    // EXPECT, not ASSERT: returning here would leave the answerer thread unjoined.
    EXPECT_TRUE(answer.ok()) << answer.status().ToString();
    if (answer.ok()) {
      EXPECT_EQ(answer->body, "answer");
    }
    // The batch goes on gathering after the wait.
    server_side(1)->Send(Numbered(1, 1));
    EXPECT_FALSE(peer(1).Readable(100ms));
  }
  answerer.join();
  EXPECT_EQ(ReadNumbered(peer(1)), std::make_pair(1, 1));
}

TEST_F(ConnectionWriteTest, WhatTheSocketDoesNotTakeAtOnceIsFinishedByTheConnectionsThread) {
  // 48 MiB in one frame (body and pinned slices) is more than loopback's socket buffers
  // hold, so the first write is short and the I/O thread finishes it, then the next frame.
  Connect(std::make_shared<TestHandler>(), 1);
  const std::string body = Pattern(3 << 20, 1);
  auto slices = std::make_shared<std::vector<std::string>>();
  for (uint32_t i = 0; i < 9; ++i) slices->push_back(Pattern((5 << 20) + i, 2 + i));
  RemotingCommand big = Numbered(0, 0, body);
  std::string expected = body;
  for (const std::string& s : *slices) {
    big.body_slices.push_back(BodySlice{s, slices});
    expected += s;
  }
  std::weak_ptr<std::vector<std::string>> pinned = slices;
  slices.reset();
  server_side(0)->Send(std::move(big));
  server_side(0)->Send(Numbered(0, 1, "after"));
  std::string got;
  EXPECT_EQ(ReadNumbered(peer(0), &got), std::make_pair(0, 0));
  EXPECT_TRUE(got == expected) << "the big frame's bytes differ (" << got.size() << " of "
                               << expected.size() << ")";
  EXPECT_EQ(ReadNumbered(peer(0), &got), std::make_pair(0, 1));
  EXPECT_EQ(got, "after");
  EXPECT_TRUE(WaitFor([&] { return pinned.expired(); })) << "the slices' pin was kept";
}

TEST_F(ConnectionWriteTest, ThreadsSendingOnOneConnectionAtOnceEachKeepTheirOrder) {
  // Some senders batch, some do not; bodies up to 256 KiB make some writes short while the
  // peer reads, so frames go out from the senders and from the I/O thread in turn.
  Connect(std::make_shared<TestHandler>(), 1);
  constexpr int kSenders = 4;
  constexpr int kFrames = 150;
  std::shared_ptr<Connection> connection = server_side(0);
  std::vector<std::thread> senders;
  for (int sender = 0; sender < kSenders; ++sender) {
    senders.emplace_back([&, sender] {
      for (int seq = 0; seq < kFrames; ++seq) {
        std::string body = Pattern(static_cast<size_t>((seq * 7919 + sender * 104729) % 262144),
                                   static_cast<uint32_t>(sender * kFrames + seq));
        if (sender % 2 == 0 && seq % 10 == 0) {
          WriteBatch batch;
          for (int k = seq; k < seq + 10; ++k) {
            connection->Send(
                Numbered(sender, k,
                         Pattern(static_cast<size_t>((k * 7919 + sender * 104729) % 262144),
                                 static_cast<uint32_t>(sender * kFrames + k))));
          }
          seq += 9;
          continue;
        }
        connection->Send(Numbered(sender, seq, std::move(body)));
      }
    });
  }
  std::vector<int> next(kSenders, 0);
  for (int i = 0; i < kSenders * kFrames; ++i) {
    std::string body;
    auto [sender, seq] = ReadNumbered(peer(0), &body);
    ASSERT_GE(sender, 0) << "frame " << i << " could not be read";
    ASSERT_LT(sender, kSenders);
    ASSERT_EQ(seq, next[static_cast<size_t>(sender)]) << "sender " << sender << " out of order";
    ASSERT_EQ(body, Pattern(static_cast<size_t>((seq * 7919 + sender * 104729) % 262144),
                            static_cast<uint32_t>(sender * kFrames + seq)));
    ++next[static_cast<size_t>(sender)];
  }
  for (auto& t : senders) t.join();
}

TEST_F(ConnectionWriteTest, FramesLeftInABatchAreDroppedWhenTheConnectionClosesFirst) {
  Connect(std::make_shared<TestHandler>(), 1);
  {
    WriteBatch batch;
    server_side(0)->Send(Numbered(0, 0));
    server_side(0)->Close();
  }
  server_side(0)->Send(Numbered(0, 1));  // closed: dropped at once
  EXPECT_EQ(ReadNumbered(peer(0)), std::make_pair(-1, -1)) << "a frame was written after close";
  EXPECT_TRUE(WaitFor([&] { return handler_->closed() == 1; }));
}

}  // namespace
}  // namespace mqremoting

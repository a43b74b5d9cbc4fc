// The transport end to end over 127.0.0.1: RemotingServer, RemotingClient and the connection
// between them (remoting/src/server.cc, client.cc, connection.cc).
#include "remoting/transport.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "mqstore/coding.h"
#include "remoting/codes.h"
#include "remoting/log_sink.h"
#include "transport_test_fixture.h"

namespace mqremoting {
namespace {

using namespace std::chrono_literals;

using test::Address;
using test::HeldRequests;
using test::kLong;
using test::LogCapture;
using test::RawSocket;
using test::TestHandler;
using test::TransportTest;
using test::WaitFor;

TEST_F(TransportTest, RequestAndResponseOverLoopback) {
  auto handler = std::make_shared<TestHandler>();
  StartServer(handler);
  auto client = NewClient();

  RemotingCommand request = RemotingCommand::Request(request_code::kHeartBeat);
  request.body = "heartbeat body";
  request.SetExt("tag", "t1");
  Result<RemotingCommand> response = client->InvokeSync(server_address(), request, kLong);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_TRUE(response->is_response());
  EXPECT_EQ(response->code, response_code::kSuccess);
  EXPECT_EQ(*response->FindExt("echo"), std::to_string(request_code::kHeartBeat));
  EXPECT_EQ(*response->FindExt("tag"), "t1");
  EXPECT_EQ(response->body, "heartbeat body");
  EXPECT_EQ(response->version, version::kCurrent);
  EXPECT_EQ(handler->requests(), 1);
  EXPECT_EQ(server_->connection_count(), 1u);
}

TEST_F(TransportTest, EachResponseTravelsInItsRequestsHeaderType) {
  auto handler = std::make_shared<TestHandler>();
  StartServer(handler);
  auto client = NewClient();
  for (SerializeType type : {SerializeType::kRocketMq, SerializeType::kJson}) {
    RemotingCommand request = RemotingCommand::Request(request_code::kSendMessageV2);
    request.serialize_type = type;
    request.SetExt("tag", "t1");
    Result<RemotingCommand> response = client->InvokeSync(server_address(), request, kLong);
    ASSERT_TRUE(response.ok()) << response.status().ToString();
    EXPECT_EQ(response->serialize_type, type);
    EXPECT_EQ(*response->FindExt("tag"), "t1");
  }
  // The transport's own answer (no handler on the client side) as well.
  ASSERT_TRUE(WaitFor([&] { return handler->connected() == 1; }));
  RemotingCommand to_client = RemotingCommand::Request(307);
  to_client.serialize_type = SerializeType::kRocketMq;
  auto response = handler->connection(0)->InvokeSync(to_client, kLong);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->code, response_code::kRequestCodeNotSupported);
  EXPECT_EQ(response->serialize_type, SerializeType::kRocketMq);
}

TEST_F(TransportTest, AddressesOfBothEnds) {
  auto handler = std::make_shared<TestHandler>();
  StartServer(handler);
  auto client = NewClient();
  auto connection = client->Connect("localhost:" + std::to_string(server_->port()));
  ASSERT_TRUE(connection.ok()) << connection.status().ToString();
  EXPECT_EQ((*connection)->remote_address(), server_address());
  ASSERT_TRUE(WaitFor([&] { return handler->connected() == 1; }));
  auto server_side = handler->connection(0);
  EXPECT_EQ(server_side->remote_address(), (*connection)->local_address());
  EXPECT_EQ(server_side->local_address(), server_address());
  EXPECT_NE(server_side->id(), (*connection)->id());
}

TEST_F(TransportTest, IPv4PeersOfADualStackServerAreShownAsIPv4) {
  auto handler = std::make_shared<TestHandler>();
  ServerOptions options;
  options.bind_address = "::";
  auto server = RemotingServer::Start(options, handler);
  if (!server.ok()) GTEST_SKIP() << "no IPv6 here: " << server.status().ToString();
  auto client = NewClient();
  auto connection = client->Connect(Address((*server)->port()));
  ASSERT_TRUE(connection.ok()) << connection.status().ToString();
  ASSERT_TRUE(WaitFor([&] { return handler->connected() == 1; }));
  EXPECT_EQ(handler->connection(0)->remote_address(), (*connection)->local_address());
  EXPECT_EQ(handler->connection(0)->remote_address().rfind("127.0.0.1:", 0), 0u);
}

TEST_F(TransportTest, ManyConnectionsAndConcurrentRequests) {
  auto handler = std::make_shared<TestHandler>();
  ServerOptions options;
  options.io_threads = 3;
  StartServer(handler, options);
  constexpr int kClients = 6;
  constexpr int kThreadsPerClient = 3;
  constexpr int kRequestsPerThread = 100;
  std::vector<std::unique_ptr<RemotingClient>> clients;
  for (int i = 0; i < kClients; ++i) clients.push_back(NewClient());

  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int c = 0; c < kClients; ++c) {
    for (int t = 0; t < kThreadsPerClient; ++t) {
      threads.emplace_back([&, c, t] {
        for (int i = 0; i < kRequestsPerThread; ++i) {
          RemotingCommand request = RemotingCommand::Request(1000 + c);
          std::string tag = std::to_string(c) + "/" + std::to_string(t) + "/" + std::to_string(i);
          request.SetExt("tag", tag);
          request.body = std::string(static_cast<size_t>(i * 37), 'x');
          auto response = clients[c]->InvokeSync(server_address(), std::move(request), kLong);
          if (response.ok() && *response->FindExt("tag") == tag &&
              *response->FindExt("echo") == std::to_string(1000 + c) &&
              response->body.size() == static_cast<size_t>(i * 37)) {
            good.fetch_add(1);
          }
        }
      });
    }
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(good.load(), kClients * kThreadsPerClient * kRequestsPerThread);
  EXPECT_EQ(server_->connection_count(), static_cast<size_t>(kClients));
}

TEST_F(TransportTest, ManyAsyncInvokesOnOneConnectionEachGetTheirOwnResponse) {
  auto handler = std::make_shared<TestHandler>();
  StartServer(handler);
  auto client = NewClient();
  constexpr int kCalls = 2000;
  std::atomic<int> good{0};
  std::atomic<int> done{0};
  for (int i = 0; i < kCalls; ++i) {
    RemotingCommand request = RemotingCommand::Request(7);
    request.SetExt("tag", int64_t{i});
    client->InvokeAsync(server_address(), std::move(request), kLong,
                        [&, i](Result<RemotingCommand> response) {
                          if (response.ok() && *response->FindExt("tag") == std::to_string(i)) {
                            good.fetch_add(1);
                          }
                          done.fetch_add(1);
                        });
  }
  ASSERT_TRUE(WaitFor([&] { return done.load() == kCalls; }));
  EXPECT_EQ(good.load(), kCalls);
  EXPECT_EQ(server_->connection_count(), 1u);
}

TEST_F(TransportTest, LargeFramesBothWays) {
  auto handler = std::make_shared<TestHandler>();
  StartServer(handler);
  auto client = NewClient();
  std::string body(3 << 20, '\0');
  for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>(i * 131 + (i >> 9));
  RemotingCommand request = RemotingCommand::Request(11);
  request.body = body;
  auto response = client->InvokeSync(server_address(), request, kLong);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_TRUE(response->body == body);
  // A small one after it still works (the read buffer shrank back or not, frames still split).
  response = client->InvokeSync(server_address(), RemotingCommand::Request(12), kLong);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
}

TEST_F(TransportTest, ResponsesMayComeOutOfOrder) {
  HeldRequests held;
  auto handler = std::make_shared<TestHandler>(
      [&](const std::shared_ptr<Connection>& connection, RemotingCommand request) {
        if (request.code == request_code::kPullMessage) {
          held.Hold(connection, std::move(request));  // a long-polled pull
        } else {
          TestHandler::Echo(connection, request);
        }
      });
  StartServer(handler);
  auto client = NewClient();

  std::mutex mu;
  std::optional<Result<RemotingCommand>> pull_result;
  RemotingCommand pull = RemotingCommand::Request(request_code::kPullMessage);
  pull.SetExt("tag", "pull");
  client->InvokeAsync(server_address(), pull, kLong, [&](Result<RemotingCommand> response) {
    std::lock_guard<std::mutex> lock(mu);
    pull_result.emplace(std::move(response));
  });
  ASSERT_TRUE(WaitFor([&] { return held.size() == 1; }));

  RemotingCommand send = RemotingCommand::Request(request_code::kSendMessageV2);
  send.SetExt("tag", "send");
  auto send_response = client->InvokeSync(server_address(), send, kLong);
  ASSERT_TRUE(send_response.ok()) << send_response.status().ToString();
  EXPECT_EQ(*send_response->FindExt("tag"), "send");
  {
    std::lock_guard<std::mutex> lock(mu);
    EXPECT_FALSE(pull_result.has_value());
  }

  ASSERT_TRUE(held.AnswerOne());
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard<std::mutex> lock(mu);
    return pull_result.has_value();
  }));
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_TRUE(pull_result->ok()) << pull_result->status().ToString();
  EXPECT_EQ(*(*pull_result)->FindExt("tag"), "pull");
}

TEST_F(TransportTest, OnewayRequestsAreNotAnsweredAndEndWhenTheHandlerReturns) {
  std::atomic<int> oneway_seen{0};
  auto handler = std::make_shared<TestHandler>(
      [&](const std::shared_ptr<Connection>& connection, RemotingCommand request) {
        if (request.is_oneway()) {
          oneway_seen.fetch_add(1);
          return;
        }
        TestHandler::Echo(connection, request);
      });
  StartServer(handler);

  RawSocket raw(server_->port());
  ASSERT_TRUE(raw.connected());
  RemotingCommand oneway = RemotingCommand::Request(request_code::kUpdateConsumerOffset);
  oneway.opaque = 5;
  oneway.flag = flag::kOneway;
  RemotingCommand normal = RemotingCommand::Request(request_code::kHeartBeat);
  normal.opaque = 6;
  ASSERT_TRUE(raw.Write(EncodeFrame(oneway) + EncodeFrame(normal)));
  auto first = raw.ReadFrame();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->opaque, 6);  // nothing came back for opaque 5
  EXPECT_EQ(oneway_seen.load(), 1);
  EXPECT_TRUE(server_->AwaitIdle(kLong));
}

TEST_F(TransportTest, SendOnewaySetsTheFlagAndGetsNoAnswer) {
  std::atomic<int> oneway_seen{0};
  auto handler = std::make_shared<TestHandler>(
      [&](const std::shared_ptr<Connection>& connection, RemotingCommand request) {
        if (request.is_oneway()) {
          oneway_seen.fetch_add(1);
          // Even a handler that answers a oneway request must not break the connection.
          connection->Send(RemotingCommand::ResponseTo(request, 0));
          return;
        }
        TestHandler::Echo(connection, request);
      });
  StartServer(handler);
  auto client = NewClient();
  ASSERT_TRUE(client->InvokeOneway(server_address(), RemotingCommand::Request(15)).ok());
  ASSERT_TRUE(WaitFor([&] { return oneway_seen.load() == 1; }));
  auto response = client->InvokeSync(server_address(), RemotingCommand::Request(34), kLong);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_TRUE(server_->AwaitIdle(kLong));
}

TEST_F(TransportTest, InvokeTimesOutAndCallsBackExactlyOnce) {
  HeldRequests held;
  auto handler = std::make_shared<TestHandler>(
      [&](const std::shared_ptr<Connection>& connection, RemotingCommand request) {
        held.Hold(connection, std::move(request));
      });
  StartServer(handler);
  auto client = NewClient();
  auto connection = client->Connect(server_address());
  ASSERT_TRUE(connection.ok());

  std::atomic<int> calls{0};
  std::mutex mu;
  std::optional<Status> status;
  (*connection)->Invoke(RemotingCommand::Request(99), 100ms, [&](Result<RemotingCommand> r) {
    std::lock_guard<std::mutex> lock(mu);
    status = r.status();
    calls.fetch_add(1);
  });
  ASSERT_TRUE(WaitFor([&] { return calls.load() == 1; }));
  {
    std::lock_guard<std::mutex> lock(mu);
    EXPECT_TRUE(status->IsTimedOut()) << status->ToString();
  }
  // The late answer matches nothing; closing does not call back again.
  ASSERT_TRUE(WaitFor([&] { return held.size() == 1; }));
  ASSERT_TRUE(held.AnswerOne());
  Result<RemotingCommand> sync = (*connection)->InvokeSync(RemotingCommand::Request(98), 100ms);
  EXPECT_TRUE(sync.status().IsTimedOut()) << sync.status().ToString();
  (*connection)->Close();
  EXPECT_FALSE((*connection)->is_open());
  EXPECT_EQ(calls.load(), 1);
}

TEST_F(TransportTest, TimeoutsWithDifferentDeadlinesFireInTheirOwnOrder) {
  auto handler = std::make_shared<TestHandler>(
      [](const std::shared_ptr<Connection>&, RemotingCommand) {});  // never answers
  StartServer(handler);
  auto client = NewClient();
  auto connection = client->Connect(server_address());
  ASSERT_TRUE(connection.ok());
  std::mutex mu;
  std::vector<int> order;
  // A long timeout first, then a short one: the short one must not wait for the long one.
  (*connection)->Invoke(RemotingCommand::Request(1), 60000ms, [&](Result<RemotingCommand> r) {
    std::lock_guard<std::mutex> lock(mu);
    order.push_back(r.status().IsTimedOut() ? 1 : -1);
  });
  (*connection)->Invoke(RemotingCommand::Request(2), 50ms, [&](Result<RemotingCommand> r) {
    std::lock_guard<std::mutex> lock(mu);
    order.push_back(r.status().IsTimedOut() ? 2 : -2);
  });
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard<std::mutex> lock(mu);
    return !order.empty();
  }));
  {
    std::lock_guard<std::mutex> lock(mu);
    EXPECT_EQ(order, std::vector<int>{2});
  }
  (*connection)->Close();  // the long one is aborted, not timed out
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(order, (std::vector<int>{2, -1}));
}

TEST_F(TransportTest, ServerRequestsAreAnsweredByTheClientsHandler) {
  auto server_handler = std::make_shared<TestHandler>();
  StartServer(server_handler);
  auto client_handler = std::make_shared<TestHandler>(
      [](const std::shared_ptr<Connection>& connection, RemotingCommand request) {
        RemotingCommand response = RemotingCommand::ResponseTo(request, response_code::kSuccess);
        response.SetExt("consumerGroup", *request.FindExt("consumerGroup"));
        response.SetExt("from", "client");
        connection->Send(std::move(response));
      });
  auto client = NewClient(client_handler);
  ASSERT_TRUE(client->InvokeSync(server_address(), RemotingCommand::Request(34), kLong).ok());
  ASSERT_TRUE(WaitFor([&] { return server_handler->connected() == 1; }));

  RemotingCommand notify = RemotingCommand::Request(request_code::kCheckTransactionState);
  notify.SetExt("consumerGroup", "G");
  auto response = server_handler->connection(0)->InvokeSync(notify, kLong);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(*response->FindExt("from"), "client");
  EXPECT_EQ(*response->FindExt("consumerGroup"), "G");
  EXPECT_EQ(client_handler->requests(), 1);
  EXPECT_EQ(server_->connection_count(), 1u);
}

TEST_F(TransportTest, AClientWithoutAHandlerAnswersRequestCodeNotSupported) {
  auto server_handler = std::make_shared<TestHandler>();
  StartServer(server_handler);
  LogCapture log;
  auto client = NewClient();
  ASSERT_TRUE(client->InvokeSync(server_address(), RemotingCommand::Request(34), kLong).ok());
  ASSERT_TRUE(WaitFor([&] { return server_handler->connected() == 1; }));
  auto to_client = server_handler->connection(0);

  to_client->SendOneway(RemotingCommand::Request(request_code::kNotifyConsumerIdsChanged));
  auto response = to_client->InvokeSync(RemotingCommand::Request(307), kLong);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->code, response_code::kRequestCodeNotSupported);
  EXPECT_EQ(response->remark, " request type 307 not supported");
  // The oneway request got no answer (it would have been logged as matching no request).
  EXPECT_EQ(log.CountContaining("matches no request"), 0u);
}

TEST_F(TransportTest, BadFramesCloseOnlyTheirConnectionWithOneLogLine) {
  struct Case {
    std::string name;
    std::string bytes;
  };
  std::string garbage_header = std::string("\0\0\0\x0b\0\0\0\x07{nope!}", 15);
  std::string oversized;
  mqstore::PutBig32(&oversized, (16u << 20) + 1);
  std::string too_short;
  mqstore::PutBig32(&too_short, 3);
  std::string bad_type;
  mqstore::PutBig32(&bad_type, 6);
  mqstore::PutBig32(&bad_type, (5u << 24) | 2);
  bad_type += "{}";
  const Case cases[] = {{"garbage JSON", garbage_header},
                        {"oversized", oversized},
                        {"too short", too_short},
                        {"serialize type", bad_type}};

  auto handler = std::make_shared<TestHandler>();
  StartServer(handler);
  auto client = NewClient();
  ASSERT_TRUE(client->InvokeSync(server_address(), RemotingCommand::Request(1), kLong).ok());

  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    LogCapture log;
    {
      RawSocket raw(server_->port());
      ASSERT_TRUE(raw.connected());
      ASSERT_TRUE(WaitFor([&] { return server_->connection_count() == 2; }));
      ASSERT_TRUE(raw.Write(c.bytes));
      EXPECT_TRUE(raw.SeesClose());
    }
    ASSERT_TRUE(WaitFor([&] { return server_->connection_count() == 1; }));
    auto lines = log.lines();
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0].first, LogLevel::kWarn);
    EXPECT_NE(lines[0].second.find("bad frame"), std::string::npos) << lines[0].second;
    // The other connection is unaffected.
    auto response = client->InvokeSync(server_address(), RemotingCommand::Request(2), kLong);
    ASSERT_TRUE(response.ok()) << response.status().ToString();
  }
}

TEST_F(TransportTest, TheInflightLimitHoldsBackFurtherRequests) {
  HeldRequests held;
  auto handler = std::make_shared<TestHandler>(
      [&](const std::shared_ptr<Connection>& connection, RemotingCommand request) {
        held.Hold(connection, std::move(request));
      });
  ServerOptions options;
  options.max_inflight_requests_per_connection = 2;
  StartServer(handler, options);
  auto client = NewClient();

  constexpr int kCalls = 5;
  std::atomic<int> answered{0};
  for (int i = 0; i < kCalls; ++i) {
    client->InvokeAsync(server_address(), RemotingCommand::Request(11), kLong,
                        [&](Result<RemotingCommand> r) { answered.fetch_add(r.ok() ? 1 : 100); });
  }
  ASSERT_TRUE(WaitFor([&] { return held.size() == 2; }));
  // Give the transport every chance to (wrongly) deliver a third.
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(handler->requests(), 2);

  ASSERT_TRUE(held.AnswerOne());
  ASSERT_TRUE(WaitFor([&] { return handler->requests() == 3; }));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(handler->requests(), 3);
  EXPECT_EQ(held.size(), 2u);

  while (answered.load() < kCalls) {
    if (!held.AnswerOne()) std::this_thread::sleep_for(1ms);
    ASSERT_LT(answered.load(), 100);
  }
  ASSERT_TRUE(WaitFor([&] { return answered.load() == kCalls; }));
  EXPECT_EQ(handler->requests(), kCalls);
  EXPECT_TRUE(server_->AwaitIdle(kLong));
}

TEST_F(TransportTest, AwaitIdleWaitsForUnansweredRequests) {
  HeldRequests held;
  auto handler = std::make_shared<TestHandler>(
      [&](const std::shared_ptr<Connection>& connection, RemotingCommand request) {
        held.Hold(connection, std::move(request));
      });
  StartServer(handler);
  EXPECT_TRUE(server_->AwaitIdle(0ms));
  auto client = NewClient();
  std::atomic<bool> answered{false};
  client->InvokeAsync(server_address(), RemotingCommand::Request(11), kLong,
                      [&](Result<RemotingCommand> r) { answered = r.ok(); });
  ASSERT_TRUE(WaitFor([&] { return held.size() == 1; }));
  EXPECT_FALSE(server_->AwaitIdle(20ms));

  std::thread answer([&] {
    std::this_thread::sleep_for(50ms);
    held.AnswerOne();
  });
  EXPECT_TRUE(server_->AwaitIdle(kLong));
  answer.join();
  // Idle means the response was written: the client gets it.
  EXPECT_TRUE(WaitFor([&] { return answered.load(); }));
}

TEST_F(TransportTest, ABrokenConnectionEndsItsRequestsForAwaitIdle) {
  HeldRequests held;
  auto handler = std::make_shared<TestHandler>(
      [&](const std::shared_ptr<Connection>& connection, RemotingCommand request) {
        held.Hold(connection, std::move(request));
      });
  StartServer(handler);
  {
    auto client = NewClient();
    client->InvokeAsync(server_address(), RemotingCommand::Request(11), kLong,
                        [](Result<RemotingCommand>) {});
    ASSERT_TRUE(WaitFor([&] { return held.size() == 1; }));
    EXPECT_FALSE(server_->AwaitIdle(0ms));
  }  // the client goes away with its request unanswered
  EXPECT_TRUE(server_->AwaitIdle(kLong));
  EXPECT_TRUE(WaitFor([&] { return handler->closed() == 1; }));
  held.AnswerOne();  // answering on a closed connection is harmless
}

TEST_F(TransportTest, BodySlicesAreWrittenAndTheirPinsReleased) {
  std::weak_ptr<std::string> pin_watch;
  std::mutex mu;
  auto handler = std::make_shared<TestHandler>(
      [&](const std::shared_ptr<Connection>& connection, RemotingCommand request) {
        auto mapped = std::make_shared<std::string>("....record-one....record-two....");
        {
          std::lock_guard<std::mutex> lock(mu);
          pin_watch = mapped;
        }
        RemotingCommand response = RemotingCommand::ResponseTo(request, 0);
        response.body = "[";
        response.body_slices.push_back({std::string_view(*mapped).substr(4, 10), mapped});
        response.body_slices.push_back({std::string_view(*mapped).substr(18, 10), mapped});
        response.body_slices.push_back({std::string_view(), mapped});  // empty slices are fine
        connection->Send(std::move(response));
      });
  StartServer(handler);
  auto client = NewClient();
  auto response = client->InvokeSync(server_address(), RemotingCommand::Request(11), kLong);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->body, "[record-onerecord-two");
  EXPECT_TRUE(WaitFor([&] {
    std::lock_guard<std::mutex> lock(mu);
    return pin_watch.expired();
  }));
}

TEST_F(TransportTest, StoppingTheServerAbortsPendingInvokes) {
  auto handler = std::make_shared<TestHandler>(
      [](const std::shared_ptr<Connection>&, RemotingCommand) {});  // never answers
  StartServer(handler);
  auto client = NewClient(std::make_shared<TestHandler>(
      [](const std::shared_ptr<Connection>&, RemotingCommand) {}));  // neither does the client
  ASSERT_TRUE(client->Connect(server_address()).ok());
  ASSERT_TRUE(WaitFor([&] { return handler->connected() == 1; }));
  auto server_side = handler->connection(0);

  // The server's own call to the client, and the client's calls to the server.
  std::atomic<int> aborted{0};
  std::atomic<int> other{0};
  auto count = [&](Result<RemotingCommand> r) {
    (r.status().code() == Status::Code::kAborted ? aborted : other).fetch_add(1);
  };
  server_side->Invoke(RemotingCommand::Request(40), kLong, count);
  for (int i = 0; i < 3; ++i) {
    client->InvokeAsync(server_address(), RemotingCommand::Request(11), kLong, count);
  }
  ASSERT_TRUE(WaitFor([&] { return handler->requests() == 3; }));
  server_->Stop();
  server_->Stop();  // idempotent
  EXPECT_EQ(server_->connection_count(), 0u);
  EXPECT_FALSE(server_side->is_open());
  ASSERT_TRUE(WaitFor([&] { return aborted.load() + other.load() == 4; }));
  EXPECT_EQ(aborted.load(), 4);
  EXPECT_EQ(handler->closed(), 1);
  // Using a connection of a stopped server is harmless.
  server_side->Send(RemotingCommand::Request(1));
  server_side->Invoke(RemotingCommand::Request(1), kLong, count);
  EXPECT_EQ(aborted.load(), 5);
}

TEST_F(TransportTest, ShuttingDownTheClientAbortsItsPendingInvokes) {
  auto handler =
      std::make_shared<TestHandler>([](const std::shared_ptr<Connection>&, RemotingCommand) {});
  StartServer(handler);
  auto client = NewClient();
  std::atomic<int> aborted{0};
  for (int i = 0; i < 3; ++i) {
    client->InvokeAsync(server_address(), RemotingCommand::Request(11), kLong,
                        [&](Result<RemotingCommand> r) {
                          if (r.status().code() == Status::Code::kAborted) aborted.fetch_add(1);
                        });
  }
  ASSERT_TRUE(WaitFor([&] { return handler->requests() == 3; }));
  client->Shutdown();
  EXPECT_EQ(aborted.load(), 3);
  client->Shutdown();
  auto after = client->InvokeSync(server_address(), RemotingCommand::Request(1), kLong);
  EXPECT_EQ(after.status().code(), Status::Code::kAborted);
  EXPECT_TRUE(WaitFor([&] { return server_->connection_count() == 0; }));
}

TEST_F(TransportTest, ClientsSharingTransportThreadsEachHaveTheirOwnConnection) {
  auto handler = std::make_shared<TestHandler>();
  StartServer(handler);
  std::shared_ptr<TransportThreads> threads = TransportThreads::Start(1);
  ClientOptions options;
  options.shared_threads = threads;
  std::vector<std::unique_ptr<RemotingClient>> clients;
  for (int i = 0; i < 8; ++i) clients.push_back(RemotingClient::Create(options));
  std::atomic<int> answered{0};
  for (auto& client : clients) {
    for (int i = 0; i < 4; ++i) {
      client->InvokeAsync(server_address(), RemotingCommand::Request(11), kLong,
                          [&](Result<RemotingCommand> r) {
                            if (r.ok() && r->code == response_code::kSuccess) answered++;
                          });
    }
  }
  ASSERT_TRUE(WaitFor([&] { return answered.load() == 32; }));
  EXPECT_EQ(server_->connection_count(), 8u);
}

TEST_F(TransportTest, ShuttingDownAClientOnSharedThreadsLeavesTheOthersWorking) {
  // Requests of code 11 are never answered; the rest are echoed.
  auto handler = std::make_shared<TestHandler>(
      [](const std::shared_ptr<Connection>& connection, RemotingCommand request) {
        if (request.code != 11) TestHandler::Echo(connection, request);
      });
  StartServer(handler);
  ClientOptions options;
  options.shared_threads = TransportThreads::Start(2);
  auto leaving = RemotingClient::Create(options);
  auto staying = RemotingClient::Create(options);
  options.shared_threads.reset();  // the clients keep the threads alive
  ASSERT_TRUE(staying->InvokeSync(server_address(), RemotingCommand::Request(1), kLong).ok());

  std::atomic<int> aborted{0};
  std::atomic<bool> shutdown_returned{false};
  std::atomic<int> late_callbacks{0};
  for (int i = 0; i < 3; ++i) {
    leaving->InvokeAsync(server_address(), RemotingCommand::Request(11), kLong,
                         [&](Result<RemotingCommand> r) {
                           if (shutdown_returned.load()) late_callbacks++;
                           if (r.status().code() == Status::Code::kAborted) aborted++;
                         });
  }
  ASSERT_TRUE(WaitFor([&] { return handler->requests() == 4; }));
  leaving->Shutdown();
  shutdown_returned = true;
  // Its calls were answered (aborted) before Shutdown returned, and its connection is closed...
  EXPECT_EQ(aborted.load(), 3);
  EXPECT_EQ(late_callbacks.load(), 0);
  EXPECT_TRUE(WaitFor([&] { return server_->connection_count() == 1; }));
  // ...while the other client goes on over the same threads.
  auto response = staying->InvokeSync(server_address(), RemotingCommand::Request(2), kLong);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->code, response_code::kSuccess);
  staying->Shutdown();
  EXPECT_TRUE(WaitFor([&] { return server_->connection_count() == 0; }));
}

TEST_F(TransportTest, AClientOnSharedThreadsCanBeShutDownFromOneOfThem) {
  auto handler = std::make_shared<TestHandler>();
  StartServer(handler);
  ClientOptions options;
  options.shared_threads = TransportThreads::Start(1);
  std::shared_ptr<RemotingClient> client = RemotingClient::Create(options);
  std::atomic<bool> shut_down{false};
  client->InvokeAsync(server_address(), RemotingCommand::Request(1), kLong,
                      [&](Result<RemotingCommand>) {
                        client->Shutdown();  // must not wait for this very thread
                        shut_down = true;
                      });
  EXPECT_TRUE(WaitFor([&] { return shut_down.load(); }));
  EXPECT_TRUE(WaitFor([&] { return server_->connection_count() == 0; }));
}

TEST_F(TransportTest, TheClientReconnectsAfterTheConnectionCloses) {
  auto handler = std::make_shared<TestHandler>();
  StartServer(handler);
  auto client = NewClient();
  auto first = client->Connect(server_address());
  ASSERT_TRUE(first.ok());
  auto again = client->Connect(server_address());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*first)->id(), (*again)->id());  // cached

  ASSERT_TRUE(WaitFor([&] { return handler->connected() == 1; }));
  handler->connection(0)->Close();  // the server drops it
  ASSERT_TRUE(WaitFor([&] { return !(*first)->is_open(); }));

  auto response = client->InvokeSync(server_address(), RemotingCommand::Request(3), kLong);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  auto second = client->Connect(server_address());
  ASSERT_TRUE(second.ok());
  EXPECT_NE((*second)->id(), (*first)->id());
  EXPECT_TRUE((*second)->is_open());
  EXPECT_EQ(handler->connected(), 2u);
}

TEST_F(TransportTest, ConcurrentConnectsShareOneConnection) {
  auto handler = std::make_shared<TestHandler>();
  StartServer(handler);
  auto client = NewClient();
  constexpr int kThreads = 8;
  std::vector<uint64_t> ids(kThreads, 0);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      auto connection = client->Connect(server_address());
      if (connection.ok()) ids[i] = (*connection)->id();
    });
  }
  for (auto& thread : threads) thread.join();
  for (uint64_t id : ids) EXPECT_EQ(id, ids[0]);
  EXPECT_NE(ids[0], 0u);
  ASSERT_TRUE(WaitFor([&] { return handler->connected() >= 1; }));
  EXPECT_EQ(server_->connection_count(), 1u);
}

TEST_F(TransportTest, ConnectFailures) {
  // A port that is bound but not listening refuses connections (and stays ours meanwhile).
  int bound = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(bound, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  socklen_t length = sizeof(address);
  ASSERT_EQ(::getsockname(bound, reinterpret_cast<sockaddr*>(&address), &length), 0);
  const uint16_t free_port = ntohs(address.sin_port);
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{bound};
  auto client = NewClient();
  auto refused = client->Connect(Address(free_port));
  EXPECT_TRUE(refused.status().IsIOError()) << refused.status().ToString();
  for (const char* bad :
       {"no-port", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:70000", ":80", "127.0.0.1:x"}) {
    auto connection = client->Connect(bad);
    EXPECT_TRUE(connection.status().IsIOError()) << bad << ": " << connection.status().ToString();
  }
  std::atomic<bool> called{false};
  client->InvokeAsync(Address(free_port), RemotingCommand::Request(1), kLong,
                      [&](Result<RemotingCommand> r) { called = r.status().IsIOError(); });
  EXPECT_TRUE(WaitFor([&] { return called.load(); }));
  EXPECT_TRUE(client->InvokeOneway(Address(free_port), RemotingCommand::Request(1)).IsIOError());
}

TEST_F(TransportTest, AnOccupiedPortIsAnIOErrorNamingTheAddress) {
  StartServer(std::make_shared<TestHandler>());
  ServerOptions options;
  options.bind_address = "127.0.0.1";
  options.port = server_->port();
  auto second = RemotingServer::Start(options, std::make_shared<TestHandler>());
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(second.status().IsIOError());
  EXPECT_NE(second.status().message().find(server_address()), std::string_view::npos)
      << second.status().ToString();
}

TEST_F(TransportTest, StopAcceptingKeepsExistingConnections) {
  StartServer(std::make_shared<TestHandler>());
  auto client = NewClient();
  ASSERT_TRUE(client->InvokeSync(server_address(), RemotingCommand::Request(1), kLong).ok());
  server_->StopAccepting();
  server_->StopAccepting();
  auto other = NewClient();
  EXPECT_FALSE(other->Connect(server_address()).ok());
  auto response = client->InvokeSync(server_address(), RemotingCommand::Request(2), kLong);
  EXPECT_TRUE(response.ok()) << response.status().ToString();
}

TEST_F(TransportTest, BlockingCallsOnATransportThreadAreRefused) {
  std::mutex mu;
  std::vector<Status> seen;
  auto other_server_handler = std::make_shared<TestHandler>();
  ServerOptions options;
  options.bind_address = "127.0.0.1";
  auto other_server = RemotingServer::Start(options, other_server_handler);
  ASSERT_TRUE(other_server.ok());
  auto inner_client = NewClient();
  std::string other_address = Address((*other_server)->port());
  auto handler = std::make_shared<TestHandler>(
      [&](const std::shared_ptr<Connection>& connection, RemotingCommand request) {
        std::lock_guard<std::mutex> lock(mu);
        seen.push_back(connection->InvokeSync(RemotingCommand::Request(1), 10ms).status());
        seen.push_back(inner_client->Connect(other_address).status());
        seen.push_back(inner_client->InvokeOneway(other_address, RemotingCommand::Request(5)));
        TestHandler::Echo(connection, request);
      });
  StartServer(handler);
  auto client = NewClient();
  ASSERT_TRUE(client->InvokeSync(server_address(), RemotingCommand::Request(1), kLong).ok());
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_TRUE(seen[0].IsFailedPrecondition()) << seen[0].ToString();
  EXPECT_TRUE(seen[1].IsFailedPrecondition()) << seen[1].ToString();
  EXPECT_TRUE(seen[2].ok()) << seen[2].ToString();  // sent once connected
  EXPECT_TRUE(WaitFor([&] { return other_server_handler->requests() == 1; }));
}

TEST_F(TransportTest, AThrowingHandlerAnswersSystemError) {
  LogCapture log;
  auto handler = std::make_shared<TestHandler>(
      [](const std::shared_ptr<Connection>&, RemotingCommand) -> void {
        throw std::runtime_error("boom");
      });
  StartServer(handler);
  auto client = NewClient();
  auto response = client->InvokeSync(server_address(), RemotingCommand::Request(1), kLong);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->code, response_code::kSystemError);
  EXPECT_EQ(response->remark, "boom");
  EXPECT_EQ(log.CountContaining("boom"), 1u);
  EXPECT_TRUE(server_->AwaitIdle(kLong));
}

// Frames 1..count of code 10, frame i with opaque i and an i-byte body, back to back.
std::string NumberedFrames(int count) {
  std::string frames;
  for (int i = 1; i <= count; ++i) {
    RemotingCommand request = RemotingCommand::Request(10);
    request.opaque = i;
    request.body = std::string(static_cast<size_t>(i), 'b');
    frames += EncodeFrame(request);
  }
  return frames;
}

// Reads `count` echoed answers to NumberedFrames(count): each frame answered once.
void ExpectEachNumberedFrameAnswered(RawSocket& raw, int count) {
  std::set<int32_t> opaques;
  for (int i = 0; i < count; ++i) {
    auto response = raw.ReadFrame();
    ASSERT_TRUE(response.ok()) << response.status().ToString();
    EXPECT_EQ(response->body.size(), static_cast<size_t>(response->opaque));
    opaques.insert(response->opaque);
  }
  EXPECT_EQ(opaques.size(), static_cast<size_t>(count));
}

// A handler that holds every request back and answers them all at the end of the read, as
// the broker does with sends: it sees each read's requests once, on the thread that
// delivered them, and every request gets its answer.
class ReadEndHandler : public RequestHandler {
 public:
  void OnRequest(const std::shared_ptr<Connection>&, RemotingCommand request) override {
    held_.push_back(std::move(request));
    held_on_ = std::this_thread::get_id();
  }
  void OnReadProcessed(const std::shared_ptr<Connection>& connection) override {
    if (throw_at_read_end_) throw std::runtime_error("read end failed");
    reads_with_requests_.fetch_add(1);
    if (held_.empty() || held_on_ != std::this_thread::get_id()) wrong_.fetch_add(1);
    for (const RemotingCommand& request : held_) TestHandler::Echo(connection, request);
    held_.clear();
  }
  void ThrowAtReadEnd(bool on) { throw_at_read_end_ = on; }
  int reads_with_requests() const { return reads_with_requests_.load(); }
  int wrong() const { return wrong_.load(); }

 private:
  // Only one transport thread touches these at a time: the one serving the read.
  std::vector<RemotingCommand> held_;
  std::thread::id held_on_;
  std::atomic<bool> throw_at_read_end_{false};
  std::atomic<int> reads_with_requests_{0};
  std::atomic<int> wrong_{0};
};

TEST_F(TransportTest, RequestsHeldBackTillTheEndOfTheirReadAreAllAnswered) {
  auto handler = std::make_shared<ReadEndHandler>();
  ServerOptions options;
  options.io_threads = 1;  // one thread: the handler's held requests need no lock
  StartServer(handler, options);
  RawSocket raw(server_->port());
  ASSERT_TRUE(raw.connected());
  constexpr int kFrames = 50;
  ASSERT_TRUE(raw.Write(NumberedFrames(kFrames)));
  ExpectEachNumberedFrameAnswered(raw, kFrames);
  EXPECT_GE(handler->reads_with_requests(), 1);
  EXPECT_LT(handler->reads_with_requests(), kFrames) << "no read held more than one request";
  EXPECT_EQ(handler->wrong(), 0);
}

TEST_F(TransportTest, AHandlerThrowingAtTheEndOfAReadClosesThatConnectionOnly) {
  LogCapture log;
  auto handler = std::make_shared<ReadEndHandler>();
  handler->ThrowAtReadEnd(true);
  ServerOptions options;
  options.io_threads = 1;
  StartServer(handler, options);
  RawSocket raw(server_->port());
  ASSERT_TRUE(raw.connected());
  ASSERT_TRUE(raw.Write(EncodeFrame(RemotingCommand::Request(10))));
  EXPECT_TRUE(raw.SeesClose());
  EXPECT_EQ(log.CountContaining("read end failed"), 1u);
  EXPECT_TRUE(WaitFor([&] { return server_->connection_count() == 0; }));
  // The server goes on serving.
  handler->ThrowAtReadEnd(false);
  RawSocket next(server_->port());
  ASSERT_TRUE(next.Write(EncodeFrame(RemotingCommand::Request(10))));
  auto response = next.ReadFrame();
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->code, response_code::kSuccess);
}

TEST_F(TransportTest, PipelinedFramesInOneWriteAreAllServed) {
  auto handler = std::make_shared<TestHandler>();
  StartServer(handler);
  RawSocket raw(server_->port());
  ASSERT_TRUE(raw.connected());
  constexpr int kFrames = 300;
  const std::string batch = NumberedFrames(kFrames);
  // Split at an awkward place so that frames straddle reads.
  ASSERT_TRUE(raw.Write(std::string_view(batch).substr(0, 7)));
  std::this_thread::sleep_for(5ms);
  ASSERT_TRUE(raw.Write(std::string_view(batch).substr(7)));
  ExpectEachNumberedFrameAnswered(raw, kFrames);
}

TEST_F(TransportTest, BinaryHeaderRequestsGetBinaryResponses) {
  StartServer(std::make_shared<TestHandler>());
  RawSocket raw(server_->port());
  ASSERT_TRUE(raw.connected());
  std::string header;
  mqstore::PutBig16(&header, 34);    // code
  header.push_back(0);               // JAVA
  mqstore::PutBig16(&header, 479);   // version
  mqstore::PutBig32(&header, 4242);  // opaque
  mqstore::PutBig32(&header, 0);     // flag
  mqstore::PutBig32(&header, 0);     // no remark
  mqstore::PutBig32(&header, 0);     // no ext fields
  std::string frame;
  mqstore::PutBig32(&frame, static_cast<uint32_t>(4 + header.size()));
  mqstore::PutBig32(&frame, (1u << 24) | static_cast<uint32_t>(header.size()));
  frame += header;
  ASSERT_TRUE(raw.Write(frame));
  std::string prefix;
  ASSERT_TRUE(raw.ReadExactly(8, &prefix));
  EXPECT_EQ(static_cast<uint8_t>(prefix[4]), 1);  // the request's type: binary
  std::string rest;
  ASSERT_TRUE(raw.ReadExactly(mqstore::DecodeBig32(prefix.data()) - 4, &rest));
  ASSERT_GE(rest.size(), 13u);
  EXPECT_EQ(mqstore::DecodeBig16(rest.data()), response_code::kSuccess);
  EXPECT_EQ(static_cast<uint8_t>(rest[2]), 1);              // CPP
  EXPECT_EQ(mqstore::DecodeBig32(rest.data() + 5), 4242u);  // opaque
  EXPECT_EQ(mqstore::DecodeBig32(rest.data() + 9), 1u);     // flag: a response
}

TEST_F(TransportTest, DestroyingWithoutStopIsSafe) {
  StartServer(std::make_shared<TestHandler>());
  auto client = NewClient();
  ASSERT_TRUE(client->InvokeSync(server_address(), RemotingCommand::Request(1), kLong).ok());
  client.reset();
  server_.reset();
}

}  // namespace
}  // namespace mqremoting

// Helpers shared by the transport's end-to-end tests (transport_test.cc,
// connection_writing_test.cc): a recording request handler, held requests, a log capture, a raw TCP
// socket, and a fixture that starts a server on 127.0.0.1.
#ifndef TESTS_REMOTING_TRANSPORT_TEST_FIXTURE_H_
#define TESTS_REMOTING_TRANSPORT_TEST_FIXTURE_H_

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "mqstore/coding.h"
#include "remoting/codes.h"
#include "remoting/log_sink.h"
#include "remoting/transport.h"
#include "support/raw_socket.h"

namespace mqremoting::test {

using namespace std::chrono_literals;

constexpr Millis kLong{10000};  // generous bound for anything that should happen

// Waits until `condition` holds; false after `timeout`.
inline bool WaitFor(const std::function<bool()>& condition, Millis timeout = kLong) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

// A handler whose behaviour each test sets; it records what it saw.
class TestHandler : public RequestHandler {
 public:
  using OnRequestFn = std::function<void(const std::shared_ptr<Connection>&, RemotingCommand)>;

  explicit TestHandler(OnRequestFn on_request = nullptr) : on_request_(std::move(on_request)) {}

  void OnRequest(const std::shared_ptr<Connection>& connection, RemotingCommand request) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      codes_.push_back(request.code);
    }
    requests_.fetch_add(1);
    if (on_request_) {
      on_request_(connection, std::move(request));
    } else if (!request.is_oneway()) {
      Echo(connection, request);
    }
  }
  void OnConnected(const std::shared_ptr<Connection>& connection) override {
    std::lock_guard<std::mutex> lock(mu_);
    connected_.push_back(connection);
  }
  void OnClosed(const std::shared_ptr<Connection>& /*connection*/) override {
    closed_.fetch_add(1);
  }

  // Answers with code SUCCESS, the request's body and an "echo" field holding its code.
  static void Echo(const std::shared_ptr<Connection>& connection, const RemotingCommand& request) {
    RemotingCommand response = RemotingCommand::ResponseTo(request, response_code::kSuccess);
    response.SetExt("echo", int64_t{request.code});
    if (const std::string* tag = request.FindExt("tag")) response.SetExt("tag", *tag);
    response.body = request.body;
    connection->Send(std::move(response));
  }

  int requests() const { return requests_.load(); }
  int closed() const { return closed_.load(); }
  std::shared_ptr<Connection> connection(size_t i) {
    std::lock_guard<std::mutex> lock(mu_);
    return i < connected_.size() ? connected_[i] : nullptr;
  }
  size_t connected() {
    std::lock_guard<std::mutex> lock(mu_);
    return connected_.size();
  }

 private:
  OnRequestFn on_request_;
  std::atomic<int> requests_{0};
  std::atomic<int> closed_{0};
  std::mutex mu_;
  std::vector<int32_t> codes_;
  std::vector<std::shared_ptr<Connection>> connected_;
};

// Requests the handler keeps unanswered until the test releases them.
class HeldRequests {
 public:
  void Hold(const std::shared_ptr<Connection>& connection, RemotingCommand request) {
    std::lock_guard<std::mutex> lock(mu_);
    held_.emplace_back(connection, std::move(request));
  }
  size_t size() {
    std::lock_guard<std::mutex> lock(mu_);
    return held_.size();
  }
  // Answers the oldest held request (echo); false when none is held.
  bool AnswerOne() {
    std::pair<std::shared_ptr<Connection>, RemotingCommand> entry;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (held_.empty()) return false;
      entry = std::move(held_.front());
      held_.pop_front();
    }
    TestHandler::Echo(entry.first, entry.second);
    return true;
  }

 private:
  std::mutex mu_;
  std::deque<std::pair<std::shared_ptr<Connection>, RemotingCommand>> held_;
};

// Collects log lines for the duration of a test.
class LogCapture {
 public:
  LogCapture() {
    SetLogSink([this](LogLevel level, std::string_view line) {
      std::lock_guard<std::mutex> lock(mu_);
      lines_.emplace_back(level, std::string(line));
    });
  }
  ~LogCapture() { SetLogSink(nullptr); }
  std::vector<std::pair<LogLevel, std::string>> lines() {
    std::lock_guard<std::mutex> lock(mu_);
    return lines_;
  }
  size_t CountContaining(std::string_view text) {
    size_t n = 0;
    for (const auto& [level, line] : lines()) n += line.find(text) != std::string::npos;
    return n;
  }

 private:
  std::mutex mu_;
  std::vector<std::pair<LogLevel, std::string>> lines_;
};

inline std::string Address(uint16_t port) { return "127.0.0.1:" + std::to_string(port); }

class TransportTest : public ::testing::Test {
 protected:
  void StartServer(std::shared_ptr<RequestHandler> handler, ServerOptions options = {}) {
    options.bind_address = "127.0.0.1";
    options.port = 0;
    auto server = RemotingServer::Start(options, std::move(handler));
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    ASSERT_NE(server_->port(), 0);
  }

  std::unique_ptr<RemotingClient> NewClient(std::shared_ptr<RequestHandler> handler = nullptr) {
    ClientOptions options;
    options.io_threads = 2;
    return RemotingClient::Create(options, std::move(handler));
  }

  std::string server_address() const { return Address(server_->port()); }

  std::unique_ptr<RemotingServer> server_;
};

}  // namespace mqremoting::test

#endif  // TESTS_REMOTING_TRANSPORT_TEST_FIXTURE_H_

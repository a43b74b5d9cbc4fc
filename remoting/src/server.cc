// RemotingServer: accepts connections on one port and keeps them until they close.
#include <asio/ip/tcp.hpp>
#include <asio/ip/v6_only.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <future>
#include <map>
#include <mutex>

#include "address.h"
#include "connection.h"
#include "io_pool.h"
#include "remoting/log_sink.h"
#include "remoting/transport.h"

namespace mqremoting {
namespace {

using internal::ConnectionImpl;
using internal::IoPool;
using internal::Strand;

// How long Stop lets the transport threads finish their work once every socket is closed.
constexpr Millis kStopGrace{5000};
// After an accept error other than a close (out of file descriptors), wait before the next.
constexpr Millis kAcceptRetryDelay{100};

// The connections of one server, shared with each connection's close callback (which may run
// after the server object is gone).
struct ConnectionRegistry {
  std::mutex mu;
  std::map<uint64_t, std::shared_ptr<ConnectionImpl>> connections;
};

class RemotingServerImpl final : public RemotingServer {
 public:
  RemotingServerImpl(const ServerOptions& options, std::shared_ptr<RequestHandler> handler)
      : options_(options),
        handler_(std::move(handler)),
        accept_pool_(IoPool::Create(1, "server-accept")),
        pool_(IoPool::Create(options.io_threads, "server-io")),
        acceptor_strand_(asio::make_strand(accept_pool_->NextContext())),
        acceptor_(acceptor_strand_),
        retry_timer_(acceptor_strand_),
        registry_(std::make_shared<ConnectionRegistry>()),
        tracker_(std::make_shared<internal::InflightTracker>()) {}

  ~RemotingServerImpl() override { Stop(); }

  Status Listen() {
    MQ_ASSIGN_OR_RETURN(
        auto endpoints,
        internal::ResolveSync(accept_pool_->NextContext(), {options_.bind_address, options_.port}));
    asio::ip::tcp::endpoint endpoint = endpoints.begin()->endpoint();
    std::string where = options_.bind_address + ":" + std::to_string(options_.port);
    asio::error_code ec;
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec && endpoint.protocol() == asio::ip::tcp::v6()) {
      // Dual stack, so IPv4 peers of "::" appear as IPv4-mapped addresses (shown as IPv4).
      acceptor_.set_option(asio::ip::v6_only(false), ec);
    }
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return Status::IOError("cannot listen on " + where + ": " + ec.message());
    port_ = acceptor_.local_endpoint(ec).port();
    if (ec) return Status::IOError("cannot read the bound port of " + where + ": " + ec.message());
    accepting_ = true;
    pool_->Start();
    accept_pool_->Start();
    asio::post(acceptor_strand_, [this] { AcceptNext(); });
    return Status::OK();
  }

  uint16_t port() const override { return port_; }

  void StopAccepting() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!accepting_) return;
      accepting_ = false;
    }
    auto closed = std::make_shared<std::promise<void>>();
    std::future<void> done = closed->get_future();
    asio::post(acceptor_strand_, [this, closed] {
      asio::error_code ec;
      acceptor_.close(ec);
      retry_timer_.cancel();
      closed->set_value();
    });
    // Wait so that no connection is accepted after we return; a transport thread must not
    // wait for the pool it runs on (the accept handler checks accepting_ anyway).
    if (!IoPool::OnTransportThread()) done.wait_for(kStopGrace);
  }

  bool AwaitIdle(Millis timeout) override { return tracker_->AwaitZero(timeout); }

  void Stop() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopped_) return;
      stopped_ = true;
    }
    StopAccepting();
    std::map<uint64_t, std::shared_ptr<ConnectionImpl>> connections;
    {
      std::lock_guard<std::mutex> lock(registry_->mu);
      connections = registry_->connections;
    }
    for (auto& [id, connection] : connections) connection->Close();
    pool_->Stop(kStopGrace);
    accept_pool_->Stop(kStopGrace);
    // Normally every connection's close ran and removed it; the rest (a pool stopped before
    // they finished) are dropped here.
    std::lock_guard<std::mutex> lock(registry_->mu);
    registry_->connections.clear();
  }

  size_t connection_count() const override {
    std::lock_guard<std::mutex> lock(registry_->mu);
    return registry_->connections.size();
  }

 private:
  bool accepting() {
    std::lock_guard<std::mutex> lock(mu_);
    return accepting_;
  }

  void AcceptNext() {  // acceptor strand
    if (!accepting()) return;
    acceptor_.async_accept(asio::make_strand(pool_->NextContext()),
                           [this](const asio::error_code& ec, internal::Socket socket) {
                             OnAccepted(ec, std::move(socket));
                           });
  }

  void OnAccepted(const asio::error_code& ec, internal::Socket socket) {  // acceptor strand
    if (ec == asio::error::operation_aborted || !accepting()) return;
    if (ec) {
      Log(LogLevel::kWarn, "remoting: accept on port " + std::to_string(port_) +
                               " failed: " + ec.message() + "; retrying");
      retry_timer_.expires_after(kAcceptRetryDelay);
      retry_timer_.async_wait([this](const asio::error_code& wait_ec) {
        if (!wait_ec) AcceptNext();
      });
      return;
    }
    internal::ConnectionSettings settings;
    settings.limits = options_.limits;
    settings.max_inflight = options_.max_inflight_requests_per_connection;
    settings.handler = handler_;
    settings.tracker = tracker_;
    settings.on_closed = [registry = std::weak_ptr<ConnectionRegistry>(registry_)](uint64_t id) {
      if (auto locked = registry.lock()) {
        std::lock_guard<std::mutex> lock(locked->mu);
        locked->connections.erase(id);
      }
    };
    auto connection =
        std::make_shared<ConnectionImpl>(pool_, std::move(socket), std::move(settings));
    {
      std::lock_guard<std::mutex> lock(registry_->mu);
      registry_->connections.emplace(connection->id(), connection);
    }
    connection->Start();
    AcceptNext();
  }

  const ServerOptions options_;
  const std::shared_ptr<RequestHandler> handler_;
  // Accepting has a thread of its own: each connection's handlers run on one transport
  // thread (IoPool), and one of them stuck in a handler must not stop new connections from
  // being taken and given to the others.
  const std::shared_ptr<IoPool> accept_pool_;
  const std::shared_ptr<IoPool> pool_;  // the connections' transport threads
  Strand acceptor_strand_;
  asio::basic_socket_acceptor<asio::ip::tcp, Strand> acceptor_;
  asio::basic_waitable_timer<std::chrono::steady_clock,
                             asio::wait_traits<std::chrono::steady_clock>, Strand>
      retry_timer_;
  uint16_t port_ = 0;
  const std::shared_ptr<ConnectionRegistry> registry_;
  const std::shared_ptr<internal::InflightTracker> tracker_;

  std::mutex mu_;
  bool accepting_ = false;
  bool stopped_ = false;
};

}  // namespace

Result<std::unique_ptr<RemotingServer>> RemotingServer::Start(
    const ServerOptions& options, std::shared_ptr<RequestHandler> handler) {
  auto server = std::make_unique<RemotingServerImpl>(options, std::move(handler));
  MQ_RETURN_IF_ERROR(server->Listen());
  return std::unique_ptr<RemotingServer>(std::move(server));
}

}  // namespace mqremoting

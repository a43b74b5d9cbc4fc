// RemotingClient: one cached connection per address, opened on first use and again after it
// closed. Concurrent callers for the same address share one connect attempt.
#include <asio/connect.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

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
using Clock = std::chrono::steady_clock;

constexpr Millis kStopGrace{5000};
// Connect waits this much past connect_timeout before giving up on the attempt's own timer
// (which only fails to fire when the transport is being shut down).
constexpr Millis kConnectWaitSlack{2000};

using ConnectionResult = Result<std::shared_ptr<ConnectionImpl>>;
using ConnectCallback = std::function<void(ConnectionResult)>;

class ClientState;

class SharedThreads : public TransportThreads {
 public:
  explicit SharedThreads(int count) : pool_(IoPool::Create(count, "client-io")) { pool_->Start(); }
  const std::shared_ptr<IoPool>& pool() const { return pool_; }

 private:
  const std::shared_ptr<IoPool> pool_;
};

// One TCP connect to one address: resolve, connect, bounded by connect_timeout. Every waiter
// gets the one result.
class ConnectAttempt : public std::enable_shared_from_this<ConnectAttempt> {
 public:
  ConnectAttempt(std::shared_ptr<IoPool> pool, std::string address,
                 std::weak_ptr<ClientState> client)
      : pool_(std::move(pool)),
        address_(std::move(address)),
        client_(std::move(client)),
        strand_(asio::make_strand(pool_->NextContext())),
        resolver_(strand_),
        socket_(strand_),
        timer_(strand_) {}

  void Start(Millis timeout);
  // Stops the attempt (shutdown); it finishes with kAborted. `cancelled`, if set, runs once
  // the attempt's handlers are done with (on its strand).
  void Cancel(std::function<void()> cancelled = nullptr);
  // Sets the result once, wakes Wait and runs the callbacks.
  void Finish(ConnectionResult result);

  // Calls `callback` with the result, now when there is one (on this thread), else when it
  // comes (on a transport thread).
  void OnDone(ConnectCallback callback);
  // Waits at most `timeout` for the result.
  ConnectionResult Wait(Millis timeout);

  const std::string& address() const { return address_; }

 private:
  void OnResolved(const asio::error_code& ec, asio::ip::tcp::resolver::results_type results);
  void OnConnected(const asio::error_code& ec);
  Status Failure(std::string_view what, const asio::error_code& ec) const;

  const std::shared_ptr<IoPool> pool_;
  const std::string address_;
  const std::weak_ptr<ClientState> client_;
  Strand strand_;
  asio::ip::basic_resolver<asio::ip::tcp, Strand> resolver_;
  internal::Socket socket_;
  asio::basic_waitable_timer<Clock, asio::wait_traits<Clock>, Strand> timer_;
  Millis timeout_{0};
  bool timed_out_ = false;  // strand
  bool cancelled_ = false;  // strand

  std::mutex mu_;
  std::condition_variable done_;
  std::optional<ConnectionResult> result_;
  std::vector<ConnectCallback> callbacks_;
};

// What the client object and its connections' close callbacks share.
class ClientState : public std::enable_shared_from_this<ClientState> {
 public:
  ClientState(const ClientOptions& options, std::shared_ptr<RequestHandler> handler)
      : options_(options),
        handler_(std::move(handler)),
        owns_pool_(options.shared_threads == nullptr),
        pool_(owns_pool_ ? IoPool::Create(options.io_threads, "client-io")
                         : static_cast<const SharedThreads&>(*options.shared_threads).pool()) {
    if (owns_pool_) pool_->Start();
  }

  const ClientOptions& options() const { return options_; }

  // The open connection to `address`, or the attempt that will give it (started if new).
  // Exactly one of the two is set, unless the client is shut down (then neither).
  void Lookup(const std::string& address, std::shared_ptr<ConnectionImpl>* connection,
              std::shared_ptr<ConnectAttempt>* attempt) {
    bool start = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (shut_down_) return;
      Slot& slot = slots_[address];
      if (slot.connection && slot.connection->is_open()) {
        *connection = slot.connection;
        return;
      }
      slot.connection.reset();
      if (!slot.attempt) {
        slot.attempt = std::make_shared<ConnectAttempt>(pool_, address, weak_from_this());
        start = true;
      }
      *attempt = slot.attempt;
    }
    if (start) (*attempt)->Start(options_.connect_timeout);
  }

  // Called by an attempt with its socket connected: the connection joins the cache.
  ConnectionResult Adopt(const std::shared_ptr<ConnectAttempt>& attempt, internal::Socket socket) {
    internal::ConnectionSettings settings;
    settings.limits = options_.limits;
    settings.handler = handler_;
    settings.on_closed = [weak = weak_from_this(), address = attempt->address()](uint64_t id) {
      if (auto self = weak.lock()) self->Forget(address, id);
    };
    auto connection =
        std::make_shared<ConnectionImpl>(pool_, std::move(socket), std::move(settings));
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (shut_down_) return Status::Aborted("the remoting client is shut down");
      Slot& slot = slots_[attempt->address()];
      if (slot.attempt == attempt) slot.attempt.reset();
      slot.connection = connection;
      ++unfinished_connections_;
    }
    connection->Start();
    return connection;
  }

  // Called by an attempt that failed.
  void AttemptFailed(const std::shared_ptr<ConnectAttempt>& attempt) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = slots_.find(attempt->address());
    if (it != slots_.end() && it->second.attempt == attempt) slots_.erase(it);
  }

  void Shutdown() {
    std::vector<std::shared_ptr<ConnectionImpl>> connections;
    std::vector<std::shared_ptr<ConnectAttempt>> attempts;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (shut_down_) return;
      shut_down_ = true;
      for (auto& [address, slot] : slots_) {
        if (slot.connection) connections.push_back(slot.connection);
        if (slot.attempt) attempts.push_back(slot.attempt);
      }
      slots_.clear();
      if (!owns_pool_) unfinished_attempts_ = attempts.size();
    }
    if (owns_pool_) {
      for (auto& attempt : attempts) attempt->Cancel();
      for (auto& connection : connections) connection->Close();
      pool_->Stop(kStopGrace);
    } else {
      // The threads serve other clients too: wait instead until each attempt and connection
      // of this one has run its last handler (on its strand), so none calls back later.
      for (auto& attempt : attempts) {
        attempt->Cancel([self = shared_from_this()] {
          std::lock_guard<std::mutex> lock(self->mu_);
          --self->unfinished_attempts_;
          self->finished_.notify_all();
        });
      }
      for (auto& connection : connections) connection->Close();
      std::unique_lock<std::mutex> lock(mu_);
      if (!pool_->OnOwnThread()) {  // there it would wait for itself
        if (!finished_.wait_for(lock, kStopGrace, [this] {
              return unfinished_attempts_ == 0 && unfinished_connections_ == 0;
            })) {
          Log(LogLevel::kWarn, "remoting: client shutdown: connections still closing after " +
                                   std::to_string(kStopGrace.count()) + " ms");
        }
      }
    }
    // An attempt whose completion did not run before the threads stopped still owes its
    // waiters an answer.
    for (auto& attempt : attempts) {
      attempt->Finish(Status::Aborted("the remoting client is shut down"));
    }
  }

 private:
  struct Slot {
    std::shared_ptr<ConnectionImpl> connection;
    std::shared_ptr<ConnectAttempt> attempt;
  };

  void Forget(const std::string& address, uint64_t id) {
    std::lock_guard<std::mutex> lock(mu_);
    --unfinished_connections_;
    finished_.notify_all();
    auto it = slots_.find(address);
    if (it == slots_.end() || !it->second.connection || it->second.connection->id() != id) return;
    it->second.connection.reset();
    if (!it->second.attempt) slots_.erase(it);
  }

  const ClientOptions options_;
  const std::shared_ptr<RequestHandler> handler_;
  const bool owns_pool_;
  const std::shared_ptr<IoPool> pool_;

  std::mutex mu_;
  std::condition_variable finished_;
  bool shut_down_ = false;
  // Adopted connections whose close has not finished, and attempts cancelled by Shutdown
  // whose strand has not yet run the cancel (both only waited for with shared threads).
  size_t unfinished_connections_ = 0;
  size_t unfinished_attempts_ = 0;
  std::map<std::string, Slot, std::less<>> slots_;
};

void ConnectAttempt::Start(Millis timeout) {
  timeout_ = timeout;
  Result<internal::HostPort> target = internal::ParseHostPort(address_);
  if (!target.ok()) {
    Finish(Status::IOError(target.status().message()));
    return;
  }
  asio::post(strand_, [self = shared_from_this(), target = std::move(target).value()] {
    if (self->cancelled_) return;
    self->timer_.expires_after(self->timeout_);
    self->timer_.async_wait([self](const asio::error_code& ec) {
      if (ec) return;
      self->timed_out_ = true;
      asio::error_code ignored;
      self->resolver_.cancel();
      self->socket_.close(ignored);
    });
    self->resolver_.async_resolve(
        target.host, std::to_string(target.port), asio::ip::resolver_base::numeric_service,
        [self](const asio::error_code& ec, asio::ip::tcp::resolver::results_type results) {
          self->OnResolved(ec, std::move(results));
        });
  });
}

Status ConnectAttempt::Failure(std::string_view what, const asio::error_code& ec) const {
  if (timed_out_) {
    return Status::TimedOut("connecting to " + address_ + " took longer than " +
                            std::to_string(timeout_.count()) + " ms");
  }
  if (cancelled_) return Status::Aborted("the remoting client is shut down");
  return Status::IOError(std::string(what) + " " + address_ + ": " + ec.message());
}

void ConnectAttempt::OnResolved(const asio::error_code& ec,
                                asio::ip::tcp::resolver::results_type results) {
  if (ec || timed_out_ || cancelled_) {
    timer_.cancel();
    Finish(Failure("cannot resolve", ec ? ec : asio::error::operation_aborted));
    return;
  }
  asio::async_connect(socket_, results,
                      [self = shared_from_this()](const asio::error_code& connect_ec,
                                                  const asio::ip::tcp::endpoint& /*endpoint*/) {
                        self->OnConnected(connect_ec);
                      });
}

void ConnectAttempt::OnConnected(const asio::error_code& ec) {
  timer_.cancel();
  if (ec || timed_out_ || cancelled_) {
    Finish(Failure("cannot connect to", ec ? ec : asio::error::operation_aborted));
    return;
  }
  auto client = client_.lock();
  if (!client) {
    Finish(Status::Aborted("the remoting client is gone"));
    return;
  }
  Finish(client->Adopt(shared_from_this(), std::move(socket_)));
}

void ConnectAttempt::Cancel(std::function<void()> cancelled) {
  asio::post(strand_, [self = shared_from_this(), cancelled = std::move(cancelled)] {
    self->cancelled_ = true;
    asio::error_code ignored;
    self->timer_.cancel();
    self->resolver_.cancel();
    self->socket_.close(ignored);
    if (cancelled) cancelled();
  });
}

void ConnectAttempt::Finish(ConnectionResult result) {
  std::vector<ConnectCallback> callbacks;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (result_) return;
    result_.emplace(std::move(result));
    callbacks.swap(callbacks_);
    done_.notify_all();
  }
  if (!result_->ok()) {
    if (auto client = client_.lock()) client->AttemptFailed(shared_from_this());
  }
  for (auto& callback : callbacks) callback(*result_);
}

void ConnectAttempt::OnDone(ConnectCallback callback) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!result_) {
      callbacks_.push_back(std::move(callback));
      return;
    }
  }
  callback(*result_);
}

ConnectionResult ConnectAttempt::Wait(Millis timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!done_.wait_for(lock, timeout, [this] { return result_.has_value(); })) {
    return Status::TimedOut("connecting to " + address_ + " did not finish in time");
  }
  return *result_;
}

class RemotingClientImpl final : public RemotingClient {
 public:
  RemotingClientImpl(const ClientOptions& options, std::shared_ptr<RequestHandler> handler)
      : state_(std::make_shared<ClientState>(options, std::move(handler))) {}

  ~RemotingClientImpl() override { Shutdown(); }

  Result<std::shared_ptr<Connection>> Connect(const std::string& address) override {
    std::shared_ptr<ConnectionImpl> connection;
    std::shared_ptr<ConnectAttempt> attempt;
    state_->Lookup(address, &connection, &attempt);
    if (connection) return std::shared_ptr<Connection>(std::move(connection));
    if (!attempt) return Status::Aborted("the remoting client is shut down");
    if (IoPool::OnTransportThread()) {
      return Status::FailedPrecondition(
          "connecting to " + address +
          " would block a transport thread; use InvokeAsync (the connect goes on)");
    }
    ConnectionResult result = attempt->Wait(state_->options().connect_timeout + kConnectWaitSlack);
    if (!result.ok()) return result.status();
    return std::shared_ptr<Connection>(std::move(result).value());
  }

  Result<RemotingCommand> InvokeSync(const std::string& address, RemotingCommand request,
                                     Millis timeout) override {
    const Clock::time_point start = Clock::now();
    MQ_ASSIGN_OR_RETURN(std::shared_ptr<Connection> connection, Connect(address));
    Millis left = timeout - std::chrono::duration_cast<Millis>(Clock::now() - start);
    if (left <= Millis(0)) {
      return Status::TimedOut("connecting to " + address + " used up the " +
                              std::to_string(timeout.count()) + " ms of the call");
    }
    return connection->InvokeSync(std::move(request), left);
  }

  void InvokeAsync(const std::string& address, RemotingCommand request, Millis timeout,
                   Connection::ResponseCallback done) override {
    std::shared_ptr<ConnectionImpl> open;
    std::shared_ptr<ConnectAttempt> attempt;
    state_->Lookup(address, &open, &attempt);
    if (open) {
      // The usual case, taken once per send: nothing to wait for, so no callback to wrap.
      open->Invoke(std::move(request), timeout, std::move(done));
      return;
    }
    const Clock::time_point start = Clock::now();
    auto shared_request = std::make_shared<RemotingCommand>(std::move(request));
    AfterConnect(std::move(attempt), [shared_request, timeout, start, address,
                                      done = std::move(done)](ConnectionResult connection) {
      if (!connection.ok()) {
        done(connection.status());
        return;
      }
      Millis left = timeout - std::chrono::duration_cast<Millis>(Clock::now() - start);
      if (left <= Millis(0)) {
        done(Status::TimedOut("connecting to " + address + " used up the " +
                              std::to_string(timeout.count()) + " ms of the call"));
        return;
      }
      (*connection)->Invoke(std::move(*shared_request), left, done);
    });
  }

  Status InvokeOneway(const std::string& address, RemotingCommand request) override {
    if (IoPool::OnTransportThread()) {
      // Cannot wait for a connect here: send once connected, and log a failure.
      std::shared_ptr<ConnectionImpl> open;
      std::shared_ptr<ConnectAttempt> attempt;
      state_->Lookup(address, &open, &attempt);
      if (open) {
        open->SendOneway(std::move(request));
        return Status::OK();
      }
      auto shared_request = std::make_shared<RemotingCommand>(std::move(request));
      AfterConnect(std::move(attempt), [shared_request, address](ConnectionResult connection) {
        if (!connection.ok()) {
          Log(LogLevel::kWarn, "remoting: oneway request to " + address +
                                   " not sent: " + connection.status().ToString());
          return;
        }
        (*connection)->SendOneway(std::move(*shared_request));
      });
      return Status::OK();
    }
    MQ_ASSIGN_OR_RETURN(std::shared_ptr<Connection> connection, Connect(address));
    connection->SendOneway(std::move(request));
    return Status::OK();
  }

  void Shutdown() override { state_->Shutdown(); }

 private:
  // Runs `callback` once the attempt Lookup gave (when it found no open connection) ends;
  // no attempt means the client is shut down.
  static void AfterConnect(std::shared_ptr<ConnectAttempt> attempt, ConnectCallback callback) {
    if (attempt) {
      attempt->OnDone(std::move(callback));
    } else {
      callback(Status::Aborted("the remoting client is shut down"));
    }
  }

  const std::shared_ptr<ClientState> state_;
};

}  // namespace

std::shared_ptr<TransportThreads> TransportThreads::Start(int count) {
  return std::make_shared<SharedThreads>(count > 0 ? count : 1);
}

std::unique_ptr<RemotingClient> RemotingClient::Create(const ClientOptions& options,
                                                       std::shared_ptr<RequestHandler> handler) {
  return std::make_unique<RemotingClientImpl>(options, std::move(handler));
}

}  // namespace mqremoting

#include "connection.h"

#include <algorithm>
#include <asio/post.hpp>
#include <cstring>
#include <exception>
#include <limits>
#include <optional>

#include "address.h"
#include "remoting/codes.h"

namespace mqremoting::internal {
namespace {

// Reads ask the kernel for up to this much at a time; a larger frame grows the buffer for as
// long as it is being received.
constexpr size_t kReadChunk = 64 * 1024;
// Below this much free space at the end of the buffer, bytes still to be dispatched are moved
// to its front before the next read.
constexpr size_t kMinReadSpace = 4 * 1024;

std::atomic<uint64_t> next_connection_id{1};

}  // namespace

bool IsQuietClose(const asio::error_code& ec) {
  return ec == asio::error::eof || ec == asio::error::operation_aborted ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe;
}

int32_t NextOpaque() {
  static std::atomic<uint32_t> counter{0};
  for (;;) {
    int32_t opaque =
        static_cast<int32_t>(counter.fetch_add(1, std::memory_order_relaxed) & 0x7FFFFFFFu);
    if (opaque != 0) return opaque;
  }
}

void InflightTracker::Add(int64_t delta) {
  std::lock_guard<std::mutex> lock(mu_);
  count_ += delta;
  if (count_ == 0) zero_.notify_all();
}

int64_t InflightTracker::count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return count_;
}

bool InflightTracker::AwaitZero(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return zero_.wait_for(lock, timeout, [this] { return count_ == 0; });
}

ConnectionImpl::ConnectionImpl(std::shared_ptr<IoPool> pool, Socket socket,
                               ConnectionSettings settings)
    : pool_(std::move(pool)),
      settings_(std::move(settings)),
      handler_(std::move(settings_.handler)),
      id_(next_connection_id.fetch_add(1)),
      socket_(std::move(socket)),
      timer_(socket_.get_executor()),
      read_buffer_(kReadChunk) {
  asio::error_code ec;
  auto remote = socket_.remote_endpoint(ec);
  remote_address_ = ec ? std::string("?") : FormatEndpoint(remote);
  auto local = socket_.local_endpoint(ec);
  local_address_ = ec ? std::string("?") : FormatEndpoint(local);
}

ConnectionImpl::~ConnectionImpl() {
  // Normally closed long before; this covers a connection nobody closed (its socket closes
  // with it), so that callbacks still run exactly once and the server's count stays right.
  std::unordered_map<int32_t, PendingCall> pending;
  uint32_t inflight = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!closed_) {
      closed_ = true;
      pending.swap(pending_);
      inflight = inflight_;
      inflight_ = 0;
    }
  }
  if (inflight != 0 && settings_.tracker) settings_.tracker->Add(-static_cast<int64_t>(inflight));
  for (auto& [opaque, call] : pending) {
    call.done(Status::Aborted("the connection was destroyed before the response"));
  }
}

std::string ConnectionImpl::Describe() const {
  return "connection " + std::to_string(id_) + " to " + remote_address_;
}

void ConnectionImpl::Start() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    asio::error_code ec;
    self->socket_.set_option(asio::ip::tcp::no_delay(true), ec);
    if (self->handler_) {
      try {
        self->handler_->OnConnected(self);
      } catch (const std::exception& e) {
        Log(LogLevel::kError, "remoting: OnConnected threw: " + std::string(e.what()));
      }
    }
    self->StartRead();
  });
}

bool ConnectionImpl::is_open() const {
  std::lock_guard<std::mutex> lock(mu_);
  return !closed_;
}

uint32_t ConnectionImpl::inflight() const {
  std::lock_guard<std::mutex> lock(mu_);
  return inflight_;
}

bool ConnectionImpl::ShouldRead() const {
  std::lock_guard<std::mutex> lock(mu_);
  return !closed_ && !paused_;
}

// ---- reading ----

void ConnectionImpl::StartRead() {
  if (read_pending_ || !ShouldRead()) return;
  if (read_end_ == read_buffer_.size()) MakeRoomFor(read_end_ - read_begin_ + 1);
  read_pending_ = true;
  socket_.async_read_some(
      asio::buffer(read_buffer_.data() + read_end_, read_buffer_.size() - read_end_),
      [self = shared_from_this()](const asio::error_code& ec, size_t n) { self->OnRead(ec, n); });
}

void ConnectionImpl::OnRead(const asio::error_code& ec, size_t n) {
  read_pending_ = false;
  if (ec) {
    if (IsQuietClose(ec)) {
      Close();
    } else {
      CloseFor(LogLevel::kInfo, "read failed: " + ec.message());
    }
    return;
  }
  read_end_ += n;
  ProcessBuffer();
  StartRead();
}

void ConnectionImpl::MakeRoomFor(size_t frame_bytes) {
  size_t buffered = read_end_ - read_begin_;
  if (buffered == 0) {
    read_begin_ = read_end_ = 0;
    // Give back what one large frame needed.
    if (read_buffer_.size() > kReadChunk && frame_bytes <= kReadChunk) {
      read_buffer_.resize(kReadChunk);
      read_buffer_.shrink_to_fit();
    }
  }
  bool fits = read_buffer_.size() - read_begin_ >= frame_bytes;
  bool little_space = read_buffer_.size() - read_end_ < kMinReadSpace;
  if (read_begin_ > 0 && (!fits || little_space)) {
    std::memmove(read_buffer_.data(), read_buffer_.data() + read_begin_, buffered);
    read_begin_ = 0;
    read_end_ = buffered;
  }
  if (read_buffer_.size() < frame_bytes) read_buffer_.resize(std::max(frame_bytes, kReadChunk));
}

void ConnectionImpl::ProcessBuffer() {
  if (ProcessFrames() == 0 || !handler_) return;
  try {
    handler_->OnReadProcessed(shared_from_this());
  } catch (const std::exception& e) {
    // Requests it held back may never be answered: the client must not wait for them.
    CloseFor(LogLevel::kError,
             std::string("the request handler threw at the end of a read: ") + e.what());
  }
}

size_t ConnectionImpl::ProcessFrames() {
  size_t requests = 0;
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (closed_) return requests;
      if (settings_.max_inflight != 0 && inflight_ >= settings_.max_inflight) {
        paused_ = true;
        return requests;
      }
    }
    size_t buffered = read_end_ - read_begin_;
    if (buffered < 4) {
      MakeRoomFor(4);
      return requests;
    }
    const char* start = read_buffer_.data() + read_begin_;
    Result<uint32_t> length = DecodeFrameLength(start, settings_.limits);
    if (!length.ok()) {
      CloseFor(LogLevel::kWarn, "bad frame: " + std::string(length.status().message()));
      return requests;
    }
    size_t frame_bytes = 4 + static_cast<size_t>(*length);
    if (buffered < frame_bytes) {
      MakeRoomFor(frame_bytes);
      return requests;
    }
    Result<RemotingCommand> command = DecodeFrame(std::string_view(start + 4, *length));
    read_begin_ += frame_bytes;
    if (!command.ok()) {
      CloseFor(LogLevel::kWarn, "bad frame: " + std::string(command.status().message()));
      return requests;
    }
    if (Dispatch(std::move(command).value())) ++requests;
  }
}

bool ConnectionImpl::Dispatch(RemotingCommand command) {
  if (!command.is_response()) {
    DeliverRequest(std::move(command));
    return true;
  }
  PendingCall call;
  if (TryTakePending(command.opaque, &call)) {
    call.done(std::move(command));
  } else {
    Log(LogLevel::kInfo, "remoting: " + Describe() + ": response with opaque " +
                             std::to_string(command.opaque) +
                             " matches no request (timed out?); dropped");
  }
  return false;
}

void ConnectionImpl::DeliverRequest(RemotingCommand request) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return;
    ++inflight_;
  }
  if (settings_.tracker) settings_.tracker->Add(1);
  const bool oneway = request.is_oneway();
  RemotingCommand shape;  // what a response needs of the request once it has been moved
  shape.opaque = request.opaque;
  shape.serialize_type = request.serialize_type;
  if (!handler_) {
    if (oneway) {
      EndRequests(1);
    } else {
      Send(RemotingCommand::ResponseTo(
          shape, response_code::kRequestCodeNotSupported,
          " request type " + std::to_string(request.code) + " not supported"));
    }
    return;
  }
  try {
    handler_->OnRequest(shared_from_this(), std::move(request));
  } catch (const std::exception& e) {
    Log(LogLevel::kError, "remoting: " + Describe() + ": the request handler threw: " + e.what());
    if (!oneway) {
      Send(RemotingCommand::ResponseTo(shape, response_code::kSystemError, e.what()));
      return;
    }
  }
  if (oneway) EndRequests(1);
}

void ConnectionImpl::EndRequests(uint32_t count) {
  if (count == 0) return;
  bool resume = false;
  uint32_t ended;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return;  // the close already took them off the books
    // A handler that answers twice must not drive the count below zero.
    ended = std::min(count, inflight_);
    inflight_ -= ended;
    if (paused_ && inflight_ < settings_.max_inflight) {
      paused_ = false;
      resume = true;
    }
  }
  if (ended != 0 && settings_.tracker) settings_.tracker->Add(-static_cast<int64_t>(ended));
  if (resume) {
    asio::post(socket_.get_executor(), [weak = weak_from_this()] {
      if (auto self = weak.lock()) {
        self->ProcessBuffer();
        self->StartRead();
      }
    });
  }
}

// ---- calls we make ----

void ConnectionImpl::Invoke(RemotingCommand request, Millis timeout, ResponseCallback done) {
  InvokeInternal(std::move(request), timeout, std::move(done), nullptr);
}

void ConnectionImpl::InvokeInternal(RemotingCommand request, Millis timeout, ResponseCallback done,
                                    int32_t* opaque_out) {
  const int32_t opaque = NextOpaque();
  if (opaque_out != nullptr) *opaque_out = opaque;
  request.opaque = opaque;
  request.flag &= ~(flag::kResponse | flag::kOneway);
  Result<OutFrame> frame = MakeFrame(std::move(request));
  if (!frame.ok()) {
    done(frame.status());
    return;
  }
  const Clock::time_point deadline = Clock::now() + timeout;
  bool arm = false;
  WriteBy write_by;
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (closed_) {
      lock.unlock();
      done(Status::Aborted(Describe() + " is closed"));
      return;
    }
    pending_.emplace(opaque, PendingCall{std::move(done), deadline});
    if (deadline < armed_deadline_) {
      armed_deadline_ = deadline;
      arm = true;
    }
    write_by = QueueLocked(std::move(frame).value());  // one lock for the call and its frame
  }
  if (arm) {
    asio::post(socket_.get_executor(), [weak = weak_from_this()] {
      if (auto self = weak.lock()) self->ArmTimer();
    });
  }
  StartWrite(write_by);
}

Result<RemotingCommand> ConnectionImpl::InvokeSync(RemotingCommand request, Millis timeout) {
  if (IoPool::OnTransportThread()) {
    return Status::FailedPrecondition(
        "InvokeSync was called on a transport thread, where waiting could deadlock; use Invoke");
  }
  struct Waiter {
    std::mutex mu;
    std::condition_variable done;
    std::optional<Result<RemotingCommand>> result;
  };
  auto waiter = std::make_shared<Waiter>();
  int32_t opaque = 0;
  const int32_t code = request.code;
  InvokeInternal(
      std::move(request), timeout,
      [waiter](Result<RemotingCommand> result) {
        std::lock_guard<std::mutex> lock(waiter->mu);
        waiter->result.emplace(std::move(result));
        waiter->done.notify_all();
      },
      &opaque);
  // A WriteBatch around this call would hold the request until after the wait it ends.
  WriteThisThreadsBatchNow();
  std::unique_lock<std::mutex> lock(waiter->mu);
  auto has_result = [&] { return waiter->result.has_value(); };
  if (!waiter->done.wait_for(lock, timeout, has_result)) {
    // Time is up: whoever takes the pending call answers it. If the response or the timer
    // got there first, its callback is about to fill in the result.
    lock.unlock();
    PendingCall call;
    if (TryTakePending(opaque, &call)) {
      return Status::TimedOut("no response to request code " + std::to_string(code) + " from " +
                              remote_address_ + " within " + std::to_string(timeout.count()) +
                              " ms");
    }
    lock.lock();
    waiter->done.wait(lock, has_result);
  }
  return std::move(*waiter->result);
}

bool ConnectionImpl::TryTakePending(int32_t opaque, PendingCall* call) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = pending_.find(opaque);
  if (it == pending_.end()) return false;
  *call = std::move(it->second);
  pending_.erase(it);
  return true;
}

void ConnectionImpl::ArmTimer() {
  Clock::time_point next;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return;
    if (pending_.empty()) {
      // Answered before the timer was set: the next call must set it again.
      armed_deadline_ = Clock::time_point::max();
      return;
    }
    next = armed_deadline_;
  }
  timer_.expires_at(next);
  timer_.async_wait([self = shared_from_this()](const asio::error_code& ec) { self->OnTimer(ec); });
}

void ConnectionImpl::OnTimer(const asio::error_code& ec) {
  if (ec == asio::error::operation_aborted) return;  // re-armed or closed
  const Clock::time_point now = Clock::now();
  std::vector<std::pair<int32_t, PendingCall>> expired;
  Clock::time_point next = Clock::time_point::max();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return;
    for (auto it = pending_.begin(); it != pending_.end();) {
      if (it->second.deadline <= now) {
        expired.emplace_back(it->first, std::move(it->second));
        it = pending_.erase(it);
      } else {
        next = std::min(next, it->second.deadline);
        ++it;
      }
    }
    armed_deadline_ = next;
  }
  // In the order they fell due, as they were sent.
  std::sort(expired.begin(), expired.end(), [](const auto& a, const auto& b) {
    return a.second.deadline != b.second.deadline ? a.second.deadline < b.second.deadline
                                                  : a.first < b.first;
  });
  for (auto& [opaque, call] : expired) {
    call.done(Status::TimedOut("no response from " + remote_address_ +
                               " to the request with opaque " + std::to_string(opaque) +
                               " in time"));
  }
  if (next != Clock::time_point::max()) {
    timer_.expires_at(next);
    timer_.async_wait([self = shared_from_this()](const asio::error_code& e) { self->OnTimer(e); });
  }
}

// ---- closing ----

void ConnectionImpl::Close() { CloseFor(LogLevel::kInfo, ""); }

void ConnectionImpl::CloseFor(LogLevel level, const std::string& reason) {
  std::unordered_map<int32_t, PendingCall> pending;
  uint32_t inflight;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return;
    closed_ = true;
    pending.swap(pending_);
    armed_deadline_ = Clock::time_point::max();
    inflight = inflight_;
    inflight_ = 0;
    paused_ = false;
    queued_.clear();
  }
  if (inflight != 0 && settings_.tracker) settings_.tracker->Add(-static_cast<int64_t>(inflight));
  if (!reason.empty()) Log(level, "remoting: closing " + Describe() + ": " + reason);
  for (auto& [opaque, call] : pending) {
    call.done(Status::Aborted(Describe() + " closed before the response to opaque " +
                              std::to_string(opaque)));
  }
  asio::post(socket_.get_executor(), [weak = weak_from_this()] {
    if (auto self = weak.lock()) self->FinishClose();
  });
}

void ConnectionImpl::FinishClose() {
  if (close_finished_) return;
  close_finished_ = true;
  asio::error_code ec;
  {
    // Under mu_: WriteFromThisThread uses the descriptor with mu_ held.
    std::lock_guard<std::mutex> lock(mu_);
    socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    socket_.close(ec);
  }
  timer_.cancel();
  if (handler_) {
    try {
      handler_->OnClosed(shared_from_this());
    } catch (const std::exception& e) {
      Log(LogLevel::kError, "remoting: OnClosed threw: " + std::string(e.what()));
    }
    // A handler commonly keeps its connections; letting go of it here breaks that cycle.
    handler_.reset();
  }
  if (settings_.on_closed) settings_.on_closed(id_);
}

}  // namespace mqremoting::internal

#include "connection.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <asio/post.hpp>
#include <asio/write.hpp>
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
constexpr uint32_t kMaxHeaderLength = 0xFFFFFF;

std::atomic<uint64_t> next_connection_id{1};

bool IsQuietClose(const asio::error_code& ec) {
  return ec == asio::error::eof || ec == asio::error::operation_aborted ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe;
}

// A write from a thread other than the strand's gathers at most this many pieces; frames
// beyond them are left to the strand.
constexpr size_t kMaxDirectBuffers = 64;

// Calls fn(data, size) for each non-empty piece of `frame` not yet sent, in order.
template <typename Fn>
void ForEachUnsentPiece(const ConnectionImpl::OutFrame& frame, Fn&& fn) {
  size_t skip = frame.sent;
  auto piece = [&](const char* data, size_t size) {
    size_t skipped = std::min(skip, size);
    skip -= skipped;
    if (size > skipped) fn(data + skipped, size - skipped);
  };
  piece(frame.prefix.data(), frame.prefix.size());
  piece(frame.body.data(), frame.body.size());
  for (const BodySlice& slice : frame.slices) piece(slice.bytes.data(), slice.bytes.size());
}

size_t UnsentBytes(const ConnectionImpl::OutFrame& frame) {
  size_t total = 0;
  ForEachUnsentPiece(frame, [&](const char*, size_t size) { total += size; });
  return total;
}

}  // namespace

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
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (closed_) return;
      if (settings_.max_inflight != 0 && inflight_ >= settings_.max_inflight) {
        paused_ = true;
        return;
      }
    }
    size_t buffered = read_end_ - read_begin_;
    if (buffered < 4) {
      MakeRoomFor(4);
      return;
    }
    const char* start = read_buffer_.data() + read_begin_;
    Result<uint32_t> length = DecodeFrameLength(start, settings_.limits);
    if (!length.ok()) {
      CloseFor(LogLevel::kWarn, "bad frame: " + std::string(length.status().message()));
      return;
    }
    size_t frame_bytes = 4 + static_cast<size_t>(*length);
    if (buffered < frame_bytes) {
      MakeRoomFor(frame_bytes);
      return;
    }
    Result<RemotingCommand> command = DecodeFrame(std::string_view(start + 4, *length));
    read_begin_ += frame_bytes;
    if (!command.ok()) {
      CloseFor(LogLevel::kWarn, "bad frame: " + std::string(command.status().message()));
      return;
    }
    Dispatch(std::move(command).value());
  }
}

void ConnectionImpl::Dispatch(RemotingCommand command) {
  if (!command.is_response()) {
    DeliverRequest(std::move(command));
    return;
  }
  PendingCall call;
  if (TryTakePending(command.opaque, &call)) {
    call.done(std::move(command));
  } else {
    Log(LogLevel::kInfo, "remoting: " + Describe() + ": response with opaque " +
                             std::to_string(command.opaque) +
                             " matches no request (timed out?); dropped");
  }
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

// ---- writing ----

Result<ConnectionImpl::OutFrame> ConnectionImpl::MakeFrame(RemotingCommand command) {
  OutFrame frame;
  frame.prefix = EncodeFramePrefix(command);
  size_t header_length = frame.prefix.size() - 8;
  size_t frame_length = 4 + header_length + command.body_size();
  if (header_length > kMaxHeaderLength ||
      frame_length > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    return Status::InvalidArgument(
        "frame of code " + std::to_string(command.code) + " is too large to send: header " +
        std::to_string(header_length) + " bytes, frame " + std::to_string(frame_length) + " bytes");
  }
  frame.body = std::move(command.body);
  frame.slices = std::move(command.body_slices);
  frame.ends_request = command.is_response();
  return frame;
}

void ConnectionImpl::Send(RemotingCommand command) {
  bool response = command.is_response();
  Result<OutFrame> frame = MakeFrame(std::move(command));
  if (!frame.ok()) {
    Log(LogLevel::kError,
        "remoting: " + Describe() + ": " + std::string(frame.status().message()) + "; not sent");
    if (response) EndRequests(1);
    return;
  }
  Enqueue(std::move(frame).value());
}

void ConnectionImpl::SendOneway(RemotingCommand request) {
  request.opaque = NextOpaque();
  request.flag = (request.flag | flag::kOneway) & ~flag::kResponse;
  Send(std::move(request));
}

namespace {

// The connections a WriteBatch on this thread has left frames queued on, to write when it ends.
struct ThreadWriteBatch {
  int depth = 0;
  std::vector<std::shared_ptr<ConnectionImpl>> connections;
};
thread_local ThreadWriteBatch this_thread_batch;

}  // namespace

}  // namespace mqremoting::internal

namespace mqremoting {

WriteBatch::WriteBatch() { ++internal::this_thread_batch.depth; }

WriteBatch::~WriteBatch() {
  internal::ThreadWriteBatch& batch = internal::this_thread_batch;
  if (--batch.depth > 0) return;
  std::vector<std::shared_ptr<internal::ConnectionImpl>> connections;
  connections.swap(batch.connections);
  for (const auto& connection : connections) connection->WriteFromThisThread();
}

}  // namespace mqremoting

namespace mqremoting::internal {

void ConnectionImpl::Enqueue(OutFrame frame) {
  enum class Then { kNothing, kPostWrite, kWriteHere, kLeaveToBatch } then = Then::kNothing;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return;
    queued_.push_back(std::move(frame));
    if (!write_scheduled_) {
      write_scheduled_ = true;
      // Off the strand, writing here saves waking the I/O thread for it; on the strand, the
      // write runs after the handler, and takes everything it queued in one system call.
      if (socket_.get_executor().running_in_this_thread()) {
        then = Then::kPostWrite;
      } else {
        then = this_thread_batch.depth > 0 ? Then::kLeaveToBatch : Then::kWriteHere;
      }
    }
  }
  switch (then) {
    case Then::kNothing:
      return;
    case Then::kPostWrite:
      asio::post(socket_.get_executor(), [weak = weak_from_this()] {
        if (auto self = weak.lock()) self->WriteQueued();
      });
      return;
    case Then::kWriteHere:
      WriteFromThisThread();
      return;
    case Then::kLeaveToBatch:
      this_thread_batch.connections.push_back(shared_from_this());
      return;
  }
}

void ConnectionImpl::WriteFromThisThread() {
  std::vector<OutFrame> written;
  uint32_t answered = 0;
  bool rest_to_strand = false;
  {
    // mu_ stays held over the system call: FinishClose closes the socket under it, so the
    // descriptor cannot be closed (and its number reused) meanwhile.
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return;  // the close dropped the queue; nothing will be written
    iovec iov[kMaxDirectBuffers];
    size_t n = 0;
    size_t frames = 0;  // frames whose every piece is in iov
    for (const OutFrame& frame : queued_) {
      size_t before = n;
      bool fits = true;
      ForEachUnsentPiece(frame, [&](const char* data, size_t size) {
        if (n == kMaxDirectBuffers) {
          fits = false;
        } else {
          iov[n++] = iovec{const_cast<char*>(data), size};
        }
      });
      if (!fits) {
        n = before;
        break;
      }
      ++frames;
    }
    ssize_t sent = 0;
    if (n > 0) {
      msghdr msg{};
      msg.msg_iov = iov;
      msg.msg_iovlen = n;
      sent = ::sendmsg(socket_.native_handle(), &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    }
    // A failed or short write leaves the rest to the strand, whose write waits for room and
    // reports any error the way every write does.
    size_t left = sent > 0 ? static_cast<size_t>(sent) : 0;
    size_t done = 0;
    for (; done < frames; ++done) {
      OutFrame& frame = queued_[done];
      size_t unsent = UnsentBytes(frame);
      if (left < unsent) {
        frame.sent += left;
        break;
      }
      left -= unsent;
      answered += frame.ends_request ? 1 : 0;
    }
    written.assign(std::make_move_iterator(queued_.begin()),
                   std::make_move_iterator(queued_.begin() + static_cast<ptrdiff_t>(done)));
    queued_.erase(queued_.begin(), queued_.begin() + static_cast<ptrdiff_t>(done));
    if (queued_.empty()) {
      write_scheduled_ = false;
    } else {
      rest_to_strand = true;
    }
  }
  written.clear();  // releases the body slices' pins, outside mu_
  EndRequests(answered);
  if (rest_to_strand) {
    asio::post(socket_.get_executor(), [weak = weak_from_this()] {
      if (auto self = weak.lock()) self->WriteQueued();
    });
  }
}

void ConnectionImpl::WriteQueued() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) {
      write_scheduled_ = false;
      queued_.clear();
      return;
    }
    writing_.swap(queued_);
  }
  write_buffers_.clear();
  for (const OutFrame& frame : writing_) {
    ForEachUnsentPiece(frame, [this](const char* data, size_t size) {
      write_buffers_.push_back(asio::buffer(data, size));
    });
  }
  asio::async_write(socket_, write_buffers_,
                    [self = shared_from_this()](const asio::error_code& ec, size_t /*n*/) {
                      self->OnWritten(ec);
                    });
}

void ConnectionImpl::OnWritten(const asio::error_code& ec) {
  uint32_t answered = 0;
  for (const OutFrame& frame : writing_) answered += frame.ends_request ? 1 : 0;
  writing_.clear();  // releases the body slices' pins
  if (ec) {
    if (IsQuietClose(ec)) {
      Close();
    } else {
      CloseFor(LogLevel::kInfo, "write failed: " + ec.message());
    }
    return;
  }
  EndRequests(answered);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_ || queued_.empty()) {
      write_scheduled_ = false;
      return;
    }
  }
  WriteQueued();
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
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (closed_) {
      lock.unlock();
      done(Status::Aborted(Describe() + " is closed"));
      return;
    }
    pending_.emplace(opaque, PendingCall{std::move(done), deadline});
    deadlines_.emplace(deadline, opaque);
    if (deadline < armed_deadline_) {
      armed_deadline_ = deadline;
      arm = true;
    }
  }
  if (arm) {
    asio::post(socket_.get_executor(), [weak = weak_from_this()] {
      if (auto self = weak.lock()) self->ArmTimer();
    });
  }
  Enqueue(std::move(frame).value());
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
  deadlines_.erase({it->second.deadline, opaque});
  *call = std::move(it->second);
  pending_.erase(it);
  return true;
}

void ConnectionImpl::ArmTimer() {
  Clock::time_point next;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_ || deadlines_.empty()) return;
    next = deadlines_.begin()->first;
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
    while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
      int32_t opaque = deadlines_.begin()->second;
      deadlines_.erase(deadlines_.begin());
      auto it = pending_.find(opaque);
      if (it != pending_.end()) {
        expired.emplace_back(opaque, std::move(it->second));
        pending_.erase(it);
      }
    }
    if (!deadlines_.empty()) next = deadlines_.begin()->first;
    armed_deadline_ = next;
  }
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
    deadlines_.clear();
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

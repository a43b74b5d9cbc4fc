// ConnectionImpl's writing (connection.h): frames are encoded and queued by Send; the strand
// writes what is queued in one gather write, and a thread off the strand writes it itself,
// at once or when its WriteBatch ends (docs/design/0017-replies-written-where-made.md).
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <asio/post.hpp>
#include <asio/write.hpp>
#include <iterator>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "connection.h"
#include "remoting/codes.h"

namespace mqremoting::internal {
namespace {

constexpr uint32_t kMaxHeaderLength = 0xFFFFFF;

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

// The connections a WriteBatch on this thread has left frames queued on, to write when it ends.
struct ThreadWriteBatch {
  int depth = 0;
  std::vector<std::shared_ptr<ConnectionImpl>> connections;
};
thread_local ThreadWriteBatch this_thread_batch;

}  // namespace

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

void ConnectionImpl::Enqueue(OutFrame frame) {
  WriteBy by;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return;
    by = QueueLocked(std::move(frame));
  }
  StartWrite(by);
}

ConnectionImpl::WriteBy ConnectionImpl::QueueLocked(OutFrame frame) {
  queued_.push_back(std::move(frame));
  if (write_scheduled_) return WriteBy::kNobody;  // the write under way takes it too
  write_scheduled_ = true;
  // Off the strand, writing here saves waking the I/O thread for it; on the strand, the
  // write runs after the handler, and takes everything it queued in one system call.
  if (socket_.get_executor().running_in_this_thread()) return WriteBy::kStrand;
  return this_thread_batch.depth > 0 ? WriteBy::kThisThreadsBatch : WriteBy::kThisThread;
}

void ConnectionImpl::StartWrite(WriteBy by) {
  switch (by) {
    case WriteBy::kNobody:
      return;
    case WriteBy::kStrand:
      asio::post(socket_.get_executor(), [weak = weak_from_this()] {
        if (auto self = weak.lock()) self->WriteQueued();
      });
      return;
    case WriteBy::kThisThread:
      WriteFromThisThread();
      return;
    case WriteBy::kThisThreadsBatch:
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

void WriteThisThreadsBatchNow() {
  std::vector<std::shared_ptr<ConnectionImpl>> connections;
  connections.swap(this_thread_batch.connections);
  for (const auto& connection : connections) connection->WriteFromThisThread();
}

}  // namespace mqremoting::internal

namespace mqremoting {

WriteBatch::WriteBatch() { ++internal::this_thread_batch.depth; }

WriteBatch::~WriteBatch() {
  if (--internal::this_thread_batch.depth > 0) return;
  internal::WriteThisThreadsBatchNow();
}

}  // namespace mqremoting

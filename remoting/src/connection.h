// ConnectionImpl: one TCP connection of the transport (transport.h), on a strand of an IoPool.
//
// Reading: read_some into a reusable buffer, split every whole frame out of it, decode and
// dispatch (responses to the pending Invoke with their opaque, requests to the handler).
// Writing (connection_writing.cc): Send queues the encoded frame; everything queued when the socket
// is free goes out in one gather write (prefix, body and body slices of each frame, no copy of the
// bodies). On the strand that write is posted to run after the handler. A thread off the strand
// writes itself instead (or, inside a WriteBatch, when the batch ends), with one non-blocking call
// under mu_, and leaves only what did not fit to the strand: handing every reply of the
// store's sync thread to an I/O thread cost a wake-up each
// (docs/design/0017-replies-written-where-made.md).
// Backpressure: at `max_inflight` unanswered requests the connection stops dispatching and
// reading until a response is sent.
#ifndef REMOTING_CONNECTION_H_
#define REMOTING_CONNECTION_H_

#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "io_pool.h"
#include "remoting/log_sink.h"
#include "remoting/transport.h"

namespace mqremoting::internal {

using Strand = asio::strand<asio::io_context::executor_type>;
using Socket = asio::basic_stream_socket<asio::ip::tcp, Strand>;

// Requests delivered to handlers and not yet answered, summed over a server's connections
// (RemotingServer::AwaitIdle).
class InflightTracker {
 public:
  void Add(int64_t delta);
  int64_t count() const;
  // True when the count reached 0 before `timeout`.
  bool AwaitZero(std::chrono::milliseconds timeout);

 private:
  mutable std::mutex mu_;
  std::condition_variable zero_;
  int64_t count_ = 0;
};

struct ConnectionSettings {
  CodecLimits limits;
  // Unanswered requests at which reading pauses; 0 = no limit.
  uint32_t max_inflight = 0;
  // Receives requests; without one, requests are answered REQUEST_CODE_NOT_SUPPORTED.
  // Only the connection's own copy is used (and released at close); see handler_.
  std::shared_ptr<RequestHandler> handler;
  std::shared_ptr<InflightTracker> tracker;  // may be null
  // Called once, on the strand, after the connection closed (the owner forgets it).
  std::function<void(uint64_t id)> on_closed;
};

class ConnectionImpl final : public Connection,
                             public std::enable_shared_from_this<ConnectionImpl> {
 public:
  // `socket` is connected and bound to a strand of `pool`'s context.
  ConnectionImpl(std::shared_ptr<IoPool> pool, Socket socket, ConnectionSettings settings);
  ~ConnectionImpl() override;

  // Sets TCP_NODELAY, tells the handler, starts reading. Called once.
  void Start();

  uint64_t id() const override { return id_; }
  const std::string& remote_address() const override { return remote_address_; }
  const std::string& local_address() const override { return local_address_; }
  void Send(RemotingCommand command) override;
  void Invoke(RemotingCommand request, Millis timeout, ResponseCallback done) override;
  Result<RemotingCommand> InvokeSync(RemotingCommand request, Millis timeout) override;
  void SendOneway(RemotingCommand request) override;
  bool is_open() const override;
  void Close() override;

  // Requests delivered and not answered (tests).
  uint32_t inflight() const;

  // Off the strand, for the thread that set write_scheduled_ (Enqueue, or the WriteBatch it
  // left the frames to): writes what is queued with one non-blocking system call and leaves
  // whatever did not go out to the strand.
  void WriteFromThisThread();

  // A frame queued for writing.
  struct OutFrame {
    std::string prefix;  // length words and JSON header
    std::string body;
    std::vector<BodySlice> slices;
    bool ends_request = false;  // a response: its request is answered once it is written
    size_t sent = 0;            // leading bytes already written by WriteFromThisThread
  };

 private:
  using Clock = std::chrono::steady_clock;

  struct PendingCall {
    ResponseCallback done;
    Clock::time_point deadline;
  };

  // Everything below marked "strand" runs only on the strand.
  void StartRead();                                   // strand
  void OnRead(const asio::error_code& ec, size_t n);  // strand
  // Dispatches whole frames from the buffer until it runs dry, the in-flight limit is hit or
  // the connection closes.
  void ProcessBuffer();                          // strand
  size_t ProcessFrames();                        // strand; returns the requests delivered
  bool Dispatch(RemotingCommand command);        // strand; true for a request
  void DeliverRequest(RemotingCommand request);  // strand
  void MakeRoomFor(size_t frame_bytes);          // strand
  void Enqueue(OutFrame frame);
  // Enqueue in two halves, so that a caller can queue a frame under the lock it already
  // holds: the first queues it and says who writes it, the second (without mu_) does that.
  enum class WriteBy { kNobody, kStrand, kThisThread, kThisThreadsBatch };
  WriteBy QueueLocked(OutFrame frame);  // REQUIRES: mu_ held, not closed_
  void StartWrite(WriteBy by);
  void WriteQueued();                          // strand
  void OnWritten(const asio::error_code& ec);  // strand
  void ArmTimer();                             // strand
  void OnTimer(const asio::error_code& ec);    // strand
  // Ends `count` answered requests; resumes reading when that takes us below the limit.
  void EndRequests(uint32_t count);
  // Encodes `command`; kInvalidArgument when the header or frame is too large for the format.
  static Result<OutFrame> MakeFrame(RemotingCommand command);
  // Takes the connection down for `reason` (logged unless empty): pending calls are
  // aborted at once, the socket is closed on the strand.
  void CloseFor(LogLevel level, const std::string& reason);
  void FinishClose();  // strand
  void InvokeInternal(RemotingCommand request, Millis timeout, ResponseCallback done,
                      int32_t* opaque_out);
  bool TryTakePending(int32_t opaque, PendingCall* call);
  bool ShouldRead() const;
  std::string Describe() const;  // "connection <id> to <remote>" for log lines and errors

  const std::shared_ptr<IoPool> pool_;
  ConnectionSettings settings_;              // read only; its handler is moved to handler_
  std::shared_ptr<RequestHandler> handler_;  // strand; released once closed
  const uint64_t id_;
  Socket socket_;
  asio::steady_timer timer_;  // the earliest Invoke deadline
  std::string remote_address_;
  std::string local_address_;

  // Read buffer [read_begin_, read_end_) holds bytes not yet dispatched (strand).
  std::vector<char> read_buffer_;
  size_t read_begin_ = 0;
  size_t read_end_ = 0;
  bool read_pending_ = false;                      // strand
  std::vector<OutFrame> writing_;                  // strand: the frames of the write under way
  std::vector<asio::const_buffer> write_buffers_;  // strand
  bool close_finished_ = false;                    // strand

  mutable std::mutex mu_;
  bool closed_ = false;
  bool paused_ = false;  // reading stopped at the in-flight limit
  uint32_t inflight_ = 0;
  std::vector<OutFrame> queued_;
  // Some thread is to write queued_: a WriteQueued is posted, a write is under way, or a
  // thread off the strand (or its WriteBatch) is about to write.
  bool write_scheduled_ = false;
  std::unordered_map<int32_t, PendingCall> pending_;
  // When the timer fires next: no later than the earliest deadline in pending_. It fires once
  // per timeout period or so, and then looks through pending_: cheaper than keeping the
  // deadlines ordered, which cost a tree node per call.
  Clock::time_point armed_deadline_ = Clock::time_point::max();
};

// A fresh opaque for a request we send (process-wide counter, never 0).
int32_t NextOpaque();

// An error that ends a connection without anything worth logging (the peer closed it, or
// we did).
bool IsQuietClose(const asio::error_code& ec);

// Writes the frames a WriteBatch on this thread holds, without ending the batch: for a thread
// about to wait for an answer to one of them (InvokeSync).
void WriteThisThreadsBatchNow();

}  // namespace mqremoting::internal

#endif  // REMOTING_CONNECTION_H_

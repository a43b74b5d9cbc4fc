// The remoting transport over TCP (standalone Asio): connections that carry frames both ways,
// a server that accepts them, and a client that opens them by address.
//
// Both sides use the same Connection: requests and responses are matched only by opaque (a
// long-polled pull may be answered after later requests), either side may send requests
// (the broker asks clients to rebalance or to check a transaction), and a request with the
// oneway flag is never answered. A frame that cannot be decoded (bad length, bad header)
// closes that connection with one log line; nothing else is affected.
#ifndef REMOTING_TRANSPORT_H_
#define REMOTING_TRANSPORT_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "remoting/command.h"

namespace mqremoting {

using Millis = std::chrono::milliseconds;

// One TCP connection. Thread-safe; shared by the transport and whoever answers its requests.
class Connection {
 public:
  using ResponseCallback = std::function<void(Result<RemotingCommand>)>;

  virtual ~Connection() = default;

  // Unique within the process, never reused.
  virtual uint64_t id() const = 0;
  // The peer as "ip:port" (IPv4-mapped IPv6 peers are shown as IPv4).
  virtual const std::string& remote_address() const = 0;
  // The local end as "ip:port".
  virtual const std::string& local_address() const = 0;

  // Queues a frame (normally a response) for writing and returns at once. Frames are written
  // in the order Send was called. Dropped silently once the connection is closed. A response
  // also ends one in-flight request of this connection (see ServerOptions).
  virtual void Send(RemotingCommand command) = 0;

  // Sends `request` with a fresh opaque and calls `done` exactly once: with the response,
  // kTimedOut after `timeout`, or kAborted when the connection closes first. `done` runs on
  // a transport thread and must not block; only when the connection is already closed (or is
  // closed by Close()) does it run at once on the calling (closing) thread.
  virtual void Invoke(RemotingCommand request, Millis timeout, ResponseCallback done) = 0;
  // Invoke and wait. On a transport thread (where waiting could deadlock) it returns
  // kFailedPrecondition without sending.
  virtual Result<RemotingCommand> InvokeSync(RemotingCommand request, Millis timeout) = 0;
  // Sends `request` with the oneway flag set and a fresh opaque; nothing is answered.
  virtual void SendOneway(RemotingCommand request) = 0;

  virtual bool is_open() const = 0;
  // Closes the socket. Pending Invoke callbacks get kAborted. Idempotent.
  virtual void Close() = 0;
};

// A frame sent from any thread but the connection's own I/O thread is written by the sending
// thread, at once and without blocking; only what the socket does not take is left to the
// I/O thread. While a WriteBatch lives on the sending thread, its sends are gathered instead
// and written when the outermost WriteBatch ends: each connection's frames with one system
// call. For a thread that answers many requests in a row (the store's sync thread completing
// SYNC_FLUSH puts). Frames stay in Send order either way. InvokeSync inside a batch writes
// what the batch holds before it waits for its answer.
class WriteBatch {
 public:
  WriteBatch();
  ~WriteBatch();
  WriteBatch(const WriteBatch&) = delete;
  WriteBatch& operator=(const WriteBatch&) = delete;
};

// Receives requests (frames without the response flag) from connections. Called on a
// transport thread: must not block. Work that may block (a SYNC_FLUSH put, a disk read)
// goes to the handler's own threads, which answer later with connection->Send().
class RequestHandler {
 public:
  virtual ~RequestHandler() = default;
  virtual void OnRequest(const std::shared_ptr<Connection>& connection,
                         RemotingCommand request) = 0;
  // Runs after the requests decoded from one read of `connection` (at least one) have each
  // been given to OnRequest: on the same thread, before that thread serves anything else. A
  // handler may hold requests back in OnRequest and act on them together here (the broker
  // appends one read's sends to its log under one lock). An exception thrown here closes
  // the connection.
  virtual void OnReadProcessed(const std::shared_ptr<Connection>& /*connection*/) {}
  virtual void OnConnected(const std::shared_ptr<Connection>& /*connection*/) {}
  virtual void OnClosed(const std::shared_ptr<Connection>& /*connection*/) {}
};

struct ServerOptions {
  std::string bind_address = "0.0.0.0";
  uint16_t port = 0;  // 0 = any free port (tests); see RemotingServer::port()
  int io_threads = 2;
  CodecLimits limits;
  // Requests of one connection delivered to the handler and not yet answered (a request is
  // answered once its response has been written to the socket). At the limit the connection
  // stops reading (TCP pushes back on the sender) until one is answered. Oneway requests
  // count until OnRequest returns. 0 = no limit.
  uint32_t max_inflight_requests_per_connection = 4096;
};

class RemotingServer {
 public:
  // Binds, listens and starts the transport threads. kIOError when the port cannot be bound
  // (the message names the address and errno text).
  static Result<std::unique_ptr<RemotingServer>> Start(const ServerOptions& options,
                                                       std::shared_ptr<RequestHandler> handler);
  virtual ~RemotingServer() = default;

  // The bound port (the chosen one when options.port was 0).
  virtual uint16_t port() const = 0;
  // Stops accepting connections; existing ones go on.
  virtual void StopAccepting() = 0;
  // Waits until no connection has an unanswered request (graceful shutdown), or `timeout`.
  // True when idle: every response has been written.
  virtual bool AwaitIdle(Millis timeout) = 0;
  // Closes every connection (handlers get OnClosed, pending Invokes kAborted) and joins the
  // transport threads. Idempotent; the destructor calls it. Not from a transport thread.
  virtual void Stop() = 0;
  virtual size_t connection_count() const = 0;
};

// Transport threads that several RemotingClients share, as RocketMQ's clients in one process
// share one client instance and its event loop. Each client otherwise runs its own: a process
// with 64 producers would switch between 64 threads, one woken per response.
class TransportThreads {
 public:
  // Starts `count` threads (at least one). They stop once this handle and every client and
  // connection using them are gone.
  static std::shared_ptr<TransportThreads> Start(int count);
  virtual ~TransportThreads() = default;
};

struct ClientOptions {
  int io_threads = 1;  // the client's own threads, when `shared_threads` is null
  // Run on these instead. Shutdown then closes this client's connections and waits for their
  // last handlers; the threads go on serving the other clients.
  std::shared_ptr<TransportThreads> shared_threads;
  CodecLimits limits;
  Millis connect_timeout{3000};
};

// Opens and caches one connection per address ("host:port"). Requests the peer sends on
// those connections go to the optional handler (e.g. NOTIFY_CONSUMER_IDS_CHANGED).
class RemotingClient {
 public:
  static std::unique_ptr<RemotingClient> Create(const ClientOptions& options,
                                                std::shared_ptr<RequestHandler> handler = nullptr);
  virtual ~RemotingClient() = default;

  // The open connection to `address`, connecting first when there is none. kIOError
  // (refused, unreachable, bad address) or kTimedOut (connect_timeout); kAborted after
  // Shutdown. On a transport thread it does not wait: without an open connection it returns
  // kFailedPrecondition (the connect goes on and later calls find it).
  virtual Result<std::shared_ptr<Connection>> Connect(const std::string& address) = 0;
  // Connect, then Connection::InvokeSync; the connect counts against `timeout`.
  virtual Result<RemotingCommand> InvokeSync(const std::string& address, RemotingCommand request,
                                             Millis timeout) = 0;
  // Connect, then Connection::Invoke; a connect failure is passed to `done`. Never blocks:
  // the call is sent once the connection is open; the connect counts against `timeout`.
  virtual void InvokeAsync(const std::string& address, RemotingCommand request, Millis timeout,
                           Connection::ResponseCallback done) = 0;
  // Connect, then Connection::SendOneway. On a transport thread without an open connection it
  // returns OK at once and sends once connected (a connect failure is logged).
  virtual Status InvokeOneway(const std::string& address, RemotingCommand request) = 0;
  // Closes every connection and joins the transport threads. Idempotent.
  virtual void Shutdown() = 0;
};

}  // namespace mqremoting

#endif  // REMOTING_TRANSPORT_H_

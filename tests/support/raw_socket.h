// A plain blocking TCP socket to 127.0.0.1, for writing arbitrary bytes at a server (frames
// in one write, broken framing) and reading its frames back.
#ifndef TESTS_SUPPORT_RAW_SOCKET_H_
#define TESTS_SUPPORT_RAW_SOCKET_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <string>
#include <string_view>

#include "mqstore/coding.h"
#include "remoting/command.h"
#include "remoting/transport.h"

namespace mqremoting::test {

// A plain blocking TCP socket for writing arbitrary bytes at a server.
class RawSocket {
 public:
  explicit RawSocket(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
    timeval timeout{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  }
  ~RawSocket() { ::close(fd_); }
  bool connected() const { return connected_; }
  bool Write(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }
  // Reads exactly `n` bytes; false on EOF, error or the 10 s receive timeout.
  bool ReadExactly(size_t n, std::string* out) {
    out->resize(n);
    size_t got = 0;
    while (got < n) {
      ssize_t r = ::recv(fd_, out->data() + got, n - got, 0);
      if (r <= 0) return false;
      got += static_cast<size_t>(r);
    }
    return true;
  }
  Result<RemotingCommand> ReadFrame() {
    std::string prefix;
    if (!ReadExactly(4, &prefix)) return Status::IOError("no frame");
    uint32_t length = mqstore::DecodeBig32(prefix.data());
    std::string rest;
    if (!ReadExactly(length, &rest)) return Status::IOError("short frame");
    return DecodeFrame(rest);
  }
  // True when bytes (or EOF) arrive within `within`.
  bool Readable(Millis within) {
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(within.count())) == 1;
  }
  // True when the peer closed the connection (EOF or reset) within the receive timeout.
  bool SeesClose() {
    char byte;
    for (;;) {
      ssize_t r = ::recv(fd_, &byte, 1, 0);
      if (r == 0) return true;
      if (r < 0) return errno == ECONNRESET;
    }
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

}  // namespace mqremoting::test

#endif  // TESTS_SUPPORT_RAW_SOCKET_H_

// Socket addresses as the remoting layer writes them: "ip:port" for IPv4, "[ip]:port" for
// IPv6 (the forms RocketMQ route data and mqstore::SocketAddress use).
#ifndef REMOTING_ADDRESS_H_
#define REMOTING_ADDRESS_H_

#include <asio/ip/tcp.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "mqstore/status.h"

namespace mqremoting::internal {

struct HostPort {
  std::string host;  // without brackets
  uint16_t port = 0;
};

// Splits "host:port", "[v6]:port" or "v6-literal:port" (the last colon separates the port).
// kInvalidArgument naming the text when the host is empty or the port is not 1..65535.
mqstore::Result<HostPort> ParseHostPort(std::string_view text);

// The endpoints for `address`: IP literals directly, names ("localhost") through the
// resolver. kIOError when the name does not resolve.
mqstore::Result<asio::ip::tcp::resolver::results_type> ResolveSync(asio::io_context& context,
                                                                   const HostPort& address);

// "a.b.c.d:port" or "[v6]:port"; an IPv4-mapped IPv6 address is written as the IPv4 one.
std::string FormatEndpoint(const asio::ip::tcp::endpoint& endpoint);

}  // namespace mqremoting::internal

#endif  // REMOTING_ADDRESS_H_

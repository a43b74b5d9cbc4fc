#include "address.h"

#include <charconv>

namespace mqremoting::internal {

mqstore::Result<HostPort> ParseHostPort(std::string_view text) {
  auto invalid = [&](std::string_view why) {
    return mqstore::Status::InvalidArgument("bad address '" + std::string(text) +
                                            "': " + std::string(why));
  };
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return invalid("expected host:port");
  std::string_view host = text.substr(0, colon);
  std::string_view port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) return invalid("the host is empty");
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
      port == 0 || port > 65535) {
    return invalid("the port is not a number from 1 to 65535");
  }
  return HostPort{std::string(host), static_cast<uint16_t>(port)};
}

mqstore::Result<asio::ip::tcp::resolver::results_type> ResolveSync(asio::io_context& context,
                                                                   const HostPort& address) {
  asio::error_code ec;
  asio::ip::tcp::resolver resolver(context);
  auto results = resolver.resolve(address.host, std::to_string(address.port),
                                  asio::ip::resolver_base::numeric_service, ec);
  if (ec) {
    return mqstore::Status::IOError("cannot resolve '" + address.host + "': " + ec.message());
  }
  if (results.empty()) {
    return mqstore::Status::IOError("cannot resolve '" + address.host + "': no address");
  }
  return results;
}

std::string FormatEndpoint(const asio::ip::tcp::endpoint& endpoint) {
  asio::ip::address address = endpoint.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
  }
  std::string text;
  if (address.is_v6()) {
    text = "[" + address.to_string() + "]";
  } else {
    text = address.to_string();
  }
  text += ':';
  text += std::to_string(endpoint.port());
  return text;
}

}  // namespace mqremoting::internal

#include "address.h"

#include <gtest/gtest.h>

namespace mqremoting::internal {
namespace {

TEST(AddressTest, ParsesHostAndPort) {
  auto v4 = ParseHostPort("10.1.2.3:10911");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->host, "10.1.2.3");
  EXPECT_EQ(v4->port, 10911);
  auto name = ParseHostPort("localhost:9876");
  ASSERT_TRUE(name.ok());
  EXPECT_EQ(name->host, "localhost");
  auto bracketed = ParseHostPort("[::1]:80");
  ASSERT_TRUE(bracketed.ok());
  EXPECT_EQ(bracketed->host, "::1");
  auto bare_v6 = ParseHostPort("fe80::1:65535");
  ASSERT_TRUE(bare_v6.ok());
  EXPECT_EQ(bare_v6->host, "fe80::1");
  EXPECT_EQ(bare_v6->port, 65535);
}

TEST(AddressTest, RejectsMalformedAddresses) {
  for (const char* bad :
       {"", "host", ":1", "[]:1", "h:", "h:0", "h:65536", "h:-1", "h:1x", "h: 1"}) {
    auto parsed = ParseHostPort(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_TRUE(parsed.status().IsInvalidArgument());
    EXPECT_NE(parsed.status().message().find(bad), std::string_view::npos);
  }
}

TEST(AddressTest, FormatsEndpoints) {
  using asio::ip::make_address;
  using asio::ip::tcp;
  EXPECT_EQ(FormatEndpoint(tcp::endpoint(make_address("127.0.0.1"), 10911)), "127.0.0.1:10911");
  EXPECT_EQ(FormatEndpoint(tcp::endpoint(make_address("::1"), 80)), "[::1]:80");
  EXPECT_EQ(FormatEndpoint(tcp::endpoint(make_address("::ffff:192.168.1.9"), 5)), "192.168.1.9:5");
}

TEST(AddressTest, ResolvesLiteralsAndLocalhost) {
  asio::io_context context;
  auto literal = ResolveSync(context, {"127.0.0.1", 1234});
  ASSERT_TRUE(literal.ok()) << literal.status().ToString();
  EXPECT_EQ(literal->begin()->endpoint().port(), 1234);
  auto localhost = ResolveSync(context, {"localhost", 1234});
  ASSERT_TRUE(localhost.ok()) << localhost.status().ToString();
  EXPECT_TRUE(localhost->begin()->endpoint().address().is_loopback());
  auto unknown = ResolveSync(context, {"no-such-host.invalid", 1});
  EXPECT_TRUE(unknown.status().IsIOError());
}

}  // namespace
}  // namespace mqremoting::internal

// broker_body_fuzzer: the JSON bodies a broker or a client parses from the other side
// (docs/format/broker-bodies.md): heartbeats, lock bodies, and the consumer-group admin bodies
// with their fastjson queue keys.
//
// The first input byte picks the parser, the rest is the body. Checked: a parser never
// crashes and fails only with kInvalidArgument; what parses re-encodes to a body that parses
// again, to the same value where the encoding is one-to-one (subscription groups, consume
// stats, reset offsets, group lists, lock requests).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "remoting/consumer_admin_bodies.h"
#include "remoting/heartbeat_data.h"
#include "remoting/lock_batch_body.h"

namespace mqremoting {
namespace {

[[noreturn]] void Fail(const char* file, int line, const char* what) {
  std::fprintf(stderr, "\n*** fuzz check failed at %s:%d\n*** %s\n", file, line, what);
  std::fflush(stderr);
  std::abort();
}

#define FUZZ_CHECK(cond, what)                   \
  do {                                           \
    if (!(cond)) Fail(__FILE__, __LINE__, what); \
  } while (0)

// Parses `body`; on success encodes the value and parses that again. With `exact`, the second
// value must equal the first.
template <typename Parse, typename Encode>
void RoundTrip(std::string_view body, Parse parse, Encode encode, bool exact) {
  auto parsed = parse(body);
  if (!parsed.ok()) {
    FUZZ_CHECK(parsed.status().IsInvalidArgument(), "a parse error is not kInvalidArgument");
    return;
  }
  std::string encoded = encode(*parsed);
  auto again = parse(encoded);
  FUZZ_CHECK(again.ok(), "an encoded body does not parse");
  if (exact) FUZZ_CHECK(*again == *parsed, "an encoded body parses to another value");
}

}  // namespace
}  // namespace mqremoting

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mqremoting;
  if (size < 1) return 0;
  std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 8) {
    case 0:
      RoundTrip(body, ParseSubscriptionGroupConfig, EncodeSubscriptionGroupConfig, true);
      break;
    case 1:
      RoundTrip(
          body, ParseSubscriptionGroupWrapper,
          [](const auto& groups) { return EncodeSubscriptionGroupWrapper(groups, DataVersion{}); },
          /*exact=*/false);  // a table may hold a name twice
      break;
    case 2:
      RoundTrip(body, ParseConsumeStats, EncodeConsumeStats, true);
      break;
    case 3:
      RoundTrip(body, ParseResetOffsetBody, EncodeResetOffsetBody, true);
      break;
    case 4:
      RoundTrip(body, ParseGroupList, EncodeGroupList, true);
      break;
    case 5:
      // Subscriptions are keyed by topic on the wire: two with one topic collapse.
      RoundTrip(body, ParseConsumerConnection, EncodeConsumerConnection, false);
      break;
    case 6:
      RoundTrip(body, ParseHeartbeatData, EncodeHeartbeatData, false);
      break;
    case 7:
      RoundTrip(body, ParseLockBatchRequestBody, EncodeLockBatchRequestBody, true);
      break;
  }
  // Quoting object keys only ever adds: quotes, and escapes inside them.
  FUZZ_CHECK(QuoteObjectKeys(body).size() >= body.size(), "QuoteObjectKeys lost bytes");
  return 0;
}

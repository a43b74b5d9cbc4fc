// Unique message ids (the UNIQ_KEY property) in the layout RocketMQ clients make them:
//
//   [host IPv4, 4 bytes][pid, 2][instance hash, 4][ms since the start of this month, 4][counter, 2]
//
// as 32 uppercase hex digits. The first 10 bytes are fixed per process; the last 6 make each
// id unique within it (the counter wraps after 65536 ids in the same millisecond; the time
// part then differs). The broker mints one for every message whose producer did not set one
// (ali-ons never does); client-lite producers mint their own.
#ifndef REMOTING_UNIQUE_MESSAGE_ID_H_
#define REMOTING_UNIQUE_MESSAGE_ID_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

namespace mqremoting {

class UniqueMessageIdMinter {
 public:
  // `host_ipv4`: the 4 address bytes to put first (e.g. the broker's IP).
  explicit UniqueMessageIdMinter(std::array<uint8_t, 4> host_ipv4);

  // A new id. Thread-safe.
  std::string Next();

  // The store time encoded in an id (ms since the epoch), assuming it was minted within a
  // month of `now_ms` in this machine's local time zone; nullopt-like -1 for malformed ids.
  static int64_t TimestampOf(const std::string& id, int64_t now_ms);

 private:
  std::string prefix_hex_;  // 20 hex digits: host, pid, instance hash
  std::mutex mu_;
  int64_t month_start_ms_ = 0;
  int64_t next_month_start_ms_ = 0;
  uint16_t counter_ = 0;
};

}  // namespace mqremoting

#endif  // REMOTING_UNIQUE_MESSAGE_ID_H_

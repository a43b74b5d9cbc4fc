#include "remoting/unique_message_id.h"

#include <unistd.h>

#include <chrono>
#include <ctime>
#include <random>

#include "mqstore/coding.h"

namespace mqremoting {

namespace {

constexpr char kHexDigits[] = "0123456789ABCDEF";

void AppendHex(const char* bytes, size_t n, std::string* out) {
  for (size_t i = 0; i < n; ++i) {
    auto b = static_cast<uint8_t>(bytes[i]);
    out->push_back(kHexDigits[b >> 4]);
    out->push_back(kHexDigits[b & 0xF]);
  }
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Start of the local calendar month containing `ms`, and of the next one.
void MonthBounds(int64_t ms, int64_t* start, int64_t* next_start) {
  // glibc serialises its time-zone state with a lock ThreadSanitizer cannot see; minters of
  // several producers starting together then look racy. Once a month per minter: cheap.
  static std::mutex time_zone_mu;
  std::lock_guard<std::mutex> lock(time_zone_mu);
  time_t seconds = static_cast<time_t>(ms / 1000);
  struct tm local {};
  localtime_r(&seconds, &local);
  local.tm_mday = 1;
  local.tm_hour = local.tm_min = local.tm_sec = 0;
  local.tm_isdst = -1;
  *start = static_cast<int64_t>(mktime(&local)) * 1000;
  local.tm_mon += 1;
  local.tm_isdst = -1;
  *next_start = static_cast<int64_t>(mktime(&local)) * 1000;
}

}  // namespace

UniqueMessageIdMinter::UniqueMessageIdMinter(std::array<uint8_t, 4> host_ipv4) {
  char fixed[10];
  for (int i = 0; i < 4; ++i) fixed[i] = static_cast<char>(host_ipv4[i]);
  mqstore::EncodeBig16(fixed + 4, static_cast<uint16_t>(getpid()));
  // Java clients put their class loader's hash here; any per-instance value keeps two
  // minters of one process apart.
  std::random_device seed;
  mqstore::EncodeBig32(fixed + 6, static_cast<uint32_t>(seed()));
  AppendHex(fixed, sizeof(fixed), &prefix_hex_);
  counter_ = static_cast<uint16_t>(seed());
}

std::string UniqueMessageIdMinter::Next() {
  int64_t now = NowMs();
  char tail[6];
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (now >= next_month_start_ms_ || now < month_start_ms_) {
      MonthBounds(now, &month_start_ms_, &next_month_start_ms_);
    }
    mqstore::EncodeBig32(tail, static_cast<uint32_t>(now - month_start_ms_));
    mqstore::EncodeBig16(tail + 4, counter_++);
  }
  std::string id;
  id.reserve(32);
  id.append(prefix_hex_);
  AppendHex(tail, sizeof(tail), &id);
  return id;
}

int64_t UniqueMessageIdMinter::TimestampOf(const std::string& id, int64_t now_ms) {
  if (id.size() != 32) return -1;
  uint32_t since_month = 0;
  for (size_t i = 20; i < 28; ++i) {
    char c = id[i];
    uint32_t digit;
    if (c >= '0' && c <= '9') {
      digit = static_cast<uint32_t>(c - '0');
    } else if (c >= 'A' && c <= 'F') {
      digit = static_cast<uint32_t>(c - 'A' + 10);
    } else {
      return -1;
    }
    since_month = since_month << 4 | digit;
  }
  int64_t start = 0;
  int64_t next_start = 0;
  MonthBounds(now_ms, &start, &next_start);
  int64_t ts = start + since_month;
  if (ts > now_ms) {  // minted last month
    MonthBounds(start - 1, &start, &next_start);
    ts = start + since_month;
  }
  return ts;
}

}  // namespace mqremoting

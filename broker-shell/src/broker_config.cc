// BrokerConfig: loading, validation and the store options (see broker_config.h).
#include "broker_config.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <limits>

#include "server_common/config_reader.h"

namespace mqbroker {

using mqserver::ConfigReader;
using mqserver::Properties;
using mqserver::PropertyEntry;
using mqstore::Result;
using mqstore::Status;

namespace {

// What is wrong with a value and what would be right, for messages.
struct Problem {
  std::string what;
  std::string allowed;
};

constexpr int32_t kMaxPort = 65535;
constexpr int32_t kMaxMillis = 3'600'000;  // an hour: no interval or timeout needs more
constexpr int32_t kMaxInt32 = std::numeric_limits<int32_t>::max();
constexpr uint32_t kPageSize = 4096;

// ---- Checks of values with a syntax or rule of their own

std::optional<Problem> CheckSegmentSize(int64_t bytes) {
  if (bytes % kPageSize != 0) {
    return Problem{"not a multiple of 4096", "multiples of 4096 below 2 GiB"};
  }
  return std::nullopt;
}

std::optional<Problem> CheckPermission(int64_t perm) {
  if (perm == kPermWrite || perm == kPermRead || perm == (kPermRead | kPermWrite)) {
    return std::nullopt;
  }
  return Problem{"not a broker permission", "2 (write only), 4 (read only), 6 (read and write)"};
}

std::optional<Problem> CheckBrokerIp(std::string_view ip) {
  const std::string allowed =
      "an IPv4 address such as 192.168.0.10, or empty for this host's "
      "first non-loopback address";
  if (ip.empty()) return std::nullopt;
  in_addr addr;
  if (::inet_pton(AF_INET, std::string(ip).c_str(), &addr) != 1) {
    return Problem{"not an IPv4 address", allowed};
  }
  if (addr.s_addr == INADDR_ANY) return Problem{"not an address clients can connect to", allowed};
  return std::nullopt;
}

std::optional<Problem> CheckBindAddress(std::string_view ip) {
  in_addr addr;
  if (::inet_pton(AF_INET, std::string(ip).c_str(), &addr) != 1) {
    return Problem{"not an IPv4 address",
                   "an IPv4 address of this host, 0.0.0.0 for all, 127.0.0.1 for loopback only"};
  }
  return std::nullopt;
}

bool ParsePort(std::string_view text, int32_t* port) {
  if (text.empty() || text.size() > 5) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *port);
  return ec == std::errc() && ptr == text.data() + text.size() && *port >= 1 && *port <= kMaxPort;
}

bool IsHostName(std::string_view host) {
  if (host.empty()) return false;
  return std::all_of(host.begin(), host.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-' || c == '_';
  });
}

std::string_view TrimBlanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::vector<std::string> SplitNamesrvAddr(std::string_view list) {
  std::vector<std::string> out;
  while (true) {
    size_t semi = list.find(';');
    std::string_view entry = TrimBlanks(list.substr(0, semi));
    if (!entry.empty()) out.emplace_back(entry);
    if (semi == std::string_view::npos) break;
    list.remove_prefix(semi + 1);
  }
  return out;
}

std::optional<Problem> CheckNamesrvAddr(std::string_view list) {
  for (const std::string& entry : SplitNamesrvAddr(list)) {
    size_t colon = entry.rfind(':');
    int32_t port = 0;
    if (colon == std::string::npos || !IsHostName(std::string_view(entry).substr(0, colon)) ||
        !ParsePort(std::string_view(entry).substr(colon + 1), &port)) {
      return Problem{"entry \"" + entry + "\" is not host:port",
                     "host:port entries (port 1..65535) separated by ';', or empty"};
    }
  }
  return std::nullopt;
}

std::optional<Problem> CheckDeleteWhen(std::string_view hours) {
  const std::string allowed = "hours 00-23 separated by ';', e.g. 04 or 01;13";
  while (true) {
    size_t semi = hours.find(';');
    std::string_view hour = hours.substr(0, semi);
    int value = -1;
    auto [ptr, ec] = std::from_chars(hour.data(), hour.data() + hour.size(), value);
    if (hour.empty() || hour.size() > 2 || ec != std::errc() || ptr != hour.data() + hour.size() ||
        value < 0 || value > 23) {
      return Problem{"\"" + std::string(hour) + "\" is not an hour", allowed};
    }
    if (semi == std::string_view::npos) return std::nullopt;
    hours.remove_prefix(semi + 1);
  }
}

std::optional<Problem> CheckDelayLevels(std::string_view levels) {
  const std::string allowed =
      "1 to 1024 delays separated by spaces, each a positive number and a unit s, m, h or d, "
      "e.g. \"1s 5s 10s 30s 1m 2h\"";
  int count = 0;
  size_t pos = 0;
  while (true) {
    pos = levels.find_first_not_of(" \t", pos);
    if (pos == std::string_view::npos) break;
    size_t end = std::min(levels.find_first_of(" \t", pos), levels.size());
    std::string_view token = levels.substr(pos, end - pos);
    pos = end;
    ++count;
    int32_t amount = 0;
    std::string_view number = token.substr(0, token.size() - 1);
    auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), amount);
    char unit = token.back();
    if (number.empty() || ec != std::errc() || ptr != number.data() + number.size() ||
        amount <= 0 || (unit != 's' && unit != 'm' && unit != 'h' && unit != 'd')) {
      return Problem{
          "level " + std::to_string(count) + " \"" + std::string(token) + "\" is not a delay",
          allowed};
    }
  }
  if (count == 0 || count > 1024) {
    return Problem{std::to_string(count) + " levels", allowed};
  }
  return std::nullopt;
}

// ---- The keys, by type. One table drives both loading and validation.

struct Int32Key {
  const char* name;
  int32_t BrokerConfig::*field;
  int32_t min;
  int32_t max;
  std::optional<Problem> (*check)(int64_t) = nullptr;
};

const Int32Key kInt32Keys[] = {
    {"listenPort", &BrokerConfig::listenPort, 0, kMaxPort},
    {"mappedFileSizeCommitLog", &BrokerConfig::mappedFileSizeCommitLog, kPageSize,
     static_cast<int32_t>((1u << 31) - kPageSize), &CheckSegmentSize},
    {"flushIntervalCommitLog", &BrokerConfig::flushIntervalCommitLog, 1, kMaxMillis},
    {"syncFlushTimeout", &BrokerConfig::syncFlushTimeout, 1, kMaxMillis},
    {"fileReservedTime", &BrokerConfig::fileReservedTime, 1, 87'600},  // 10 years
    {"diskMaxUsedSpaceRatio", &BrokerConfig::diskMaxUsedSpaceRatio, 10, 95},
    {"maxMessageSize", &BrokerConfig::maxMessageSize, 1, 64 << 20},
    {"transactionCheckMax", &BrokerConfig::transactionCheckMax, 1, 10'000},
    {"defaultTopicQueueNums", &BrokerConfig::defaultTopicQueueNums, 1, 1024},
    {"brokerPermission", &BrokerConfig::brokerPermission, 0, 7, &CheckPermission},
    {"sendMessageThreadPoolNums", &BrokerConfig::sendMessageThreadPoolNums, 1, 256},
    {"pullMessageThreadPoolNums", &BrokerConfig::pullMessageThreadPoolNums, 1, 256},
    {"sendThreadPoolQueueCapacity", &BrokerConfig::sendThreadPoolQueueCapacity, 1, 10'000'000},
    {"pullThreadPoolQueueCapacity", &BrokerConfig::pullThreadPoolQueueCapacity, 1, 10'000'000},
    {"waitTimeMillsInSendQueue", &BrokerConfig::waitTimeMillsInSendQueue, 1, kMaxMillis},
    {"osPageCacheBusyTimeOutMills", &BrokerConfig::osPageCacheBusyTimeOutMills, 1, kMaxMillis},
    {"shortPollingTimeMills", &BrokerConfig::shortPollingTimeMills, 1, kMaxMillis},
    // The name server drops a broker silent for 120 s; RocketMQ clamps to 10 s..60 s.
    {"registerNameServerPeriod", &BrokerConfig::registerNameServerPeriod, 100, 60'000},
    {"maxHashSlotNum", &BrokerConfig::maxHashSlotNum, 1, 100'000'000},
    {"maxIndexNum", &BrokerConfig::maxIndexNum, 1, 400'000'000},
};

struct Int64Key {
  const char* name;
  int64_t BrokerConfig::*field;
  int64_t min;
  int64_t max;
};

const Int64Key kInt64Keys[] = {
    {"brokerId", &BrokerConfig::brokerId, 0, kMaxInt32},
    {"pageCacheWindowCommitLog", &BrokerConfig::pageCacheWindowCommitLog, 0, int64_t{1} << 40},
    {"zeroAheadCommitLog", &BrokerConfig::zeroAheadCommitLog, 0, int64_t{1} << 40},
    {"transactionTimeOut", &BrokerConfig::transactionTimeOut, 1, 24 * kMaxMillis},
    {"transactionCheckInterval", &BrokerConfig::transactionCheckInterval, 1, 24 * kMaxMillis},
};

struct BoolKey {
  const char* name;
  bool BrokerConfig::*field;
};

const BoolKey kBoolKeys[] = {
    {"messageIndexEnable", &BrokerConfig::messageIndexEnable},
    {"autoCreateTopicEnable", &BrokerConfig::autoCreateTopicEnable},
    {"autoCreateSubscriptionGroup", &BrokerConfig::autoCreateSubscriptionGroup},
    {"traceTopicEnable", &BrokerConfig::traceTopicEnable},
    {"enablePropertyFilter", &BrokerConfig::enablePropertyFilter},
    {"longPollingEnable", &BrokerConfig::longPollingEnable},
};

// Strings; `check` nullptr means "must not be empty".
struct StringKey {
  const char* name;
  std::string BrokerConfig::*field;
  std::optional<Problem> (*check)(std::string_view) = nullptr;
};

const StringKey kStringKeys[] = {
    {"brokerClusterName", &BrokerConfig::brokerClusterName},
    {"brokerName", &BrokerConfig::brokerName},
    {"storePathRootDir", &BrokerConfig::storePathRootDir},
    {"brokerIP1", &BrokerConfig::brokerIP1, &CheckBrokerIp},
    {"bindAddress", &BrokerConfig::bindAddress, &CheckBindAddress},
    {"namesrvAddr", &BrokerConfig::namesrvAddr, &CheckNamesrvAddr},
    {"deleteWhen", &BrokerConfig::deleteWhen, &CheckDeleteWhen},
    {"messageDelayLevel", &BrokerConfig::messageDelayLevel, &CheckDelayLevels},
};

std::optional<Problem> CheckNonEmpty(std::string_view value) {
  if (value.empty()) return Problem{"empty", "a non-empty string"};
  return std::nullopt;
}

std::string Range(int64_t min, int64_t max) {
  return std::to_string(min) + ".." + std::to_string(max);
}

// A field that is wrong after loading (a command-line override): "<key> = <value>: ...".
Status BadField(std::string_view key, std::string_view value, const Problem& problem) {
  return Status::InvalidArgument(std::string(key) + " = \"" + std::string(value) +
                                 "\": " + problem.what + "; allowed: " + problem.allowed);
}

Status ValidateFields(const BrokerConfig& c) {
  for (const Int32Key& k : kInt32Keys) {
    int32_t v = c.*k.field;
    if (v < k.min || v > k.max) {
      return BadField(k.name, std::to_string(v), {"out of range", Range(k.min, k.max)});
    }
    if (k.check != nullptr) {
      if (auto problem = k.check(v)) return BadField(k.name, std::to_string(v), *problem);
    }
  }
  for (const Int64Key& k : kInt64Keys) {
    int64_t v = c.*k.field;
    if (v < k.min || v > k.max) {
      return BadField(k.name, std::to_string(v), {"out of range", Range(k.min, k.max)});
    }
  }
  for (const StringKey& k : kStringKeys) {
    const std::string& v = c.*k.field;
    auto problem = k.check != nullptr ? k.check(v) : CheckNonEmpty(v);
    if (problem) return BadField(k.name, v, *problem);
  }
  return Status::OK();
}

// storePathCommitLog names a directory of its own in RocketMQ; our store keeps the commit log
// in <root>/commitlog, so only that value is accepted.
void ReadStorePathCommitLog(ConfigReader* reader, BrokerConfig* config,
                            std::vector<std::string>* warnings) {
  const PropertyEntry* entry = reader->Take("storePathCommitLog");
  if (entry == nullptr || entry->value.empty()) return;
  namespace fs = std::filesystem;
  fs::path ours = (fs::path(config->storePathRootDir) / "commitlog").lexically_normal();
  fs::path theirs = fs::path(entry->value).lexically_normal();
  if (theirs == ours || theirs == ours / "") {
    config->storePathCommitLog = entry->value;
    return;
  }
  warnings->push_back(reader->Where(*entry) + ": storePathCommitLog = \"" + entry->value +
                      "\" ignored: the commit log always lives in " + config->storePathRootDir +
                      "/commitlog");
}

}  // namespace

const char* FlushDiskTypeName(FlushDiskType type) {
  return type == FlushDiskType::kSyncFlush ? "SYNC_FLUSH" : "ASYNC_FLUSH";
}

const char* BrokerRoleName(BrokerRole role) {
  switch (role) {
    case BrokerRole::kAsyncMaster:
      return "ASYNC_MASTER";
    case BrokerRole::kSyncMaster:
      return "SYNC_MASTER";
    case BrokerRole::kSlave:
      return "SLAVE";
  }
  return "?";
}

Result<BrokerConfig> LoadBrokerConfig(const Properties& props, std::vector<std::string>* warnings) {
  std::vector<std::string> dropped;
  if (warnings == nullptr) warnings = &dropped;
  BrokerConfig config;
  ConfigReader reader(props);
  for (const Int32Key& k : kInt32Keys) {
    MQ_RETURN_IF_ERROR(reader.ReadInt32(k.name, k.min, k.max, &(config.*k.field)));
    if (const PropertyEntry* entry = props.Find(k.name); entry != nullptr && k.check != nullptr) {
      if (auto problem = k.check(config.*k.field)) {
        return reader.BadValue(*entry, problem->what, problem->allowed);
      }
    }
  }
  for (const Int64Key& k : kInt64Keys) {
    MQ_RETURN_IF_ERROR(reader.ReadInt64(k.name, k.min, k.max, &(config.*k.field)));
  }
  for (const BoolKey& k : kBoolKeys)
    MQ_RETURN_IF_ERROR(reader.ReadBool(k.name, &(config.*k.field)));
  for (const StringKey& k : kStringKeys) {
    const PropertyEntry* entry = reader.Take(k.name);
    if (entry == nullptr) continue;
    auto problem = k.check != nullptr ? k.check(entry->value) : CheckNonEmpty(entry->value);
    if (problem) return reader.BadValue(*entry, problem->what, problem->allowed);
    config.*k.field = entry->value;
  }
  if (props.Contains("haListenPort")) {
    int32_t port = 0;
    MQ_RETURN_IF_ERROR(reader.ReadInt32("haListenPort", 0, kMaxPort, &port));
    config.haListenPort = port;
  }
  MQ_RETURN_IF_ERROR(reader.ReadEnum<FlushDiskType>(
      "flushDiskType",
      {{"ASYNC_FLUSH", FlushDiskType::kAsyncFlush}, {"SYNC_FLUSH", FlushDiskType::kSyncFlush}},
      &config.flushDiskType));
  MQ_RETURN_IF_ERROR(reader.ReadEnum<BrokerRole>("brokerRole",
                                                 {{"ASYNC_MASTER", BrokerRole::kAsyncMaster},
                                                  {"SYNC_MASTER", BrokerRole::kSyncMaster},
                                                  {"SLAVE", BrokerRole::kSlave}},
                                                 &config.brokerRole));
  ReadStorePathCommitLog(&reader, &config, warnings);

  // As RocketMQ's BrokerStartup: a master is broker 0 whatever the file says; a slave must
  // have its own id.
  if (const PropertyEntry* entry = props.Find("brokerId")) {
    if (config.brokerRole != BrokerRole::kSlave && config.brokerId != 0) {
      warnings->push_back(reader.Where(*entry) + ": brokerId = " + entry->value +
                          " ignored: with brokerRole = " + BrokerRoleName(config.brokerRole) +
                          " the brokerId is 0");
      config.brokerId = 0;
    }
  }
  if (config.brokerRole == BrokerRole::kSlave && config.brokerId == 0) {
    const PropertyEntry* entry = props.Find("brokerId");
    std::string where = entry != nullptr ? reader.Where(*entry) : props.source();
    return Status::InvalidArgument(where +
                                   ": brokerId = 0 with brokerRole = SLAVE; allowed: a "
                                   "slave's brokerId is 1 or more");
  }
  if (config.brokerIP1.empty()) config.brokerIP1 = DefaultBrokerIp();

  reader.AppendWarnings(warnings);
  Status valid = ValidateBrokerConfig(config);
  if (!valid.ok()) return valid.WithContext(props.source());
  return config;
}

Status ValidateBrokerConfig(const BrokerConfig& config) {
  MQ_RETURN_IF_ERROR(ValidateFields(config));
  if (config.haListenPort.has_value() &&
      (*config.haListenPort < 0 || *config.haListenPort > kMaxPort)) {
    return BadField("haListenPort", std::to_string(*config.haListenPort),
                    {"out of range", Range(0, kMaxPort)});
  }
  int32_t ha_port = HaListenPort(config);
  if (ha_port > kMaxPort) {
    return Status::InvalidArgument(
        "haListenPort is unset and listenPort + 1 = " + std::to_string(ha_port) +
        " is not a port; set haListenPort explicitly");
  }
  if (ha_port != 0 && ha_port == config.listenPort) {
    return BadField("haListenPort", std::to_string(ha_port),
                    {"the same as listenPort", "a port other than listenPort"});
  }
  if (config.brokerRole == BrokerRole::kSlave ? config.brokerId == 0 : config.brokerId != 0) {
    return BadField("brokerId", std::to_string(config.brokerId),
                    {std::string("wrong for brokerRole ") + BrokerRoleName(config.brokerRole),
                     "0 for a master, 1 or more for a slave"});
  }
  Status store = ToStoreOptions(config).Validate();
  if (!store.ok()) return store.WithContext("store options from the broker config");
  return Status::OK();
}

std::string DefaultBrokerIp() {
  std::string ip = "127.0.0.1";
  struct ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return ip;
  for (struct ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET) continue;
    if ((i->ifa_flags & IFF_UP) == 0 || (i->ifa_flags & IFF_LOOPBACK) != 0) continue;
    const auto* addr = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
    if ((ntohl(addr->sin_addr.s_addr) >> 24) == 127) continue;
    char text[INET_ADDRSTRLEN];
    if (::inet_ntop(AF_INET, &addr->sin_addr, text, sizeof(text)) != nullptr) {
      ip = text;
      break;
    }
  }
  ::freeifaddrs(list);
  return ip;
}

std::string BrokerAddress(const BrokerConfig& config) {
  std::string ip = config.brokerIP1.empty() ? DefaultBrokerIp() : config.brokerIP1;
  return ip + ":" + std::to_string(config.listenPort);
}

int32_t HaListenPort(const BrokerConfig& config) {
  if (config.haListenPort.has_value()) return *config.haListenPort;
  return config.listenPort == 0 ? 0 : config.listenPort + 1;
}

std::vector<std::string> NamesrvAddresses(const BrokerConfig& config) {
  return SplitNamesrvAddr(config.namesrvAddr);
}

mqstore::StoreOptions ToStoreOptions(const BrokerConfig& config) {
  mqstore::StoreOptions o;
  o.commitlog_segment_bytes = static_cast<uint64_t>(std::max(config.mappedFileSizeCommitLog, 0));
  o.flush_mode = config.flushDiskType == FlushDiskType::kSyncFlush ? mqstore::FlushMode::kSync
                                                                   : mqstore::FlushMode::kAsync;
  o.flush_interval_ms = config.flushIntervalCommitLog;
  o.cached_log_window_bytes =
      static_cast<uint64_t>(std::max<int64_t>(config.pageCacheWindowCommitLog, 0));
  o.log_zero_ahead_bytes = static_cast<uint64_t>(std::max<int64_t>(config.zeroAheadCommitLog, 0));
  o.sync_flush_timeout_ms = config.syncFlushTimeout;
  o.max_message_bytes = static_cast<uint32_t>(std::max(config.maxMessageSize, 0));
  // The SYNC_FLUSH write buffer must hold the largest message and more (Validate wants
  // max_message_bytes + 64 KiB); twice the largest message lets two of them share a sync.
  o.write_buffer_bytes =
      std::max<uint64_t>(o.write_buffer_bytes, uint64_t{o.max_message_bytes} * 2);
  o.delay_levels = config.messageDelayLevel;
  o.file_reserved_ms = int64_t{config.fileReservedTime} * 60 * 60 * 1000;
  o.delete_when = config.deleteWhen;
  o.disk_clean_percent = config.diskMaxUsedSpaceRatio;
  if (auto host = mqstore::SocketAddress::Parse(BrokerAddress(config))) o.store_host = *host;
  o.enable_index = config.messageIndexEnable;
  o.index_slots_per_file = static_cast<uint32_t>(config.maxHashSlotNum);
  o.index_entries_per_file = static_cast<uint32_t>(config.maxIndexNum);
  o.transaction_timeout_ms = config.transactionTimeOut;
  o.transaction_check_max = config.transactionCheckMax;
  return o;
}

}  // namespace mqbroker

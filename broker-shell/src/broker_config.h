// BrokerConfig: the broker's settings as read from broker.conf (RocketMQ's key names and,
// unless noted, RocketMQ's defaults), and what the store gets from them.
//
// Fields are named exactly as the broker.conf keys so that a key can be found in code by
// grep. The struct is plain data: command-line overrides assign fields directly. Keys,
// defaults and validation are listed in docs/design/0006-server-configuration.md.
#ifndef MQBROKER_BROKER_CONFIG_H_
#define MQBROKER_BROKER_CONFIG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mqstore/options.h"
#include "mqstore/status.h"
#include "server_common/properties.h"

namespace mqbroker {

enum class FlushDiskType { kAsyncFlush, kSyncFlush };
enum class BrokerRole { kAsyncMaster, kSyncMaster, kSlave };

// "ASYNC_FLUSH", "SYNC_FLUSH".
const char* FlushDiskTypeName(FlushDiskType type);
// "ASYNC_MASTER", "SYNC_MASTER", "SLAVE".
const char* BrokerRoleName(BrokerRole role);

// RocketMQ's PermName bits, for brokerPermission.
inline constexpr int32_t kPermWrite = 2;
inline constexpr int32_t kPermRead = 4;

struct BrokerConfig {
  // ---- Identity
  std::string brokerClusterName = "DefaultCluster";
  std::string brokerName = "broker-a";
  // 0 is the master. A master's brokerId is always 0 (RocketMQ forces it); a slave's is > 0.
  int64_t brokerId = 0;
  // The IPv4 address clients are told to connect to. Empty: DefaultBrokerIp().
  std::string brokerIP1;
  // Name servers, "host:port;host:port"; empty: register nowhere.
  std::string namesrvAddr;

  // ---- Network
  // 0 binds an ephemeral port (tests).
  int32_t listenPort = 10911;
  // The local address to listen on (RocketMQ 5's bindAddress): 0.0.0.0 for every interface,
  // 127.0.0.1 for loopback only.
  std::string bindAddress = "0.0.0.0";
  // Unset: listenPort + 1 (see HaListenPort).
  std::optional<int32_t> haListenPort;

  // ---- Store (see ToStoreOptions)
  // RocketMQ's default is ~/store; ours is relative to the working directory.
  std::string storePathRootDir = "./data";
  // Empty: <storePathRootDir>/commitlog, the only place this store keeps its log; another
  // value is ignored with a warning.
  std::string storePathCommitLog;
  int32_t mappedFileSizeCommitLog = 1 << 30;
  // Ours: StoreOptions::cached_log_window_bytes (durable log pages further behind the append
  // position are dropped from the page cache so their memory is reused; 0: never).
  int64_t pageCacheWindowCommitLog = int64_t{256} << 20;
  // Ours: StoreOptions::log_zero_ahead_bytes (SYNC_FLUSH: the log is written with zeros this
  // far ahead of the append position, so that syncs find its blocks written; 0: never).
  int64_t zeroAheadCommitLog = int64_t{64} << 20;
  FlushDiskType flushDiskType = FlushDiskType::kAsyncFlush;
  int32_t flushIntervalCommitLog = 500;  // ms, ASYNC_FLUSH
  int32_t syncFlushTimeout = 5000;       // ms, SYNC_FLUSH
  BrokerRole brokerRole = BrokerRole::kAsyncMaster;
  std::string deleteWhen = "04";       // hours 00-23 separated by ';'
  int32_t fileReservedTime = 72;       // hours
  int32_t diskMaxUsedSpaceRatio = 75;  // percent, 10..95
  int32_t maxMessageSize = 4 * 1024 * 1024;
  std::string messageDelayLevel = "1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h";
  bool messageIndexEnable = true;
  // Hash slots and entries of one index file (RocketMQ's MessageStoreConfig keys; the
  // defaults make 420 MB files).
  int32_t maxHashSlotNum = 5'000'000;
  int32_t maxIndexNum = 20'000'000;
  int64_t transactionTimeOut = 6000;         // ms before a half message is checked
  int32_t transactionCheckMax = 15;          // checks before a half message is given up
  int64_t transactionCheckInterval = 60000;  // ms between check scans

  // ---- Topics and groups
  bool autoCreateTopicEnable = true;
  bool autoCreateSubscriptionGroup = true;
  int32_t defaultTopicQueueNums = 8;
  int32_t brokerPermission = kPermRead | kPermWrite;
  bool traceTopicEnable = false;
  bool enablePropertyFilter = false;

  // ---- Request processing
  // Threads for send-backs and transaction ends. Sends themselves run on the I/O threads
  // and never wait for the disk (docs/design/0009-send-path.md).
  int32_t sendMessageThreadPoolNums = 4;
  // RocketMQ: 16 + 2 x cores. Pulls read mapped memory and parked long polls hold no thread.
  int32_t pullMessageThreadPoolNums = 8;
  // Queue of that executor, and the most sends that may wait for the disk (SYNC_FLUSH) at
  // once; past either, SYSTEM_BUSY.
  int32_t sendThreadPoolQueueCapacity = 10000;
  int32_t pullThreadPoolQueueCapacity = 100000;
  // A send-back or transaction end that waited longer than this in the queue is answered
  // SYSTEM_BUSY.
  int32_t waitTimeMillsInSendQueue = 200;
  // RocketMQ's page-cache-busy back-off. Read and checked, not used yet.
  int32_t osPageCacheBusyTimeOutMills = 1000;
  bool longPollingEnable = true;
  int32_t shortPollingTimeMills = 1000;

  // ---- Name server registration
  int32_t registerNameServerPeriod = 30000;  // ms
};

// Reads a broker config: each key present in `props` replaces its default. Unknown keys and
// ignored values add a warning to `warnings` (also the parser's warnings), naming the line.
// kInvalidArgument naming the key, the value and what is allowed for a bad value. When
// brokerIP1 is absent or empty it is set to DefaultBrokerIp(). `warnings` may be null.
mqstore::Result<BrokerConfig> LoadBrokerConfig(const mqserver::Properties& props,
                                               std::vector<std::string>* warnings);

// Checks the relations between fields that make sense only together (also after command-line
// overrides): haListenPort fits, a slave has brokerId > 0, and the store accepts its options.
mqstore::Status ValidateBrokerConfig(const BrokerConfig& config);

// The first non-loopback IPv4 address of this host's interfaces that are up, else "127.0.0.1".
std::string DefaultBrokerIp();

// "brokerIP1:listenPort" (DefaultBrokerIp() when brokerIP1 is empty).
std::string BrokerAddress(const BrokerConfig& config);
// haListenPort, or listenPort + 1 when unset (0 when listenPort is 0: ephemeral too).
int32_t HaListenPort(const BrokerConfig& config);
// namesrvAddr split on ';', blanks trimmed, empty entries dropped.
std::vector<std::string> NamesrvAddresses(const BrokerConfig& config);

// The store's options from the storage keys (the directory is storePathRootDir).
mqstore::StoreOptions ToStoreOptions(const BrokerConfig& config);

}  // namespace mqbroker

#endif  // MQBROKER_BROKER_CONFIG_H_

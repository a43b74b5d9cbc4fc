#include "broker_config.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

namespace mqbroker {
namespace {

using mqserver::Properties;

Properties Parse(std::string_view text) {
  auto props = mqserver::ParsePropertiesText(text, "broker.conf");
  EXPECT_TRUE(props.ok()) << props.status().ToString();
  return props.ok() ? std::move(props).value() : Properties();
}

mqstore::Result<BrokerConfig> Load(std::string_view text,
                                   std::vector<std::string>* warnings = nullptr) {
  std::vector<std::string> ignored;
  return LoadBrokerConfig(Parse(text), warnings != nullptr ? warnings : &ignored);
}

TEST(BrokerConfigTest, DefaultsAreRocketMqs) {
  BrokerConfig c;
  EXPECT_EQ(c.brokerClusterName, "DefaultCluster");
  EXPECT_EQ(c.brokerName, "broker-a");
  EXPECT_EQ(c.brokerId, 0);
  EXPECT_EQ(c.brokerIP1, "");
  EXPECT_EQ(c.namesrvAddr, "");
  EXPECT_EQ(c.listenPort, 10911);
  EXPECT_EQ(HaListenPort(c), 10912);
  EXPECT_EQ(c.storePathRootDir, "./data");
  EXPECT_EQ(c.storePathCommitLog, "");
  EXPECT_EQ(c.mappedFileSizeCommitLog, 1 << 30);
  EXPECT_EQ(c.flushDiskType, FlushDiskType::kAsyncFlush);
  EXPECT_EQ(c.flushIntervalCommitLog, 500);
  EXPECT_EQ(c.syncFlushTimeout, 5000);
  EXPECT_EQ(c.brokerRole, BrokerRole::kAsyncMaster);
  EXPECT_EQ(c.deleteWhen, "04");
  EXPECT_EQ(c.fileReservedTime, 72);
  EXPECT_EQ(c.diskMaxUsedSpaceRatio, 75);
  EXPECT_TRUE(c.autoCreateTopicEnable);
  EXPECT_TRUE(c.autoCreateSubscriptionGroup);
  EXPECT_EQ(c.defaultTopicQueueNums, 8);
  EXPECT_EQ(c.messageDelayLevel, "1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h");
  EXPECT_EQ(c.maxMessageSize, 4194304);
  EXPECT_EQ(c.brokerPermission, 6);
  EXPECT_EQ(c.sendMessageThreadPoolNums, 4);
  EXPECT_EQ(c.pullMessageThreadPoolNums, 8);
  EXPECT_EQ(c.sendThreadPoolQueueCapacity, 10000);
  EXPECT_EQ(c.pullThreadPoolQueueCapacity, 100000);
  EXPECT_TRUE(c.longPollingEnable);
  EXPECT_EQ(c.shortPollingTimeMills, 1000);
  EXPECT_EQ(c.registerNameServerPeriod, 30000);
  EXPECT_EQ(c.transactionTimeOut, 6000);
  EXPECT_EQ(c.transactionCheckMax, 15);
  EXPECT_EQ(c.transactionCheckInterval, 60000);
  EXPECT_FALSE(c.traceTopicEnable);
  EXPECT_FALSE(c.enablePropertyFilter);
  EXPECT_TRUE(c.messageIndexEnable);
  EXPECT_EQ(c.waitTimeMillsInSendQueue, 200);
  EXPECT_EQ(c.osPageCacheBusyTimeOutMills, 1000);
  EXPECT_TRUE(ValidateBrokerConfig(c).ok());
}

TEST(BrokerConfigTest, AnEmptyFileGivesTheDefaultsAndAResolvedIp) {
  std::vector<std::string> warnings;
  auto c = Load("", &warnings);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(warnings.empty());
  EXPECT_EQ(c->brokerIP1, DefaultBrokerIp());
  EXPECT_EQ(c->listenPort, 10911);
  EXPECT_EQ(c->brokerName, "broker-a");
}

TEST(BrokerConfigTest, EveryKeyIsRead) {
  std::vector<std::string> warnings;
  auto c = Load(
      "brokerClusterName = ProdCluster\n"
      "brokerName = broker-b\n"
      "brokerId = 2\n"
      "brokerRole = SLAVE\n"
      "brokerIP1 = 10.1.2.3\n"
      "namesrvAddr = ns1:9876;10.0.0.2:9877\n"
      "listenPort = 20911\n"
      "haListenPort = 30912\n"
      "storePathRootDir = /var/lib/mqstore/data\n"
      "storePathCommitLog = /var/lib/mqstore/data/commitlog\n"
      "mappedFileSizeCommitLog = 104857600\n"
      "flushDiskType = SYNC_FLUSH\n"
      "flushIntervalCommitLog = 250\n"
      "syncFlushTimeout = 3000\n"
      "deleteWhen = 01;13\n"
      "fileReservedTime = 48\n"
      "diskMaxUsedSpaceRatio = 80\n"
      "autoCreateTopicEnable = false\n"
      "autoCreateSubscriptionGroup = false\n"
      "defaultTopicQueueNums = 4\n"
      "messageDelayLevel = 1s 10s 1m 1h 1d\n"
      "maxMessageSize = 1048576\n"
      "brokerPermission = 4\n"
      "sendMessageThreadPoolNums = 2\n"
      "pullMessageThreadPoolNums = 12\n"
      "sendThreadPoolQueueCapacity = 500\n"
      "pullThreadPoolQueueCapacity = 600\n"
      "longPollingEnable = false\n"
      "shortPollingTimeMills = 700\n"
      "registerNameServerPeriod = 10000\n"
      "transactionTimeOut = 3000\n"
      "transactionCheckMax = 5\n"
      "transactionCheckInterval = 20000\n"
      "traceTopicEnable = true\n"
      "enablePropertyFilter = true\n"
      "messageIndexEnable = false\n"
      "waitTimeMillsInSendQueue = 300\n"
      "osPageCacheBusyTimeOutMills = 900\n",
      &warnings);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(warnings.empty()) << warnings[0];
  EXPECT_EQ(c->brokerClusterName, "ProdCluster");
  EXPECT_EQ(c->brokerName, "broker-b");
  EXPECT_EQ(c->brokerId, 2);
  EXPECT_EQ(c->brokerRole, BrokerRole::kSlave);
  EXPECT_EQ(c->brokerIP1, "10.1.2.3");
  EXPECT_EQ(c->namesrvAddr, "ns1:9876;10.0.0.2:9877");
  EXPECT_EQ(c->listenPort, 20911);
  EXPECT_EQ(c->haListenPort, 30912);
  EXPECT_EQ(HaListenPort(*c), 30912);
  EXPECT_EQ(c->storePathRootDir, "/var/lib/mqstore/data");
  EXPECT_EQ(c->storePathCommitLog, "/var/lib/mqstore/data/commitlog");
  EXPECT_EQ(c->mappedFileSizeCommitLog, 104857600);
  EXPECT_EQ(c->flushDiskType, FlushDiskType::kSyncFlush);
  EXPECT_EQ(c->flushIntervalCommitLog, 250);
  EXPECT_EQ(c->syncFlushTimeout, 3000);
  EXPECT_EQ(c->deleteWhen, "01;13");
  EXPECT_EQ(c->fileReservedTime, 48);
  EXPECT_EQ(c->diskMaxUsedSpaceRatio, 80);
  EXPECT_FALSE(c->autoCreateTopicEnable);
  EXPECT_FALSE(c->autoCreateSubscriptionGroup);
  EXPECT_EQ(c->defaultTopicQueueNums, 4);
  EXPECT_EQ(c->messageDelayLevel, "1s 10s 1m 1h 1d");
  EXPECT_EQ(c->maxMessageSize, 1048576);
  EXPECT_EQ(c->brokerPermission, 4);
  EXPECT_EQ(c->sendMessageThreadPoolNums, 2);
  EXPECT_EQ(c->pullMessageThreadPoolNums, 12);
  EXPECT_EQ(c->sendThreadPoolQueueCapacity, 500);
  EXPECT_EQ(c->pullThreadPoolQueueCapacity, 600);
  EXPECT_FALSE(c->longPollingEnable);
  EXPECT_EQ(c->shortPollingTimeMills, 700);
  EXPECT_EQ(c->registerNameServerPeriod, 10000);
  EXPECT_EQ(c->transactionTimeOut, 3000);
  EXPECT_EQ(c->transactionCheckMax, 5);
  EXPECT_EQ(c->transactionCheckInterval, 20000);
  EXPECT_TRUE(c->traceTopicEnable);
  EXPECT_TRUE(c->enablePropertyFilter);
  EXPECT_FALSE(c->messageIndexEnable);
  EXPECT_EQ(c->waitTimeMillsInSendQueue, 300);
  EXPECT_EQ(c->osPageCacheBusyTimeOutMills, 900);
}

TEST(BrokerConfigTest, UnknownKeysAreWarningsNamingKeyAndLine) {
  std::vector<std::string> warnings;
  auto c = Load("listenPort=10911\nflushCommitLogLeastPages=4\n", &warnings);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0], "broker.conf:2: unknown key \"flushCommitLogLeastPages\" ignored");
}

TEST(BrokerConfigTest, ParserWarningsArePassedOn) {
  std::vector<std::string> warnings;
  auto c = Load("listenPort=1000\nlistenPort=2000\n", &warnings);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->listenPort, 2000);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("duplicate key \"listenPort\""), std::string::npos);
}

TEST(BrokerConfigTest, AnotherCommitLogDirectoryIsIgnoredWithAWarning) {
  std::vector<std::string> warnings;
  auto same = Load("storePathRootDir=./d\nstorePathCommitLog=d/commitlog/\n", &warnings);
  ASSERT_TRUE(same.ok());
  EXPECT_TRUE(warnings.empty());
  auto other = Load("storePathRootDir=./d\nstorePathCommitLog=/ssd/commitlog\n", &warnings);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->storePathCommitLog, "");
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("broker.conf:2: storePathCommitLog = \"/ssd/commitlog\" ignored"),
            std::string::npos)
      << warnings[0];
  EXPECT_NE(warnings[0].find("d/commitlog"), std::string::npos);
}

struct BadValueCase {
  std::string key;
  std::string value;
  std::string allowed;  // a part of what the message says is allowed
};

class BrokerConfigBadValueTest : public testing::TestWithParam<BadValueCase> {};

TEST_P(BrokerConfigBadValueTest, IsRejectedNamingKeyValueAndWhatIsAllowed) {
  const BadValueCase& bad = GetParam();
  auto c = Load("\n" + bad.key + " = " + bad.value + "\n");
  ASSERT_FALSE(c.ok()) << bad.key << " = " << bad.value;
  EXPECT_TRUE(c.status().IsInvalidArgument());
  std::string_view msg = c.status().message();
  EXPECT_NE(msg.find("broker.conf:2: " + bad.key + " = \"" + bad.value + "\""),
            std::string_view::npos)
      << msg;
  EXPECT_NE(msg.find("allowed: "), std::string_view::npos) << msg;
  EXPECT_NE(msg.find(bad.allowed), std::string_view::npos) << msg;
}

INSTANTIATE_TEST_SUITE_P(EveryKind, BrokerConfigBadValueTest,
                         testing::Values(
                             // not a number / out of range
                             BadValueCase{"listenPort", "abc", "0..65535"},
                             BadValueCase{"listenPort", "70000", "0..65535"},
                             BadValueCase{"listenPort", "-1", "0..65535"},
                             BadValueCase{"haListenPort", "port", "0..65535"},
                             BadValueCase{"brokerId", "1.5", "0..2147483647"},
                             BadValueCase{"diskMaxUsedSpaceRatio", "99", "10..95"},
                             BadValueCase{"maxMessageSize", "0", "1..67108864"},
                             BadValueCase{"sendMessageThreadPoolNums", "0", "1..256"},
                             BadValueCase{"transactionTimeOut", "soon", "1.."},
                             BadValueCase{"mappedFileSizeCommitLog", "5000", "multiples of 4096"},
                             BadValueCase{"brokerPermission", "3", "6 (read and write)"},
                             // booleans
                             BadValueCase{"autoCreateTopicEnable", "yes", "true, false"},
                             BadValueCase{"longPollingEnable", "1", "true, false"},
                             // enums
                             BadValueCase{"flushDiskType", "FAST_FLUSH", "ASYNC_FLUSH, SYNC_FLUSH"},
                             BadValueCase{"flushDiskType", "sync_flush", "ASYNC_FLUSH, SYNC_FLUSH"},
                             BadValueCase{"brokerRole", "MASTER",
                                          "ASYNC_MASTER, SYNC_MASTER, SLAVE"},
                             // addresses
                             BadValueCase{"namesrvAddr", "127.0.0.1", "host:port"},
                             BadValueCase{"namesrvAddr", "ns1:9876;ns2:0", "port 1..65535"},
                             BadValueCase{"namesrvAddr", "ns1:9876,ns2:9876", "separated by ';'"},
                             BadValueCase{"brokerIP1", "broker.local", "IPv4"},
                             BadValueCase{"brokerIP1", "0.0.0.0", "IPv4"},
                             // schedules
                             BadValueCase{"deleteWhen", "24", "hours 00-23"},
                             BadValueCase{"deleteWhen", "04;x", "hours 00-23"},
                             BadValueCase{"deleteWhen", "", "hours 00-23"},
                             BadValueCase{"messageDelayLevel", "1s 5x", "unit s, m, h or d"},
                             BadValueCase{"messageDelayLevel", "0s", "positive number"},
                             BadValueCase{"messageDelayLevel", "", "1 to 1024 delays"},
                             // names
                             BadValueCase{"brokerName", "", "non-empty"},
                             BadValueCase{"storePathRootDir", "", "non-empty"}));

TEST(BrokerConfigTest, BadDelayLevelMessageNamesTheLevel) {
  auto c = Load("messageDelayLevel = 1s 5s 7q\n");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("level 3 \"7q\""), std::string_view::npos)
      << c.status().ToString();
}

TEST(BrokerConfigTest, AMasterIsAlwaysBrokerZero) {
  std::vector<std::string> warnings;
  auto c = Load("brokerRole = SYNC_MASTER\nbrokerId = 3\n", &warnings);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->brokerId, 0);
  EXPECT_EQ(c->brokerRole, BrokerRole::kSyncMaster);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("broker.conf:2: brokerId = 3 ignored"), std::string::npos)
      << warnings[0];
}

TEST(BrokerConfigTest, ASlaveNeedsABrokerIdAboveZero) {
  auto c = Load("brokerRole = SLAVE\n");
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(c.status().IsInvalidArgument());
  EXPECT_NE(c.status().message().find("brokerId"), std::string_view::npos);
  EXPECT_TRUE(Load("brokerRole = SLAVE\nbrokerId = 1\n").ok());
}

TEST(BrokerConfigTest, HaListenPortFollowsListenPort) {
  auto c = Load("listenPort = 0\n");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(HaListenPort(*c), 0);  // both ephemeral
  c = Load("listenPort = 12000\n");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(HaListenPort(*c), 12001);

  auto no_room = Load("listenPort = 65535\n");
  ASSERT_FALSE(no_room.ok());
  EXPECT_NE(no_room.status().message().find("haListenPort"), std::string_view::npos);
  EXPECT_TRUE(Load("listenPort = 65535\nhaListenPort = 10912\n").ok());

  auto same = Load("listenPort = 12000\nhaListenPort = 12000\n");
  ASSERT_FALSE(same.ok());
  EXPECT_NE(same.status().message().find("the same as listenPort"), std::string_view::npos);
}

TEST(BrokerConfigTest, ValidateCatchesOverridesSetInCode) {
  BrokerConfig c;
  c.listenPort = 70000;
  mqstore::Status s = ValidateBrokerConfig(c);
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("listenPort = \"70000\""), std::string_view::npos) << s.ToString();
  c = BrokerConfig();
  c.deleteWhen = "25";
  EXPECT_NE(ValidateBrokerConfig(c).message().find("deleteWhen"), std::string_view::npos);
  c = BrokerConfig();
  c.brokerId = 1;  // on a master
  EXPECT_FALSE(ValidateBrokerConfig(c).ok());
}

TEST(BrokerConfigTest, NamesrvAddressesSplitOnSemicolons) {
  BrokerConfig c;
  EXPECT_TRUE(NamesrvAddresses(c).empty());
  c.namesrvAddr = " ns1:9876 ; 10.0.0.2:9877;";
  EXPECT_EQ(NamesrvAddresses(c), (std::vector<std::string>{"ns1:9876", "10.0.0.2:9877"}));
  EXPECT_TRUE(Load("namesrvAddr = ns1:9876;\n").ok());
}

TEST(BrokerConfigTest, BrokerAddressIsIpColonPort) {
  BrokerConfig c;
  c.brokerIP1 = "10.1.2.3";
  c.listenPort = 10921;
  EXPECT_EQ(BrokerAddress(c), "10.1.2.3:10921");
  c.brokerIP1.clear();
  EXPECT_EQ(BrokerAddress(c), DefaultBrokerIp() + ":10921");
}

TEST(BrokerConfigTest, DefaultBrokerIpIsAnIpv4AddressOutsideLoopbackUnlessThereIsNone) {
  std::string ip = DefaultBrokerIp();
  in_addr addr;
  ASSERT_EQ(inet_pton(AF_INET, ip.c_str(), &addr), 1) << ip;
  if (ip.rfind("127.", 0) == 0) {
    EXPECT_EQ(ip, "127.0.0.1");
  }
}

TEST(BrokerConfigTest, StoreOptionsFromTheDefaults) {
  BrokerConfig c;
  c.brokerIP1 = "10.1.2.3";
  mqstore::StoreOptions o = ToStoreOptions(c);
  mqstore::StoreOptions d;
  EXPECT_EQ(o.flush_mode, mqstore::FlushMode::kAsync);
  EXPECT_EQ(o.flush_interval_ms, 500);
  EXPECT_EQ(o.sync_flush_timeout_ms, 5000);
  EXPECT_EQ(o.commitlog_segment_bytes, 1ull << 30);
  EXPECT_EQ(o.max_message_bytes, 4u << 20);
  EXPECT_EQ(o.delay_levels, d.delay_levels);
  EXPECT_EQ(o.file_reserved_ms, int64_t{72} * 3600 * 1000);
  EXPECT_EQ(o.delete_when, "04");
  EXPECT_EQ(o.disk_clean_percent, 75);
  EXPECT_EQ(o.store_host, mqstore::SocketAddress::V4(10, 1, 2, 3, 10911));
  EXPECT_TRUE(o.enable_index);
  EXPECT_EQ(o.transaction_timeout_ms, 6000);
  EXPECT_EQ(o.transaction_check_max, 15);
  EXPECT_EQ(o.write_buffer_bytes, d.write_buffer_bytes);
  EXPECT_EQ(o.cached_log_window_bytes, d.cached_log_window_bytes);
  EXPECT_EQ(o.log_zero_ahead_bytes, d.log_zero_ahead_bytes);
  EXPECT_TRUE(o.Validate().ok()) << o.Validate().ToString();
}

TEST(BrokerConfigTest, StoreOptionsFromASyncFlushConfig) {
  auto c = Load(
      "brokerIP1 = 192.168.7.9\n"
      "listenPort = 20911\n"
      "flushDiskType = SYNC_FLUSH\n"
      "flushIntervalCommitLog = 100\n"
      "syncFlushTimeout = 2500\n"
      "mappedFileSizeCommitLog = 67108864\n"
      "maxMessageSize = 33554432\n"
      "messageDelayLevel = 1s 2s\n"
      "fileReservedTime = 1\n"
      "deleteWhen = 02;14\n"
      "diskMaxUsedSpaceRatio = 60\n"
      "messageIndexEnable = false\n"
      "transactionTimeOut = 1000\n"
      "transactionCheckMax = 3\n"
      "pageCacheWindowCommitLog = 0\n"
      "zeroAheadCommitLog = 8388608\n");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  mqstore::StoreOptions o = ToStoreOptions(*c);
  EXPECT_EQ(o.cached_log_window_bytes, 0u);
  EXPECT_EQ(o.log_zero_ahead_bytes, 8u << 20);
  EXPECT_EQ(o.flush_mode, mqstore::FlushMode::kSync);
  EXPECT_EQ(o.flush_interval_ms, 100);
  EXPECT_EQ(o.sync_flush_timeout_ms, 2500);
  EXPECT_EQ(o.commitlog_segment_bytes, 64ull << 20);
  EXPECT_EQ(o.max_message_bytes, 32u << 20);
  // The SYNC_FLUSH write buffer grows to hold the largest message.
  EXPECT_GE(o.write_buffer_bytes, (32ull << 20) + (64 << 10));
  EXPECT_EQ(o.delay_levels, "1s 2s");
  EXPECT_EQ(o.file_reserved_ms, 3'600'000);
  EXPECT_EQ(o.delete_when, "02;14");
  EXPECT_EQ(o.disk_clean_percent, 60);
  EXPECT_EQ(o.store_host, mqstore::SocketAddress::V4(192, 168, 7, 9, 20911));
  EXPECT_FALSE(o.enable_index);
  EXPECT_EQ(o.transaction_timeout_ms, 1000);
  EXPECT_EQ(o.transaction_check_max, 3);
  EXPECT_TRUE(o.Validate().ok()) << o.Validate().ToString();
}

TEST(BrokerConfigTest, EnumNames) {
  EXPECT_STREQ(FlushDiskTypeName(FlushDiskType::kSyncFlush), "SYNC_FLUSH");
  EXPECT_STREQ(FlushDiskTypeName(FlushDiskType::kAsyncFlush), "ASYNC_FLUSH");
  EXPECT_STREQ(BrokerRoleName(BrokerRole::kSlave), "SLAVE");
  EXPECT_STREQ(BrokerRoleName(BrokerRole::kSyncMaster), "SYNC_MASTER");
}

}  // namespace
}  // namespace mqbroker

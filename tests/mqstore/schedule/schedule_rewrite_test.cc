// The put-time rewrite (delay level and timer) and the delivery-time restore.
#include "schedule/schedule_rewrite.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "mqstore/schedule/schedule_test_util.h"
#include "schedule/schedule_names.h"
#include "support/test_util.h"

namespace mqstore {
namespace {

using Props = std::vector<std::pair<std::string, std::string>>;
namespace sprop = schedule::prop;

constexpr int64_t kNow = 1'700'000'000'000;
constexpr int64_t kDay = 24 * 3600 * 1000;

Message Original() {
  Message m;
  m.topic = "Orders";
  m.queue_id = 3;
  m.body = "payload";
  m.flag = 7;
  m.sys_flag = sysflag::kCompressed;
  m.born_timestamp_ms = kNow - 5;
  m.born_host = SocketAddress::V4(10, 1, 2, 3, 4567);
  m.reconsume_times = 2;
  m.properties = {{"KEYS", "k1 k2"}, {"TAGS", "TagA"}, {"UNIQ_KEY", "ABC"}, {"custom", "v"}};
  return m;
}

// Rewrites `m` at kNow; the test fails on an error.
std::optional<ScheduleRewrite> Rewrite(const Message& m, const ScheduleRewriteOptions& o = {}) {
  std::string props;
  auto r = RewriteForSchedule(m.View(&props), o, kNow);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : std::nullopt;
}

Status RewriteError(const Message& m, const ScheduleRewriteOptions& o = {}) {
  std::string props;
  auto r = RewriteForSchedule(m.View(&props), o, kNow);
  return r.ok() ? Status::OK() : r.status();
}

// A record as the store would return it for `view` (enough for RestoreForDelivery).
ParsedRecord AsRecord(const MessageView& view, std::string_view stored_properties) {
  ParsedRecord r;
  r.topic = view.topic;
  r.queue_id = view.queue_id;
  r.body = view.body;
  r.flag = view.flag;
  r.properties = stored_properties;
  r.sys_flag = view.sys_flag;
  r.born_timestamp_ms = view.born_timestamp_ms;
  r.born_host = view.born_host;
  r.reconsume_times = view.reconsume_times;
  r.prepared_transaction_offset = view.prepared_transaction_offset;
  r.physical_offset = 4096;
  return r;
}

TEST(ScheduleRewriteTest, MessageWithoutRequestIsNotRewritten) {
  EXPECT_FALSE(Rewrite(Original()).has_value());
}

TEST(ScheduleRewriteTest, DelayLevelParksInLevelQueueWithRealDestination) {
  Message m = Original();
  m.SetProperty("DELAY", "3");
  std::optional<ScheduleRewrite> r = Rewrite(m);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->kind, ScheduleKind::kDelayLevel);
  EXPECT_EQ(r->delay_level, 3);
  EXPECT_EQ(r->topic, "SCHEDULE_TOPIC_XXXX");
  EXPECT_EQ(r->queue_id, 2);
  EXPECT_EQ(FindProperty(r->properties, "REAL_TOPIC"), "Orders");
  EXPECT_EQ(FindProperty(r->properties, "REAL_QID"), "3");
  EXPECT_EQ(FindProperty(r->properties, "DELAY"), "3");
  EXPECT_EQ(FindProperty(r->properties, "custom"), "v");

  std::string props;
  MessageView original = m.View(&props);
  MessageView parked = r->Apply(original);
  EXPECT_EQ(parked.topic, "SCHEDULE_TOPIC_XXXX");
  EXPECT_EQ(parked.queue_id, 2);
  EXPECT_EQ(parked.body.data(), original.body.data());  // not copied
  EXPECT_EQ(parked.flag, 7);
  EXPECT_EQ(parked.sys_flag, sysflag::kCompressed);
  EXPECT_EQ(parked.born_host, original.born_host);
}

TEST(ScheduleRewriteTest, LevelAboveMaximumIsClampedToIt) {
  Message m = Original();
  m.SetProperty("DELAY", "99");
  std::optional<ScheduleRewrite> r = Rewrite(m);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->delay_level, 18);
  EXPECT_EQ(r->queue_id, 17);
  EXPECT_EQ(FindProperty(r->properties, "DELAY"), "18");

  ScheduleRewriteOptions three;
  three.levels = DelayLevels::Parse("1s 2s 3s").value();
  m.SetProperty("DELAY", "2147483647");
  r = Rewrite(m, three);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->delay_level, 3);
  EXPECT_EQ(r->queue_id, 2);
}

TEST(ScheduleRewriteTest, LevelZeroOrNegativeMeansNoDelay) {
  for (const char* level : {"0", "-1", "-100"}) {
    Message m = Original();
    m.SetProperty("DELAY", level);
    EXPECT_FALSE(Rewrite(m).has_value()) << level;
  }
}

TEST(ScheduleRewriteTest, MalformedDelayIsRejected) {
  Message m = Original();
  m.SetProperty("DELAY", "three");
  Status s = RewriteError(m);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.message().find("DELAY = 'three'"), std::string_view::npos) << s.ToString();
}

TEST(ScheduleRewriteTest, DelayLevelWinsOverTimerAndDropsTheTimerRequest) {
  Message m = Original();
  m.SetProperty("TIMER_DELAY_SEC", "60");
  m.SetProperty("__STARTDELIVERTIME", std::to_string(kNow + 5000));
  m.SetProperty("DELAY", "1");
  std::optional<ScheduleRewrite> r = Rewrite(m);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->kind, ScheduleKind::kDelayLevel);
  EXPECT_FALSE(FindProperty(r->properties, "TIMER_DELAY_SEC").has_value());
  EXPECT_FALSE(FindProperty(r->properties, "__STARTDELIVERTIME").has_value());
}

TEST(ScheduleRewriteTest, EveryTimerRequestParksInTheTimerTopic) {
  struct Case {
    const char* name;
    std::string value;
    int64_t deliver_ms;
  };
  for (const Case& c :
       {Case{"TIMER_DELAY_SEC", "90", kNow + 90'000}, Case{"TIMER_DELAY_MS", "1500", kNow + 1'500},
        Case{"TIMER_DELIVER_MS", std::to_string(kNow + 7'000), kNow + 7'000},
        Case{"__STARTDELIVERTIME", std::to_string(kNow + 9'000), kNow + 9'000}}) {
    Message m = Original();
    m.SetProperty(c.name, c.value);
    std::optional<ScheduleRewrite> r = Rewrite(m);
    ASSERT_TRUE(r.has_value()) << c.name;
    EXPECT_EQ(r->kind, ScheduleKind::kTimer);
    EXPECT_EQ(r->deliver_ms, c.deliver_ms) << c.name;
    EXPECT_EQ(r->topic, "rmq_sys_wheel_timer");
    EXPECT_EQ(r->queue_id, 0);
    EXPECT_EQ(FindProperty(r->properties, "TIMER_OUT_MS"), std::to_string(c.deliver_ms));
    EXPECT_EQ(FindProperty(r->properties, "REAL_TOPIC"), "Orders");
    EXPECT_EQ(FindProperty(r->properties, "REAL_QID"), "3");
    EXPECT_FALSE(FindProperty(r->properties, c.name).has_value()) << c.name;
    EXPECT_EQ(TimerOutMs(r->properties), c.deliver_ms);
  }
}

TEST(ScheduleRewriteTest, RelativeRequestsComeBeforeAbsoluteOnes) {
  Message m = Original();
  m.SetProperty("TIMER_DELIVER_MS", std::to_string(kNow + 50'000));
  m.SetProperty("TIMER_DELAY_MS", "2000");
  m.SetProperty("TIMER_DELAY_SEC", "3");
  EXPECT_EQ(Rewrite(m)->deliver_ms, kNow + 3'000);
  m.properties.erase(m.properties.end() - 1);  // without TIMER_DELAY_SEC
  EXPECT_EQ(Rewrite(m)->deliver_ms, kNow + 2'000);
  m.properties.erase(m.properties.end() - 1);  // without TIMER_DELAY_MS
  EXPECT_EQ(Rewrite(m)->deliver_ms, kNow + 50'000);
}

TEST(ScheduleRewriteTest, TimeNowOrInThePastIsDeliveredAtOnce) {
  for (int64_t at : {kNow, kNow - 1, int64_t{0}, int64_t{-5}}) {
    Message m = Original();
    m.SetProperty("TIMER_DELIVER_MS", std::to_string(at));
    EXPECT_FALSE(Rewrite(m).has_value()) << at;
  }
  Message zero = Original();
  zero.SetProperty("TIMER_DELAY_SEC", "0");
  EXPECT_FALSE(Rewrite(zero).has_value());
}

TEST(ScheduleRewriteTest, TimeBeyondTheHorizonIsRejected) {
  Message m = Original();
  m.SetProperty("TIMER_DELIVER_MS", std::to_string(kNow + 3 * kDay));
  EXPECT_TRUE(Rewrite(m).has_value());  // exactly the horizon
  m.SetProperty("TIMER_DELIVER_MS", std::to_string(kNow + 3 * kDay + 1));
  Status s = RewriteError(m);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.message().find("the limit is 259200000 ms"), std::string_view::npos) << s.ToString();

  ScheduleRewriteOptions month;
  month.timer_max_delay_ms = 30 * kDay;
  m.SetProperty("TIMER_DELIVER_MS", std::to_string(kNow + 30 * kDay));
  EXPECT_TRUE(Rewrite(m, month).has_value());
  m.SetProperty("TIMER_DELIVER_MS", std::to_string(kNow + 31 * kDay));
  EXPECT_TRUE(RewriteError(m, month).IsInvalidArgument());
}

TEST(ScheduleRewriteTest, MalformedTimerRequestsAreRejected) {
  struct Case {
    const char* name;
    const char* value;
    const char* why;
  };
  for (const Case& c : {Case{"TIMER_DELAY_SEC", "abc", "not a decimal integer"},
                        Case{"TIMER_DELAY_SEC", "-3", "negative"},
                        Case{"TIMER_DELAY_MS", "12ms", "not a decimal integer"},
                        Case{"TIMER_DELAY_SEC", "9223372036854775", "too large"},
                        Case{"TIMER_DELIVER_MS", "soon", "not a decimal integer"},
                        Case{"__STARTDELIVERTIME", "1e12", "not a decimal integer"}}) {
    Message m = Original();
    m.SetProperty(c.name, c.value);
    Status s = RewriteError(m);
    EXPECT_TRUE(s.IsInvalidArgument()) << c.name << "=" << c.value << ": " << s.ToString();
    EXPECT_NE(s.message().find(c.why), std::string_view::npos) << s.ToString();
    EXPECT_NE(s.message().find(c.name), std::string_view::npos) << s.ToString();
  }
}

TEST(ScheduleRewriteTest, TimerRequestsAreIgnoredWhenTheTimerIsDisabled) {
  ScheduleRewriteOptions off;
  off.timer_enabled = false;
  Message m = Original();
  m.SetProperty("TIMER_DELAY_SEC", "10");
  EXPECT_FALSE(Rewrite(m, off).has_value());
  m.SetProperty("DELAY", "1");  // levels still work
  EXPECT_TRUE(Rewrite(m, off).has_value());
}

TEST(ScheduleRewriteTest, SystemTopicsAndUncommittedTransactionsAreLeftAlone) {
  for (const char* topic : {"SCHEDULE_TOPIC_XXXX", "rmq_sys_wheel_timer"}) {
    Message m = Original();
    m.topic = topic;
    m.SetProperty("DELAY", "2");
    EXPECT_FALSE(Rewrite(m).has_value()) << topic;
  }
  for (int32_t tx : {sysflag::kTransactionPrepared, sysflag::kTransactionRollback}) {
    Message m = Original();
    m.sys_flag = tx;
    m.SetProperty("DELAY", "2");
    EXPECT_FALSE(Rewrite(m).has_value()) << tx;
  }
  Message commit = Original();
  commit.sys_flag = sysflag::kTransactionCommit;
  commit.SetProperty("DELAY", "2");
  EXPECT_TRUE(Rewrite(commit).has_value());
}

// Rewrites `m`, restores the result and checks that the original comes back, minus the
// request properties.
void ExpectRoundTrip(const Message& m, const Props& expected_properties) {
  std::string props;
  MessageView original = m.View(&props);
  original.prepared_transaction_offset = 777;
  auto rewritten = RewriteForSchedule(original, {}, kNow);
  ASSERT_TRUE(rewritten.ok()) << rewritten.status().ToString();
  ASSERT_TRUE(rewritten->has_value());
  MessageView parked = (*rewritten)->Apply(original);
  // The store appends __CRC32#; the restore must drop it.
  std::string stored = std::string(parked.properties) +
                       "__CRC32#\x01"
                       "0123456789\x02";
  ParsedRecord record = AsRecord(parked, stored);

  std::string restored_props;
  MessageView restored;
  ASSERT_OK(RestoreForDelivery(record, &restored_props, &restored));
  EXPECT_EQ(restored.topic, m.topic);
  EXPECT_EQ(restored.queue_id, m.queue_id);
  EXPECT_EQ(restored.body, m.body);
  EXPECT_EQ(restored.flag, m.flag);
  EXPECT_EQ(restored.sys_flag, m.sys_flag);
  EXPECT_EQ(restored.born_timestamp_ms, m.born_timestamp_ms);
  EXPECT_EQ(restored.born_host, m.born_host);
  EXPECT_EQ(restored.reconsume_times, m.reconsume_times);
  EXPECT_EQ(restored.prepared_transaction_offset, 777);
  EXPECT_EQ(DecodeProperties(restored.properties), expected_properties);
  EXPECT_EQ(restored.properties, EncodeProperties(expected_properties));
}

TEST(ScheduleRewriteTest, RestoreGivesBackEveryOriginalPropertyInOrder) {
  Message delayed = Original();
  delayed.properties.insert(delayed.properties.begin() + 1, {"DELAY", "4"});
  ExpectRoundTrip(delayed, Original().properties);

  for (const char* request :
       {"TIMER_DELAY_SEC", "TIMER_DELAY_MS", "TIMER_DELIVER_MS", "__STARTDELIVERTIME"}) {
    Message timed = Original();
    std::string value = std::string(request).find("DELAY") != std::string::npos
                            ? "30"
                            : std::to_string(kNow + 30'000);
    timed.properties.insert(timed.properties.begin() + 2, {request, value});
    ExpectRoundTrip(timed, Original().properties);
  }
}

TEST(ScheduleRewriteTest, RestoreDropsEveryTimerBookkeepingProperty) {
  Props props = {{"REAL_TOPIC", "Orders"},
                 {"REAL_QID", "5"},
                 {"a", "1"},
                 {"TIMER_OUT_MS", "1"},
                 {"TIMER_ENQUEUE_MS", "2"},
                 {"TIMER_DEQUEUE_MS", "3"},
                 {"TIMER_ROLL_TIMES", "4"},
                 {"TIMER_DEL_UNIQKEY", "5"},
                 {"TIMER_DELAY_LEVEL", "6"},
                 {"DELAY", "2"},
                 {"b", "2"},
                 {"__CRC32#", "0000000000"}};
  std::string encoded = EncodeProperties(props);
  MessageView parked;
  parked.topic = "rmq_sys_wheel_timer";
  ParsedRecord record = AsRecord(parked, encoded);
  std::string out_props;
  MessageView out;
  ASSERT_OK(RestoreForDelivery(record, &out_props, &out));
  EXPECT_EQ(out.topic, "Orders");
  EXPECT_EQ(out.queue_id, 5);
  EXPECT_EQ(DecodeProperties(out.properties), (Props{{"a", "1"}, {"b", "2"}}));
}

TEST(ScheduleRewriteTest, RestoreNeedsARealDestination) {
  MessageView parked;
  std::string out_props;
  MessageView out;
  for (const Props& props : {Props{{"REAL_QID", "1"}}, Props{{"REAL_TOPIC", "T"}},
                             Props{{"REAL_TOPIC", "T"}, {"REAL_QID", "x"}},
                             Props{{"REAL_TOPIC", "T"}, {"REAL_QID", "-1"}},
                             Props{{"REAL_TOPIC", "T"}, {"REAL_QID", "4294967296"}}}) {
    std::string encoded = EncodeProperties(props);
    Status s = RestoreForDelivery(AsRecord(parked, encoded), &out_props, &out);
    EXPECT_TRUE(s.IsCorruption()) << encoded << ": " << s.ToString();
  }
}

TEST(ScheduleRewriteTest, RoundTripThroughARealStore) {
  test::ScheduleStoreHarness h;
  h.Open();
  Message m = Original();
  m.sys_flag = 0;  // a real store must be able to decompress nothing here
  m.SetProperty("TIMER_DELAY_SEC", "10");
  std::optional<ScheduleRewrite> r = h.Put(m);
  ASSERT_TRUE(r.has_value());
  std::vector<test::Delivered> parked = h.ReadAll("rmq_sys_wheel_timer", 0);
  ASSERT_EQ(parked.size(), 1u);
  std::string props;
  MessageView restored;
  ASSERT_OK(RestoreForDelivery(parked[0].parsed, &props, &restored));
  ASSERT_TRUE(h.store->Put(restored).ok());
  std::vector<test::Delivered> real = h.ReadAll("Orders", 3);
  ASSERT_EQ(real.size(), 1u);
  EXPECT_EQ(real[0].body, "payload");
  EXPECT_EQ(real[0].parsed.flag, 7);
  EXPECT_EQ(real[0].parsed.born_host, m.born_host);
  EXPECT_EQ(real[0].parsed.reconsume_times, 2);
  Props got = DecodeProperties(real[0].properties);
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.back().first, "__CRC32#");  // the store's own, fresh
  got.pop_back();
  EXPECT_EQ(got, Original().properties);
}

}  // namespace
}  // namespace mqstore

#include "retention/retention_policy.h"

#include <gtest/gtest.h>

#include "support/test_util.h"

namespace mqstore {
namespace {

constexpr int64_t kHour = 60 * 60 * 1000;
constexpr int64_t kNow = 1'700'000'000'000;

RetentionPolicy MakePolicy(RetentionPolicyOptions o = {}) {
  auto p = RetentionPolicy::Create(std::move(o));
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return std::move(p).value();
}

SegmentAge AgedSegment(int64_t age_ms) { return SegmentAge{0, 4096, kNow - age_ms}; }

TEST(ParseDeleteWhenTest, AcceptsOneOrMoreHoursSeparatedBySemicolons) {
  ASSERT_OK_AND_ASSIGN(auto one, ParseDeleteWhen("04"));
  EXPECT_EQ(one.count(), 1u);
  EXPECT_TRUE(one.test(4));
  ASSERT_OK_AND_ASSIGN(auto many, ParseDeleteWhen("01;4;23;0"));
  EXPECT_EQ(many.count(), 4u);
  for (int h : {0, 1, 4, 23}) EXPECT_TRUE(many.test(static_cast<size_t>(h))) << h;
}

TEST(ParseDeleteWhenTest, RejectsAnythingButHoursWithAMessageNamingThePart) {
  for (const char* bad : {"", ";", "04;", ";04", "24", "-1", "4a", "004", "04 ", "four", "1;;2"}) {
    auto r = ParseDeleteWhen(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_TRUE(r.status().IsInvalidArgument()) << bad;
    EXPECT_NE(r.status().ToString().find("delete_when"), std::string::npos) << bad;
  }
  auto r = ParseDeleteWhen("01;25");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().ToString().find("\"25\""), std::string::npos) << r.status().ToString();
}

TEST(RetentionPolicyTest, CreateRejectsBadOptions) {
  auto bad = [](auto change) {
    RetentionPolicyOptions o;
    change(o);
    return RetentionPolicy::Create(o).status().IsInvalidArgument();
  };
  EXPECT_TRUE(bad([](auto& o) { o.delete_when = "4;x"; }));
  EXPECT_TRUE(bad([](auto& o) { o.file_reserved_ms = 0; }));
  EXPECT_TRUE(bad([](auto& o) { o.disk_clean_percent = 0; }));
  EXPECT_TRUE(bad([](auto& o) { o.disk_force_clean_percent = 101; }));
  EXPECT_TRUE(bad([](auto& o) { o.disk_refuse_writes_percent = -5; }));
  EXPECT_TRUE(bad([](auto& o) { o.max_segments_per_round = 0; }));
  EXPECT_TRUE(RetentionPolicy::Create(RetentionPolicyOptions{}).ok());
}

TEST(RetentionPolicyTest, OptionsComeFromTheStoreOptions) {
  StoreOptions s;
  s.file_reserved_ms = 5;
  s.delete_when = "01;02";
  s.disk_clean_percent = 11;
  s.disk_force_clean_percent = 12;
  s.disk_refuse_writes_percent = 13;
  s.retention_max_segments_per_round = 14;
  RetentionPolicyOptions o = RetentionPolicyOptions::From(s);
  EXPECT_EQ(o.file_reserved_ms, 5);
  EXPECT_EQ(o.delete_when, "01;02");
  EXPECT_EQ(o.disk_clean_percent, 11);
  EXPECT_EQ(o.disk_force_clean_percent, 12);
  EXPECT_EQ(o.disk_refuse_writes_percent, 13);
  EXPECT_EQ(o.max_segments_per_round, 14);
  // And the defaults agree.
  RetentionPolicyOptions d = RetentionPolicyOptions::From(StoreOptions{});
  RetentionPolicyOptions mine;
  EXPECT_EQ(d.file_reserved_ms, mine.file_reserved_ms);
  EXPECT_EQ(d.delete_when, mine.delete_when);
  EXPECT_EQ(d.max_segments_per_round, mine.max_segments_per_round);
}

TEST(RetentionPolicyTest, ExpiredSegmentsGoOnlyAtADeleteHourWhileTheDiskIsNotFull) {
  RetentionPolicy p = MakePolicy();  // "04", 75 / 85 / 90
  for (int hour = 0; hour < 24; ++hour) {
    RetentionDecision d = p.Decide(hour, 50.0);
    EXPECT_EQ(d.delete_expired, hour == 4) << hour;
    EXPECT_FALSE(d.delete_unexpired) << hour;
    EXPECT_FALSE(d.refuse_writes) << hour;
  }
  RetentionPolicy two = MakePolicy({.delete_when = "01;13"});
  EXPECT_TRUE(two.Decide(1, 0).delete_expired);
  EXPECT_TRUE(two.Decide(13, 0).delete_expired);
  EXPECT_FALSE(two.Decide(4, 0).delete_expired);
  EXPECT_FALSE(two.Decide(-1, 0).delete_expired);  // localtime failed
}

TEST(RetentionPolicyTest, DiskThresholdsAreStrictlyAbove) {
  RetentionPolicy p = MakePolicy();
  const int kNotDeleteHour = 12;
  struct Case {
    double used;
    bool expired, unexpired, refuse;
  } cases[] = {
      {75.0, false, false, false}, {75.01, true, false, false}, {85.0, true, false, false},
      {85.5, true, true, false},   {90.0, true, true, false},   {90.01, true, true, true},
      {100.0, true, true, true},
  };
  for (const Case& c : cases) {
    RetentionDecision d = p.Decide(kNotDeleteHour, c.used);
    EXPECT_EQ(d.delete_expired, c.expired) << c.used;
    EXPECT_EQ(d.delete_unexpired, c.unexpired) << c.used;
    EXPECT_EQ(d.refuse_writes, c.refuse) << c.used;
  }
}

TEST(RetentionPolicyTest, ThresholdsAreConfigurable) {
  RetentionPolicy p = MakePolicy(
      {.disk_clean_percent = 20, .disk_force_clean_percent = 30, .disk_refuse_writes_percent = 40});
  EXPECT_TRUE(p.Decide(12, 21).delete_expired);
  EXPECT_FALSE(p.Decide(12, 21).delete_unexpired);
  EXPECT_TRUE(p.Decide(12, 31).delete_unexpired);
  EXPECT_FALSE(p.Decide(12, 31).refuse_writes);
  EXPECT_TRUE(p.Decide(12, 41).refuse_writes);
}

TEST(RetentionPolicyTest, RefusingWritesAlsoForcesDeletion) {
  // Even with the force threshold set above the refuse one, a disk that stops writes must
  // get space back.
  RetentionPolicy p = MakePolicy(
      {.disk_clean_percent = 95, .disk_force_clean_percent = 99, .disk_refuse_writes_percent = 50});
  RetentionDecision d = p.Decide(12, 60);
  EXPECT_TRUE(d.refuse_writes);
  EXPECT_TRUE(d.delete_unexpired);
  EXPECT_TRUE(d.delete_expired);
}

TEST(RetentionPolicyTest, ASegmentExpiresFileReservedTimeAfterItsLastWrite) {
  RetentionPolicy p = MakePolicy({.file_reserved_ms = 72 * kHour});
  EXPECT_FALSE(p.IsExpired(AgedSegment(72 * kHour - 1), kNow));
  EXPECT_TRUE(p.IsExpired(AgedSegment(72 * kHour), kNow));
  EXPECT_TRUE(p.IsExpired(AgedSegment(100 * kHour), kNow));
  EXPECT_FALSE(p.IsExpired(AgedSegment(-kHour), kNow));  // the clock went back
  // Unknown age (the next segment has no record yet): never expired.
  EXPECT_FALSE(p.IsExpired(SegmentAge{0, 4096, std::nullopt}, kNow));
  // A huge reservation does not overflow into "expired".
  RetentionPolicy forever = MakePolicy({.file_reserved_ms = INT64_MAX});
  EXPECT_FALSE(forever.IsExpired(AgedSegment(100 * kHour), kNow));
}

TEST(RetentionPolicyTest, ShouldDeleteFollowsTheDecision) {
  RetentionPolicy p = MakePolicy({.file_reserved_ms = kHour});
  SegmentAge old_one = AgedSegment(2 * kHour), young = AgedSegment(0);
  SegmentAge unknown{0, 4096, std::nullopt};
  RetentionDecision none;
  RetentionDecision expired{.delete_expired = true};
  RetentionDecision force{.delete_expired = true, .delete_unexpired = true};
  EXPECT_FALSE(p.ShouldDelete(none, old_one, kNow));
  EXPECT_TRUE(p.ShouldDelete(expired, old_one, kNow));
  EXPECT_FALSE(p.ShouldDelete(expired, young, kNow));
  EXPECT_FALSE(p.ShouldDelete(expired, unknown, kNow));
  // Forced: age does not matter.
  EXPECT_TRUE(p.ShouldDelete(force, young, kNow));
  EXPECT_TRUE(p.ShouldDelete(force, unknown, kNow));
}

}  // namespace
}  // namespace mqstore

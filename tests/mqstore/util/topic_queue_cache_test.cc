#include "util/topic_queue_cache.h"

#include <gtest/gtest.h>

#include <string>

namespace mqstore {
namespace {

TEST(TopicQueueCacheTest, FindsOnlyWhatWasRememberedForTheSameTopicAndId) {
  TopicQueueCache<int> cache;
  int a3 = 0, a0 = 0;
  EXPECT_EQ(cache.Find("TopicA", 3), nullptr);
  cache.Remember("TopicA", 3, &a3);
  cache.Remember("TopicA", 0, &a0);
  EXPECT_EQ(cache.Find("TopicA", 3), &a3);
  EXPECT_EQ(cache.Find("TopicA", 0), &a0);
  EXPECT_EQ(cache.Find("TopicA", 1), nullptr);  // inside the array, never remembered
  EXPECT_EQ(cache.Find("TopicA", 4), nullptr);  // past the array
  EXPECT_EQ(cache.Find("TopicA", -1), nullptr);
  EXPECT_EQ(cache.Find("TopicAB", 3), nullptr);  // a topic the cached one is a prefix of
  EXPECT_EQ(cache.Find("Topic", 3), nullptr);    // and a prefix of the cached one
  EXPECT_EQ(cache.Find("", 3), nullptr);
}

TEST(TopicQueueCacheTest, ANewTopicReplacesEverythingRememberedForTheLastOne) {
  TopicQueueCache<int> cache;
  int a = 0, b = 0;
  cache.Remember("TopicA", 1, &a);
  cache.Remember("TopicB", 2, &b);
  EXPECT_EQ(cache.Find("TopicB", 2), &b);
  EXPECT_EQ(cache.Find("TopicA", 1), nullptr);
  EXPECT_EQ(cache.Find("TopicB", 1), nullptr);  // not TopicA's value under TopicB
}

TEST(TopicQueueCacheTest, TheTopicIsCopiedNotReferenced) {
  TopicQueueCache<int> cache;
  int v = 0;
  std::string topic = "TopicA";
  cache.Remember(topic, 0, &v);
  topic = "TopicZ";
  EXPECT_EQ(cache.Find("TopicA", 0), &v);
  EXPECT_EQ(cache.Find(topic, 0), nullptr);
}

TEST(TopicQueueCacheTest, IdsFromTheLimitOnAndNegativeIdsAreNotRemembered) {
  TopicQueueCache<int> cache;
  int v = 0, w = 0;
  const int32_t limit = TopicQueueCache<int>::kMaxCachedQueueId;
  cache.Remember("TopicA", limit, &v);
  cache.Remember("TopicA", -1, &v);
  EXPECT_EQ(cache.Find("TopicA", limit), nullptr);
  EXPECT_EQ(cache.Find("TopicA", -1), nullptr);
  cache.Remember("TopicA", limit - 1, &w);
  EXPECT_EQ(cache.Find("TopicA", limit - 1), &w);
}

TEST(TopicQueueCacheTest, ClearForgetsEverything) {
  TopicQueueCache<int> cache;
  int v = 0;
  cache.Remember("TopicA", 0, &v);
  cache.Clear();
  EXPECT_EQ(cache.Find("TopicA", 0), nullptr);
  // An empty topic name is a topic like any other, not "nothing cached".
  cache.Remember("", 0, &v);
  EXPECT_EQ(cache.Find("", 0), &v);
  cache.Clear();
  EXPECT_EQ(cache.Find("", 0), nullptr);
}

}  // namespace
}  // namespace mqstore

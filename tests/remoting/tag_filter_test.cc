#include "remoting/tag_filter.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "mqstore/message.h"

namespace mqremoting {
namespace {

// Java "TagA".hashCode() and "TagB".hashCode().
constexpr int64_t kTagACode = 2598919;
constexpr int64_t kTagBCode = 2598920;
// A tag whose Java hashCode is 0, the code of a message without tags.
constexpr char kZeroHashTag[] = "TAEhgand";

TagFilter Parse(std::string_view expression, std::string_view type = "TAG") {
  auto filter = ParseTagExpression(expression, type);
  EXPECT_TRUE(filter.ok()) << expression << ": " << filter.status().ToString();
  return filter.ok() ? *filter : TagFilter();
}

TEST(SubscriptionFilterTest, StarAndBlankMatchEverything) {
  for (const char* expression : {"*", "", "  ", " * "}) {
    TagFilter filter = Parse(expression);
    EXPECT_TRUE(filter.matches_all()) << expression;
    EXPECT_TRUE(filter.tags().empty());
    EXPECT_TRUE(filter.codes().empty());
    EXPECT_TRUE(filter.MatchesTagsCode(0)) << "an untagged message matches *";
    EXPECT_TRUE(filter.MatchesTagsCode(kTagACode));
    EXPECT_TRUE(filter.MatchesTag(""));
    EXPECT_TRUE(filter.MatchesTag("Anything"));
    EXPECT_FALSE(filter.NeedsTagCheck(0));
  }
  EXPECT_TRUE(TagFilter().matches_all());
}

TEST(SubscriptionFilterTest, SingleTag) {
  TagFilter filter = Parse("TagA");
  EXPECT_FALSE(filter.matches_all());
  EXPECT_EQ(filter.tags(), std::vector<std::string>{"TagA"});
  EXPECT_EQ(filter.codes(), std::vector<int32_t>{static_cast<int32_t>(kTagACode)});
  EXPECT_TRUE(filter.MatchesTagsCode(kTagACode));
  EXPECT_FALSE(filter.MatchesTagsCode(kTagBCode));
  EXPECT_FALSE(filter.MatchesTagsCode(0)) << "an untagged message matches only *";
  EXPECT_FALSE(filter.NeedsTagCheck(0));
  EXPECT_TRUE(filter.MatchesTag("TagA"));
  EXPECT_FALSE(filter.MatchesTag("taga"));
  EXPECT_FALSE(filter.MatchesTag(""));
}

TEST(SubscriptionFilterTest, SeveralTagsWithSpacesAndDuplicates) {
  for (const char* expression : {"TagA || TagB", "TagA||TagB", "  TagA ||\tTagB  ",
                                 "TagA || TagB || TagA", "TagA || || TagB ||"}) {
    TagFilter filter = Parse(expression);
    EXPECT_FALSE(filter.matches_all()) << expression;
    EXPECT_EQ(filter.tags(), (std::vector<std::string>{"TagA", "TagB"})) << expression;
    EXPECT_EQ(filter.codes(), (std::vector<int32_t>{2598919, 2598920})) << expression;
    EXPECT_TRUE(filter.MatchesTagsCode(kTagACode));
    EXPECT_TRUE(filter.MatchesTagsCode(kTagBCode));
    EXPECT_FALSE(filter.MatchesTagsCode(kTagBCode + 1));
    EXPECT_TRUE(filter.MatchesTag("TagB"));
    EXPECT_FALSE(filter.MatchesTag("TagA || TagB"));
  }
  // Tags keep expression order; codes are sorted.
  TagFilter reversed = Parse("TagB || TagA");
  EXPECT_EQ(reversed.tags(), (std::vector<std::string>{"TagB", "TagA"}));
  EXPECT_EQ(reversed.codes(), (std::vector<int32_t>{2598919, 2598920}));
  // A single '|' is part of a tag, not a separator.
  EXPECT_EQ(Parse("A|B").tags(), std::vector<std::string>{"A|B"});
}

TEST(SubscriptionFilterTest, StarAmongTagsMatchesEverything) {
  EXPECT_TRUE(Parse("TagA || *").matches_all());
  EXPECT_TRUE(Parse("* || TagA").matches_all());
  EXPECT_FALSE(Parse("TagA || *x").matches_all());
}

TEST(SubscriptionFilterTest, ExpressionWithoutTagsIsInvalid) {
  for (const char* expression : {"||", " || ", "|| ||"}) {
    auto filter = ParseTagExpression(expression, "TAG");
    ASSERT_FALSE(filter.ok()) << expression;
    EXPECT_TRUE(filter.status().IsInvalidArgument()) << expression;
  }
}

TEST(SubscriptionFilterTest, ExpressionTypes) {
  EXPECT_TRUE(ParseTagExpression("TagA", "").ok()) << "no type means TAG";
  auto sql = ParseTagExpression("a > 5 AND b = 'x'", "SQL92");
  ASSERT_FALSE(sql.ok());
  EXPECT_EQ(sql.status().code(), mqstore::Status::Code::kNotSupported);
  auto sql_star = ParseTagExpression("*", "SQL92");
  EXPECT_EQ(sql_star.status().code(), mqstore::Status::Code::kNotSupported);
  for (const char* type : {"tag", "XML", "BYTAG"}) {
    auto other = ParseTagExpression("TagA", type);
    ASSERT_FALSE(other.ok()) << type;
    EXPECT_TRUE(other.status().IsInvalidArgument()) << type;
  }
}

// An untagged message has code 0; a tag may hash to 0 too. The code lets both through and
// the exact check tells them apart.
TEST(SubscriptionFilterTest, TagHashingToZeroVersusUntaggedMessage) {
  ASSERT_EQ(mqstore::TagsHashCode(kZeroHashTag), 0);
  TagFilter filter = Parse(std::string(kZeroHashTag) + " || TagA");
  EXPECT_EQ(filter.codes(), (std::vector<int32_t>{0, 2598919}));
  EXPECT_TRUE(filter.MatchesTagsCode(0));
  EXPECT_TRUE(filter.NeedsTagCheck(0));
  EXPECT_FALSE(filter.NeedsTagCheck(kTagACode));
  EXPECT_TRUE(filter.MatchesTag(kZeroHashTag)) << "the tagged message";
  EXPECT_FALSE(filter.MatchesTag("")) << "the untagged message";
}

TEST(SubscriptionFilterTest, NegativeCodesAndCollisions) {
  // Java: "polygenelubricants".hashCode() == Integer.MIN_VALUE.
  TagFilter negative = Parse("polygenelubricants");
  EXPECT_EQ(negative.codes(), std::vector<int32_t>{std::numeric_limits<int32_t>::min()});
  EXPECT_TRUE(negative.MatchesTagsCode(std::numeric_limits<int32_t>::min()));
  EXPECT_FALSE(negative.MatchesTagsCode(int64_t{1} << 31)) << "codes are sign-extended";

  // "Aa" and "BB" share the hash 2112: the code step cannot tell them apart, the tag can.
  TagFilter aa = Parse("Aa");
  EXPECT_TRUE(aa.MatchesTagsCode(2112));
  EXPECT_TRUE(aa.MatchesTag("Aa"));
  EXPECT_FALSE(aa.MatchesTag("BB"));
  EXPECT_EQ(Parse("Aa || BB").codes(), std::vector<int32_t>{2112});
}

TEST(SubscriptionFilterTest, FromRegisteredSubscription) {
  SubscriptionData sub;
  sub.topic = "T";
  sub.sub_string = "TagA || TagB";
  sub.tags_set = {"TagA", "TagB"};
  sub.code_set = {1, 2};  // wrong on purpose: the codes come from the tags
  auto filter = TagFilterFromSubscription(sub);
  ASSERT_TRUE(filter.ok()) << filter.status().ToString();
  EXPECT_EQ(filter->tags(), (std::vector<std::string>{"TagA", "TagB"}));
  EXPECT_TRUE(filter->MatchesTagsCode(kTagBCode));
  EXPECT_FALSE(filter->MatchesTagsCode(1));

  // No tags_set: the expression is parsed.
  SubscriptionData bare;
  bare.sub_string = "TagB";
  auto from_string = TagFilterFromSubscription(bare);
  ASSERT_TRUE(from_string.ok());
  EXPECT_EQ(from_string->tags(), std::vector<std::string>{"TagB"});

  // "*" wins over tags.
  SubscriptionData all;
  all.sub_string = "*";
  all.tags_set = {"TagA"};
  auto everything = TagFilterFromSubscription(all);
  ASSERT_TRUE(everything.ok());
  EXPECT_TRUE(everything->matches_all());

  // ali-ons: "*", empty sets, no expression type.
  SubscriptionData ali;
  ali.sub_string = "*";
  ali.expression_type = "";
  auto ali_filter = TagFilterFromSubscription(ali);
  ASSERT_TRUE(ali_filter.ok());
  EXPECT_TRUE(ali_filter->matches_all());

  SubscriptionData sql;
  sql.sub_string = "a > 1";
  sql.expression_type = "SQL92";
  EXPECT_EQ(TagFilterFromSubscription(sql).status().code(), mqstore::Status::Code::kNotSupported);
}

}  // namespace
}  // namespace mqremoting

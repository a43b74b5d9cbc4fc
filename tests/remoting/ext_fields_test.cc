#include "remoting/ext_fields.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mqremoting {
namespace {

std::vector<std::string> Names(const ExtFields& fields) {
  std::vector<std::string> names;
  for (const auto& [name, value] : fields) names.push_back(name);
  return names;
}

TEST(ExtFieldsTest, KeepsNamesSortedByteWiseWhateverTheInsertionOrder) {
  ExtFields fields;
  for (const char* name : {"m", "b", "zz", "a", "\xC3\xA9", "B", "ab", "z"}) fields[name] = name;
  // Bytes compare unsigned: 0xC3 sorts after every ASCII letter, as in std::string.
  EXPECT_EQ(Names(fields),
            (std::vector<std::string>{"B", "a", "ab", "b", "m", "z", "zz", "\xC3\xA9"}));
  for (const auto& [name, value] : fields) EXPECT_EQ(name, value);
}

TEST(ExtFieldsTest, AssigningAnExistingNameReplacesItsValue) {
  ExtFields fields;
  fields["b"] = "1";
  fields["a"] = "2";
  fields["b"] = "3";
  fields["a"] = "4";
  EXPECT_EQ(fields.size(), 2u);
  EXPECT_EQ(fields, (ExtFields{{"a", "4"}, {"b", "3"}}));
  // The list constructor behaves the same: the later duplicate wins.
  EXPECT_EQ((ExtFields{{"b", "1"}, {"a", "2"}, {"b", "3"}}), (ExtFields{{"a", "2"}, {"b", "3"}}));
}

TEST(ExtFieldsTest, FindsGetsAndErases) {
  ExtFields fields{{"queueId", "3"}, {"topic", "T"}, {"bornTimestamp", "17"}};
  ASSERT_NE(fields.Get("topic"), nullptr);
  EXPECT_EQ(*fields.Get("topic"), "T");
  EXPECT_EQ(fields.Get("topi"), nullptr);
  EXPECT_EQ(fields.Get("topics"), nullptr);
  EXPECT_EQ(fields.Get(""), nullptr);
  EXPECT_EQ(fields.find("queueId")->second, "3");
  EXPECT_EQ(fields.find("absent"), fields.end());

  EXPECT_EQ(fields.erase("absent"), 0u);
  EXPECT_EQ(fields.erase("queueId"), 1u);
  EXPECT_EQ(Names(fields), (std::vector<std::string>{"bornTimestamp", "topic"}));
  fields.erase(fields.find("bornTimestamp"));
  EXPECT_EQ(Names(fields), (std::vector<std::string>{"topic"}));
  fields.clear();
  EXPECT_TRUE(fields.empty());
  EXPECT_EQ(fields.Get("topic"), nullptr);
}

TEST(ExtFieldsTest, AnEmptyNameIsAFieldLikeAnyOther) {
  ExtFields fields;
  fields["a"] = "1";
  fields[""] = "empty";
  EXPECT_EQ(Names(fields), (std::vector<std::string>{"", "a"}));
  EXPECT_EQ(*fields.Get(""), "empty");
}

}  // namespace
}  // namespace mqremoting

#include "namesrv_config.h"

#include <gtest/gtest.h>

namespace mqnamesrv {
namespace {

mqstore::Result<NamesrvConfig> Load(std::string_view text,
                                    std::vector<std::string>* warnings = nullptr) {
  auto props = mqserver::ParsePropertiesText(text, "namesrv.conf");
  EXPECT_TRUE(props.ok()) << props.status().ToString();
  if (!props.ok()) return props.status();
  std::vector<std::string> ignored;
  return LoadNamesrvConfig(*props, warnings != nullptr ? warnings : &ignored);
}

TEST(NamesrvConfigTest, DefaultsAreRocketMqs) {
  NamesrvConfig c;
  EXPECT_EQ(c.listenPort, 9876);
  EXPECT_EQ(c.scanNotActiveBrokerInterval, 5000);
  EXPECT_TRUE(c.enableAllTopicList);
  EXPECT_TRUE(ValidateNamesrvConfig(c).ok());

  std::vector<std::string> warnings;
  auto loaded = Load("# nothing set\n", &warnings);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->listenPort, 9876);
  EXPECT_EQ(loaded->scanNotActiveBrokerInterval, 5000);
  EXPECT_TRUE(loaded->enableAllTopicList);
  EXPECT_TRUE(warnings.empty());
}

TEST(NamesrvConfigTest, EveryKeyIsRead) {
  std::vector<std::string> warnings;
  auto c =
      Load("listenPort = 19876\nscanNotActiveBrokerInterval = 1000\nenableAllTopicList = false\n",
           &warnings);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->listenPort, 19876);
  EXPECT_EQ(c->scanNotActiveBrokerInterval, 1000);
  EXPECT_FALSE(c->enableAllTopicList);
  EXPECT_TRUE(warnings.empty());
}

TEST(NamesrvConfigTest, UnknownKeysAreWarningsNamingKeyAndLine) {
  std::vector<std::string> warnings;
  auto c = Load("listenPort = 9876\nrocketmqHome = /opt/rocketmq\n", &warnings);
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0], "namesrv.conf:2: unknown key \"rocketmqHome\" ignored");
}

TEST(NamesrvConfigTest, BadValuesNameKeyValueAndWhatIsAllowed) {
  struct Case {
    std::string text;
    std::string expected;
  };
  for (const Case& bad : {
           Case{"listenPort = nine",
                "namesrv.conf:1: listenPort = \"nine\": not an integer; "
                "allowed: 0..65535"},
           Case{"listenPort = 65536",
                "namesrv.conf:1: listenPort = \"65536\": out of range; "
                "allowed: 0..65535"},
           Case{"scanNotActiveBrokerInterval = 0",
                "scanNotActiveBrokerInterval = \"0\": out of range; allowed: 1..3600000"},
           Case{"enableAllTopicList = on",
                "enableAllTopicList = \"on\": not a boolean; allowed: true, false"},
       }) {
    auto c = Load(bad.text);
    ASSERT_FALSE(c.ok()) << bad.text;
    EXPECT_TRUE(c.status().IsInvalidArgument());
    EXPECT_NE(c.status().message().find(bad.expected), std::string_view::npos)
        << c.status().ToString();
  }
}

TEST(NamesrvConfigTest, ValidateCatchesOverridesSetInCode) {
  NamesrvConfig c;
  c.listenPort = -1;
  mqstore::Status s = ValidateNamesrvConfig(c);
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("listenPort"), std::string_view::npos);
  c = NamesrvConfig();
  c.scanNotActiveBrokerInterval = 0;
  EXPECT_NE(ValidateNamesrvConfig(c).message().find("scanNotActiveBrokerInterval"),
            std::string_view::npos);
}

}  // namespace
}  // namespace mqnamesrv

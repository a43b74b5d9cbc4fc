// mqadmin end to end: the built executable against an in-process name server and broker.
#include <gtest/gtest.h>

#include <regex>
#include <string>

#include "cluster_fixture.h"

namespace mqclient {
namespace {

class MqadminTest : public ClusterFixture {
 protected:
  int Admin(const std::string& args, std::string* output) {
    return Run(std::string(MQADMIN_PATH) + " " + args, output);
  }
  std::string Ns() const { return " -n '" + namesrv_addr_ + "'"; }
};

TEST_F(MqadminTest, TopicLifecycleSendConsumeAndQuery) {
  std::string out;
  ASSERT_EQ(Admin("updateTopic" + Ns() + " -t CliTopic -c DefaultCluster -r 2 -w 2", &out), 0)
      << out;
  EXPECT_NE(out.find("create topic to " + broker_addr_ + " success."), std::string::npos) << out;

  ASSERT_EQ(Admin("topicList" + Ns(), &out), 0) << out;
  EXPECT_NE(out.find("CliTopic\n"), std::string::npos) << out;

  ASSERT_EQ(Admin("topicRoute" + Ns() + " -t CliTopic", &out), 0) << out;
  EXPECT_NE(out.find("\"writeQueueNums\":2"), std::string::npos) << out;

  ASSERT_EQ(Admin("clusterList" + Ns(), &out), 0) << out;
  EXPECT_NE(out.find("DefaultCluster"), std::string::npos) << out;
  EXPECT_NE(out.find(broker_addr_), std::string::npos) << out;

  ASSERT_EQ(Admin("sendMessage" + Ns() +
                      " -t CliTopic -p 'hello cli' -k 'k1 k2' -c TagX -i 1 --property color=blue",
                  &out),
            0)
      << out;
  std::smatch match;
  ASSERT_TRUE(
      std::regex_search(out, match, std::regex(" 1 +SEND_OK +([0-9A-F]{32}) +([0-9A-F]{32})")))
      << out;
  const std::string msg_id = match[1], unique_id = match[2];
  AwaitDispatched();

  ASSERT_EQ(Admin("consumeMessage" + Ns() + " -t CliTopic -i 1 -b 0 -c 1", &out), 0) << out;
  EXPECT_NE(out.find("MSGID: " + msg_id + " UNIQ: " + unique_id), std::string::npos) << out;
  EXPECT_NE(out.find("QUEUE: 1 OFFSET: 0 TAGS: [TagX] KEYS: [k1 k2] BODY: hello cli"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("PROPERTY: color=blue"), std::string::npos) << out;
  EXPECT_NE(out.find("consumed 1 messages"), std::string::npos) << out;

  ASSERT_EQ(Admin("queryMsgByKey" + Ns() + " -t CliTopic -k k2", &out), 0) << out;
  EXPECT_NE(out.find(unique_id), std::string::npos) << out;

  ASSERT_EQ(Admin("queryMsgById" + Ns() + " -t CliTopic -i " + msg_id, &out), 0) << out;
  EXPECT_NE(out.find("hello cli"), std::string::npos) << out;
  ASSERT_EQ(Admin("queryMsgById" + Ns() + " -t CliTopic -i " + unique_id, &out), 0) << out;
  EXPECT_NE(out.find(msg_id), std::string::npos) << out;
}

TEST_F(MqadminTest, ErrorsExitNonZeroWithAMessage) {
  std::string out;
  EXPECT_EQ(Admin("topicList -n '" + DeadAddress() + "'", &out), 1);
  EXPECT_NE(out.find("no name server answered"), std::string::npos) << out;
  EXPECT_EQ(Admin("topicRoute" + Ns() + " -t NoSuchTopic", &out), 1);
  EXPECT_NE(out.find("mqadmin topicRoute: error"), std::string::npos) << out;
  EXPECT_EQ(Admin("consumeMessage" + Ns() + " -t NoSuchTopic", &out), 1);
  EXPECT_NE(Admin("updateTopic" + Ns() + " -t X", &out), 0);  // neither -c nor -b
  EXPECT_NE(Admin("sendMessage -t X -p body", &out), 0);      // no -n
  EXPECT_NE(out.find("namesrvAddr"), std::string::npos) << out;
}

TEST_F(MqadminTest, HelpNamesTheFlags) {
  std::string out;
  ASSERT_EQ(Admin("updateTopic --help", &out), 0);
  EXPECT_NE(out.find("-c,--clusterName"), std::string::npos) << out;
  EXPECT_NE(out.find("-w,--writeQueueNums"), std::string::npos) << out;
}

}  // namespace
}  // namespace mqclient

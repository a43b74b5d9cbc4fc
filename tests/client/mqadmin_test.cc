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

TEST_F(MqadminTest, OffsetsProgressResetStatusAndDelete) {
  std::string out;
  ASSERT_EQ(Admin("updateTopic" + Ns() + " -t OpsTopic -b " + broker_addr_ + " -r 2 -w 2", &out), 0)
      << out;
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(Admin("sendMessage" + Ns() + " -t OpsTopic -i 0 -p body-" + std::to_string(i), &out),
              0)
        << out;
  }
  AwaitDispatched();
  const std::string row0 = broker_name_ + " +0 +";  // a table row of queue 0

  ASSERT_EQ(Admin("topicStatus" + Ns() + " -t OpsTopic", &out), 0) << out;
  EXPECT_TRUE(std::regex_search(out, std::regex(row0 + "0 +3\n"))) << out;

  // A group that never committed: offset 0 (as a Java broker reports it), everything is lag,
  // nothing consumed yet (LastTime "-").
  ASSERT_EQ(Admin("consumerProgress" + Ns() + " -g CID_OPS -t OpsTopic", &out), 0) << out;
  EXPECT_TRUE(std::regex_search(out, std::regex("OpsTopic +" + row0 + "3 +0 +3 +-\n"))) << out;
  EXPECT_NE(out.find("Diff Total: 3"), std::string::npos) << out;
  EXPECT_NE(out.find("Consume TPS: 0.00\n"), std::string::npos) << out;  // it never pulled

  // Reset to the beginning of time, then to the future (the end).
  ASSERT_EQ(Admin("resetOffsetByTime" + Ns() + " -g CID_OPS -t OpsTopic -s 0", &out), 0) << out;
  EXPECT_TRUE(std::regex_search(out, std::regex(row0 + "0\n"))) << out;
  ASSERT_EQ(Admin("consumerProgress" + Ns() + " -g CID_OPS -t OpsTopic", &out), 0) << out;
  EXPECT_TRUE(std::regex_search(out, std::regex("OpsTopic +" + row0 + "3 +0 +3 +-\n"))) << out;
  ASSERT_EQ(Admin("resetOffsetByTime" + Ns() + " -g CID_OPS -t OpsTopic -s 99999999999999", &out),
            0)
      << out;
  // Without -t: every topic the group has offsets in; the last consumed message has a time.
  ASSERT_EQ(Admin("consumerProgress" + Ns() + " -g CID_OPS", &out), 0) << out;
  EXPECT_TRUE(std::regex_search(
      out, std::regex("OpsTopic +" + row0 + "3 +3 +0 +[0-9]{4}-[0-9]{2}-[0-9]{2} ")))
      << out;
  EXPECT_NE(out.find("Diff Total: 0"), std::string::npos) << out;
  // Not forced, a reset never moves forward; -s takes 'now' and -1 too, nothing else.
  ASSERT_EQ(Admin("resetOffsetByTime" + Ns() + " -g CID_OPS -t OpsTopic -s 0 -f false", &out), 0)
      << out;
  EXPECT_TRUE(std::regex_search(out, std::regex(row0 + "0\n"))) << out;
  ASSERT_EQ(Admin("resetOffsetByTime" + Ns() + " -g CID_OPS -t OpsTopic -s -1 -f false", &out), 0)
      << out;
  EXPECT_TRUE(std::regex_search(out, std::regex(row0 + "0\n"))) << out;
  ASSERT_EQ(Admin("resetOffsetByTime" + Ns() + " -g CID_OPS -t OpsTopic -s now", &out), 0) << out;
  EXPECT_TRUE(std::regex_search(out, std::regex(row0 + "3\n"))) << out;
  EXPECT_EQ(Admin("resetOffsetByTime" + Ns() + " -g CID_OPS -t OpsTopic -s yesterday", &out), 1);
  EXPECT_NE(out.find("'now' or -1"), std::string::npos) << out;

  ASSERT_EQ(
      Admin("queryMsgByOffset" + Ns() + " -t OpsTopic -b " + broker_name_ + " -i 0 -o 1", &out), 0)
      << out;
  EXPECT_NE(out.find("body-1"), std::string::npos) << out;
  EXPECT_EQ(
      Admin("queryMsgByOffset" + Ns() + " -t OpsTopic -b " + broker_name_ + " -i 0 -o 7", &out), 1);
  EXPECT_NE(out.find("no message at offset 7"), std::string::npos) << out;

  ASSERT_EQ(Admin("brokerStatus" + Ns() + " -b " + broker_addr_, &out), 0) << out;
  EXPECT_NE(out.find("commitLogMaxOffset"), std::string::npos) << out;

  ASSERT_EQ(Admin("deleteTopic" + Ns() + " -t OpsTopic -c DefaultCluster", &out), 0) << out;
  ASSERT_EQ(Admin("topicList" + Ns(), &out), 0) << out;
  EXPECT_EQ(out.find("OpsTopic"), std::string::npos) << out;
  EXPECT_EQ(Admin("topicStatus" + Ns() + " -t OpsTopic", &out), 1) << out;
}

TEST_F(MqadminTest, SubscriptionGroupsConnectionsAndMessageTrack) {
  std::string out;
  ASSERT_EQ(Admin("updateTopic" + Ns() + " -t TrackTopic -c DefaultCluster -r 1 -w 1", &out), 0)
      << out;
  ASSERT_EQ(Admin("updateSubGroup" + Ns() + " -g CID_CLI -c DefaultCluster -r 5 -s false", &out), 0)
      << out;
  EXPECT_NE(out.find("create subscription group to " + broker_addr_ + " success."),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("\"retryMaxTimes\":5"), std::string::npos) << out;
  EXPECT_NE(out.find("\"consumeEnable\":false"), std::string::npos) << out;
  EXPECT_NE(Admin("updateSubGroup" + Ns() + " -g CID_CLI", &out), 0);  // neither -c nor -b
  EXPECT_NE(out.find("exactly one of -c"), std::string::npos) << out;

  // Nobody is running in the group.
  EXPECT_EQ(Admin("consumerConnection" + Ns() + " -g CID_CLI", &out), 1);
  EXPECT_NE(out.find("no running member"), std::string::npos) << out;

  ASSERT_EQ(Admin("sendMessage" + Ns() + " -t TrackTopic -p tracked -c TagT", &out), 0) << out;
  std::smatch match;
  ASSERT_TRUE(std::regex_search(out, match, std::regex("SEND_OK +([0-9A-F]{32})"))) << out;
  const std::string msg_id = match[1];
  AwaitDispatched();
  // consumeMessage commits nothing; a reset gives CID_CLI an offset past the message.
  ASSERT_EQ(Admin("resetOffsetByTime" + Ns() + " -g CID_CLI -t TrackTopic -s -1", &out), 0) << out;
  ASSERT_EQ(Admin("messageTrack" + Ns() + " -t TrackTopic -i " + msg_id, &out), 0) << out;
  EXPECT_NE(out.find("tracked"), std::string::npos) << out;
  EXPECT_TRUE(std::regex_search(out, std::regex("CID_CLI +CONSUMED +false +0 +false\n"))) << out;
  EXPECT_EQ(Admin("messageTrack" + Ns() + " -t TrackTopic -i " + std::string(32, 'F'), &out), 1);

  ASSERT_EQ(Admin("deleteSubGroup" + Ns() + " -g CID_CLI -c DefaultCluster -r true", &out), 0)
      << out;
  EXPECT_NE(out.find("delete subscription group [CID_CLI]"), std::string::npos) << out;
  EXPECT_EQ(Admin("deleteSubGroup" + Ns() + " -g CID_CLI -c DefaultCluster", &out), 1);
  // Its offsets went with it: nobody consumes the topic any more.
  ASSERT_EQ(Admin("messageTrack" + Ns() + " -t TrackTopic -i " + msg_id, &out), 0) << out;
  EXPECT_NE(out.find("no consumer group subscribes to or consumed TrackTopic"), std::string::npos)
      << out;
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

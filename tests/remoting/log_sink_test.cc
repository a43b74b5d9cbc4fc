#include "remoting/log_sink.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mqremoting {
namespace {

TEST(LogSinkTest, LinesGoToTheInstalledSinkUntilItIsReset) {
  std::vector<std::pair<LogLevel, std::string>> lines;
  SetLogSink([&](LogLevel level, std::string_view line) { lines.emplace_back(level, line); });
  Log(LogLevel::kWarn, "first");
  Log(LogLevel::kError, "second");
  SetLogSink(nullptr);
  testing::internal::CaptureStderr();
  Log(LogLevel::kInfo, "to stderr");
  std::string err = testing::internal::GetCapturedStderr();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], std::make_pair(LogLevel::kWarn, std::string("first")));
  EXPECT_EQ(lines[1], std::make_pair(LogLevel::kError, std::string("second")));
  EXPECT_EQ(err, "[remoting INFO] to stderr\n");
}

TEST(LogSinkTest, ASinkMayReplaceItself) {
  int calls = 0;
  SetLogSink([&](LogLevel, std::string_view) {
    ++calls;
    SetLogSink([&](LogLevel, std::string_view) { calls += 10; });
  });
  Log(LogLevel::kInfo, "a");
  Log(LogLevel::kInfo, "b");
  SetLogSink(nullptr);
  EXPECT_EQ(calls, 11);
}

TEST(LogSinkTest, LevelNames) {
  EXPECT_EQ(LogLevelName(LogLevel::kInfo), "INFO");
  EXPECT_EQ(LogLevelName(LogLevel::kWarn), "WARN");
  EXPECT_EQ(LogLevelName(LogLevel::kError), "ERROR");
}

}  // namespace
}  // namespace mqremoting

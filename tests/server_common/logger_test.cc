#include "server_common/logger.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <thread>
#include <vector>

#include "support/test_util.h"

namespace mqserver {
namespace {

using mqstore::test::ManualClock;
using mqstore::test::TempDir;

constexpr int64_t kExampleMs = 1'795'342'530'123;  // 2026-11-22T10:15:30.123Z

// Keeps every written line, for inspection after the logger is gone or still alive.
class CaptureSink : public LogSink {
 public:
  explicit CaptureSink(std::shared_ptr<std::vector<std::string>> lines)
      : lines_(std::move(lines)) {}
  void Write(std::string_view line) override { lines_->emplace_back(line); }

 private:
  std::shared_ptr<std::vector<std::string>> lines_;
};

struct CapturingLogger {
  std::shared_ptr<std::vector<std::string>> lines = std::make_shared<std::vector<std::string>>();
  ManualClock clock{kExampleMs};
  Logger logger{std::make_unique<CaptureSink>(lines), LogLevel::kInfo, &clock};
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream ss(text);
  std::string line;
  while (std::getline(ss, line)) lines.push_back(line);
  return lines;
}

TEST(LoggerTest, FormatsTheDocumentedLine) {
  CapturingLogger c;
  c.logger.Info("broker", "registered", {{"broker", "broker-a"}, {"addr", "127.0.0.1:10911"}});
  ASSERT_EQ(c.lines->size(), 1u);
  EXPECT_EQ((*c.lines)[0],
            "2026-11-22T10:15:30.123Z INFO  broker registered broker=broker-a "
            "addr=127.0.0.1:10911\n");
}

TEST(LoggerTest, LevelsArePaddedToOneColumn) {
  CapturingLogger c;
  c.logger.set_min_level(LogLevel::kDebug);
  c.logger.Debug("x", "m");
  c.logger.Info("x", "m");
  c.logger.Warn("x", "m");
  c.logger.Error("x", "m");
  ASSERT_EQ(c.lines->size(), 4u);
  EXPECT_EQ((*c.lines)[0].substr(25), "DEBUG x m\n");
  EXPECT_EQ((*c.lines)[1].substr(25), "INFO  x m\n");
  EXPECT_EQ((*c.lines)[2].substr(25), "WARN  x m\n");
  EXPECT_EQ((*c.lines)[3].substr(25), "ERROR x m\n");
}

TEST(LoggerTest, TimestampIsUtcWithMillisecondsFromTheClock) {
  EXPECT_EQ(FormatLogLine(0, LogLevel::kInfo, "c", "m", {}), "1970-01-01T00:00:00.000Z INFO  c m");
  EXPECT_EQ(FormatLogLine(1'709'210'096'007, LogLevel::kInfo, "c", "m", {}),
            "2024-02-29T12:34:56.007Z INFO  c m");
  CapturingLogger c;
  c.clock.Advance(1001);
  c.logger.Info("c", "m");
  EXPECT_EQ((*c.lines)[0].substr(0, 24), "2026-11-22T10:15:31.124Z");
}

TEST(LoggerTest, ValuesWithSpacesQuotesOrEqualsAreQuoted) {
  std::vector<LogField> fields = {{"plain", "abc"},
                                  {"space", "a b"},
                                  {"empty", ""},
                                  {"quote", "say \"hi\""},
                                  {"eq", "k=v"},
                                  {"backslash", "a\\b"},
                                  {"newline", "line1\nline2"},
                                  {"tab", "a\tb"}};
  EXPECT_EQ(FormatLogLine(0, LogLevel::kWarn, "c", "m", fields),
            "1970-01-01T00:00:00.000Z WARN  c m plain=abc space=\"a b\" empty=\"\" "
            "quote=\"say \\\"hi\\\"\" eq=\"k=v\" backslash=\"a\\\\b\" "
            "newline=\"line1\\nline2\" tab=\"a\\tb\"");
}

TEST(LoggerTest, EveryRecordIsOneLine) {
  CapturingLogger c;
  c.logger.Error("my component", "first\nsecond\r\n", {{"bad key", "x"}});
  ASSERT_EQ(c.lines->size(), 1u);
  const std::string& line = (*c.lines)[0];
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  EXPECT_EQ(line.find('\r'), std::string::npos);
  EXPECT_EQ(line.substr(25), "ERROR my_component first\\nsecond\\r\\n bad_key=x\n");
}

TEST(LoggerTest, FieldsFromNumbersBoolsAndStatuses) {
  std::string text = "t";
  std::vector<LogField> fields = {{"i", -5},
                                  {"u", uint64_t{18446744073709551615u}},
                                  {"b", true},
                                  {"d", 2.5},
                                  {"s", std::string("str")},
                                  {"sv", std::string_view(text)},
                                  {"st", mqstore::Status::NotFound("no such topic")},
                                  {"ok", mqstore::Status::OK()}};
  EXPECT_EQ(FormatLogLine(0, LogLevel::kInfo, "c", "m", fields),
            "1970-01-01T00:00:00.000Z INFO  c m i=-5 u=18446744073709551615 b=true d=2.5 s=str "
            "sv=t st=\"NotFound: no such topic\" ok=OK");
}

TEST(LoggerTest, RecordsBelowTheMinimumLevelAreDropped) {
  CapturingLogger c;
  c.logger.Debug("c", "hidden");
  EXPECT_TRUE(c.lines->empty());
  EXPECT_FALSE(c.logger.Enabled(LogLevel::kDebug));
  c.logger.set_min_level(LogLevel::kError);
  c.logger.Warn("c", "hidden too");
  c.logger.Error("c", "shown");
  ASSERT_EQ(c.lines->size(), 1u);
  EXPECT_NE((*c.lines)[0].find("shown"), std::string::npos);
}

TEST(LoggerTest, LevelNamesParse) {
  EXPECT_EQ(ParseLogLevel("debug"), LogLevel::kDebug);
  EXPECT_EQ(ParseLogLevel("INFO"), LogLevel::kInfo);
  EXPECT_EQ(ParseLogLevel("Warning"), LogLevel::kWarn);
  EXPECT_EQ(ParseLogLevel("warn"), LogLevel::kWarn);
  EXPECT_EQ(ParseLogLevel("error"), LogLevel::kError);
  EXPECT_EQ(ParseLogLevel("verbose"), std::nullopt);
  EXPECT_EQ(LogLevelName(LogLevel::kWarn), "WARN");
}

TEST(LoggerTest, FileSinkAppendsToAnExistingFile) {
  TempDir dir;
  std::string path = dir.Sub("broker.log");
  std::ofstream(path) << "old line\n";
  ManualClock clock(kExampleMs);
  Logger logger(nullptr, LogLevel::kInfo, &clock);
  ASSERT_TRUE(logger.LogToFile({path}).ok());
  logger.Info("broker", "started", {{"port", 10911}});
  logger.LogToStderr();  // closes the file
  EXPECT_EQ(ReadFile(path), "old line\n2026-11-22T10:15:30.123Z INFO  broker started port=10911\n");
}

TEST(LoggerTest, FileSinkRotatesBySize) {
  TempDir dir;
  std::string path = dir.Sub("a.log");
  auto sink = RotatingFileSink::Open({path, /*max_bytes=*/100, /*rotated_files=*/2});
  ASSERT_TRUE(sink.ok()) << sink.status().ToString();
  // 10 lines of 40 bytes: 2 per file (a third would pass 100 bytes).
  for (int i = 0; i < 10; ++i) {
    std::string line = "line " + std::to_string(i) + std::string(33, '.') + "\n";
    ASSERT_EQ(line.size(), 40u);
    (*sink)->Write(line);
  }
  EXPECT_EQ(ReadFile(path).substr(0, 6), "line 8");
  EXPECT_EQ(ReadFile(path + ".1").substr(0, 6), "line 6");
  EXPECT_EQ(ReadFile(path + ".2").substr(0, 6), "line 4");
  EXPECT_FALSE(std::filesystem::exists(path + ".3"));
  for (const std::string& p : {path, path + ".1", path + ".2"}) {
    EXPECT_EQ(std::filesystem::file_size(p), 80u) << p;
  }
}

TEST(LoggerTest, RotationCountsTheSizeTheFileHadWhenOpened) {
  TempDir dir;
  std::string path = dir.Sub("a.log");
  std::ofstream(path) << std::string(90, 'x') << "\n";
  auto sink = RotatingFileSink::Open({path, 100, 1});
  ASSERT_TRUE(sink.ok());
  (*sink)->Write("0123456789\n");
  EXPECT_EQ(ReadFile(path), "0123456789\n");
  EXPECT_EQ(std::filesystem::file_size(path + ".1"), 91u);
}

TEST(LoggerTest, ALineLargerThanTheLimitStillGoesIntoItsOwnFile) {
  TempDir dir;
  std::string path = dir.Sub("a.log");
  auto sink = RotatingFileSink::Open({path, 10, 3});
  ASSERT_TRUE(sink.ok());
  (*sink)->Write("a long line over ten bytes\n");
  (*sink)->Write("another long line\n");
  EXPECT_EQ(ReadFile(path), "another long line\n");
  EXPECT_EQ(ReadFile(path + ".1"), "a long line over ten bytes\n");
}

TEST(LoggerTest, ZeroRotatedFilesTruncatesInstead) {
  TempDir dir;
  std::string path = dir.Sub("a.log");
  auto sink = RotatingFileSink::Open({path, 20, 0});
  ASSERT_TRUE(sink.ok());
  (*sink)->Write("0123456789abcde\n");
  (*sink)->Write("second\n");
  EXPECT_EQ(ReadFile(path), "second\n");
  EXPECT_FALSE(std::filesystem::exists(path + ".1"));
}

TEST(LoggerTest, OpeningAFileInAMissingDirectoryFailsAndKeepsTheSink) {
  TempDir dir;
  CapturingLogger c;
  mqstore::Status s = c.logger.LogToFile({dir.Sub("no/such/dir/x.log")});
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_NE(s.message().find("no/such/dir/x.log"), std::string_view::npos);
  c.logger.Info("c", "still here");
  EXPECT_EQ(c.lines->size(), 1u);
  EXPECT_FALSE(RotatingFileSink::Open({dir.Sub("x.log"), 0, 1}).ok());
  EXPECT_FALSE(RotatingFileSink::Open({"", 100, 1}).ok());
}

TEST(LoggerTest, AFailedWriteFallsBackToStderrWithOneWarning) {
  // Every write to /dev/full fails with ENOSPC.
  auto sink = RotatingFileSink::Open({"/dev/full", 1 << 20, 0});
  ASSERT_TRUE(sink.ok()) << sink.status().ToString();
  testing::internal::CaptureStderr();
  (*sink)->Write("first record\n");
  (*sink)->Write("second record\n");
  std::string err = testing::internal::GetCapturedStderr();
  std::vector<std::string> lines = SplitLines(err);
  ASSERT_EQ(lines.size(), 3u) << err;
  EXPECT_NE(lines[0].find("WARN  logger log file failed"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("/dev/full"), std::string::npos) << lines[0];
  EXPECT_EQ(lines[1], "first record");
  EXPECT_EQ(lines[2], "second record");
}

// Several threads log at once through a file that rotates underneath them: every line is
// whole, and every record is in exactly one of the files.
TEST(LoggerTest, ConcurrentRecordsStayWholeAcrossRotations) {
  TempDir dir;
  std::string path = dir.Sub("mt.log");
  constexpr int kThreads = 6;
  constexpr int kPerThread = 400;
  {
    Logger logger(nullptr, LogLevel::kInfo);
    // ~110-byte lines, 4 KiB files: about 70 rotations; keep them all.
    ASSERT_TRUE(logger.LogToFile({path, 4096, 1000}).ok());
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&logger, t] {
        for (int i = 0; i < kPerThread; ++i) {
          logger.Info("test", "record from a writer thread",
                      {{"thread", t}, {"seq", i}, {"pad", std::string(20, 'p') + " x"}});
        }
      });
    }
    for (std::thread& th : threads) th.join();
  }
  const std::regex kLine(
      R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO  test record from a writer thread )"
      R"(thread=(\d+) seq=(\d+) pad="p{20} x"$)");
  std::map<std::pair<int, int>, int> seen;
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    ++files;
    EXPECT_LE(std::filesystem::file_size(entry.path()), 4096u);
    for (const std::string& line : SplitLines(ReadFile(entry.path().string()))) {
      std::smatch m;
      ASSERT_TRUE(std::regex_match(line, m, kLine)) << "torn line: " << line;
      ++seen[{std::stoi(m[1]), std::stoi(m[2])}];
    }
  }
  EXPECT_GT(files, 10);
  ASSERT_EQ(seen.size(), static_cast<size_t>(kThreads * kPerThread));
  for (const auto& [key, count] : seen) EXPECT_EQ(count, 1);
}

TEST(LoggerTest, DefaultLoggerIsOneInstance) {
  EXPECT_EQ(&DefaultLogger(), &DefaultLogger());
  EXPECT_EQ(DefaultLogger().min_level(), LogLevel::kInfo);
}

}  // namespace
}  // namespace mqserver

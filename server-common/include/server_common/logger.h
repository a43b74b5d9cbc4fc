// Logger: structured, one-line log records for the servers.
//
//   2026-11-22T10:15:30.123Z INFO  broker registered broker=broker-a addr=127.0.0.1:10911
//   <UTC time, ms>           <level> <component> <message> <key=value ...>
//
// The level is padded to 5 characters. A value is quoted ("...", with \" \\ \n \r \t escapes)
// when it is empty or holds whitespace, a quote, a backslash or '='; newlines in the message
// are written as \n, so every record is exactly one line and can be split on spaces up to the
// message. The component should be one word ("broker", "namesrv", "store", "remoting").
//
// Thread-safe: a record is formatted by the calling thread and written whole under a lock.
// Logging never throws. Sinks: stderr (the default) or a file rotated by size
// (RotatingFileSink).
#ifndef SERVER_COMMON_LOGGER_H_
#define SERVER_COMMON_LOGGER_H_

#include <atomic>
#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

#include "mqstore/env.h"
#include "mqstore/status.h"

namespace mqserver {

enum class LogLevel : int { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// "DEBUG", "INFO", "WARN", "ERROR".
std::string_view LogLevelName(LogLevel level);
// The level named `name` in any case ("warn", "WARNING" and "Error" too); nullopt otherwise.
std::optional<LogLevel> ParseLogLevel(std::string_view name);

// One key=value pair of a record. Built implicitly from strings, integers, bools, doubles and
// Statuses: {"broker", name}, {"port", 10911}, {"error", status}.
class LogField {
 public:
  LogField(std::string_view key, std::string_view value) : key_(key), value_(value) {}
  LogField(std::string_view key, const char* value) : key_(key), value_(value ? value : "") {}
  LogField(std::string_view key, const std::string& value) : key_(key), value_(value) {}
  LogField(std::string_view key, bool value) : key_(key), value_(value ? "true" : "false") {}
  template <std::integral T>
  requires(!std::is_same_v<T, bool> && !std::is_same_v<T, char>)
      LogField(std::string_view key, T value)
      : key_(key), value_(std::to_string(value)) {}
  LogField(std::string_view key, double value);
  LogField(std::string_view key, const mqstore::Status& status)
      : key_(key), value_(status.ToString()) {}

  const std::string& key() const { return key_; }
  const std::string& value() const { return value_; }

 private:
  std::string key_;
  std::string value_;
};

// One record as a line, without the trailing newline.
std::string FormatLogLine(int64_t unix_ms, LogLevel level, std::string_view component,
                          std::string_view message, std::span<const LogField> fields);

// Where records go. Write is called under the logger's lock, one whole line (newline
// included) at a time, and must not throw.
class LogSink {
 public:
  virtual ~LogSink() = default;
  virtual void Write(std::string_view line) = 0;
};

// Writes each line to file descriptor 2 with one write(2).
class StderrSink : public LogSink {
 public:
  void Write(std::string_view line) override;
};

struct RotatingFileOptions {
  std::string path;
  // A write that would take the file past this size first rotates it. Default: 128 MiB.
  uint64_t max_bytes = 128ull << 20;
  // Rotated files kept: <path>.1 (newest) .. <path>.<n>; the oldest is deleted. 0 truncates
  // the file instead. Default: 5 (so at most 6 files of max_bytes each).
  int rotated_files = 5;
};

// Appends to a file and rotates it by size: <path> -> <path>.1 -> ... -> <path>.<n>.
// When a write (or a rotation) fails, the line goes to stderr instead, with one warning per
// run of failures; the next line tries the file again, so logging resumes by itself once,
// say, the disk has room again.
class RotatingFileSink : public LogSink {
 public:
  // Opens (creates) the file for appending. kIOError naming the path when it cannot.
  static mqstore::Result<std::unique_ptr<RotatingFileSink>> Open(RotatingFileOptions options);
  ~RotatingFileSink() override;
  RotatingFileSink(const RotatingFileSink&) = delete;
  RotatingFileSink& operator=(const RotatingFileSink&) = delete;

  void Write(std::string_view line) override;

 private:
  RotatingFileSink(RotatingFileOptions options, int fd, uint64_t size);
  mqstore::Status Rotate();
  mqstore::Status Append(std::string_view line);
  void ReportFailure(const mqstore::Status& status);

  const RotatingFileOptions options_;
  int fd_;
  uint64_t size_;
  bool failing_ = false;
};

class Logger {
 public:
  // Writes to stderr, from kInfo up, with the system clock.
  Logger();
  // `clock` (not owned, outlives the logger) stamps records; nullptr is the system clock.
  explicit Logger(std::unique_ptr<LogSink> sink, LogLevel min_level = LogLevel::kInfo,
                  mqstore::Clock* clock = nullptr);
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  void set_min_level(LogLevel level) { min_level_.store(level, std::memory_order_relaxed); }
  LogLevel min_level() const { return min_level_.load(std::memory_order_relaxed); }
  bool Enabled(LogLevel level) const { return level >= min_level(); }

  // Replaces the sink; records already written stay where they went.
  void SetSink(std::unique_ptr<LogSink> sink);
  // Switches to a RotatingFileSink; on failure the current sink stays and the error returns.
  mqstore::Status LogToFile(const RotatingFileOptions& options);
  void LogToStderr() { SetSink(std::make_unique<StderrSink>()); }

  void Log(LogLevel level, std::string_view component, std::string_view message,
           std::initializer_list<LogField> fields = {}) noexcept;
  void Debug(std::string_view component, std::string_view message,
             std::initializer_list<LogField> fields = {}) noexcept {
    Log(LogLevel::kDebug, component, message, fields);
  }
  void Info(std::string_view component, std::string_view message,
            std::initializer_list<LogField> fields = {}) noexcept {
    Log(LogLevel::kInfo, component, message, fields);
  }
  void Warn(std::string_view component, std::string_view message,
            std::initializer_list<LogField> fields = {}) noexcept {
    Log(LogLevel::kWarn, component, message, fields);
  }
  void Error(std::string_view component, std::string_view message,
             std::initializer_list<LogField> fields = {}) noexcept {
    Log(LogLevel::kError, component, message, fields);
  }

 private:
  std::atomic<LogLevel> min_level_;
  mqstore::Clock* const clock_;
  std::mutex mu_;
  std::unique_ptr<LogSink> sink_;  // guarded by mu_
};

// The process-wide logger (stderr, kInfo until told otherwise). Never destroyed, so it can be
// used from any thread until the process exits. Install a file with
// DefaultLogger().LogToFile({...}).
Logger& DefaultLogger();

}  // namespace mqserver

#endif  // SERVER_COMMON_LOGGER_H_

// Logger: record formatting, the stderr and rotating-file sinks (see logger.h).
#include "server_common/logger.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <ctime>
#include <system_error>
#include <vector>

namespace mqserver {

using mqstore::Result;
using mqstore::Status;

namespace {

std::string ErrnoMessage(int err) {
  return std::error_code(err, std::generic_category()).message();
}

// Writes all of `data` to `fd`, retrying short writes and EINTR. Returns 0 or an errno.
int WriteFully(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return 0;
}

void AppendTimestamp(int64_t unix_ms, std::string* out) {
  int64_t seconds = unix_ms / 1000;
  int64_t millis = unix_ms % 1000;
  if (millis < 0) {  // before 1970: floor, not truncate
    millis += 1000;
    seconds -= 1;
  }
  time_t t = static_cast<time_t>(seconds);
  struct tm tm_utc;
  char buf[48];
  if (gmtime_r(&t, &tm_utc) == nullptr) {
    std::snprintf(buf, sizeof(buf), "@%lld", static_cast<long long>(unix_ms));
  } else {
    std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm_utc.tm_year + 1900,
                  tm_utc.tm_mon + 1, tm_utc.tm_mday, tm_utc.tm_hour, tm_utc.tm_min, tm_utc.tm_sec,
                  static_cast<int>(millis));
  }
  out->append(buf);
}

bool NeedsQuotes(std::string_view value) {
  if (value.empty()) return true;
  for (char c : value) {
    if (static_cast<unsigned char>(c) <= ' ' || c == '"' || c == '\\' || c == '=' || c == 0x7F) {
      return true;
    }
  }
  return false;
}

// Appends `text` with line breaks, tabs and other control characters escaped; quotes and
// backslashes too when `in_quotes`.
void AppendEscaped(std::string_view text, bool in_quotes, std::string* out) {
  for (char c : text) {
    switch (c) {
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append(in_quotes ? "\\t" : "\t");
        break;
      case '"':
      case '\\':
        if (in_quotes) out->push_back('\\');
        out->push_back(c);
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
          char hex[8];
          std::snprintf(hex, sizeof(hex), "\\x%02x", static_cast<unsigned>(c) & 0xFF);
          out->append(hex);
        } else {
          out->push_back(c);
        }
    }
  }
}

// A key or component is one token: whitespace and '=' become '_'.
void AppendToken(std::string_view token, std::string* out) {
  if (token.empty()) {
    out->push_back('-');
    return;
  }
  for (char c : token) {
    out->push_back(static_cast<unsigned char>(c) <= ' ' || c == '=' ? '_' : c);
  }
}

}  // namespace

std::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "DEBUG";
    case LogLevel::kInfo:
      return "INFO";
    case LogLevel::kWarn:
      return "WARN";
    case LogLevel::kError:
      return "ERROR";
  }
  return "?";
}

std::optional<LogLevel> ParseLogLevel(std::string_view name) {
  std::string upper;
  for (char c : name) upper.push_back(c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c);
  if (upper == "DEBUG") return LogLevel::kDebug;
  if (upper == "INFO") return LogLevel::kInfo;
  if (upper == "WARN" || upper == "WARNING") return LogLevel::kWarn;
  if (upper == "ERROR") return LogLevel::kError;
  return std::nullopt;
}

LogField::LogField(std::string_view key, double value) : key_(key) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", value);
  value_ = buf;
}

std::string FormatLogLine(int64_t unix_ms, LogLevel level, std::string_view component,
                          std::string_view message, std::span<const LogField> fields) {
  std::string line;
  line.reserve(64 + component.size() + message.size() + fields.size() * 24);
  AppendTimestamp(unix_ms, &line);
  line.push_back(' ');
  std::string_view name = LogLevelName(level);
  line.append(name);
  line.append(6 - name.size(), ' ');
  AppendToken(component, &line);
  line.push_back(' ');
  AppendEscaped(message, /*in_quotes=*/false, &line);
  for (const LogField& field : fields) {
    line.push_back(' ');
    AppendToken(field.key(), &line);
    line.push_back('=');
    if (NeedsQuotes(field.value())) {
      line.push_back('"');
      AppendEscaped(field.value(), /*in_quotes=*/true, &line);
      line.push_back('"');
    } else {
      line.append(field.value());
    }
  }
  return line;
}

// ---- StderrSink

void StderrSink::Write(std::string_view line) { WriteFully(STDERR_FILENO, line); }

// ---- RotatingFileSink

namespace {

int OpenLogFile(const std::string& path, bool truncate) {
  int flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (truncate ? O_TRUNC : 0);
  int fd;
  do {
    fd = ::open(path.c_str(), flags, 0644);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

}  // namespace

Result<std::unique_ptr<RotatingFileSink>> RotatingFileSink::Open(RotatingFileOptions options) {
  if (options.path.empty()) return Status::InvalidArgument("log file path is empty");
  if (options.max_bytes == 0) return Status::InvalidArgument("log file max_bytes must be positive");
  if (options.rotated_files < 0) {
    return Status::InvalidArgument("log file rotated_files must not be negative");
  }
  int fd = OpenLogFile(options.path, /*truncate=*/false);
  if (fd < 0) {
    return Status::IOError("cannot open log file " + options.path + ": " + ErrnoMessage(errno));
  }
  struct stat st;
  uint64_t size = ::fstat(fd, &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
  return std::unique_ptr<RotatingFileSink>(new RotatingFileSink(std::move(options), fd, size));
}

RotatingFileSink::RotatingFileSink(RotatingFileOptions options, int fd, uint64_t size)
    : options_(std::move(options)), fd_(fd), size_(size) {}

RotatingFileSink::~RotatingFileSink() {
  if (fd_ >= 0) ::close(fd_);
}

Status RotatingFileSink::Rotate() {
  // Whatever happens below, the next rotation waits for another max_bytes of records, so a
  // failing rename cannot shift the rotated files once per line.
  size_ = 0;
  const std::string& path = options_.path;
  if (options_.rotated_files > 0) {
    std::string oldest = path + "." + std::to_string(options_.rotated_files);
    if (::unlink(oldest.c_str()) != 0 && errno != ENOENT) {
      return Status::IOError("cannot delete " + oldest + ": " + ErrnoMessage(errno));
    }
    for (int i = options_.rotated_files - 1; i >= 1; --i) {
      std::string from = path + "." + std::to_string(i);
      std::string to = path + "." + std::to_string(i + 1);
      if (::rename(from.c_str(), to.c_str()) != 0 && errno != ENOENT) {
        return Status::IOError("cannot rename " + from + " to " + to + ": " + ErrnoMessage(errno));
      }
    }
    std::string newest = path + ".1";
    if (::rename(path.c_str(), newest.c_str()) != 0 && errno != ENOENT) {
      return Status::IOError("cannot rename " + path + " to " + newest + ": " +
                             ErrnoMessage(errno));
    }
  }
  int fd = OpenLogFile(path, /*truncate=*/true);
  if (fd < 0) {
    // Keep appending through the old descriptor (now <path>.1) rather than lose records.
    return Status::IOError("cannot reopen log file " + path + ": " + ErrnoMessage(errno));
  }
  ::close(fd_);
  fd_ = fd;
  return Status::OK();
}

Status RotatingFileSink::Append(std::string_view line) {
  if (size_ > 0 && size_ + line.size() > options_.max_bytes) MQ_RETURN_IF_ERROR(Rotate());
  int err = WriteFully(fd_, line);
  if (err != 0)
    return Status::IOError("cannot write log file " + options_.path + ": " + ErrnoMessage(err));
  size_ += line.size();
  return Status::OK();
}

void RotatingFileSink::Write(std::string_view line) {
  Status s = Append(line);
  if (s.ok()) {
    failing_ = false;
    return;
  }
  ReportFailure(s);
  WriteFully(STDERR_FILENO, line);
}

void RotatingFileSink::ReportFailure(const Status& status) {
  if (failing_) return;
  failing_ = true;
  LogField fields[] = {{"error", status}};
  std::string warning =
      FormatLogLine(mqstore::Clock::System()->NowMillis(), LogLevel::kWarn, "logger",
                    "log file failed; this record goes to stderr", fields);
  warning.push_back('\n');
  WriteFully(STDERR_FILENO, warning);
}

// ---- Logger

Logger::Logger() : Logger(std::make_unique<StderrSink>()) {}

Logger::Logger(std::unique_ptr<LogSink> sink, LogLevel min_level, mqstore::Clock* clock)
    : min_level_(min_level),
      clock_(clock != nullptr ? clock : mqstore::Clock::System()),
      sink_(sink != nullptr ? std::move(sink) : std::make_unique<StderrSink>()) {}

void Logger::SetSink(std::unique_ptr<LogSink> sink) {
  if (sink == nullptr) sink = std::make_unique<StderrSink>();
  std::unique_ptr<LogSink> old;
  {
    std::lock_guard<std::mutex> lock(mu_);
    old = std::exchange(sink_, std::move(sink));
  }
  // `old` (maybe a file) is closed here, outside the lock.
}

Status Logger::LogToFile(const RotatingFileOptions& options) {
  MQ_ASSIGN_OR_RETURN(std::unique_ptr<RotatingFileSink> sink, RotatingFileSink::Open(options));
  SetSink(std::move(sink));
  return Status::OK();
}

void Logger::Log(LogLevel level, std::string_view component, std::string_view message,
                 std::initializer_list<LogField> fields) noexcept {
  if (!Enabled(level)) return;
  try {
    std::string line = FormatLogLine(clock_->NowMillis(), level, component, message,
                                     std::span<const LogField>(fields.begin(), fields.size()));
    line.push_back('\n');
    std::lock_guard<std::mutex> lock(mu_);
    sink_->Write(line);
  } catch (...) {
    // Out of memory while formatting: the record is lost; logging must not take the server down.
  }
}

Logger& DefaultLogger() {
  static Logger* const logger = new Logger();
  return *logger;
}

}  // namespace mqserver

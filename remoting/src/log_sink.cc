#include "remoting/log_sink.h"

#include <cstdio>
#include <memory>
#include <mutex>
#include <string>

namespace mqremoting {
namespace {

void WriteToStderr(LogLevel level, std::string_view line) {
  std::string text = "[remoting ";
  text += LogLevelName(level);
  text += "] ";
  text += line;
  text += '\n';
  // One fwrite per line keeps lines from different threads whole.
  std::fwrite(text.data(), 1, text.size(), stderr);
}

struct SinkHolder {
  std::mutex mu;
  std::shared_ptr<const LogSink> sink;
};

SinkHolder& Holder() {
  static SinkHolder* holder = new SinkHolder();  // never destroyed: threads may log at exit
  return *holder;
}

}  // namespace

void SetLogSink(LogSink sink) {
  std::shared_ptr<const LogSink> replacement;
  if (sink) replacement = std::make_shared<const LogSink>(std::move(sink));
  SinkHolder& holder = Holder();
  std::lock_guard<std::mutex> lock(holder.mu);
  holder.sink = std::move(replacement);
}

void Log(LogLevel level, std::string_view line) {
  std::shared_ptr<const LogSink> sink;
  {
    SinkHolder& holder = Holder();
    std::lock_guard<std::mutex> lock(holder.mu);
    sink = holder.sink;
  }
  // Called outside the lock so that a sink may itself call SetLogSink.
  if (sink) {
    (*sink)(level, line);
  } else {
    WriteToStderr(level, line);
  }
}

std::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kInfo:
      return "INFO";
    case LogLevel::kWarn:
      return "WARN";
    case LogLevel::kError:
      return "ERROR";
  }
  return "?";
}

}  // namespace mqremoting

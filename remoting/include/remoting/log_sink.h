// Where the remoting library's few log lines go (a connection closed for a bad frame, a handler
// that threw, a port that could not be accepted on). The library never logs per request.
//
// By default lines go to stderr; a server replaces the sink with its own logger at start-up.
#ifndef REMOTING_LOG_SINK_H_
#define REMOTING_LOG_SINK_H_

#include <functional>
#include <string_view>

namespace mqremoting {

enum class LogLevel { kInfo, kWarn, kError };

using LogSink = std::function<void(LogLevel, std::string_view)>;

// Replaces the sink for every later line; nullptr restores the stderr default. Thread-safe.
// The sink is called on transport threads and must not block for long.
void SetLogSink(LogSink sink);

// Writes one line through the current sink (no trailing newline in `line`).
void Log(LogLevel level, std::string_view line);

// "INFO", "WARN", "ERROR".
std::string_view LogLevelName(LogLevel level);

}  // namespace mqremoting

#endif  // REMOTING_LOG_SINK_H_

// The mqdump subcommands. Each returns the process exit code (see main.cc).
#ifndef MQSTORE_TOOLS_MQDUMP_COMMANDS_H_
#define MQSTORE_TOOLS_MQDUMP_COMMANDS_H_

#include <cstdint>
#include <limits>
#include <string>

namespace mqdump {

inline constexpr int kExitOk = 0;
inline constexpr int kExitCorruption = 1;  // verify found damage
inline constexpr int kExitError = 2;       // bad usage, missing store, I/O error

struct CommitLogArgs {
  std::string dir;
  int64_t from = 0;
  uint64_t limit = 0;  // 0: no limit
  bool json = false;
};
int RunCommitLog(const CommitLogArgs& args);

struct MessageArgs {
  std::string dir;
  int64_t offset = 0;
  std::string id;     // instead of offset when not empty
  std::string topic;  // for a unique id
  bool json = false;
};
int RunMessage(const MessageArgs& args);

struct IndexArgs {
  std::string dir;
  std::string key;
  std::string topic;  // empty: scan the commit log
  int64_t begin_ms = std::numeric_limits<int64_t>::min();
  int64_t end_ms = std::numeric_limits<int64_t>::max();
  uint64_t limit = 32;  // 0: no limit
  bool json = false;
};
int RunIndex(const IndexArgs& args);

struct MetaArgs {
  std::string dir;
  bool json = false;
};
int RunMeta(const MetaArgs& args);

struct ConsumeQueueArgs {
  std::string dir;
  std::string topic;
  int32_t queue_id = 0;
  int64_t from = 0;
  uint64_t limit = 0;
  bool json = false;
};
int RunConsumeQueue(const ConsumeQueueArgs& args);

struct StatsArgs {
  std::string dir;
  bool json = false;
};
int RunStats(const StatsArgs& args);

struct TimerArgs {
  std::string dir;
  bool json = false;
};
int RunTimer(const TimerArgs& args);

struct VerifyArgs {
  std::string dir;
  bool quiet = false;  // only the summary line
};
int RunVerify(const VerifyArgs& args);

}  // namespace mqdump

#endif  // MQSTORE_TOOLS_MQDUMP_COMMANDS_H_

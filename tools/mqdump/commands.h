// The mqdump subcommands. Each returns the process exit code (see main.cc).
#ifndef MQSTORE_TOOLS_MQDUMP_COMMANDS_H_
#define MQSTORE_TOOLS_MQDUMP_COMMANDS_H_

#include <cstdint>
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
  bool json = false;
};
int RunMessage(const MessageArgs& args);

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

struct VerifyArgs {
  std::string dir;
  bool quiet = false;  // only the summary line
};
int RunVerify(const VerifyArgs& args);

}  // namespace mqdump

#endif  // MQSTORE_TOOLS_MQDUMP_COMMANDS_H_

#include "util/filename.h"

#include <cstdio>

namespace mqstore::filename {

std::string OffsetName(int64_t offset) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%020lld", static_cast<long long>(offset));
  return buf;
}

std::optional<int64_t> ParseOffsetName(std::string_view name) {
  if (name.size() != 20) return std::nullopt;
  int64_t v = 0;
  for (char c : name) {
    if (c < '0' || c > '9') return std::nullopt;
    if (v > (INT64_MAX - (c - '0')) / 10) return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

std::string CommitLogDir(const std::string& root) { return root + "/commitlog"; }
std::string MetaDir(const std::string& root) { return root + "/meta"; }
std::string ScheduleProgress(const std::string& root) { return root + "/schedule_progress"; }
std::string CommitLogSegment(const std::string& root, int64_t base_offset) {
  return CommitLogDir(root) + "/" + OffsetName(base_offset);
}
std::string ConsumeQueueRoot(const std::string& root) { return root + "/consumequeue"; }
std::string ConsumeQueueDir(const std::string& root, std::string_view topic, int32_t queue_id) {
  return ConsumeQueueRoot(root) + "/" + std::string(topic) + "/" + std::to_string(queue_id);
}
std::string ConsumeQueueFile(const std::string& root, std::string_view topic, int32_t queue_id,
                             int64_t base_byte_offset) {
  return ConsumeQueueDir(root, topic, queue_id) + "/" + OffsetName(base_byte_offset);
}
std::string Checkpoint(const std::string& root) { return root + "/checkpoint"; }
std::string AbortMarker(const std::string& root) { return root + "/abort"; }
std::string Lock(const std::string& root) { return root + "/lock"; }

}  // namespace mqstore::filename

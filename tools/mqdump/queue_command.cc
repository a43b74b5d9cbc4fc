// mqdump consumequeue: one line per entry of one queue.
#include <iostream>

#include "commands.h"
#include "format.h"
#include "mqstore/inspect.h"

namespace mqdump {

int RunConsumeQueue(const ConsumeQueueArgs& args) {
  auto inspector = OpenOrReport(args.dir);
  if (!inspector) return kExitError;
  auto it = inspector->NewQueueIterator(args.topic, args.queue_id, args.from);
  if (!it.ok()) return ReportError(it.status());
  uint64_t shown = 0;
  for (auto& queue = *it; queue->Valid(); queue->Next()) {
    if (args.limit != 0 && shown == args.limit) break;
    const mqstore::QueueEntryInfo& e = queue->entry();
    if (args.json) {
      nlohmann::json j;
      j["queue_offset"] = e.queue_offset;
      j["physical_offset"] = e.physical_offset;
      j["size"] = e.size;
      j["tags_code"] = e.tags_code;
      j["file"] = std::string(e.file_path);
      j["file_offset"] = e.file_offset;
      PrintJsonLine(j);
    } else {
      std::cout << "queue_offset=" << e.queue_offset << " offset=" << e.physical_offset
                << " size=" << e.size << " tags_code=" << e.tags_code << "\n";
    }
    ++shown;
  }
  if (!(*it)->status().ok()) return ReportError((*it)->status());
  return kExitOk;
}

}  // namespace mqdump

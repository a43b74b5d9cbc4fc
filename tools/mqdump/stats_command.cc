// mqdump stats: what the store holds and where its positions are, without verifying.
#include <iostream>

#include "commands.h"
#include "format.h"
#include "mqstore/inspect.h"

namespace mqdump {
namespace {

nlohmann::json CheckpointJson(const mqstore::CheckpointFields& c) {
  return {{"sequence", c.sequence},
          {"log_durable_offset", c.log_durable_offset},
          {"dispatch_durable_offset", c.dispatch_durable_offset},
          {"log_min_offset", c.log_min_offset},
          {"segment_bytes", c.segment_bytes},
          {"written_at_ms", c.written_at_ms}};
}

std::string SlotText(const mqstore::CheckpointSlot& slot) {
  if (!slot.valid) return slot.problem;
  const mqstore::CheckpointFields& c = slot.fields;
  return "sequence " + std::to_string(c.sequence) + ", log durable " +
         std::to_string(c.log_durable_offset) + ", dispatch durable " +
         std::to_string(c.dispatch_durable_offset) + ", log min " +
         std::to_string(c.log_min_offset) + ", written " + FormatTime(c.written_at_ms);
}

void Line(std::string_view name, const std::string& value) {
  std::string label(name);
  label += ':';
  if (label.size() < 16) label.resize(16, ' ');
  std::cout << label << ' ' << value << "\n";
}

}  // namespace

int RunStats(const StatsArgs& args) {
  auto inspector = OpenOrReport(args.dir);
  if (!inspector) return kExitError;
  auto stats = inspector->Stats();
  if (!stats.ok()) return ReportError(stats.status());
  auto checkpoint = inspector->ReadCheckpoint();
  if (!checkpoint.ok()) return ReportError(checkpoint.status());
  const mqstore::InspectStats& s = *stats;

  if (args.json) {
    nlohmann::json j;
    j["dir"] = args.dir;
    j["segment_bytes"] = s.segment_bytes;
    j["segments"] = s.segment_count;
    j["log_min_offset"] = s.log_min_offset;
    j["log_files_end"] = s.log_files_end;
    j["log_end"] = s.log_end;
    j["abort_marker"] = s.abort_marker;
    j["checkpoint"] = s.checkpoint ? CheckpointJson(*s.checkpoint) : nlohmann::json(nullptr);
    j["checkpoint_slot"] = checkpoint->newest_slot;
    j["queue_entries"] = s.queue_entries;
    j["queues"] = nlohmann::json::array();
    for (const auto& q : s.queues) {
      j["queues"].push_back({{"topic", q.topic},
                             {"queue_id", q.queue_id},
                             {"min_offset", q.min_offset},
                             {"max_offset", q.max_offset},
                             {"files", q.file_count},
                             {"last_record_end", q.last_record_end}});
    }
    PrintJsonLine(j);
    return kExitOk;
  }

  Line("store", args.dir);
  Line("segment size", std::to_string(s.segment_bytes) + " bytes");
  Line("segments", std::to_string(s.segment_count) + " (offsets " +
                       std::to_string(s.log_min_offset) + " .. " + std::to_string(s.log_files_end) +
                       ")");
  Line("log end", std::to_string(s.log_end) + " (where recovery would end the log)");
  if (!checkpoint->exists) {
    Line("checkpoint", "missing");
  } else {
    for (size_t i = 0; i < checkpoint->slots.size(); ++i) {
      std::string mark = static_cast<int>(i) == checkpoint->newest_slot ? " (newest)" : "";
      Line("checkpoint " + std::to_string(i), SlotText(checkpoint->slots[i]) + mark);
    }
  }
  Line("abort marker",
       s.abort_marker ? "present (the store is open or crashed)" : "absent (closed cleanly)");
  Line("queues",
       std::to_string(s.queues.size()) + " (" + std::to_string(s.queue_entries) + " entries)");
  for (const auto& q : s.queues) {
    std::cout << "  " << q.topic << "/" << q.queue_id << " min=" << q.min_offset
              << " max=" << q.max_offset << " files=" << q.file_count << "\n";
  }
  return kExitOk;
}

}  // namespace mqdump

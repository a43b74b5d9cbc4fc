// mqdump timer: the timer log summarised (segments, entries, pending timers by due time).
#include <iostream>

#include "commands.h"
#include "format.h"
#include "mqstore/inspect.h"
#include "record_output.h"

namespace mqdump {
namespace {

nlohmann::json SummaryJson(const mqstore::TimerLogSummary& t) {
  nlohmann::json j;
  j["dir"] = t.dir;
  j["precision_ms"] = t.precision_ms;
  j["segment_bytes"] = t.segment_bytes;
  j["log_start"] = t.log_start;
  j["log_end"] = t.log_end;
  j["entries"] = t.entries;
  j["segments"] = nlohmann::json::array();
  for (const auto& s : t.segments) {
    j["segments"].push_back(
        {{"path", s.path},
         {"base", s.base},
         {"file_bytes", s.file_bytes},
         {"entries", s.entries},
         {"rolls", s.rolls},
         {"min_slot", s.min_slot},
         {"max_slot", s.max_slot},
         {"problem", s.problem.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.problem)}});
  }
  if (t.progress_known && t.progress_committed) {
    j["progress"] = {{"log_end", t.committed_log_end},
                     {"next_queue_offset", t.next_queue_offset},
                     {"delivered_through_ms", t.delivered_through_ms}};
  } else {
    j["progress"] = nullptr;
  }
  j["progress_known"] = t.progress_known;
  j["pending"] = t.pending;
  j["pending_by_time"] = nlohmann::json::array();
  for (const auto& r : t.pending_by_time) {
    j["pending_by_time"].push_back(
        {{"from_ms", r.from_ms}, {"to_ms", r.to_ms}, {"entries", r.entries}});
  }
  return j;
}

void PrintSummaryText(const mqstore::TimerLogSummary& t) {
  PrintField("timer log", t.dir);
  PrintField("precision", std::to_string(t.precision_ms) + " ms");
  PrintField("segment size", std::to_string(t.segment_bytes) + " bytes");
  PrintField("segments", std::to_string(t.segments.size()));
  for (const auto& s : t.segments) {
    std::cout << "  " << s.path << " base=" << s.base << " entries=" << s.entries
              << " rolls=" << s.rolls;
    if (s.entries > 0) std::cout << " slots=" << s.min_slot << ".." << s.max_slot;
    if (!s.problem.empty()) std::cout << " PROBLEM: " << s.problem;
    std::cout << "\n";
  }
  PrintField("log", std::to_string(t.log_start) + ".." + std::to_string(t.log_end) + " (" +
                        std::to_string(t.entries) + " entries)");
  if (!t.progress_known) {
    PrintField("progress", "not read (meta/ missing or not readable here)");
  } else if (!t.progress_committed) {
    PrintField("progress", "none committed (the next open starts afresh)");
  } else {
    PrintField("progress", "log end " + std::to_string(t.committed_log_end) +
                               ", next queue offset " + std::to_string(t.next_queue_offset) +
                               ", delivered through " + FormatTime(t.delivered_through_ms));
  }
  PrintField("pending", std::to_string(t.pending));
  for (const auto& r : t.pending_by_time) {
    std::cout << "  due " << FormatTime(r.from_ms) << " .. " << FormatTime(r.to_ms) << ": "
              << r.entries << "\n";
  }
}

}  // namespace

int RunTimer(const TimerArgs& args) {
  auto inspector = OpenOrReport(args.dir);
  if (!inspector) return kExitError;
  auto summary = inspector->ReadTimerLog();
  if (!summary.ok()) return ReportError(summary.status());
  if (args.json) {
    PrintJsonLine(SummaryJson(*summary));
  } else {
    PrintSummaryText(*summary);
  }
  return kExitOk;
}

}  // namespace mqdump

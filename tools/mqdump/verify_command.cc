// mqdump verify: every check of mqstore::StoreInspector::Verify, problems on stdout, progress
// on stderr when a person is watching.
#include <unistd.h>

#include <iostream>

#include "commands.h"
#include "format.h"
#include "mqstore/inspect.h"

namespace mqdump {
namespace {

std::string Count(uint64_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

}  // namespace

int RunVerify(const VerifyArgs& args) {
  auto inspector = OpenOrReport(args.dir);
  if (!inspector) return kExitError;

  // A progress line only for a terminal: in a pipe or a log file it would be noise.
  const bool show_progress = isatty(STDERR_FILENO) == 1;
  bool progress_shown = false;
  auto clear_progress = [&] {
    if (progress_shown) std::cerr << "\r\033[K" << std::flush;
    progress_shown = false;
  };

  mqstore::VerifyOptions options;
  options.report = [&](const mqstore::Problem& p) {
    if (args.quiet) return;
    clear_progress();
    std::cout << mqstore::SeverityName(p.severity) << ": " << p.path;
    if (p.file_offset >= 0) std::cout << " @ " << p.file_offset;
    std::cout << ": " << p.message << "\n" << std::flush;
  };
  if (show_progress) {
    options.progress = [&](const mqstore::VerifyProgress& p) {
      int percent = p.total_bytes == 0 ? 100 : static_cast<int>(p.done_bytes * 100 / p.total_bytes);
      std::cerr << "\rverifying: " << percent << "% (" << (p.done_bytes >> 20) << " of "
                << (p.total_bytes >> 20) << " MiB)" << std::flush;
      progress_shown = true;
    };
  }
  auto summary = inspector->Verify(options);
  clear_progress();
  if (!summary.ok()) return ReportError(summary.status());

  const mqstore::VerifySummary& s = *summary;
  std::cout << "verify " << args.dir << ": " << Count(s.segments, "segment", "segments") << ", "
            << Count(s.records, "record", "records") << " (log " << s.log_start << ".." << s.log_end
            << "), " << Count(s.queues, "queue", "queues") << " with "
            << Count(s.queue_entries, "entry", "entries");
  if (!inspector->layout().index_files.empty()) {
    std::cout << ", " << Count(s.index_files, "index file", "index files") << " with "
              << Count(s.index_entries, "entry", "entries");
  }
  if (s.metadata_checked) {
    std::cout << ", metadata with " << Count(s.metadata_entries, "entry", "entries");
  }
  if (!inspector->layout().timer_segments.empty()) {
    std::cout << ", timer log with " << Count(s.timer_entries, "entry", "entries") << " ("
              << s.timer_pending << " pending) in "
              << Count(s.timer_segments, "segment", "segments");
  }
  std::cout << "; " << Count(s.corruptions, "corruption", "corruptions") << ", "
            << Count(s.warnings, "warning", "warnings") << ", " << Count(s.notes, "note", "notes")
            << ": " << (s.clean() ? "OK" : "CORRUPT") << "\n";
  return s.clean() ? kExitOk : kExitCorruption;
}

}  // namespace mqdump

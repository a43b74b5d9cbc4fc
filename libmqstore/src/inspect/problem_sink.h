// Where Verify's checkers send what they find: counts every problem, forwards it to the
// caller's reporter, and turns bytes checked into progress callbacks.
#ifndef MQSTORE_INSPECT_PROBLEM_SINK_H_
#define MQSTORE_INSPECT_PROBLEM_SINK_H_

#include <cstdint>
#include <string>

#include "mqstore/inspect.h"

namespace mqstore {

class ProblemSink {
 public:
  ProblemSink(const VerifyOptions& options, uint64_t total_bytes)
      : options_(options), progress_{0, total_bytes} {}

  void Report(Severity severity, std::string path, int64_t file_offset, std::string message) {
    Count(severity);
    Forward(severity, std::move(path), file_offset, std::move(message));
  }
  // Passes a line to the reporter without counting it (a remark about other problems).
  void Forward(Severity severity, std::string path, int64_t file_offset, std::string message) {
    if (options_.report) {
      options_.report(Problem{severity, std::move(path), file_offset, std::move(message)});
    }
  }
  // Counts a problem without reporting it (past a per-queue limit).
  void Count(Severity severity) {
    switch (severity) {
      case Severity::kNote:
        ++notes_;
        break;
      case Severity::kWarning:
        ++warnings_;
        break;
      case Severity::kCorruption:
        ++corruptions_;
        break;
    }
  }

  // Adds `bytes` to the bytes checked; calls the progress callback every 16 MiB.
  void Advance(uint64_t bytes) {
    progress_.done_bytes += bytes;
    if (progress_.done_bytes >= next_callback_) {
      Flush();
      next_callback_ = progress_.done_bytes + (16u << 20);
    }
  }
  // Calls the progress callback with the current numbers.
  void Flush() {
    if (options_.progress) options_.progress(progress_);
  }

  int max_problems_per_queue() const { return options_.max_problems_per_queue; }
  uint64_t notes() const { return notes_; }
  uint64_t warnings() const { return warnings_; }
  uint64_t corruptions() const { return corruptions_; }

 private:
  const VerifyOptions& options_;
  VerifyProgress progress_;
  uint64_t next_callback_ = 0;
  uint64_t notes_ = 0;
  uint64_t warnings_ = 0;
  uint64_t corruptions_ = 0;
};

}  // namespace mqstore

#endif  // MQSTORE_INSPECT_PROBLEM_SINK_H_

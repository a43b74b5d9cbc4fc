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

// Reports the first few problems of one file in full (VerifyOptions::max_problems_per_queue);
// counts the rest and says so once, so that one damaged file cannot flood the report.
class FileProblemReporter {
 public:
  FileProblemReporter(ProblemSink* sink, std::string path) : sink_(sink), path_(std::move(path)) {}
  ~FileProblemReporter() {
    if (suppressed_ > 0) {
      // Not a problem of its own: forwarded, not counted.
      sink_->Forward(Severity::kNote, path_, -1,
                     std::to_string(suppressed_) + " more problems not shown (counted)");
    }
  }
  FileProblemReporter(const FileProblemReporter&) = delete;
  FileProblemReporter& operator=(const FileProblemReporter&) = delete;

  void Report(Severity severity, uint64_t offset, std::string message) {
    if (shown_ < sink_->max_problems_per_queue()) {
      ++shown_;
      sink_->Report(severity, path_, static_cast<int64_t>(offset), std::move(message));
    } else {
      ++suppressed_;
      sink_->Count(severity);
    }
  }

 private:
  ProblemSink* const sink_;
  const std::string path_;
  int shown_ = 0;
  uint64_t suppressed_ = 0;
};

}  // namespace mqstore

#endif  // MQSTORE_INSPECT_PROBLEM_SINK_H_

#include "inspect/log_iterator.h"

#include <algorithm>

#include "inspect/log_position.h"

namespace mqstore {

LogEntry DescribeLogPosition(const SegmentFile& segment, std::string_view data, int64_t offset) {
  LogEntry e;
  e.offset = offset;
  e.segment_path = segment.path;
  e.file_offset = static_cast<uint64_t>(offset - segment.base_offset);
  std::string_view rest =
      e.file_offset < data.size() ? data.substr(e.file_offset) : std::string_view();
  PositionCheck check = ExaminePosition(rest, offset);
  switch (check.kind) {
    case PositionKind::kRecord:
    case PositionKind::kDamagedRecord:
      e.kind = LogEntryKind::kRecord;
      e.size = check.size;
      e.record = check.record;
      e.bytes = rest.substr(0, static_cast<size_t>(check.size));
      break;
    case PositionKind::kBlank:
      e.kind = LogEntryKind::kBlank;
      e.size = check.size;
      break;
    case PositionKind::kEnd:
      e.kind = LogEntryKind::kEnd;
      e.zeros_follow = AllZero(rest);
      break;
  }
  e.problem = std::move(check.problem);
  return e;
}

void LogIteratorImpl::SeekExact(int64_t offset) {
  const auto& segs = *segments_;
  if (!segs.empty() && offset < segs.front().base_offset) offset = segs.front().base_offset;
  pos_ = offset;
  if (const SegmentFile* holder = FindSegment(segs, offset)) {
    segment_ = static_cast<size_t>(holder - segs.data());
  } else {
    // In a gap or past the end: Load() says so.
    auto it = std::upper_bound(segs.begin(), segs.end(), offset,
                               [](int64_t o, const SegmentFile& s) { return o < s.base_offset; });
    segment_ = static_cast<size_t>(it - segs.begin());
  }
  Load();
}

void LogIteratorImpl::SeekAtOrAfter(int64_t offset) {
  const auto& segs = *segments_;
  if (segs.empty() || offset <= segs.front().base_offset) {
    segment_ = 0;
    pos_ = segs.empty() ? 0 : segs.front().base_offset;
    Load();
    return;
  }
  const SegmentFile* holder = FindSegment(segs, offset);
  if (holder == nullptr) {
    // In a gap or past the end: the next segment's start is the next boundary, if any.
    auto it = std::upper_bound(segs.begin(), segs.end(), offset,
                               [](int64_t o, const SegmentFile& s) { return o < s.base_offset; });
    segment_ = static_cast<size_t>(it - segs.begin());
    pos_ = it == segs.end() ? offset : it->base_offset;
    Load();
    return;
  }
  segment_ = static_cast<size_t>(holder - segs.data());
  pos_ = holder->base_offset;
  Load();
  while (valid_ && entry_.offset < offset && entry_.kind != LogEntryKind::kEnd) Next();
}

void LogIteratorImpl::Next() {
  if (!valid_) return;
  switch (entry_.kind) {
    case LogEntryKind::kEnd:
      valid_ = false;
      file_.reset();
      return;
    case LogEntryKind::kRecord:
      pos_ += entry_.size;
      break;
    case LogEntryKind::kBlank:
      pos_ += entry_.size;
      ++segment_;
      break;
  }
  Load();
}

void LogIteratorImpl::Load() {
  const auto& segs = *segments_;
  valid_ = true;
  if (segment_ >= segs.size()) {
    entry_ = LogEntry();
    entry_.offset = pos_;
    entry_.zeros_follow = true;
    entry_.problem =
        segs.empty() ? "the commit log has no segments"
        : pos_ == segs.back().base_offset + static_cast<int64_t>(segs.back().file_bytes)
            ? "end of the last segment"
            : "offset " + std::to_string(pos_) + " is past the last segment";
    file_.reset();
    return;
  }
  const SegmentFile& seg = segs[segment_];
  if (pos_ < seg.base_offset) {
    entry_ = LogEntry();
    entry_.offset = pos_;
    entry_.problem = "no segment holds offset " + std::to_string(pos_) +
                     " (the next segment starts at " + std::to_string(seg.base_offset) + ")";
    file_.reset();
    return;
  }
  auto file = cache_->Get(seg.path);
  if (!file.ok()) {
    status_ = file.status();
    valid_ = false;
    file_.reset();
    return;
  }
  file_ = std::move(file).value();
  entry_ = DescribeLogPosition(seg, file_->data(), pos_);
}

}  // namespace mqstore

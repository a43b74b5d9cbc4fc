#include "schedule/timer_log.h"

#include <algorithm>
#include <string_view>

#include "util/filename.h"

namespace mqstore {

Result<std::unique_ptr<TimerLog>> TimerLog::Open(Env* env, const std::string& dir,
                                                 uint64_t segment_bytes, int64_t precision_ms) {
  if (segment_bytes % kTimerEntrySize != 0 || segment_bytes < 2 * kTimerEntrySize) {
    return Status::InvalidArgument("timer log segment size " + std::to_string(segment_bytes) +
                                   " is not a multiple of " + std::to_string(kTimerEntrySize) +
                                   " of at least two entries");
  }
  MQ_RETURN_IF_ERROR(env->CreateDir(dir));
  MQ_ASSIGN_OR_RETURN(std::vector<std::string> names, env->GetChildren(dir));
  std::vector<int64_t> bases;
  for (const std::string& name : names) {
    if (std::optional<int64_t> base = filename::ParseOffsetName(name)) bases.push_back(*base);
  }
  std::sort(bases.begin(), bases.end());
  std::unique_ptr<TimerLog> log(new TimerLog(env, dir, segment_bytes, precision_ms));
  const auto size = static_cast<int64_t>(segment_bytes);
  for (int64_t base : bases) {
    std::string path = log->SegmentPath(base);
    if (base % size != 0) {
      return Status::Corruption(path + ": not at a multiple of the segment size");
    }
    if (!log->segments_.empty() && base != log->segments_.back()->end()) {
      return Status::Corruption(path + ": segments are not contiguous");
    }
    MQ_ASSIGN_OR_RETURN(std::shared_ptr<MappedFile> segment,
                        MappedFile::Open(env, path, base, segment_bytes, /*writable=*/true));
    TimerLogHeader header;
    MQ_RETURN_IF_ERROR(DecodeTimerLogHeader(segment->data(), &header).WithContext(path));
    if (header.base != base) return Status::Corruption(path + ": header names another base");
    if (header.precision_ms != precision_ms) {
      return Status::Corruption(path + ": written with precision " +
                                std::to_string(header.precision_ms) + " ms, not " +
                                std::to_string(precision_ms) + " ms");
    }
    log->segments_.push_back(std::move(segment));
  }
  if (!log->segments_.empty()) {
    // The end: after the last entry of the last segment that decodes.
    const MappedFile& last = *log->segments_.back();
    int64_t pos = last.base() + static_cast<int64_t>(kTimerEntrySize);
    TimerEntry entry;
    while (pos < last.end() &&
           DecodeTimerEntry(last.data() + (pos - last.base()), &entry) == TimerEntryState::kValid) {
      pos += static_cast<int64_t>(kTimerEntrySize);
    }
    log->end_ = pos;
  }
  log->synced_ = log->end_;
  return log;
}

Status TimerLog::Destroy(Env* env, const std::string& dir) {
  if (!env->FileExists(dir)) return Status::OK();
  MQ_ASSIGN_OR_RETURN(std::vector<std::string> names, env->GetChildren(dir));
  for (const std::string& name : names) {
    if (filename::ParseOffsetName(name)) MQ_RETURN_IF_ERROR(env->RemoveFile(dir + "/" + name));
  }
  return Status::OK();
}

std::string TimerLog::SegmentPath(int64_t base) const {
  return dir_ + "/" + filename::OffsetName(base);
}

int64_t TimerLog::start() const {
  return segments_.empty() ? end_
                           : segments_.front()->base() + static_cast<int64_t>(kTimerEntrySize);
}

std::vector<int64_t> TimerLog::SegmentBases() const {
  std::vector<int64_t> out;
  for (const auto& s : segments_) out.push_back(s->base());
  return out;
}

MappedFile* TimerLog::SegmentFor(int64_t pos) const {
  if (segments_.empty() || pos < segments_.front()->base()) return nullptr;
  auto index = static_cast<size_t>((SegmentBaseOf(pos) - segments_.front()->base()) /
                                   static_cast<int64_t>(segment_bytes_));
  return index < segments_.size() ? segments_[index].get() : nullptr;
}

Status TimerLog::AddSegment(int64_t base) {
  MQ_ASSIGN_OR_RETURN(std::shared_ptr<MappedFile> segment,
                      MappedFile::Create(env_, SegmentPath(base), base, segment_bytes_));
  EncodeTimerLogHeader(TimerLogHeader{base, precision_ms_}, segment->data());
  segments_.push_back(std::move(segment));
  end_ = base + static_cast<int64_t>(kTimerEntrySize);
  return Status::OK();
}

Result<int64_t> TimerLog::Append(const TimerEntry& entry) {
  if (segments_.empty() || end_ == segments_.back()->end()) {
    MQ_RETURN_IF_ERROR(AddSegment(segments_.empty() ? end_ : segments_.back()->end()));
  }
  MappedFile& segment = *segments_.back();
  int64_t pos = end_;
  EncodeTimerEntry(entry, segment.data() + (pos - segment.base()));
  end_ += static_cast<int64_t>(kTimerEntrySize);
  return pos;
}

Status TimerLog::Read(int64_t pos, TimerEntry* out) const {
  if (pos < start() || pos >= end_) {
    return Status::OutOfRange("timer log position " + std::to_string(pos) + " outside [" +
                              std::to_string(start()) + ", " + std::to_string(end_) + ")");
  }
  MappedFile* segment = SegmentFor(pos);
  int64_t in_segment = pos - segment->base();
  if (in_segment < static_cast<int64_t>(kTimerEntrySize) ||
      in_segment % static_cast<int64_t>(kTimerEntrySize) != 0) {
    return Status::Corruption("timer log position " + std::to_string(pos) +
                              " is not an entry boundary");
  }
  if (DecodeTimerEntry(segment->data() + in_segment, out) != TimerEntryState::kValid) {
    return Status::Corruption(segment->path() + ": bad timer entry at position " +
                              std::to_string(pos));
  }
  return Status::OK();
}

Status TimerLog::Sync() {
  for (const auto& segment : segments_) {
    if (segment->end() <= synced_ || segment->base() >= end_) continue;
    uint64_t from = static_cast<uint64_t>(std::max(synced_, segment->base()) - segment->base());
    uint64_t to = static_cast<uint64_t>(std::min(end_, segment->end()) - segment->base());
    MQ_RETURN_IF_ERROR(segment->Sync(from, to));
  }
  synced_ = end_;
  return Status::OK();
}

Status TimerLog::TruncateTo(int64_t end) {
  if (end == 0) return RemoveAll();
  MappedFile* segment = SegmentFor(end - 1);
  if (segment == nullptr) {
    return Status::Corruption(dir_ + ": the timer log does not reach its committed end " +
                              std::to_string(end));
  }
  int64_t in_segment = end - segment->base();
  if (in_segment < static_cast<int64_t>(kTimerEntrySize) ||
      in_segment % static_cast<int64_t>(kTimerEntrySize) != 0) {
    return Status::Corruption(dir_ + ": committed end " + std::to_string(end) +
                              " is not an entry boundary");
  }
  while (segments_.back().get() != segment) {
    MQ_RETURN_IF_ERROR(env_->RemoveFile(segments_.back()->path()));
    segments_.pop_back();
  }
  auto tail = segment->View(static_cast<uint64_t>(in_segment), segment_bytes_);
  if (tail.find_first_not_of('\0') != std::string_view::npos) {
    MQ_RETURN_IF_ERROR(segment->ZeroFromAndSync(static_cast<uint64_t>(in_segment)));
  }
  end_ = end;
  synced_ = end;
  return Status::OK();
}

Status TimerLog::RemoveFirstSegment() {
  if (segments_.size() < 2) return Status::FailedPrecondition("the active segment stays");
  MQ_RETURN_IF_ERROR(env_->RemoveFile(segments_.front()->path()));
  segments_.erase(segments_.begin());
  return Status::OK();
}

Status TimerLog::RemoveAll() {
  while (!segments_.empty()) {
    MQ_RETURN_IF_ERROR(env_->RemoveFile(segments_.back()->path()));
    segments_.pop_back();
  }
  end_ = 0;
  synced_ = 0;
  return Status::OK();
}

}  // namespace mqstore

#include "log/segment_zeroer.h"

#include <algorithm>

#include "util/zeros.h"

namespace mqstore {

Status SegmentZeroer::Open(const std::string& path) {
  file_.reset();
  direct_ = false;
  if (!direct_refused_.load(std::memory_order_relaxed)) {
    Result<std::unique_ptr<File>> direct = env_->OpenFile(path, OpenMode::kReadWriteDirect);
    if (direct.ok()) {
      file_ = std::move(direct).value();
      direct_ = true;
      return Status::OK();
    }
  }
  MQ_ASSIGN_OR_RETURN(file_, env_->OpenFile(path, OpenMode::kReadWrite));
  return Status::OK();
}

uint64_t SegmentZeroer::piece_bytes() const {
  // Cached: 1 MiB, each written back on its own (ADR 0014, "Tail"). Direct: a few hundred µs
  // of device time; smaller pieces lost rate, larger ones doubled the flusher's p99.
  return direct_ ? kAlignedZerosBytes : (1 << 20);
}

Status SegmentZeroer::Write(uint64_t from, uint64_t to) {
  const std::string_view zeros = AlignedZeros();
  for (uint64_t at = from; at < to;) {
    // Direct: as much as the zeros hold per write. Cached: to the next page boundary; a
    // larger write fills the page cache with large folios, which cost this guest several
    // times as much per page (ADR 0018).
    const uint64_t stop = std::min(
        to, direct_ ? at + zeros.size() : (at / kDirectIoAlignment + 1) * kDirectIoAlignment);
    Status s = file_->Write(at, zeros.substr(0, stop - at));
    if (direct_ && s.code() == Status::Code::kNotSupported) {
      direct_refused_.store(true, std::memory_order_relaxed);
    }
    MQ_RETURN_IF_ERROR(s);
    at = stop;
  }
  return Status::OK();
}

}  // namespace mqstore

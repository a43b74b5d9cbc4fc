#include "inspect/log_position.h"

#include <algorithm>
#include <cstring>

#include "log/record_format.h"
#include "mqstore/coding.h"

namespace mqstore {

PositionCheck ExaminePosition(std::string_view rest, int64_t offset) {
  PositionCheck out;
  if (rest.size() < static_cast<size_t>(record::kBlankHeaderSize)) {
    out.problem = rest.empty() ? "the segment ends without a blank record"
                               : "fewer than 8 bytes left in the segment";
    return out;
  }
  int32_t total = static_cast<int32_t>(DecodeBig32(rest.data()));
  int32_t magic = static_cast<int32_t>(DecodeBig32(rest.data() + 4));
  if (magic == record::kMagicBlank) {
    if (total < 0 || static_cast<size_t>(total) != rest.size()) {
      out.problem = "blank record of " + std::to_string(total) +
                    " bytes does not cover the rest of the segment (" +
                    std::to_string(rest.size()) + " bytes)";
      return out;
    }
    out.kind = PositionKind::kBlank;
    out.size = total;
    return out;
  }
  if (total == 0 && magic == 0) {
    out.problem = "zeros";
    return out;
  }
  Status s = ParseRecord(rest, /*verify_checksums=*/false, &out.record);
  if (!s.ok()) {
    out.problem = std::string(s.message());
    return out;
  }
  out.size = out.record.total_size;
  s = ParseRecord(rest, /*verify_checksums=*/true, &out.record);
  if (!s.ok()) {
    out.kind = PositionKind::kDamagedRecord;
    out.problem = std::string(s.message());
    return out;
  }
  if (out.record.physical_offset != offset) {
    out.kind = PositionKind::kDamagedRecord;
    out.problem = "PHYSICALOFFSET is " + std::to_string(out.record.physical_offset) +
                  ", not its position " + std::to_string(offset);
    return out;
  }
  out.kind = PositionKind::kRecord;
  return out;
}

bool AllZero(std::string_view bytes) { return NonZeroExtent(bytes) == 0; }

size_t NonZeroExtent(std::string_view bytes) {
  // Word-at-a-time from the back: the tail of a segment is mostly zeros and can be large.
  size_t n = bytes.size();
  const char* p = bytes.data();
  while (n > 0 && n % 8 != 0) {
    if (p[n - 1] != 0) return n;
    --n;
  }
  while (n >= 8) {
    uint64_t word;
    std::memcpy(&word, p + n - 8, 8);
    if (word != 0) break;
    n -= 8;
  }
  while (n > 0 && p[n - 1] == 0) --n;
  return n;
}

const SegmentFile* FindSegment(const std::vector<SegmentFile>& segments, int64_t offset) {
  auto it = std::upper_bound(segments.begin(), segments.end(), offset,
                             [](int64_t o, const SegmentFile& s) { return o < s.base_offset; });
  if (it == segments.begin()) return nullptr;
  --it;
  if (offset >= it->base_offset + static_cast<int64_t>(it->file_bytes)) return nullptr;
  return &*it;
}

}  // namespace mqstore

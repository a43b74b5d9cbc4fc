// What lies at one commit-log position, judged the way recovery judges it
// (recovery/recovery.cc), plus small byte-scanning helpers shared by the inspector.
#ifndef MQSTORE_INSPECT_LOG_POSITION_H_
#define MQSTORE_INSPECT_LOG_POSITION_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mqstore/inspect.h"
#include "mqstore/message.h"

namespace mqstore {

enum class PositionKind {
  kRecord,         // parses, both CRCs match, PHYSICALOFFSET equals the position
  kDamagedRecord,  // parses, but a CRC or PHYSICALOFFSET is wrong; `size` is still usable
  kBlank,          // a blank header covering exactly the rest of the segment
  kEnd,            // nothing usable starts here
};

struct PositionCheck {
  PositionKind kind = PositionKind::kEnd;
  int64_t size = 0;
  ParsedRecord record;  // kRecord, kDamagedRecord
  std::string problem;  // kDamagedRecord, kEnd
};

// Examines `rest`, the bytes of a segment from commit-log offset `offset` to the segment's
// end. Recovery accepts exactly the positions this calls kRecord or kBlank.
PositionCheck ExaminePosition(std::string_view rest, int64_t offset);

bool AllZero(std::string_view bytes);
// One past the last non-zero byte of `bytes`; 0 when they are all zero.
size_t NonZeroExtent(std::string_view bytes);

// The segment whose file covers `offset`, or null.
const SegmentFile* FindSegment(const std::vector<SegmentFile>& segments, int64_t offset);

}  // namespace mqstore

#endif  // MQSTORE_INSPECT_LOG_POSITION_H_

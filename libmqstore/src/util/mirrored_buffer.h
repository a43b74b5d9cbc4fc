// MirroredBuffer: a ring of bytes whose memory is mapped twice, back to back, so that any
// range of up to capacity() bytes starting anywhere in the ring is contiguous in memory.
//
//   virtual:  [ page 0 .. page n-1 ][ page 0 .. page n-1 ]   (same physical pages twice)
//
// The commit log's write buffer uses it: a record (or a whole batch) that wraps past the
// end of the ring is still written with one memcpy and handed to pwrite as one range.
// It is process memory (memfd + two MAP_SHARED views), not a file of the store, so it does
// not go through the Env.
#ifndef MQSTORE_UTIL_MIRRORED_BUFFER_H_
#define MQSTORE_UTIL_MIRRORED_BUFFER_H_

#include <cstddef>
#include <cstdint>
#include <memory>

#include "mqstore/status.h"

namespace mqstore {

class MirroredBuffer {
 public:
  // `capacity` is rounded up to a multiple of the page size.
  static Result<std::unique_ptr<MirroredBuffer>> Create(size_t capacity);
  ~MirroredBuffer();
  MirroredBuffer(const MirroredBuffer&) = delete;
  MirroredBuffer& operator=(const MirroredBuffer&) = delete;

  size_t capacity() const { return capacity_; }
  // Where the byte for stream position `position` (>= 0) lives; the capacity() bytes from
  // there are contiguous.
  char* At(int64_t position) const {
    return base_ + static_cast<size_t>(static_cast<uint64_t>(position) % capacity_);
  }

 private:
  MirroredBuffer(char* base, size_t capacity) : base_(base), capacity_(capacity) {}

  char* base_;
  size_t capacity_;
};

}  // namespace mqstore

#endif  // MQSTORE_UTIL_MIRRORED_BUFFER_H_

// Write counters of files kept as two alternating copies (checkpoint slots, index header
// copies): write N goes to copy N % 2, and the newer valid copy is the file's state.
#ifndef MQSTORE_UTIL_SEQUENCE_H_
#define MQSTORE_UTIL_SEQUENCE_H_

#include <cstddef>
#include <cstdint>

namespace mqstore {

// The copy that write `sequence` goes to; a valid copy holding a sequence of the other parity
// is damage.
inline size_t CopyOfSequence(uint64_t sequence) { return static_cast<size_t>(sequence % 2); }

// Whether write `a` came after write `b`. Counters wrap around (serial-number arithmetic, as
// in RFC 1982): after 2^64 - 1 comes 0, in the other copy, and it is newer. So no value is a
// dead end: with a plain comparison, damage that left a valid copy with the largest value
// made every later write lose to it (found by index_fuzzer and checkpoint_fuzzer). Each
// write is numbered one more than the newest copy and goes to the other copy, so it always
// wins against the copy it did not overwrite.
inline bool SequenceNewer(uint64_t a, uint64_t b) { return static_cast<int64_t>(a - b) > 0; }

}  // namespace mqstore

#endif  // MQSTORE_UTIL_SEQUENCE_H_

// CRC-32 (IEEE 802.3, reflected; the zlib / java.util.zip.CRC32 polynomial), which is what
// RocketMQ stores in BODYCRC and in the __CRC32# property. Computed with ISA-L's
// carry-less-multiply implementation (~10 GB/s) because every append checksums its body.
#ifndef MQSTORE_UTIL_CRC32_H_
#define MQSTORE_UTIL_CRC32_H_

#include <cstddef>
#include <cstdint>

namespace mqstore::crc32 {

// Extends `crc` (0 to start) with `n` bytes; Extend(Extend(0, a), b) == Value(a || b).
uint32_t Extend(uint32_t crc, const char* data, size_t n);
inline uint32_t Value(const char* data, size_t n) { return Extend(0, data, n); }
// CRC of A || B from CRC(A), CRC(B) and the length of B.
uint32_t Combine(uint32_t crc_a, uint32_t crc_b, size_t len_b);
// RocketMQ stores CRCs masked to 31 bits (non-negative Java int).
inline uint32_t Mask(uint32_t crc) { return crc & 0x7FFFFFFFu; }

}  // namespace mqstore::crc32

#endif  // MQSTORE_UTIL_CRC32_H_

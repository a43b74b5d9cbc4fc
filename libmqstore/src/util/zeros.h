// Zeros to write from: for direct writes (aligned for OpenMode::kReadWriteDirect) and for
// padding.
#ifndef MQSTORE_UTIL_ZEROS_H_
#define MQSTORE_UTIL_ZEROS_H_

#include <cstddef>
#include <string_view>

namespace mqstore {

inline constexpr size_t kAlignedZerosBytes = 256 << 10;

// kAlignedZerosBytes of zeros at an address aligned to kDirectIoAlignment.
std::string_view AlignedZeros();

}  // namespace mqstore

#endif  // MQSTORE_UTIL_ZEROS_H_

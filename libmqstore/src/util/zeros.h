// Zeros to write from, aligned for OpenMode::kReadWriteDirect.
#ifndef MQSTORE_UTIL_ZEROS_H_
#define MQSTORE_UTIL_ZEROS_H_

#include <cstddef>
#include <string_view>

namespace mqstore {

inline constexpr size_t kAlignedZerosBytes = 256 << 10;

// kAlignedZerosBytes of zeros at an address aligned to kDirectIoAlignment; never freed.
std::string_view AlignedZeros();

}  // namespace mqstore

#endif  // MQSTORE_UTIL_ZEROS_H_

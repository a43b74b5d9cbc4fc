#include "util/zeros.h"

#include "mqstore/env.h"

namespace mqstore {

std::string_view AlignedZeros() {
  alignas(kDirectIoAlignment) static char zeros[kAlignedZerosBytes];  // zero-initialised
  return std::string_view(zeros, kAlignedZerosBytes);
}

}  // namespace mqstore

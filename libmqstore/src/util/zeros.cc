#include "util/zeros.h"

#include <cstdlib>
#include <cstring>

#include "mqstore/env.h"

namespace mqstore {

std::string_view AlignedZeros() {
  // Written once, so that a direct write reads real pages rather than the shared zero page.
  static char* const zeros = [] {
    auto* p = static_cast<char*>(std::aligned_alloc(kDirectIoAlignment, kAlignedZerosBytes));
    if (p != nullptr) std::memset(p, 0, kAlignedZerosBytes);
    return p;
  }();
  if (zeros == nullptr) return {};
  return std::string_view(zeros, kAlignedZerosBytes);
}

}  // namespace mqstore

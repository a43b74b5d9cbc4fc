#include "util/crc32.h"

#include <isa-l/crc.h>
#include <zlib.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace mqstore::crc32 {
namespace {

#if defined(__x86_64__)
__attribute__((target("avx"))) void ClearUpperVectorHalves() { _mm256_zeroupper(); }

bool CpuHasAvx() {
  __builtin_cpu_init();  // this may run before the constructor that detects the CPU
  return __builtin_cpu_supports("avx");
}
#endif

}  // namespace

uint32_t Extend(uint32_t crc, const char* data, size_t n) {
  uint32_t extended = crc32_gzip_refl(crc, reinterpret_cast<const unsigned char*>(data), n);
#if defined(__x86_64__)
  // ISA-L's AVX-512 CRC (crc32_gzip_refl_by16_10 in 2.30, Debian 12's) returns without
  // VZEROUPPER. With the upper halves of the vector registers left dirty, the SSE code that
  // runs after it (ours, the compiler's) pays a transition penalty on every instruction: the
  // store's one-writer append of 1 KiB ran 1.3x faster once they were cleared here
  // (docs/design/benchmarks.md). Clearing clean registers costs next to nothing.
  static const bool has_avx = CpuHasAvx();
  if (has_avx) ClearUpperVectorHalves();
#endif
  return extended;
}

uint32_t Combine(uint32_t crc_a, uint32_t crc_b, size_t len_b) {
  return static_cast<uint32_t>(crc32_combine64(crc_a, crc_b, static_cast<z_off64_t>(len_b)));
}

}  // namespace mqstore::crc32

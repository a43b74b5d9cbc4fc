#include "util/crc32.h"

#include <isa-l/crc.h>
#include <zlib.h>

namespace mqstore::crc32 {

uint32_t Extend(uint32_t crc, const char* data, size_t n) {
  return crc32_gzip_refl(crc, reinterpret_cast<const unsigned char*>(data), n);
}

uint32_t Combine(uint32_t crc_a, uint32_t crc_b, size_t len_b) {
  return static_cast<uint32_t>(crc32_combine64(crc_a, crc_b, static_cast<z_off64_t>(len_b)));
}

}  // namespace mqstore::crc32

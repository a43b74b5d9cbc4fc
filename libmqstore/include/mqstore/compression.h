// Message body compression as RocketMQ producers mark it in the sysflag.
//
// The store never changes a body: a compressed one is stored as given (BODYCRC covers the
// compressed bytes) and a consumer inflates it. These helpers are for the producer side
// (client-lite compresses on request) and for tools that show bodies (mqdump).
//
// Sysflag bits (MessageSysFlag): 0x1 COMPRESSED; bits 8-10 the type: 1 LZ4, 2 ZSTD, 3 ZLIB,
// and 0 with the COMPRESSED bit the classic zlib. LZ4 is recognised but not supported here
// (no LZ4 library among the project's dependencies): kNotSupported.
#ifndef MQSTORE_COMPRESSION_H_
#define MQSTORE_COMPRESSION_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "mqstore/status.h"

namespace mqstore {

enum class CompressionType { kZlib = 3, kZstd = 2, kLz4 = 1 };

// Compresses `body` and marks `*sys_flag` (COMPRESSED plus the type bits; other bits kept).
// `level`: zlib 1..9, zstd 1..22 (RocketMQ's default is 5).
Result<std::string> CompressBody(std::string_view body, CompressionType type, int level,
                                 int32_t* sys_flag);

// The body as the producer wrote it: inflated when `sys_flag` says it is compressed, a copy
// otherwise. kCorruption when the bytes do not inflate; kResourceExhausted when the result
// would exceed `max_bytes` (a guard against decompression bombs); kNotSupported for LZ4.
Result<std::string> DecompressBody(std::string_view body, int32_t sys_flag,
                                   size_t max_bytes = 64u << 20);

}  // namespace mqstore

#endif  // MQSTORE_COMPRESSION_H_

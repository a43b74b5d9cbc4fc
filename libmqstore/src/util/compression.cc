#include "mqstore/compression.h"

#include <zlib.h>
#include <zstd.h>

#include "mqstore/message.h"

namespace mqstore {
namespace {

constexpr int32_t kTypeShift = 8;

Result<std::string> ZlibDeflate(std::string_view in, int level) {
  if (level < 1 || level > 9) return Status::InvalidArgument("zlib level must be 1..9");
  uLongf bound = compressBound(static_cast<uLong>(in.size()));
  std::string out(bound, '\0');
  int rc =
      compress2(reinterpret_cast<Bytef*>(out.data()), &bound,
                reinterpret_cast<const Bytef*>(in.data()), static_cast<uLong>(in.size()), level);
  if (rc != Z_OK) return Status::Aborted("zlib compress2 failed: " + std::to_string(rc));
  out.resize(bound);
  return out;
}

Result<std::string> ZlibInflate(std::string_view in, size_t max_bytes) {
  z_stream z{};
  if (inflateInit(&z) != Z_OK) return Status::Aborted("zlib inflateInit failed");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  std::string out;
  char chunk[64 * 1024];
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    z.next_out = reinterpret_cast<Bytef*>(chunk);
    z.avail_out = sizeof(chunk);
    rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&z);
      return Status::Corruption("body does not inflate as zlib (code " + std::to_string(rc) + ")");
    }
    out.append(chunk, sizeof(chunk) - z.avail_out);
    if (out.size() > max_bytes) {
      inflateEnd(&z);
      return Status::ResourceExhausted("inflated body exceeds " + std::to_string(max_bytes) +
                                       " bytes");
    }
    if (rc == Z_OK && z.avail_in == 0 && z.avail_out != 0) {
      inflateEnd(&z);
      return Status::Corruption("zlib body is truncated");
    }
  }
  inflateEnd(&z);
  return out;
}

Result<std::string> ZstdCompress(std::string_view in, int level) {
  if (level < 1 || level > ZSTD_maxCLevel()) {
    return Status::InvalidArgument("zstd level must be 1.." + std::to_string(ZSTD_maxCLevel()));
  }
  std::string out(ZSTD_compressBound(in.size()), '\0');
  size_t n = ZSTD_compress(out.data(), out.size(), in.data(), in.size(), level);
  if (ZSTD_isError(n)) return Status::Aborted(std::string("zstd: ") + ZSTD_getErrorName(n));
  out.resize(n);
  return out;
}

Result<std::string> ZstdDecompress(std::string_view in, size_t max_bytes) {
  ZSTD_DStream* stream = ZSTD_createDStream();
  if (stream == nullptr) return Status::Aborted("ZSTD_createDStream failed");
  ZSTD_initDStream(stream);
  ZSTD_inBuffer input{in.data(), in.size(), 0};
  std::string out;
  char chunk[64 * 1024];
  size_t last = 1;
  while (input.pos < input.size) {
    ZSTD_outBuffer output{chunk, sizeof(chunk), 0};
    last = ZSTD_decompressStream(stream, &output, &input);
    if (ZSTD_isError(last)) {
      ZSTD_freeDStream(stream);
      return Status::Corruption(std::string("body does not decompress as zstd: ") +
                                ZSTD_getErrorName(last));
    }
    out.append(chunk, output.pos);
    if (out.size() > max_bytes) {
      ZSTD_freeDStream(stream);
      return Status::ResourceExhausted("decompressed body exceeds " + std::to_string(max_bytes) +
                                       " bytes");
    }
    if (output.pos == 0 && last != 0 && input.pos == input.size) break;
  }
  // Drain what the decoder still holds once the input is consumed.
  while (last != 0) {
    ZSTD_outBuffer output{chunk, sizeof(chunk), 0};
    last = ZSTD_decompressStream(stream, &output, &input);
    if (ZSTD_isError(last) || output.pos == 0) break;
    out.append(chunk, output.pos);
    if (out.size() > max_bytes) {
      ZSTD_freeDStream(stream);
      return Status::ResourceExhausted("decompressed body exceeds " + std::to_string(max_bytes) +
                                       " bytes");
    }
  }
  ZSTD_freeDStream(stream);
  if (last != 0) return Status::Corruption("zstd body is truncated");
  return out;
}

}  // namespace

Result<std::string> CompressBody(std::string_view body, CompressionType type, int level,
                                 int32_t* sys_flag) {
  Result<std::string> out = Status::NotSupported("LZ4 compression is not supported");
  switch (type) {
    case CompressionType::kZlib:
      out = ZlibDeflate(body, level);
      break;
    case CompressionType::kZstd:
      out = ZstdCompress(body, level);
      break;
    case CompressionType::kLz4:
      break;
  }
  if (out.ok()) {
    *sys_flag = (*sys_flag & ~sysflag::kCompressionTypeMask) | sysflag::kCompressed |
                (static_cast<int32_t>(type) << kTypeShift);
  }
  return out;
}

Result<std::string> DecompressBody(std::string_view body, int32_t sys_flag, size_t max_bytes) {
  if ((sys_flag & sysflag::kCompressed) == 0) return std::string(body);
  int type = (sys_flag & sysflag::kCompressionTypeMask) >> kTypeShift;
  switch (type) {
    case 0:  // the classic flag without a type: zlib
    case static_cast<int>(CompressionType::kZlib):
      return ZlibInflate(body, max_bytes);
    case static_cast<int>(CompressionType::kZstd):
      return ZstdDecompress(body, max_bytes);
    case static_cast<int>(CompressionType::kLz4):
      return Status::NotSupported("LZ4-compressed body: LZ4 is not supported");
    default:
      return Status::Corruption("unknown compression type " + std::to_string(type) + " in sysflag");
  }
}

}  // namespace mqstore

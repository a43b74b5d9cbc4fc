// Fixed-width integer coding, the only place byte order is decided (the store, the remoting
// protocol and the shells all use it).
//
// Every store file and the RocketMQ wire format are big-endian (Java's ByteBuffer default),
// so the store uses the Big* functions throughout. Little-endian helpers exist for formats
// that are defined little-endian (none on disk today).
#ifndef MQSTORE_CODING_H_
#define MQSTORE_CODING_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace mqstore {

inline void EncodeBig16(char* dst, uint16_t v) {
  v = __builtin_bswap16(v);
  std::memcpy(dst, &v, 2);
}
inline void EncodeBig32(char* dst, uint32_t v) {
  v = __builtin_bswap32(v);
  std::memcpy(dst, &v, 4);
}
inline void EncodeBig64(char* dst, uint64_t v) {
  v = __builtin_bswap64(v);
  std::memcpy(dst, &v, 8);
}
inline uint16_t DecodeBig16(const char* src) {
  uint16_t v;
  std::memcpy(&v, src, 2);
  return __builtin_bswap16(v);
}
inline uint32_t DecodeBig32(const char* src) {
  uint32_t v;
  std::memcpy(&v, src, 4);
  return __builtin_bswap32(v);
}
inline uint64_t DecodeBig64(const char* src) {
  uint64_t v;
  std::memcpy(&v, src, 8);
  return __builtin_bswap64(v);
}

inline void PutBig16(std::string* dst, uint16_t v) {
  char buf[2];
  EncodeBig16(buf, v);
  dst->append(buf, 2);
}
inline void PutBig32(std::string* dst, uint32_t v) {
  char buf[4];
  EncodeBig32(buf, v);
  dst->append(buf, 4);
}
inline void PutBig64(std::string* dst, uint64_t v) {
  char buf[8];
  EncodeBig64(buf, v);
  dst->append(buf, 8);
}

// Parsers that consume from the front of `in`; false (and `in` unchanged) when too short.
inline bool GetBig16(std::string_view* in, uint16_t* v) {
  if (in->size() < 2) return false;
  *v = DecodeBig16(in->data());
  in->remove_prefix(2);
  return true;
}
inline bool GetBig32(std::string_view* in, uint32_t* v) {
  if (in->size() < 4) return false;
  *v = DecodeBig32(in->data());
  in->remove_prefix(4);
  return true;
}
inline bool GetBig64(std::string_view* in, uint64_t* v) {
  if (in->size() < 8) return false;
  *v = DecodeBig64(in->data());
  in->remove_prefix(8);
  return true;
}
inline bool GetBytes(std::string_view* in, size_t n, std::string_view* out) {
  if (in->size() < n) return false;
  *out = in->substr(0, n);
  in->remove_prefix(n);
  return true;
}

inline void EncodeLittle32(char* dst, uint32_t v) { std::memcpy(dst, &v, 4); }
inline uint32_t DecodeLittle32(const char* src) {
  uint32_t v;
  std::memcpy(&v, src, 4);
  return v;
}

}  // namespace mqstore

#endif  // MQSTORE_CODING_H_

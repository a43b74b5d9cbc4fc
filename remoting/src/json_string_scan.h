// Scanning JSON string text eight bytes at a time: shared by the header encoder (which
// escapes) and the fast header decoder (which unescapes). Internal to the remoting library.
#ifndef REMOTING_JSON_STRING_SCAN_H_
#define REMOTING_JSON_STRING_SCAN_H_

#include <bit>
#include <cstdint>
#include <cstring>

namespace mqremoting::internal {

constexpr uint64_t kOnes = 0x0101010101010101ull;
constexpr uint64_t kHighs = 0x8080808080808080ull;

// Bytes a JSON string cannot hold as they are: the quote, the backslash and control
// characters. The decoder also stops at non-ASCII (checked as UTF-8), the encoder does not.
template <bool kStopAtNonAscii>
constexpr bool IsPlainStringByte(unsigned char c) {
  return c >= 0x20 && (!kStopAtNonAscii || c < 0x80) && c != '"' && c != '\\';
}

// The first byte in [p, end) that is not a plain string byte, or end. Eight bytes at a time:
// header values such as properties are long runs of plain ASCII.
template <bool kStopAtNonAscii>
inline const char* SkipPlain(const char* p, const char* end) {
  while (end - p >= 8) {
    uint64_t w;
    std::memcpy(&w, p, sizeof(w));
    const uint64_t quote = w ^ (kOnes * '"');
    const uint64_t backslash = w ^ (kOnes * '\\');
    // The classic "has a byte below n" tests (a set high bit where one is; none below the
    // first hit), and the high bit itself for non-ASCII.
    uint64_t special =
        ((w - kOnes * 0x20) & ~w) | ((quote - kOnes) & ~quote) | ((backslash - kOnes) & ~backslash);
    if constexpr (kStopAtNonAscii) special |= w;
    const uint64_t hits = special & kHighs;
    if (hits != 0) {
      if constexpr (std::endian::native == std::endian::little) {
        return p + std::countr_zero(hits) / 8;
      } else {
        break;
      }
    }
    p += 8;
  }
  while (p != end && IsPlainStringByte<kStopAtNonAscii>(static_cast<unsigned char>(*p))) ++p;
  return p;
}

}  // namespace mqremoting::internal

#endif  // REMOTING_JSON_STRING_SCAN_H_

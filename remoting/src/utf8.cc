#include "utf8.h"

#include <cstdint>
#include <cstring>

namespace mqremoting::internal {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

// Length of the well-formed sequence at the front of `text`, or 0 when it is ill-formed.
// `*maximal_bad` is the length of the maximal ill-formed prefix in that case (at least 1),
// following Unicode's "maximal subpart" rule so we replace exactly as Java does.
size_t SequenceLength(std::string_view text, size_t* maximal_bad) {
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(text[i]); };
  uint8_t lead = byte(0);
  *maximal_bad = 1;
  if (lead < 0x80) return 1;
  size_t length;
  uint8_t second_min = 0x80;
  uint8_t second_max = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) second_min = 0xA0;  // overlong
    if (lead == 0xED) second_max = 0x9F;  // surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) second_min = 0x90;  // overlong
    if (lead == 0xF4) second_max = 0x8F;  // past U+10FFFF
  } else {
    return 0;
  }
  for (size_t i = 1; i < length; ++i) {
    if (i >= text.size()) return 0;
    uint8_t b = byte(i);
    uint8_t min = i == 1 ? second_min : 0x80;
    uint8_t max = i == 1 ? second_max : 0xBF;
    if (b < min || b > max) return 0;
    *maximal_bad = i + 1;
  }
  return length;
}

}  // namespace

bool IsValidUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    // ASCII runs are the common case in headers: eight bytes at a time while no high bit is set.
    for (uint64_t word; i + sizeof(word) <= text.size(); i += sizeof(word)) {
      std::memcpy(&word, text.data() + i, sizeof(word));
      if ((word & 0x8080808080808080ull) != 0) break;
    }
    if (i == text.size()) break;
    if (static_cast<uint8_t>(text[i]) < 0x80) {
      ++i;
      continue;
    }
    size_t bad;
    size_t n = SequenceLength(text.substr(i), &bad);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string SanitizeUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    size_t bad;
    size_t n = SequenceLength(text.substr(i), &bad);
    if (n == 0) {
      out += kReplacement;
      i += bad;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

}  // namespace mqremoting::internal

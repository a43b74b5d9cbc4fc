// UTF-8 checks for header text. Peers decode header strings the way Java's
// new String(bytes, UTF_8) does, replacing every malformed sequence with U+FFFD; we do the
// same so that what we decode can always be written back as JSON.
#ifndef REMOTING_UTF8_H_
#define REMOTING_UTF8_H_

#include <string>
#include <string_view>

namespace mqremoting::internal {

// True when `text` is well-formed UTF-8 (no overlong forms, surrogates or values past U+10FFFF).
bool IsValidUtf8(std::string_view text);

// `text` with every maximal ill-formed subsequence replaced by U+FFFD (EF BF BD).
std::string SanitizeUtf8(std::string_view text);

}  // namespace mqremoting::internal

#endif  // REMOTING_UTF8_H_

// The JSON form of a remoting header (serialize type 0): decoding what any RocketMQ peer
// sends, and the hand-written encoder we answer with (docs/format/remoting.md, "JSON header").
#ifndef REMOTING_JSON_HEADER_H_
#define REMOTING_JSON_HEADER_H_

#include <string>
#include <string_view>

#include "remoting/command.h"

namespace mqremoting::internal {

// Fills the header fields of `command` (code, language, version, opaque, flag, remark,
// ext_fields) from JSON text. kInvalidArgument when the text is not a JSON object, a number
// field is not an int32, a string field is not a string, or an ext value is not a scalar.
// Malformed UTF-8 is replaced by U+FFFD first. Never throws.
Status DecodeJsonHeader(std::string_view text, RemotingCommand* command);

// Appends the JSON header of `command`: keys in alphabetical order (as Java peers emit them),
// extFields always present, remark only when set.
void AppendJsonHeader(const RemotingCommand& command, std::string* out);

// Appends `text` as a JSON string literal: quotes, backslash and control characters escaped,
// every other byte as it is.
void AppendJsonString(std::string_view text, std::string* out);

// The text JavaScript's String(number) gives for `value` ("2", "1.5", "1e+21", "1e-7"): what
// ali-ons signs when it sends an ext field as a JSON number.
std::string JsNumberText(double value);

}  // namespace mqremoting::internal

#endif  // REMOTING_JSON_HEADER_H_

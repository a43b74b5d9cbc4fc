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
// Malformed UTF-8 is replaced by U+FFFD first. On an error the header fields of `command` are
// unspecified (possibly half filled). Never throws.
//
// Every request and response passes through here, so the common shape is decoded by a
// single-pass parser (TryDecodeJsonHeaderFast, json_header_fast.cc) and everything else by nlohmann::json
// (DecodeJsonHeaderSlow); both give the same result for every input.
Status DecodeJsonHeader(std::string_view text, RemotingCommand* command);

// The fast path: parses `text` straight into `command` without building a DOM. Returns false
// ("not handled", `command` then unspecified) for anything it leaves to the slow path: text
// that is not well-formed JSON or not valid UTF-8, a field of the wrong type or range, a
// number with a fraction or exponent anywhere, an integer ext value past 18 digits, unknown
// values nested deeper than 64 levels, lone surrogate escapes. When it returns true the
// command is exactly what DecodeJsonHeaderSlow gives. Never throws.
bool TryDecodeJsonHeaderFast(std::string_view text, RemotingCommand* command);

// Absent fields keep the defaults of a Java RemotingCommand: code 0, language "JAVA", version,
// opaque and flag 0, no remark, no ext fields. Both decoders start from here.
void ResetToJavaDefaults(RemotingCommand* command);

// The reference decoder: nlohmann::json's DOM, then the fields copied into `command`.
Status DecodeJsonHeaderSlow(std::string_view text, RemotingCommand* command);

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

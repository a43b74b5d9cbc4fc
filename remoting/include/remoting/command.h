// RemotingCommand: one RocketMQ remoting frame (docs/format/remoting.md), and the codec that
// turns it into bytes and back.
//
//   frame = [int32 frameLen][int32 serializeType<<24 | headerLen][header][body]
//
// frameLen counts everything after itself. Headers are decoded from JSON (serialize type 0)
// or RocketMQ's binary layout (type 1), and encoded as JSON unless a command asks for the
// binary layout (client-lite's send requests): every client we know can read JSON, and
// ali-ons can read nothing else, so responses are always JSON.
#ifndef REMOTING_COMMAND_H_
#define REMOTING_COMMAND_H_

#include <charconv>
#include <cstdint>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "mqstore/status.h"
#include "remoting/ext_fields.h"

namespace mqremoting {

using mqstore::Result;
using mqstore::Status;

namespace flag {
inline constexpr int32_t kResponse = 1 << 0;  // RPC_TYPE: set on responses
inline constexpr int32_t kOneway = 1 << 1;    // RPC_ONEWAY: never answer this request
}  // namespace flag

enum class SerializeType : uint8_t { kJson = 0, kRocketMq = 1 };

// A slice of body bytes owned elsewhere (e.g. a record in the mapped commit log), kept
// alive by `pin` until the frame has been written. Lets a pull response be written with
// one gather write and no copy of the message bytes.
struct BodySlice {
  std::string_view bytes;
  std::shared_ptr<const void> pin;
};

struct RemotingCommand {
  int32_t code = 0;
  // LanguageCode name as sent ("JAVA", "CPP", ...). Unknown names are kept as they are.
  std::string language = "CPP";
  int32_t version = 0;
  int32_t opaque = 0;
  int32_t flag = 0;
  std::optional<std::string> remark;
  // The custom header: field name -> value as text, sorted by name.
  ExtFields ext_fields;
  // Body bytes: `body` followed by every slice of `body_slices` (usually one or the other).
  std::string body;
  std::vector<BodySlice> body_slices;
  // How the header goes on the wire (set from the frame when decoded). kRocketMq is the
  // binary layout; a header it cannot hold (a code or version beyond a Java short, a key over
  // 65535 bytes, an empty remark) goes as JSON. A response takes its request's type
  // (ResponseTo), as a RocketMQ 4.x server answers: ali-ons sends JSON and reads nothing else.
  SerializeType serialize_type = SerializeType::kJson;

  bool is_response() const { return (flag & flag::kResponse) != 0; }
  bool is_oneway() const { return (flag & flag::kOneway) != 0; }
  size_t body_size() const;
  // The body as one string (copies the slices).
  std::string BodyBytes() const;

  // A request with this code, our language and version; the opaque is set by the sender.
  static RemotingCommand Request(int32_t code);
  // The response to `request`: same opaque and header type, response flag set, our language
  // and version.
  static RemotingCommand ResponseTo(const RemotingCommand& request, int32_t code,
                                    std::string_view remark = {});

  void SetExt(std::string_view key, std::string value) { ext_fields[key] = std::move(value); }
  // Written into the field, not moved in through a temporary (a short string's move is a
  // copy, and a call to memmove, on every request and response).
  void SetExt(std::string_view key, std::string_view value) { ext_fields[key].assign(value); }
  // Any integer type (int32_t queue ids, int64_t offsets, ...) as decimal text; one template
  // rather than an int64_t overload, which made int arguments ambiguous with bool.
  template <typename Int,
            std::enable_if_t<std::is_integral_v<Int> && !std::is_same_v<Int, bool>, int> = 0>
  void SetExt(std::string_view key, Int value) {
    char digits[24];
    const std::to_chars_result written = std::to_chars(std::begin(digits), std::end(digits), value);
    ext_fields[key].assign(digits, written.ptr);
  }
  void SetExt(std::string_view key, bool value) { ext_fields[key] = value ? "true" : "false"; }
  // Avoids string literals picking the bool overload.
  void SetExt(std::string_view key, const char* value) { ext_fields[key] = value; }
  const std::string* FindExt(std::string_view key) const;
};

// Reads typed custom-header fields, the way RocketMQ's decodeCommandCustomHeader does: the
// first missing required field or malformed value is remembered and reported by status(),
// so a processor reads every field and checks once. Numbers are decimal (optionally
// negative); booleans are "true"/"false" (case-insensitive, as Java's Boolean.parseBoolean:
// anything else is false). Fields read in the order they are stored (by name, as the
// one-letter SendMessageRequestHeaderV2 names are) are found without a search: each lookup
// first tries the field after the one found last.
class ExtFieldReader {
 public:
  explicit ExtFieldReader(const RemotingCommand& command) : command_(command) {}

  // Required fields: on a missing or malformed value, status() becomes an error that names
  // the field and the value returned is empty / 0 / false.
  std::string String(std::string_view name);
  int32_t Int(std::string_view name);
  int64_t Long(std::string_view name);
  bool Bool(std::string_view name);

  // Optional fields: nullopt when missing; a malformed value is still an error.
  std::optional<std::string> OptString(std::string_view name);
  std::optional<int32_t> OptInt(std::string_view name);
  std::optional<int64_t> OptLong(std::string_view name);
  std::optional<bool> OptBool(std::string_view name);

  // OK, or kInvalidArgument naming the first bad field ("the custom header field X is null"
  // / "... is not a number: 'abc'").
  const Status& status() const { return status_; }

 private:
  const std::string* Find(std::string_view name, bool required);
  template <typename Int>
  std::optional<Int> Number(std::string_view name, const std::string& value);
  void Fail(Status status);

  const RemotingCommand& command_;
  size_t next_ = 0;  // index of the field after the one found last
  Status status_;
};

struct CodecLimits {
  // Largest frameLen accepted (RocketMQ's default frameMaxLength, 16 MiB).
  uint32_t max_frame_bytes = 16u << 20;
};

// The 4-byte length prefix of a frame: the number of bytes that follow it. kInvalidArgument
// when it is below the 4-byte header-length word or above limits.max_frame_bytes.
Result<uint32_t> DecodeFrameLength(const char prefix[4], const CodecLimits& limits);

// Decodes the bytes after the length prefix (`frame.size()` == the decoded length).
// kInvalidArgument for a header length past the frame, an unknown serialize type, JSON that
// does not parse or is not an object, a field of the wrong type, or a binary header that
// ends early. Never throws. Missing JSON fields take Java's defaults (0, language "JAVA");
// malformed UTF-8 in header strings becomes U+FFFD (docs/format/remoting.md).
Result<RemotingCommand> DecodeFrame(std::string_view frame);

// The JSON header text of `command` (ext_fields as an object of strings, always present).
std::string EncodeHeaderJson(const RemotingCommand& command);
// Everything of the frame before the body: length prefix, header length word, header (JSON,
// or binary for serialize_type kRocketMq). The body (command.body then command.body_slices)
// follows it on the wire.
std::string EncodeFramePrefix(const RemotingCommand& command);
// The whole frame as one string (copies the body); for tests and small frames.
std::string EncodeFrame(const RemotingCommand& command);

// LanguageCode byte <-> name for the binary header (unknown bytes become "OTHER").
std::string_view LanguageName(uint8_t code);
uint8_t LanguageCode(std::string_view name);

}  // namespace mqremoting

#endif  // REMOTING_COMMAND_H_

// remoting_frame_fuzzer: the remoting frame codec (docs/format/remoting.md).
//
// The input is one frame as it arrives on a socket: a 4-byte length prefix, then the frame.
// Exercised: DecodeFrameLength, DecodeFrame with JSON and binary headers, ExtFieldReader on
// every decoded field, EncodeFrame. Checked: a frame that decodes re-encodes (as JSON, and a
// binary one also in the binary layout) to a frame whose prefix and header-length word are
// consistent and that decodes to the same code, flag, opaque, version, language, remark, ext
// fields and body; encoding is stable.
// The JSON header decoder's fast path agrees with nlohmann wherever it handles a header, and
// it handles every header we encode.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "json_header.h"  // internal: the fast decoder and the nlohmann one
#include "mqstore/coding.h"
#include "remoting/command.h"

namespace mqremoting {
namespace {

[[noreturn]] void Fail(const char* file, int line, const char* what) {
  std::fprintf(stderr, "\n*** fuzz check failed at %s:%d\n*** %s\n", file, line, what);
  std::fflush(stderr);
  std::abort();
}

#define FUZZ_CHECK(cond, what)                   \
  do {                                           \
    if (!(cond)) Fail(__FILE__, __LINE__, what); \
  } while (0)

bool SameCommand(const RemotingCommand& a, const RemotingCommand& b) {
  return a.code == b.code && a.flag == b.flag && a.opaque == b.opaque && a.version == b.version &&
         a.language == b.language && a.remark == b.remark && a.ext_fields == b.ext_fields &&
         a.BodyBytes() == b.BodyBytes();
}

bool SameHeader(const RemotingCommand& a, const RemotingCommand& b) {
  return a.code == b.code && a.flag == b.flag && a.opaque == b.opaque && a.version == b.version &&
         a.language == b.language && a.remark == b.remark && a.ext_fields == b.ext_fields;
}

// The fast JSON header decoder against nlohmann: where the fast path says it handled the
// text, nlohmann accepts it too and decodes the same fields. Returns whether it was handled.
bool CheckJsonHeaderPaths(std::string_view header) {
  RemotingCommand slow;
  Status slow_status = internal::DecodeJsonHeaderSlow(header, &slow);
  RemotingCommand fast;
  if (!internal::TryDecodeJsonHeaderFast(header, &fast)) return false;
  FUZZ_CHECK(slow_status.ok(), "the fast JSON path accepted a header nlohmann rejects");
  FUZZ_CHECK(SameHeader(fast, slow), "the fast JSON path decoded other fields than nlohmann");
  return true;
}

// The JSON header of `frame` (the bytes after the length prefix), if it has one.
std::optional<std::string_view> JsonHeaderOf(std::string_view frame) {
  if (frame.size() < 4) return std::nullopt;
  uint32_t word = mqstore::DecodeBig32(frame.data());
  size_t length = word & 0xFFFFFF;
  if ((word >> 24) != 0 || length > frame.size() - 4) return std::nullopt;
  return frame.substr(4, length);
}

void ReadEveryField(const RemotingCommand& command) {
  ExtFieldReader reader(command);
  for (const auto& [key, value] : command.ext_fields) {
    std::optional<int64_t> as_long = reader.OptLong(key);
    std::optional<int32_t> as_int = reader.OptInt(key);
    if (as_int) FUZZ_CHECK(as_long && *as_long == *as_int, "an int field is not the same long");
    FUZZ_CHECK(reader.OptString(key) == value, "OptString differs from the field");
    reader.OptBool(key);
  }
  ExtFieldReader required(command);
  required.String("__surely_absent__");
  FUZZ_CHECK(!required.status().ok(), "a missing required field was not reported");
}

// Checks `encoded`, EncodeFrame of `command`: its length prefix counts the frame, and it
// decodes to the same command, which encodes to the same bytes again. False, with nothing
// checked, for a header past 16 MiB: that cannot be written, and the transport refuses to send it.
bool CheckReencoded(const RemotingCommand& command, const std::string& encoded) {
  FUZZ_CHECK(encoded.size() >= 8, "an encoded frame is shorter than its two words");
  const uint32_t header_word = mqstore::DecodeBig32(encoded.data() + 4);
  if ((header_word & 0xFFFFFF) != encoded.size() - 8 - command.body.size()) return false;
  FUZZ_CHECK(mqstore::DecodeBig32(encoded.data()) == encoded.size() - 4,
             "the length prefix does not count the frame");
  Result<RemotingCommand> again = DecodeFrame(std::string_view(encoded).substr(4));
  FUZZ_CHECK(again.ok(), "a re-encoded frame does not decode");
  FUZZ_CHECK(SameCommand(command, *again), "a re-encoded frame decodes to another command");
  FUZZ_CHECK(EncodeFrame(*again) == encoded, "encoding is not stable");
  return true;
}

}  // namespace
}  // namespace mqremoting

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mqremoting;
  if (size < 4) return 0;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  CodecLimits limits;
  Result<uint32_t> length = DecodeFrameLength(input.data(), limits);
  std::string_view frame = input.substr(4);
  if (length.ok()) {
    FUZZ_CHECK(*length >= 4 && *length <= limits.max_frame_bytes, "a bad length was accepted");
    if (*length < frame.size()) frame = frame.substr(0, *length);
  }
  if (std::optional<std::string_view> header = JsonHeaderOf(frame)) CheckJsonHeaderPaths(*header);
  Result<RemotingCommand> decoded = DecodeFrame(frame);
  if (!decoded.ok()) {
    FUZZ_CHECK(decoded.status().IsInvalidArgument(), "a decode error is not kInvalidArgument");
    return 0;
  }
  ReadEveryField(*decoded);

  if (decoded->serialize_type == SerializeType::kRocketMq) {
    CheckReencoded(*decoded, EncodeFrame(*decoded));  // in the binary layout
    decoded->serialize_type = SerializeType::kJson;   // and as JSON below
  }

  std::string encoded = EncodeFrame(*decoded);
  if (!CheckReencoded(*decoded, encoded)) return 0;
  FUZZ_CHECK(static_cast<uint8_t>(encoded[4]) == 0, "the encoded header is not JSON");
  Result<uint32_t> encoded_length = DecodeFrameLength(encoded.data(), CodecLimits{~0u});
  FUZZ_CHECK(encoded_length.ok(), "the encoded length prefix does not decode");
  std::optional<std::string_view> encoded_header =
      JsonHeaderOf(std::string_view(encoded).substr(4));
  FUZZ_CHECK(encoded_header && CheckJsonHeaderPaths(*encoded_header),
             "the fast JSON path does not handle a header we encoded");
  return 0;
}

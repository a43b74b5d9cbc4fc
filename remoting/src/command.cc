#include "remoting/command.h"

#include <charconv>
#include <cstring>
#include <limits>

#include "json_header.h"
#include "mqstore/coding.h"
#include "remoting/codes.h"
#include "utf8.h"

namespace mqremoting {
namespace {

using mqstore::GetBig16;
using mqstore::GetBig32;
using mqstore::GetBytes;

constexpr uint32_t kHeaderLengthMask = 0xFFFFFF;

// LanguageCode ordinals (RocketMQ's LanguageCode enum).
constexpr std::string_view kLanguageNames[] = {
    "JAVA",  "CPP",  "DOTNET", "PYTHON", "DELPHI", "ERLANG", "RUBY",
    "OTHER", "HTTP", "GO",     "PHP",    "OMS",    "RUST",   "NODE_JS",
};
constexpr uint8_t kOtherLanguage = 7;

Status Truncated(std::string_view what) {
  return Status::InvalidArgument("the binary header ends inside " + std::string(what));
}

// A length-prefixed string of the binary header (int32 length; 0 means null).
Status GetBinaryString(std::string_view* in, std::string_view what,
                       std::optional<std::string>* out) {
  uint32_t length;
  if (!GetBig32(in, &length)) return Truncated(std::string(what) + " length");
  if (length > std::numeric_limits<int32_t>::max()) {
    return Status::InvalidArgument("the binary header's " + std::string(what) +
                                   " length is negative");
  }
  std::string_view bytes;
  if (!GetBytes(in, length, &bytes)) return Truncated(what);
  if (length == 0) {
    out->reset();
  } else {
    *out = internal::SanitizeUtf8(bytes);
  }
  return Status::OK();
}

Status DecodeBinaryExtFields(std::string_view in, RemotingCommand* command) {
  command->ext_fields.reserve(16);  // a send header has 12 or 13
  while (!in.empty()) {
    uint16_t key_length;
    std::string_view key;
    uint32_t value_length;
    std::string_view value;
    if (!GetBig16(&in, &key_length)) return Truncated("an extFields key length");
    if (!GetBytes(&in, key_length, &key)) return Truncated("an extFields key");
    if (!GetBig32(&in, &value_length)) return Truncated("an extFields value length");
    if (value_length > std::numeric_limits<int32_t>::max()) {
      return Status::InvalidArgument("the binary header's extFields value length is negative");
    }
    if (!GetBytes(&in, value_length, &value)) return Truncated("an extFields value");
    // Well-formed text (all of it, in practice) is taken as it is, without a sanitized copy.
    std::string& slot = internal::IsValidUtf8(key)
                            ? command->ext_fields[key]
                            : command->ext_fields[internal::SanitizeUtf8(key)];
    if (internal::IsValidUtf8(value)) {
      slot.assign(value);
    } else {
      slot = internal::SanitizeUtf8(value);
    }
  }
  return Status::OK();
}

// RocketMQ's own header layout (RocketMQSerializable): fixed fields, remark, ext fields.
Status DecodeBinaryHeader(std::string_view in, RemotingCommand* command) {
  uint16_t code;
  std::string_view language;
  uint16_t version;
  uint32_t opaque;
  uint32_t flag;
  if (!GetBig16(&in, &code)) return Truncated("the code");
  if (!GetBytes(&in, 1, &language)) return Truncated("the language");
  if (!GetBig16(&in, &version)) return Truncated("the version");
  if (!GetBig32(&in, &opaque)) return Truncated("the opaque");
  if (!GetBig32(&in, &flag)) return Truncated("the flag");
  // Java shorts: sign-extended.
  command->code = static_cast<int16_t>(code);
  command->language = LanguageName(static_cast<uint8_t>(language[0]));
  command->version = static_cast<int16_t>(version);
  command->opaque = static_cast<int32_t>(opaque);
  command->flag = static_cast<int32_t>(flag);
  MQ_RETURN_IF_ERROR(GetBinaryString(&in, "remark", &command->remark));
  uint32_t ext_length;
  if (!GetBig32(&in, &ext_length)) return Truncated("the extFields length");
  if (ext_length > std::numeric_limits<int32_t>::max()) {
    return Status::InvalidArgument("the binary header's extFields length is negative");
  }
  std::string_view ext;
  if (!GetBytes(&in, ext_length, &ext)) return Truncated("the extFields");
  // Bytes after the ext fields are ignored, as Java does.
  return DecodeBinaryExtFields(ext, command);
}

// RocketMQSerializable's layout, the inverse of DecodeBinaryHeader. False, with `out` as it
// was, when a field does not fit the layout's width.
bool AppendBinaryHeader(const RemotingCommand& command, std::string* out) {
  auto fits_short = [](int32_t v) {
    return v >= std::numeric_limits<int16_t>::min() && v <= std::numeric_limits<int16_t>::max();
  };
  if (!fits_short(command.code) || !fits_short(command.version)) return false;
  // Length 0 means no remark in the layout: an empty one would come back absent.
  if (command.remark && command.remark->empty()) return false;
  const size_t remark_size = command.remark ? command.remark->size() : 0;
  size_t ext_size = 0;
  for (const auto& [key, value] : command.ext_fields) {
    if (key.size() > std::numeric_limits<uint16_t>::max()) return false;
    ext_size += 2 + key.size() + 4 + value.size();
  }
  constexpr size_t kMaxLength = static_cast<size_t>(std::numeric_limits<int32_t>::max());
  if (remark_size > kMaxLength || ext_size > kMaxLength) return false;
  const size_t start = out->size();
  out->resize(start + 17 + remark_size + 4 + ext_size);  // 17: fixed fields, remark length
  char* p = out->data() + start;
  mqstore::EncodeBig16(p, static_cast<uint16_t>(command.code));
  p[2] = static_cast<char>(LanguageCode(command.language));
  mqstore::EncodeBig16(p + 3, static_cast<uint16_t>(command.version));
  mqstore::EncodeBig32(p + 5, static_cast<uint32_t>(command.opaque));
  mqstore::EncodeBig32(p + 9, static_cast<uint32_t>(command.flag));
  mqstore::EncodeBig32(p + 13, static_cast<uint32_t>(remark_size));
  p += 17;
  if (remark_size > 0) std::memcpy(p, command.remark->data(), remark_size);
  p += remark_size;
  mqstore::EncodeBig32(p, static_cast<uint32_t>(ext_size));
  p += 4;
  for (const auto& [key, value] : command.ext_fields) {
    mqstore::EncodeBig16(p, static_cast<uint16_t>(key.size()));
    std::memcpy(p + 2, key.data(), key.size());
    p += 2 + key.size();
    mqstore::EncodeBig32(p, static_cast<uint32_t>(value.size()));
    std::memcpy(p + 4, value.data(), value.size());
    p += 4 + value.size();
  }
  return true;
}

template <typename Int>
std::optional<Int> ParseDecimal(std::string_view text) {
  // Java's parseInt / parseLong accept one leading sign.
  if (!text.empty() && text.front() == '+') {
    text.remove_prefix(1);
    if (!text.empty() && (text.front() == '-' || text.front() == '+')) return std::nullopt;
  }
  Int value;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
    if (x != b[i]) return false;
  }
  return true;
}

}  // namespace

size_t RemotingCommand::body_size() const {
  size_t size = body.size();
  for (const BodySlice& slice : body_slices) size += slice.bytes.size();
  return size;
}

std::string RemotingCommand::BodyBytes() const {
  std::string bytes;
  bytes.reserve(body_size());
  bytes += body;
  for (const BodySlice& slice : body_slices) bytes += slice.bytes;
  return bytes;
}

RemotingCommand RemotingCommand::Request(int32_t code) {
  RemotingCommand command;
  command.code = code;
  command.version = version::kCurrent;
  return command;
}

RemotingCommand RemotingCommand::ResponseTo(const RemotingCommand& request, int32_t code,
                                            std::string_view remark) {
  RemotingCommand command;
  command.code = code;
  command.version = version::kCurrent;
  command.opaque = request.opaque;
  command.flag = flag::kResponse;
  // Answered in the request's header type, as RocketMQ 4.x does: a client that sends the
  // binary header reads it back; ali-ons sends JSON and so gets JSON.
  command.serialize_type = request.serialize_type;
  if (!remark.empty()) command.remark = std::string(remark);
  return command;
}

const std::string* RemotingCommand::FindExt(std::string_view key) const {
  return ext_fields.Get(key);
}

const std::string* ExtFieldReader::Find(std::string_view name, bool required) {
  const ExtFields& fields = command_.ext_fields;
  auto it =
      next_ < fields.size() ? fields.begin() + static_cast<std::ptrdiff_t>(next_) : fields.end();
  if (it == fields.end() || it->first != name) it = fields.find(name);
  const std::string* value = nullptr;
  if (it != fields.end()) {
    value = &it->second;
    next_ = static_cast<size_t>(it - fields.begin()) + 1;
  }
  if (value == nullptr && required) {
    Fail(Status::InvalidArgument("the custom header field " + std::string(name) + " is null"));
  }
  return value;
}

void ExtFieldReader::Fail(Status status) {
  if (status_.ok()) status_ = std::move(status);
}

template <typename Int>
std::optional<Int> ExtFieldReader::Number(std::string_view name, const std::string& value) {
  std::optional<Int> number = ParseDecimal<Int>(value);
  if (!number) {
    Fail(Status::InvalidArgument("the custom header field " + std::string(name) +
                                 " is not a number: '" + value + "'"));
  }
  return number;
}

std::string ExtFieldReader::String(std::string_view name) {
  const std::string* value = Find(name, /*required=*/true);
  return value ? *value : std::string();
}

int32_t ExtFieldReader::Int(std::string_view name) {
  const std::string* value = Find(name, /*required=*/true);
  return value ? Number<int32_t>(name, *value).value_or(0) : 0;
}

int64_t ExtFieldReader::Long(std::string_view name) {
  const std::string* value = Find(name, /*required=*/true);
  return value ? Number<int64_t>(name, *value).value_or(0) : 0;
}

bool ExtFieldReader::Bool(std::string_view name) {
  const std::string* value = Find(name, /*required=*/true);
  return value != nullptr && EqualsIgnoreCase(*value, "true");
}

std::optional<std::string> ExtFieldReader::OptString(std::string_view name) {
  const std::string* value = Find(name, /*required=*/false);
  if (value == nullptr) return std::nullopt;
  return *value;
}

std::optional<int32_t> ExtFieldReader::OptInt(std::string_view name) {
  const std::string* value = Find(name, /*required=*/false);
  if (value == nullptr) return std::nullopt;
  return Number<int32_t>(name, *value);
}

std::optional<int64_t> ExtFieldReader::OptLong(std::string_view name) {
  const std::string* value = Find(name, /*required=*/false);
  if (value == nullptr) return std::nullopt;
  return Number<int64_t>(name, *value);
}

std::optional<bool> ExtFieldReader::OptBool(std::string_view name) {
  const std::string* value = Find(name, /*required=*/false);
  if (value == nullptr) return std::nullopt;
  return EqualsIgnoreCase(*value, "true");
}

Result<uint32_t> DecodeFrameLength(const char prefix[4], const CodecLimits& limits) {
  uint32_t length = mqstore::DecodeBig32(prefix);
  if (length < 4) {
    return Status::InvalidArgument("frame length " + std::to_string(length) +
                                   " is shorter than the 4-byte header length word");
  }
  if (length > limits.max_frame_bytes) {
    return Status::InvalidArgument("frame length " + std::to_string(length) +
                                   " exceeds the limit of " +
                                   std::to_string(limits.max_frame_bytes) + " bytes");
  }
  return length;
}

Result<RemotingCommand> DecodeFrame(std::string_view frame) {
  uint32_t word;
  if (!GetBig32(&frame, &word)) {
    return Status::InvalidArgument("the frame is shorter than its 4-byte header length word");
  }
  uint32_t serialize_type = word >> 24;
  uint32_t header_length = word & kHeaderLengthMask;
  std::string_view header;
  if (!GetBytes(&frame, header_length, &header)) {
    return Status::InvalidArgument("header length " + std::to_string(header_length) +
                                   " runs past the end of the frame (" +
                                   std::to_string(frame.size()) + " bytes follow)");
  }
  RemotingCommand command;
  command.serialize_type = static_cast<SerializeType>(serialize_type);
  if (serialize_type == static_cast<uint32_t>(SerializeType::kJson)) {
    MQ_RETURN_IF_ERROR(internal::DecodeJsonHeader(header, &command));
  } else if (serialize_type == static_cast<uint32_t>(SerializeType::kRocketMq)) {
    MQ_RETURN_IF_ERROR(DecodeBinaryHeader(header, &command));
  } else {
    return Status::InvalidArgument("unknown header serialize type " +
                                   std::to_string(serialize_type));
  }
  command.body.assign(frame.data(), frame.size());
  return command;
}

std::string EncodeHeaderJson(const RemotingCommand& command) {
  std::string json;
  internal::AppendJsonHeader(command, &json);
  return json;
}

std::string EncodeFramePrefix(const RemotingCommand& command) {
  // The header is written in place after two words that are filled in once its size is known.
  std::string prefix(8, '\0');
  prefix.reserve(160 + command.ext_fields.size() * 48);
  SerializeType type = SerializeType::kJson;
  if (command.serialize_type == SerializeType::kRocketMq && AppendBinaryHeader(command, &prefix)) {
    type = SerializeType::kRocketMq;
  } else {
    internal::AppendJsonHeader(command, &prefix);
  }
  size_t header_length = prefix.size() - 8;
  size_t frame_length = 4 + header_length + command.body_size();
  mqstore::EncodeBig32(prefix.data(), static_cast<uint32_t>(frame_length));
  mqstore::EncodeBig32(prefix.data() + 4,
                       (static_cast<uint32_t>(type) << 24) |
                           static_cast<uint32_t>(header_length & kHeaderLengthMask));
  return prefix;
}

std::string EncodeFrame(const RemotingCommand& command) {
  std::string frame = EncodeFramePrefix(command);
  frame.reserve(frame.size() + command.body_size());
  frame += command.body;
  for (const BodySlice& slice : command.body_slices) frame += slice.bytes;
  return frame;
}

std::string_view LanguageName(uint8_t code) {
  if (code < std::size(kLanguageNames)) return kLanguageNames[code];
  return kLanguageNames[kOtherLanguage];
}

uint8_t LanguageCode(std::string_view name) {
  for (size_t i = 0; i < std::size(kLanguageNames); ++i) {
    if (kLanguageNames[i] == name) return static_cast<uint8_t>(i);
  }
  return kOtherLanguage;
}

}  // namespace mqremoting

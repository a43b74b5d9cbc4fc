#include "json_header.h"

#include <charconv>
#include <cstdint>
#include <cstring>
#include <exception>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>

#include "json_string_scan.h"
#include "utf8.h"

namespace mqremoting::internal {
namespace {

using Json = nlohmann::json;

void AppendInt(int64_t value, std::string* out) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  out->append(buf, end);
}

// The int32 in `value`, or nullopt for anything else (floats, strings, out of range).
std::optional<int32_t> AsInt32(const Json& value) {
  if (value.is_number_unsigned()) {
    uint64_t u = value.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int32_t>::max())) return std::nullopt;
    return static_cast<int32_t>(u);
  }
  if (value.is_number_integer()) {
    int64_t s = value.get<int64_t>();
    if (s < std::numeric_limits<int32_t>::min() || s > std::numeric_limits<int32_t>::max()) {
      return std::nullopt;
    }
    return static_cast<int32_t>(s);
  }
  return std::nullopt;
}

// The text a JavaScript client signs for an ext value: strings as they are, numbers and
// booleans through String(); nullopt for arrays and objects.
std::optional<std::string> ScalarText(const Json& value) {
  switch (value.type()) {
    case Json::value_t::string:
      return value.get_ref<const std::string&>();
    case Json::value_t::boolean:
      return std::string(value.get<bool>() ? "true" : "false");
    case Json::value_t::number_integer:
      return std::to_string(value.get<int64_t>());
    case Json::value_t::number_unsigned:
      return std::to_string(value.get<uint64_t>());
    case Json::value_t::number_float:
      return JsNumberText(value.get<double>());
    default:
      return std::nullopt;
  }
}

Status FieldError(std::string_view key, std::string_view what) {
  std::string message = "the JSON header field '";
  message += key;
  message += "' ";
  message += what;
  return Status::InvalidArgument(message);
}

Status DecodeIntField(std::string_view key, const Json& value, int32_t* out) {
  std::optional<int32_t> number = AsInt32(value);
  if (!number) return FieldError(key, "is not a 32-bit integer: " + value.dump());
  *out = *number;
  return Status::OK();
}

Status DecodeExtFields(const Json& value, RemotingCommand* command) {
  if (!value.is_object()) return FieldError("extFields", "is not an object");
  for (auto it = value.begin(); it != value.end(); ++it) {
    if (it.value().is_null()) continue;  // a null field is an absent one, as in Java
    std::optional<std::string> text = ScalarText(it.value());
    if (!text) {
      return FieldError("extFields",
                        "has a value that is not a string, number or boolean "
                        "under the key '" +
                            it.key() + "'");
    }
    command->ext_fields[it.key()] = std::move(*text);
  }
  return Status::OK();
}

Status DecodeField(const std::string& key, const Json& value, RemotingCommand* command) {
  if (value.is_null()) return Status::OK();
  if (key == "code") return DecodeIntField(key, value, &command->code);
  if (key == "opaque") return DecodeIntField(key, value, &command->opaque);
  if (key == "flag") return DecodeIntField(key, value, &command->flag);
  if (key == "version") return DecodeIntField(key, value, &command->version);
  if (key == "language") {
    if (!value.is_string()) return FieldError(key, "is not a string");
    command->language = value.get_ref<const std::string&>();
    return Status::OK();
  }
  if (key == "remark") {
    if (!value.is_string()) return FieldError(key, "is not a string");
    command->remark = value.get_ref<const std::string&>();
    return Status::OK();
  }
  if (key == "extFields") return DecodeExtFields(value, command);
  return Status::OK();  // serializeTypeCurrentRPC and anything a newer peer adds
}

}  // namespace

void ResetToJavaDefaults(RemotingCommand* command) {
  command->code = 0;
  command->language = "JAVA";
  command->version = 0;
  command->opaque = 0;
  command->flag = 0;
  command->remark.reset();
  command->ext_fields.clear();
}

Status DecodeJsonHeader(std::string_view text, RemotingCommand* command) {
  if (TryDecodeJsonHeaderFast(text, command)) return Status::OK();
  return DecodeJsonHeaderSlow(text, command);
}

Status DecodeJsonHeaderSlow(std::string_view text, RemotingCommand* command) {
  std::string sanitized;
  if (!IsValidUtf8(text)) {
    sanitized = SanitizeUtf8(text);
    text = sanitized;
  }
  try {
    Json doc = Json::parse(text.begin(), text.end(), /*cb=*/nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) return Status::InvalidArgument("the JSON header does not parse");
    if (!doc.is_object()) return Status::InvalidArgument("the JSON header is not an object");
    ResetToJavaDefaults(command);
    for (auto it = doc.begin(); it != doc.end(); ++it) {
      MQ_RETURN_IF_ERROR(DecodeField(it.key(), it.value(), command));
    }
    return Status::OK();
  } catch (const std::exception& e) {
    // Only allocation failure can get here; the parse itself does not throw.
    return Status::InvalidArgument(std::string("the JSON header could not be decoded: ") +
                                   e.what());
  }
}

void AppendJsonString(std::string_view text, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  const char* p = text.data();
  const char* const end = p + text.size();
  const char* run_end = SkipPlain</*kStopAtNonAscii=*/false>(p, end);
  if (run_end == end) {
    // Nothing to escape (nearly every header string): one resize, one copy.
    const size_t at = out->size();
    out->resize(at + text.size() + 2);
    char* dest = out->data() + at;
    dest[0] = '"';
    if (!text.empty()) std::memcpy(dest + 1, text.data(), text.size());
    dest[text.size() + 1] = '"';
    return;
  }
  out->push_back('"');
  for (;;) {
    out->append(p, static_cast<size_t>(run_end - p));
    if (run_end == end) break;
    const unsigned char c = static_cast<unsigned char>(*run_end);
    if (c == '"' || c == '\\') {
      const char escape[] = {'\\', static_cast<char>(c)};
      out->append(escape, sizeof(escape));
    } else {
      const char escape[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
      out->append(escape, sizeof(escape));
    }
    p = run_end + 1;
    run_end = SkipPlain</*kStopAtNonAscii=*/false>(p, end);
  }
  out->push_back('"');
}

void AppendJsonHeader(const RemotingCommand& command, std::string* out) {
  out->append("{\"code\":");
  AppendInt(command.code, out);
  out->append(",\"extFields\":{");
  bool first = true;
  for (const auto& [key, value] : command.ext_fields) {
    if (!first) out->push_back(',');
    first = false;
    AppendJsonString(key, out);
    out->push_back(':');
    AppendJsonString(value, out);
  }
  out->append("},\"flag\":");
  AppendInt(command.flag, out);
  out->append(",\"language\":");
  AppendJsonString(command.language, out);
  out->append(",\"opaque\":");
  AppendInt(command.opaque, out);
  if (command.remark) {
    out->append(",\"remark\":");
    AppendJsonString(*command.remark, out);
  }
  out->append(",\"serializeTypeCurrentRPC\":\"JSON\",\"version\":");
  AppendInt(command.version, out);
  out->push_back('}');
}

std::string JsNumberText(double value) {
  if (value == 0) return "0";  // also -0, as String(-0) is "0"
  if (value != value) return "NaN";
  if (value == std::numeric_limits<double>::infinity()) return "Infinity";
  if (value == -std::numeric_limits<double>::infinity()) return "-Infinity";
  if (value < 0) return "-" + JsNumberText(-value);

  // The shortest digits that read back as `value`: "d.ddde±x".
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value, std::chars_format::scientific);
  std::string_view scientific(buf, static_cast<size_t>(end - buf));
  size_t e_pos = scientific.find('e');
  std::string digits;
  for (char c : scientific.substr(0, e_pos)) {
    if (c != '.') digits.push_back(c);
  }
  int exponent = 0;
  std::string_view exponent_text = scientific.substr(e_pos + 1);
  if (!exponent_text.empty() && exponent_text.front() == '+') exponent_text.remove_prefix(1);
  std::from_chars(exponent_text.data(), exponent_text.data() + exponent_text.size(), exponent);

  // ECMAScript Number::toString: value = 0.digits * 10^n.
  const int k = static_cast<int>(digits.size());
  const int n = exponent + 1;
  std::string out;
  if (k <= n && n <= 21) {
    out = digits + std::string(static_cast<size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out = digits.substr(0, static_cast<size_t>(n)) + "." + digits.substr(static_cast<size_t>(n));
  } else if (-6 < n && n <= 0) {
    out = "0." + std::string(static_cast<size_t>(-n), '0') + digits;
  } else {
    int e = n - 1;
    out = digits.substr(0, 1);
    if (k > 1) out += "." + digits.substr(1);
    out += e < 0 ? "e-" : "e+";
    out += std::to_string(e < 0 ? -e : e);
  }
  return out;
}

}  // namespace mqremoting::internal

// The single-pass JSON header decoder (TryDecodeJsonHeaderFast, json_header.h).
#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <exception>
#include <limits>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

#include "json_header.h"
#include "json_string_scan.h"
#include "utf8.h"

namespace mqremoting::internal {
namespace {

// ---------------------------------------------------------------------------------------
// The fast path. A single pass over the text that writes straight into the command. It only
// has to be right where it says it handled the input; everything unusual returns false and
// goes to nlohmann, which also words the errors. The rules it mirrors from the DOM path:
// nlohmann keeps the last of duplicate keys (so a later null resets a field to its default
// and a later extFields replaces the whole map), null fields and null ext values are absent,
// ext integers keep their text ("-0" reads as 0), booleans become "true" / "false".

inline int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// `key` is `name` (a literal, so the compare is inlined).
template <size_t N>
inline bool SameKey(std::string_view key, const char (&name)[N]) {
  return key.size() == N - 1 && std::memcmp(key.data(), name, N - 1) == 0;
}

// Where decoded string text goes. Runs of the input are appended as they are; escapes
// arrive decoded.
struct StringSink {
  std::string* out;
  void Run(const char* begin, const char* end) {
    out->append(begin, static_cast<size_t>(end - begin));
  }
  void Decoded(const char* bytes, size_t size) { out->append(bytes, size); }
};

// Validates only (strings inside skipped values).
struct NullSink {
  void Run(const char*, const char*) {}
  void Decoded(const char*, size_t) {}
};

// A key: a view of the input while the key has no escapes (nearly always), copied into
// `buffer` from the first escape on.
struct KeySink {
  const char* start;
  size_t size = 0;
  bool buffered = false;
  std::string* buffer;

  void Run(const char* begin, const char* end) {
    if (buffered) {
      buffer->append(begin, static_cast<size_t>(end - begin));
    } else {
      size += static_cast<size_t>(end - begin);  // runs before an escape are contiguous
    }
  }
  void Decoded(const char* bytes, size_t size_of) {
    if (!buffered) {
      buffer->assign(start, size);
      buffered = true;
    }
    buffer->append(bytes, size_of);
  }
  std::string_view view() const {
    return buffered ? std::string_view(*buffer) : std::string_view(start, size);
  }
};

class FastHeaderParser {
 public:
  explicit FastHeaderParser(std::string_view text)
      : p_(text.data()), end_(text.data() + text.size()) {}

  bool Parse(RemotingCommand* command);

 private:
  // Unknown values nested deeper than this go to the slow path; one bit per level.
  static constexpr int kMaxSkipDepth = 64;

  void SkipWhitespace() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }
  bool Peek(char c) const { return p_ != end_ && *p_ == c; }
  bool Consume(char c) {
    if (!Peek(c)) return false;
    ++p_;
    return true;
  }
  // Literals and key names have a size known at compile time, so the compare is inlined.
  template <size_t N>
  bool ConsumeLiteral(const char (&literal)[N]) {
    if (static_cast<size_t>(end_ - p_) < N - 1 || std::memcmp(p_, literal, N - 1) != 0) {
      return false;
    }
    p_ += N - 1;
    return true;
  }

  template <typename Sink>
  bool ParseStringBody(Sink& sink);
  bool ParseEscape(const char** at, char* utf8, size_t* size) const;
  // A quoted key, then the colon; `*key` stays valid until the next key is parsed.
  bool ParseKey(std::string_view* key);
  bool ParseStringInto(std::string* out) {
    if (!Consume('"')) return false;
    StringSink sink{out};
    return ParseStringBody(sink);
  }
  // An integer token: -?(0|[1-9][0-9]*) not followed by a fraction or exponent.
  bool ScanInteger(std::string_view* token);
  bool ParseInt32Field(int32_t* out);
  bool ParseField(std::string_view key, RemotingCommand* command);
  bool ParseExtFields(RemotingCommand* command);
  bool ParseExtValue(std::string_view key, RemotingCommand* command);
  bool SkipValue();
  // After a member: ',' (true, *more set) or the closing brace (true, *more cleared).
  bool ParseObjectSeparator(char close, bool* more) {
    SkipWhitespace();
    if (Consume(',')) {
      SkipWhitespace();
      *more = true;
      return true;
    }
    *more = false;
    return Consume(close);
  }

  const char* p_;
  const char* end_;
  std::string key_buffer_;
};

template <typename Sink>
bool FastHeaderParser::ParseStringBody(Sink& sink) {
  const char* p = p_;
  const char* run = p;
  for (;;) {
    p = SkipPlain</*kStopAtNonAscii=*/true>(p, end_);
    if (p == end_) return false;
    const unsigned char c = static_cast<unsigned char>(*p);
    if (c == '"') {
      sink.Run(run, p);
      p_ = p + 1;
      return true;
    }
    if (c == '\\') {
      sink.Run(run, p);
      char utf8[4];
      size_t size;
      if (!ParseEscape(&p, utf8, &size)) return false;
      sink.Decoded(utf8, size);
      run = p;
      continue;
    }
    if (c < 0x20) return false;  // a raw control character
    // Non-ASCII: well-formed sequences are made of bytes >= 0x80 only, so the text is valid
    // UTF-8 exactly when every such run is (invalid text is sanitized by the slow path).
    const char* q = p + 1;
    while (q != end_ && static_cast<unsigned char>(*q) >= 0x80) ++q;
    if (!IsValidUtf8(std::string_view(p, static_cast<size_t>(q - p)))) return false;
    p = q;
  }
}

// Decodes the escape at `*at` (a backslash) into `utf8`, moving `*at` past it. A lone or
// unpaired surrogate is an error in nlohmann too, so it is simply not handled here.
bool FastHeaderParser::ParseEscape(const char** at, char* utf8, size_t* size) const {
  const char* p = *at + 1;
  if (p == end_) return false;
  char simple;
  switch (*p) {
    case '"':
      simple = '"';
      break;
    case '\\':
      simple = '\\';
      break;
    case '/':
      simple = '/';
      break;
    case 'b':
      simple = '\b';
      break;
    case 'f':
      simple = '\f';
      break;
    case 'n':
      simple = '\n';
      break;
    case 'r':
      simple = '\r';
      break;
    case 't':
      simple = '\t';
      break;
    case 'u': {
      const auto hex4 = [this](const char* h) -> int {
        if (end_ - h < 4) return -1;
        int value = 0;
        for (int i = 0; i < 4; ++i) {
          int digit = HexValue(h[i]);
          if (digit < 0) return -1;
          value = value << 4 | digit;
        }
        return value;
      };
      int unit = hex4(p + 1);
      if (unit < 0) return false;
      p += 5;
      uint32_t code_point = static_cast<uint32_t>(unit);
      if (unit >= 0xDC00 && unit <= 0xDFFF) return false;
      if (unit >= 0xD800 && unit <= 0xDBFF) {
        if (end_ - p < 2 || p[0] != '\\' || p[1] != 'u') return false;
        int low = hex4(p + 2);
        if (low < 0xDC00 || low > 0xDFFF) return false;
        p += 6;
        code_point = 0x10000 + ((static_cast<uint32_t>(unit) - 0xD800) << 10) +
                     (static_cast<uint32_t>(low) - 0xDC00);
      }
      if (code_point < 0x80) {
        utf8[0] = static_cast<char>(code_point);
        *size = 1;
      } else if (code_point < 0x800) {
        utf8[0] = static_cast<char>(0xC0 | (code_point >> 6));
        utf8[1] = static_cast<char>(0x80 | (code_point & 0x3F));
        *size = 2;
      } else if (code_point < 0x10000) {
        utf8[0] = static_cast<char>(0xE0 | (code_point >> 12));
        utf8[1] = static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
        utf8[2] = static_cast<char>(0x80 | (code_point & 0x3F));
        *size = 3;
      } else {
        utf8[0] = static_cast<char>(0xF0 | (code_point >> 18));
        utf8[1] = static_cast<char>(0x80 | ((code_point >> 12) & 0x3F));
        utf8[2] = static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
        utf8[3] = static_cast<char>(0x80 | (code_point & 0x3F));
        *size = 4;
      }
      *at = p;
      return true;
    }
    default:
      return false;
  }
  utf8[0] = simple;
  *size = 1;
  *at = p + 1;
  return true;
}

bool FastHeaderParser::ParseKey(std::string_view* key) {
  if (!Consume('"')) return false;
  KeySink sink{p_, 0, false, &key_buffer_};
  if (!ParseStringBody(sink)) return false;
  *key = sink.view();
  SkipWhitespace();
  if (!Consume(':')) return false;
  SkipWhitespace();
  return true;
}

bool FastHeaderParser::ScanInteger(std::string_view* token) {
  const char* p = p_;
  if (p != end_ && *p == '-') ++p;
  if (p == end_ || !IsDigit(*p)) return false;
  if (*p == '0') {
    ++p;
  } else {
    while (p != end_ && IsDigit(*p)) ++p;
  }
  // A fraction or exponent (a float: left to nlohmann), or digits after a leading zero.
  if (p != end_ && (*p == '.' || *p == 'e' || *p == 'E' || IsDigit(*p))) return false;
  *token = std::string_view(p_, static_cast<size_t>(p - p_));
  p_ = p;
  return true;
}

bool FastHeaderParser::ParseInt32Field(int32_t* out) {
  if (Peek('n')) {
    if (!ConsumeLiteral("null")) return false;
    *out = 0;  // absent: the default
    return true;
  }
  std::string_view token;
  if (!ScanInteger(&token)) return false;
  const bool negative = token.front() == '-';
  if (negative) token.remove_prefix(1);
  if (token.size() > 10) return false;  // out of range
  int64_t magnitude = 0;
  for (char c : token) magnitude = magnitude * 10 + (c - '0');
  const int64_t value = negative ? -magnitude : magnitude;
  if (value < std::numeric_limits<int32_t>::min() || value > std::numeric_limits<int32_t>::max()) {
    return false;
  }
  *out = static_cast<int32_t>(value);
  return true;
}

bool FastHeaderParser::ParseField(std::string_view key, RemotingCommand* command) {
  switch (key.size()) {
    case 4:
      if (SameKey(key, "code")) return ParseInt32Field(&command->code);
      if (SameKey(key, "flag")) return ParseInt32Field(&command->flag);
      break;
    case 6:
      if (SameKey(key, "opaque")) return ParseInt32Field(&command->opaque);
      if (SameKey(key, "remark")) {
        if (Peek('n')) {
          command->remark.reset();
          return ConsumeLiteral("null");
        }
        if (command->remark) {
          command->remark->clear();
        } else {
          command->remark.emplace();
        }
        return ParseStringInto(&*command->remark);
      }
      break;
    case 7:
      if (SameKey(key, "version")) return ParseInt32Field(&command->version);
      break;
    case 8:
      if (SameKey(key, "language")) {
        if (Peek('n')) {
          command->language = "JAVA";
          return ConsumeLiteral("null");
        }
        command->language.clear();
        return ParseStringInto(&command->language);
      }
      break;
    case 9:
      if (SameKey(key, "extFields")) return ParseExtFields(command);
      break;
    default:
      break;
  }
  return SkipValue();  // serializeTypeCurrentRPC and anything a newer peer adds
}

bool FastHeaderParser::ParseExtFields(RemotingCommand* command) {
  // The last extFields wins whole, as in the DOM.
  command->ext_fields.clear();
  // Room for a send's header (SendMessageRequestHeaderV2 has 14 fields) without regrowing.
  command->ext_fields.reserve(16);
  if (Peek('n')) return ConsumeLiteral("null");
  if (!Consume('{')) return false;
  SkipWhitespace();
  if (Consume('}')) return true;
  for (bool more = true; more;) {
    std::string_view key;
    if (!ParseKey(&key)) return false;
    if (!ParseExtValue(key, command)) return false;
    if (!ParseObjectSeparator('}', &more)) return false;
  }
  return true;
}

bool FastHeaderParser::ParseExtValue(std::string_view key, RemotingCommand* command) {
  auto& fields = command->ext_fields;
  if (p_ == end_) return false;
  const char first = *p_;
  if (first == 'n') {
    if (!ConsumeLiteral("null")) return false;
    auto it = fields.find(key);  // null is absent, also after an earlier duplicate
    if (it != fields.end()) fields.erase(it);
    return true;
  }
  // The field's string, found or inserted (at the end without a search when senders write
  // keys in order, as ours do).
  const auto field = [&]() -> std::string& { return fields[key]; };
  if (first == '"') {
    ++p_;
    std::string& value = field();
    value.clear();
    StringSink sink{&value};
    return ParseStringBody(sink);
  }
  if (first == 't') {
    if (!ConsumeLiteral("true")) return false;
    field() = "true";
    return true;
  }
  if (first == 'f') {
    if (!ConsumeLiteral("false")) return false;
    field() = "false";
    return true;
  }
  std::string_view token;
  if (!ScanInteger(&token)) return false;
  // Up to 18 digits fit nlohmann's int64 / uint64, whose text is the token itself.
  if (token.size() - (token.front() == '-' ? 1 : 0) > 18) return false;
  if (token == "-0") token = "0";
  field().assign(token);
  return true;
}

// Skips one value of any type without recursion: bit i of `in_object` says whether nesting
// level i is an object.
bool FastHeaderParser::SkipValue() {
  uint64_t in_object = 0;
  int depth = 0;
  for (;;) {
    // A value starts here.
    if (p_ == end_) return false;
    const char c = *p_;
    if (c == '{' || c == '[') {
      ++p_;
      if (depth == kMaxSkipDepth) return false;
      const bool object = c == '{';
      const char close = object ? '}' : ']';
      if (object) {
        in_object |= uint64_t{1} << depth;
      } else {
        in_object &= ~(uint64_t{1} << depth);
      }
      ++depth;
      SkipWhitespace();
      if (!Consume(close)) {
        if (object) {
          std::string_view key;
          if (!ParseKey(&key)) return false;
        }
        continue;  // the first element
      }
      --depth;
    } else if (c == '"') {
      ++p_;
      NullSink sink;
      if (!ParseStringBody(sink)) return false;
    } else if (c == 't') {
      if (!ConsumeLiteral("true")) return false;
    } else if (c == 'f') {
      if (!ConsumeLiteral("false")) return false;
    } else if (c == 'n') {
      if (!ConsumeLiteral("null")) return false;
    } else {
      std::string_view token;
      if (!ScanInteger(&token)) return false;
    }
    // A value ended: close containers until one continues with another element.
    for (;;) {
      if (depth == 0) return true;
      const bool object = (in_object >> (depth - 1) & 1) != 0;
      bool more;
      if (!ParseObjectSeparator(object ? '}' : ']', &more)) return false;
      if (more) {
        if (object) {
          std::string_view key;
          if (!ParseKey(&key)) return false;
        }
        break;
      }
      --depth;
    }
  }
}

bool FastHeaderParser::Parse(RemotingCommand* command) {
  ResetToJavaDefaults(command);

  // nlohmann skips a byte order mark at the very start.
  if (end_ - p_ >= 3 && std::memcmp(p_, "\xEF\xBB\xBF", 3) == 0) p_ += 3;
  SkipWhitespace();
  if (!Consume('{')) return false;
  SkipWhitespace();
  if (!Consume('}')) {
    for (bool more = true; more;) {
      std::string_view key;
      if (!ParseKey(&key)) return false;
      if (!ParseField(key, command)) return false;
      if (!ParseObjectSeparator('}', &more)) return false;
    }
  }
  SkipWhitespace();
  return p_ == end_;
}

}  // namespace

bool TryDecodeJsonHeaderFast(std::string_view text, RemotingCommand* command) {
  try {
    return FastHeaderParser(text).Parse(command);
  } catch (const std::exception&) {
    return false;  // allocation failure: let the slow path report it
  }
}

}  // namespace mqremoting::internal

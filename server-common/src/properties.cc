// Properties: Java .properties parsing (see properties.h for the accepted syntax).
#include "server_common/properties.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <system_error>
#include <utility>

namespace mqserver {

using mqstore::Result;
using mqstore::Status;

namespace {

// Java's whitespace for .properties: space, tab, form feed (newlines end lines).
bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\f'; }

// Java's String.trim(): every character up to and including ' '.
std::string_view TrimJava(std::string_view s) {
  while (!s.empty() && static_cast<unsigned char>(s.front()) <= ' ') s.remove_prefix(1);
  while (!s.empty() && static_cast<unsigned char>(s.back()) <= ' ') s.remove_suffix(1);
  return s;
}

std::string Quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

// One key/value line after continuation lines are joined.
struct LogicalLine {
  std::string text;
  int line = 0;
};

// Joins natural lines (ended by \n, \r\n or \r) into logical lines the way Java's LineReader
// does: leading whitespace dropped, comment and blank lines skipped (except as continuation
// lines, which are never comments), an odd run of trailing backslashes continues the line.
std::vector<LogicalLine> ReadLogicalLines(std::string_view text) {
  std::vector<LogicalLine> lines;
  LogicalLine current;
  bool continuing = false;
  int line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find_first_of("\r\n", pos);
    std::string_view natural =
        text.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    if (end == std::string_view::npos) {
      pos = text.size();
    } else {
      bool crlf = text[end] == '\r' && end + 1 < text.size() && text[end + 1] == '\n';
      pos = end + (crlf ? 2 : 1);
    }
    ++line_no;

    size_t first = 0;
    while (first < natural.size() && IsBlank(natural[first])) ++first;
    std::string_view content = natural.substr(first);
    if (!continuing) {
      if (content.empty() || content.front() == '#' || content.front() == '!') continue;
      current = LogicalLine{std::string(), line_no};
    }
    size_t backslashes = 0;
    while (backslashes < content.size() && content[content.size() - 1 - backslashes] == '\\') {
      ++backslashes;
    }
    continuing = backslashes % 2 == 1;
    if (continuing) content.remove_suffix(1);
    current.text.append(content);
    if (!continuing) lines.push_back(std::move(current));
  }
  // A continuation at the end of the text: Java drops the backslash and keeps the line.
  if (continuing) lines.push_back(std::move(current));
  return lines;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// The UTF-16 code unit of the 4 hex digits at in[pos..pos+4), or -1.
int32_t HexUnit(std::string_view in, size_t pos) {
  if (pos + 4 > in.size()) return -1;
  int32_t v = 0;
  for (size_t i = pos; i < pos + 4; ++i) {
    char c = in[i];
    int digit;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      digit = c - 'A' + 10;
    } else {
      return -1;
    }
    v = v * 16 + digit;
  }
  return v;
}

// Java's loadConvert: resolves the escapes of a key or value.
Status Unescape(std::string_view in, const std::string& where, std::string* out) {
  out->clear();
  out->reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c != '\\') {
      out->push_back(c);
      continue;
    }
    if (++i == in.size()) break;  // cannot happen after line joining; dropped as Java would
    c = in[i];
    switch (c) {
      case 't':
        out->push_back('\t');
        break;
      case 'n':
        out->push_back('\n');
        break;
      case 'r':
        out->push_back('\r');
        break;
      case 'f':
        out->push_back('\f');
        break;
      case 'u': {
        int32_t unit = HexUnit(in, i + 1);
        if (unit < 0) {
          return Status::InvalidArgument(where +
                                         ": malformed \\uXXXX escape (4 hex digits needed)");
        }
        i += 4;
        uint32_t cp = static_cast<uint32_t>(unit);
        if (unit >= 0xD800 && unit <= 0xDBFF) {
          int32_t low = -1;
          if (i + 2 < in.size() && in[i + 1] == '\\' && in[i + 2] == 'u') low = HexUnit(in, i + 3);
          if (low < 0xDC00 || low > 0xDFFF) {
            return Status::InvalidArgument(where +
                                           ": \\u escape of a high surrogate without a low one");
          }
          i += 6;
          cp = 0x10000 + ((cp - 0xD800) << 10) + (static_cast<uint32_t>(low) - 0xDC00);
        } else if (unit >= 0xDC00 && unit <= 0xDFFF) {
          return Status::InvalidArgument(where +
                                         ": \\u escape of a low surrogate without a high one");
        }
        AppendUtf8(cp, out);
        break;
      }
      default:
        out->push_back(c);  // \\ \= \: \# \! "\ " and any other character stand for themselves
    }
  }
  return Status::OK();
}

// Java's load0: splits a logical line into its raw key and value.
void SplitKeyValue(std::string_view line, std::string_view* key, std::string_view* value) {
  size_t key_len = 0;
  size_t value_start = line.size();
  bool has_separator = false;
  bool preceding_backslash = false;
  while (key_len < line.size()) {
    char c = line[key_len];
    if (!preceding_backslash && (c == '=' || c == ':')) {
      value_start = key_len + 1;
      has_separator = true;
      break;
    }
    if (!preceding_backslash && IsBlank(c)) {
      value_start = key_len + 1;
      break;
    }
    preceding_backslash = c == '\\' ? !preceding_backslash : false;
    ++key_len;
  }
  // Whitespace, then at most one '=' or ':' (when whitespace ended the key), then whitespace.
  while (value_start < line.size()) {
    char c = line[value_start];
    if (!IsBlank(c)) {
      if (has_separator || (c != '=' && c != ':')) break;
      has_separator = true;
    }
    ++value_start;
  }
  *key = line.substr(0, key_len);
  *value = line.substr(value_start);
}

std::string ErrnoMessage(int err) {
  return std::error_code(err, std::generic_category()).message();
}

}  // namespace

const PropertyEntry* Properties::Find(std::string_view key) const {
  for (const PropertyEntry& e : entries_) {
    if (e.key == key) return &e;
  }
  return nullptr;
}

void Properties::Set(std::string_view key, std::string_view value, int line) {
  for (PropertyEntry& e : entries_) {
    if (e.key != key) continue;
    PropertyEntry replaced{std::string(key), std::string(value), line};
    AddWarning(Where(replaced) + ": duplicate key " + Quoted(key) + " (also on line " +
               std::to_string(e.line) + "); the last value wins");
    e.value = std::move(replaced.value);
    e.line = line;
    return;
  }
  entries_.push_back(PropertyEntry{std::string(key), std::string(value), line});
}

std::string Properties::Where(const PropertyEntry& entry) const {
  if (entry.line <= 0) return source_;
  return source_ + ":" + std::to_string(entry.line);
}

Result<Properties> ParsePropertiesText(std::string_view text, std::string source) {
  Properties props(std::move(source));
  std::string key;
  std::string value;
  for (const LogicalLine& line : ReadLogicalLines(text)) {
    std::string where = props.source() + ":" + std::to_string(line.line);
    std::string_view raw_key;
    std::string_view raw_value;
    SplitKeyValue(line.text, &raw_key, &raw_value);
    MQ_RETURN_IF_ERROR(Unescape(raw_key, where, &key));
    MQ_RETURN_IF_ERROR(Unescape(raw_value, where, &value));
    if (key.empty()) {
      props.AddWarning(where + ": line without a key ignored");
      continue;
    }
    props.Set(key, TrimJava(value), line.line);
  }
  return props;
}

Result<Properties> ParsePropertiesFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) return Status::NotFound("config file " + path + " does not exist");
    return Status::IOError("cannot open config file " + path + ": " + ErrnoMessage(err));
  }
  std::string text;
  char buf[8192];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return Status::IOError("cannot read config file " + path + ": " + ErrnoMessage(err));
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return ParsePropertiesText(text, path);
}

}  // namespace mqserver

// Properties: a Java `.properties` file, read as RocketMQ reads broker.conf and namesrv.conf
// (java.util.Properties.load), then trimmed as RocketMQ trims values before using them.
//
// Syntax accepted:
//   key=value   key = value   key:value   key value     the first unescaped '=', ':' or
//                                                       whitespace ends the key
//   # comment   ! comment                               after optional leading whitespace
//   blank lines
//   key = a long \                                      a line ending in an odd number of
//         value                                         backslashes continues on the next
//                                                       one, whose leading whitespace is dropped
//   escapes in keys and values: \t \n \r \f \uXXXX (written out as UTF-8), and \c = c for any
//   other character (\\ \= \: \# \! "\ ")
// Values are trimmed at both ends (RocketMQ's String.trim()). A repeated key keeps its first
// position and takes the last value, with a warning. Bytes are kept as they are, so a UTF-8
// file reads as UTF-8 (Java would read it as ISO-8859-1; broker config values are ASCII).
#ifndef SERVER_COMMON_PROPERTIES_H_
#define SERVER_COMMON_PROPERTIES_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mqstore/status.h"

namespace mqserver {

struct PropertyEntry {
  std::string key;
  std::string value;
  // 1-based line on which the (last) definition of the key starts.
  int line = 0;
};

class Properties {
 public:
  Properties() = default;
  // `source` names where the entries came from (a path) in warnings and errors.
  explicit Properties(std::string source) : source_(std::move(source)) {}

  // Entries in the order their keys first appeared.
  const std::vector<PropertyEntry>& entries() const { return entries_; }
  // The entry for `key`, or nullptr.
  const PropertyEntry* Find(std::string_view key) const;
  bool Contains(std::string_view key) const { return Find(key) != nullptr; }
  size_t size() const { return entries_.size(); }

  // Adds or replaces `key`; replacing records a duplicate-key warning.
  void Set(std::string_view key, std::string_view value, int line = 0);

  // Where the entries came from: the file path, or "<text>".
  const std::string& source() const { return source_; }
  // "<source>:<line>" for messages about an entry ("<source>" when it has no line).
  std::string Where(const PropertyEntry& entry) const;
  // Things that were accepted but look like mistakes (duplicate keys, empty keys).
  const std::vector<std::string>& warnings() const { return warnings_; }
  void AddWarning(std::string warning) { warnings_.push_back(std::move(warning)); }

 private:
  std::string source_ = "<text>";
  std::vector<PropertyEntry> entries_;
  std::vector<std::string> warnings_;
};

// Parses properties text. kInvalidArgument (naming the line) for a malformed \uXXXX escape or
// an unpaired UTF-16 surrogate; nothing else is an error, as in Java.
mqstore::Result<Properties> ParsePropertiesText(std::string_view text,
                                                std::string source = "<text>");

// Reads and parses a file. kNotFound when it does not exist, kIOError when it cannot be read;
// both name the path.
mqstore::Result<Properties> ParsePropertiesFile(const std::string& path);

}  // namespace mqserver

#endif  // SERVER_COMMON_PROPERTIES_H_

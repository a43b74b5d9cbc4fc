// ConfigReader: typed config reads and unknown-key warnings (see config_reader.h).
#include "server_common/config_reader.h"

#include <charconv>
#include <system_error>

namespace mqserver {

using mqstore::Status;

namespace {

std::string Range(int64_t min, int64_t max) {
  return std::to_string(min) + ".." + std::to_string(max);
}

// Java's Long.parseLong: optional sign, decimal digits, nothing else.
bool ParseDecimal(std::string_view text, int64_t* out) {
  if (!text.empty() && text.front() == '+') {
    text.remove_prefix(1);
    if (!text.empty() && text.front() == '-') return false;  // "+-1"
  }
  if (text.empty()) return false;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, *out);
  return ec == std::errc() && ptr == end;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
    char y = b[i] >= 'A' && b[i] <= 'Z' ? static_cast<char>(b[i] - 'A' + 'a') : b[i];
    if (x != y) return false;
  }
  return true;
}

}  // namespace

const PropertyEntry* ConfigReader::Take(std::string_view key) {
  known_.emplace(key);
  return props_.Find(key);
}

Status ConfigReader::BadValue(const PropertyEntry& entry, std::string_view problem,
                              std::string_view allowed) const {
  std::string msg = Where(entry) + ": " + entry.key + " = \"" + entry.value + "\": ";
  msg.append(problem);
  msg.append("; allowed: ");
  msg.append(allowed);
  return Status::InvalidArgument(msg);
}

Status ConfigReader::ReadString(std::string_view key, std::string* out) {
  if (const PropertyEntry* entry = Take(key)) *out = entry->value;
  return Status::OK();
}

Status ConfigReader::ReadNonEmptyString(std::string_view key, std::string* out) {
  const PropertyEntry* entry = Take(key);
  if (entry == nullptr) return Status::OK();
  if (entry->value.empty()) return BadValue(*entry, "empty", "a non-empty string");
  *out = entry->value;
  return Status::OK();
}

Status ConfigReader::ReadInt64(std::string_view key, int64_t min, int64_t max, int64_t* out) {
  const PropertyEntry* entry = Take(key);
  if (entry == nullptr) return Status::OK();
  int64_t v = 0;
  if (!ParseDecimal(entry->value, &v)) return BadValue(*entry, "not an integer", Range(min, max));
  if (v < min || v > max) return BadValue(*entry, "out of range", Range(min, max));
  *out = v;
  return Status::OK();
}

Status ConfigReader::ReadInt32(std::string_view key, int32_t min, int32_t max, int32_t* out) {
  int64_t v = *out;
  MQ_RETURN_IF_ERROR(ReadInt64(key, min, max, &v));
  *out = static_cast<int32_t>(v);
  return Status::OK();
}

Status ConfigReader::ReadBool(std::string_view key, bool* out) {
  const PropertyEntry* entry = Take(key);
  if (entry == nullptr) return Status::OK();
  if (EqualsIgnoreCase(entry->value, "true")) {
    *out = true;
  } else if (EqualsIgnoreCase(entry->value, "false")) {
    *out = false;
  } else {
    return BadValue(*entry, "not a boolean", "true, false");
  }
  return Status::OK();
}

Status ConfigReader::MatchName(const PropertyEntry& entry,
                               const std::vector<std::string_view>& names, size_t* index) const {
  std::string allowed;
  for (size_t i = 0; i < names.size(); ++i) {
    if (entry.value == names[i]) {
      *index = i;
      return Status::OK();
    }
    if (i > 0) allowed += ", ";
    allowed += names[i];
  }
  return BadValue(entry, "unknown value", allowed);
}

void ConfigReader::AppendWarnings(std::vector<std::string>* warnings) const {
  for (const std::string& w : props_.warnings()) warnings->push_back(w);
  for (const PropertyEntry& entry : props_.entries()) {
    if (known_.find(entry.key) == known_.end()) {
      warnings->push_back(Where(entry) + ": unknown key \"" + entry.key + "\" ignored");
    }
  }
}

}  // namespace mqserver

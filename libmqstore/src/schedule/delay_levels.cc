#include "schedule/delay_levels.h"

#include <charconv>
#include <cstdlib>
#include <limits>

namespace mqstore {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

int64_t UnitMs(char unit) {
  switch (unit) {
    case 's':
      return 1000;
    case 'm':
      return 60 * 1000;
    case 'h':
      return 60 * 60 * 1000;
    case 'd':
      return 24 * 60 * 60 * 1000;
    default:
      return 0;
  }
}

Status BadToken(int level, std::string_view token, std::string_view why) {
  return Status::InvalidArgument("delay level " + std::to_string(level) + " ('" +
                                 std::string(token) + "'): " + std::string(why));
}

}  // namespace

Result<DelayLevels> DelayLevels::Parse(std::string_view spec) {
  std::vector<int64_t> delays;
  size_t pos = 0;
  while (true) {
    while (pos < spec.size() && IsSpace(spec[pos])) ++pos;
    if (pos == spec.size()) break;
    size_t end = pos;
    while (end < spec.size() && !IsSpace(spec[end])) ++end;
    std::string_view token = spec.substr(pos, end - pos);
    pos = end;
    int level = static_cast<int>(delays.size()) + 1;
    if (level > kMaxLevels) {
      return Status::InvalidArgument("more than " + std::to_string(kMaxLevels) + " delay levels");
    }
    char unit = token.back();
    int64_t unit_ms = UnitMs(unit);
    if (unit_ms == 0) {
      return BadToken(level, token, "unknown unit (expected s, m, h or d after the number)");
    }
    std::string_view digits = token.substr(0, token.size() - 1);
    if (digits.empty()) return BadToken(level, token, "missing number before the unit");
    int64_t value = 0;
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec == std::errc::result_out_of_range) return BadToken(level, token, "number too large");
    if (ec != std::errc() || ptr != digits.data() + digits.size() || digits[0] == '-' ||
        digits[0] == '+') {
      return BadToken(level, token, "not a decimal number followed by a unit (s, m, h or d)");
    }
    if (value <= 0) return BadToken(level, token, "a delay must be positive");
    if (value > std::numeric_limits<int64_t>::max() / unit_ms) {
      return BadToken(level, token, "number too large");
    }
    delays.push_back(value * unit_ms);
  }
  if (delays.empty()) return Status::InvalidArgument("delay level list is empty");
  return DelayLevels(std::move(delays));
}

DelayLevels DelayLevels::Default() {
  Result<DelayLevels> parsed = Parse(kDefaultSpec);
  if (!parsed.ok()) std::abort();  // a constant that must parse
  return std::move(parsed).value();
}

std::string DelayLevels::ToString() const {
  std::string out;
  for (int64_t ms : delays_ms_) {
    if (!out.empty()) out += ' ';
    char unit = 's';
    int64_t value = ms / 1000;
    for (char u : {'d', 'h', 'm'}) {
      if (ms % UnitMs(u) == 0) {
        unit = u;
        value = ms / UnitMs(u);
        break;
      }
    }
    out += std::to_string(value);
    out += unit;
  }
  return out;
}

}  // namespace mqstore

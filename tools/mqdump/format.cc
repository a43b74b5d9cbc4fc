#include "format.h"

#include <cstdio>
#include <ctime>
#include <iostream>

#include "commands.h"
#include "mqstore/message.h"

namespace mqdump {

std::unique_ptr<mqstore::StoreInspector> OpenOrReport(const std::string& dir) {
  auto inspector = mqstore::StoreInspector::Open(dir);
  if (!inspector.ok()) {
    ReportError(inspector.status());
    return nullptr;
  }
  return std::move(inspector).value();
}

int ReportError(const mqstore::Status& status) {
  std::cerr << "mqdump: " << status.ToString() << "\n";
  return kExitError;
}

std::string FormatTime(int64_t ms) {
  std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  int64_t millis = ms % 1000;
  if (millis < 0) {
    millis += 1000;
    --seconds;
  }
  std::tm tm{};
  if (gmtime_r(&seconds, &tm) == nullptr) return "?";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(millis));
  return buf;
}

std::string Escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7F && c != '\\') {
      out += c;
    } else if (c == '\\') {
      out += "\\\\";
    } else {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02X", u);
      out += buf;
    }
  }
  return out;
}

bool IsPrintableText(std::string_view bytes) {
  const auto* s = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t n = bytes.size();
  for (size_t i = 0; i < n;) {
    unsigned char c = s[i];
    if (c < 0x80) {
      if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F) return false;
      ++i;
      continue;
    }
    size_t len = (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) return false;
    }
    i += len;
  }
  return true;
}

std::string HexDump(std::string_view bytes, std::string_view indent) {
  std::string out;
  char buf[32];
  for (size_t line = 0; line < bytes.size(); line += 16) {
    out += indent;
    std::snprintf(buf, sizeof(buf), "%08zx ", line);
    out += buf;
    std::string ascii;
    for (size_t i = line; i < line + 16; ++i) {
      if (i % 8 == 0) out += ' ';
      if (i < bytes.size()) {
        auto u = static_cast<unsigned char>(bytes[i]);
        std::snprintf(buf, sizeof(buf), "%02x ", u);
        out += buf;
        ascii += (u >= 0x20 && u < 0x7F) ? static_cast<char>(u) : '.';
      } else {
        out += "   ";
      }
    }
    out += " |" + ascii + "|\n";
  }
  return out;
}

std::string DescribeSysFlag(int32_t f) {
  namespace sf = mqstore::sysflag;
  std::string parts;
  auto add = [&parts](std::string_view p) {
    if (!parts.empty()) parts += ", ";
    parts += p;
  };
  if (f & sf::kCompressed) add("compressed");
  if (f & sf::kMultiTags) add("multi-tags");
  switch (f & sf::kTransactionMask) {
    case sf::kTransactionPrepared:
      add("transaction=prepared");
      break;
    case sf::kTransactionCommit:
      add("transaction=commit");
      break;
    case sf::kTransactionRollback:
      add("transaction=rollback");
      break;
    default:
      break;
  }
  if (f & sf::kBornHostV6) add("born-host-v6");
  if (f & sf::kStoreHostV6) add("store-host-v6");
  if (int type = (f & sf::kCompressionTypeMask) >> 8; type != 0) {
    add("compression=" + std::string(type == 1   ? "lz4"
                                     : type == 2 ? "zstd"
                                     : type == 3 ? "zlib"
                                                 : "?"));
  }
  char hex[16];
  std::snprintf(hex, sizeof(hex), "0x%X", static_cast<unsigned>(f));
  return parts.empty() ? std::string(hex) : std::string(hex) + " (" + parts + ")";
}

void PrintJsonLine(const nlohmann::json& value) {
  std::cout << value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

}  // namespace mqdump

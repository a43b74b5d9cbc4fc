// Helpers for the golden-bytes tests: every docs/format/*.md worked example shows bytes in
// the layout HexLines() produces, and each test checks both the bytes and that the doc
// still shows them, so a format change cannot land without its doc.
#ifndef MQSTORE_TESTS_FORMAT_GOLDEN_H_
#define MQSTORE_TESTS_FORMAT_GOLDEN_H_

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

namespace mqstore::test {

// "0000  00 00 00 84 da a3 20 a7 36 10 a6 86 00 00 00 03\n" per 16 bytes.
inline std::string HexLines(std::string_view bytes) {
  std::string out;
  char buf[32];
  for (size_t line = 0; line < bytes.size(); line += 16) {
    std::snprintf(buf, sizeof(buf), "%04zx ", line);
    out += buf;
    for (size_t i = line; i < line + 16 && i < bytes.size(); ++i) {
      std::snprintf(buf, sizeof(buf), " %02x", static_cast<unsigned char>(bytes[i]));
      out += buf;
    }
    out += '\n';
  }
  return out;
}

// Contiguous lowercase hex of `bytes`.
inline std::string Hex(std::string_view bytes) {
  std::string out;
  char buf[4];
  for (char c : bytes) {
    std::snprintf(buf, sizeof(buf), "%02x", static_cast<unsigned char>(c));
    out += buf;
  }
  return out;
}

inline std::string FromHex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  }
  return out;
}

// The text of docs/format/<name>, or "" when it cannot be read.
inline std::string ReadFormatDoc(const std::string& name) {
  std::ifstream in(std::string(MQ_SOURCE_DIR) + "/docs/format/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace mqstore::test

#endif  // MQSTORE_TESTS_FORMAT_GOLDEN_H_

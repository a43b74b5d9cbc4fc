// Helpers shared by the inspector and mqdump tests: damaging store files in place, and
// collecting what StoreInspector::Verify reports.
#ifndef MQSTORE_TESTS_MQSTORE_INSPECT_INSPECT_TEST_UTIL_H_
#define MQSTORE_TESTS_MQSTORE_INSPECT_INSPECT_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "mqstore/inspect.h"

namespace mqstore::test {

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline std::string ReadAt(const std::string& path, int64_t offset, size_t n) {
  std::ifstream f(path, std::ios::binary);
  f.seekg(offset);
  std::string out(n, '\0');
  f.read(out.data(), static_cast<std::streamsize>(n));
  return out;
}

inline void WriteFileAt(const std::string& path, int64_t offset, const std::string& bytes) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  ASSERT_TRUE(f.is_open()) << path;
  f.seekp(offset);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline void FlipByteAt(const std::string& path, int64_t offset) {
  ASSERT_LT(offset, static_cast<int64_t>(std::filesystem::file_size(path))) << path;
  std::string b = ReadAt(path, offset, 1);
  b[0] = static_cast<char>(b[0] ^ 0x40);
  WriteFileAt(path, offset, b);
}

// Problems Verify reported, and its summary.
struct VerifyResult {
  VerifySummary summary;
  std::vector<Problem> problems;

  // Whether a problem of `severity` names `path` (and `offset`, unless -2) and `text`.
  bool Has(Severity severity, const std::string& path, int64_t offset,
           const std::string& text) const {
    for (const auto& p : problems) {
      if (p.severity == severity && (path.empty() || p.path == path) &&
          (offset == -2 || p.file_offset == offset) && p.message.find(text) != std::string::npos) {
        return true;
      }
    }
    return false;
  }
  // Whether a problem of `severity` says `text`, wherever it is.
  bool Mentions(Severity severity, const std::string& text) const {
    return Has(severity, "", -2, text);
  }
  std::string Dump() const {
    std::string out;
    for (const auto& p : problems) {
      out += std::string(SeverityName(p.severity)) + ": " + p.path + " @ " +
             std::to_string(p.file_offset) + ": " + p.message + "\n";
    }
    return out;
  }
};

// Verifies the store in `dir` (through `env`, POSIX when null) and collects every problem.
inline VerifyResult RunVerify(const std::string& dir, Env* env = nullptr) {
  VerifyResult r;
  InspectOptions inspect_options;
  inspect_options.env = env;
  auto inspector = StoreInspector::Open(dir, inspect_options);
  EXPECT_TRUE(inspector.ok()) << inspector.status().ToString();
  if (!inspector.ok()) return r;
  VerifyOptions options;
  options.report = [&r](const Problem& p) { r.problems.push_back(p); };
  auto summary = (*inspector)->Verify(options);
  EXPECT_TRUE(summary.ok()) << summary.status().ToString();
  if (summary.ok()) r.summary = *summary;
  return r;
}

}  // namespace mqstore::test

#endif  // MQSTORE_TESTS_MQSTORE_INSPECT_INSPECT_TEST_UTIL_H_

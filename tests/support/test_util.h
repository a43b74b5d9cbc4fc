// Shared test helpers: status assertions, temporary directories, a manual clock, message
// builders. Header-only so every test binary can use it.
#ifndef MQSTORE_TESTS_SUPPORT_TEST_UTIL_H_
#define MQSTORE_TESTS_SUPPORT_TEST_UTIL_H_

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "mqstore/env.h"
#include "mqstore/message.h"
#include "mqstore/status.h"

#define ASSERT_OK(expr)                                           \
  do {                                                            \
    const ::mqstore::Status mq_s_ = (expr);                       \
    ASSERT_TRUE(mq_s_.ok()) << #expr << ": " << mq_s_.ToString(); \
  } while (0)
#define EXPECT_OK(expr)                                           \
  do {                                                            \
    const ::mqstore::Status mq_s_ = (expr);                       \
    EXPECT_TRUE(mq_s_.ok()) << #expr << ": " << mq_s_.ToString(); \
  } while (0)
// `lhs` = value of a Result, or the test fails.
#define ASSERT_OK_AND_ASSIGN(lhs, rexpr) \
  ASSERT_OK_AND_ASSIGN_IMPL_(MQ_STATUS_CONCAT_(mq_r_, __LINE__), lhs, rexpr)
#define ASSERT_OK_AND_ASSIGN_IMPL_(r, lhs, rexpr)                 \
  auto r = (rexpr);                                               \
  ASSERT_TRUE(r.ok()) << #rexpr << ": " << r.status().ToString(); \
  lhs = std::move(r).value()

namespace mqstore::test {

// How many pages of file bytes [from, to) are in the page cache (mincore on a mapping of
// its own), or -1 when the file cannot be mapped. `from` and `to` are page-aligned.
inline int64_t PagesInPageCache(const std::string& path, uint64_t from, uint64_t to) {
  int fd = open(path.c_str(), O_RDONLY);
  if (fd < 0) return -1;
  const size_t len = to - from;
  void* map = mmap(nullptr, len, PROT_READ, MAP_SHARED, fd, static_cast<off_t>(from));
  close(fd);
  if (map == MAP_FAILED) return -1;
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> in_core((len + page - 1) / page);
  int64_t cached = -1;
  if (mincore(map, len, in_core.data()) == 0) {
    cached = 0;
    for (unsigned char c : in_core) cached += c & 1;
  }
  munmap(map, len);
  return cached;
}

// How many pages of [addr, addr + len) this process has in its page tables
// (/proc/self/pagemap, bit 63), or -1 when that cannot be read. `addr` is page-aligned.
inline int64_t PagesMappedIn(const char* addr, size_t len) {
  int fd = open("/proc/self/pagemap", O_RDONLY);
  if (fd < 0) return -1;
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  const uint64_t first = reinterpret_cast<uintptr_t>(addr) / page;
  std::vector<uint64_t> entries((len + page - 1) / page);
  const auto bytes = static_cast<ssize_t>(entries.size() * sizeof(uint64_t));
  ssize_t n = pread(fd, entries.data(), static_cast<size_t>(bytes),
                    static_cast<off_t>(first * sizeof(uint64_t)));
  close(fd);
  if (n != bytes) return -1;
  int64_t present = 0;
  for (uint64_t e : entries) present += static_cast<int64_t>(e >> 63);
  return present;
}

// The kernel's flags for the mapping that holds `addr` ("VmFlags" in /proc/self/smaps, e.g.
// "rd wr sh mr mw me ms rr"), or "" when that cannot be read.
inline std::string MappingFlagsAt(const void* addr) {
  std::ifstream smaps("/proc/self/smaps");
  const auto at = reinterpret_cast<uintptr_t>(addr);
  bool inside = false;
  for (std::string line; std::getline(smaps, line);) {
    unsigned long long from = 0, to = 0;
    // A mapping's first line: "from-to perms ...", addresses in hex.
    if (std::sscanf(line.c_str(), "%llx-%llx ", &from, &to) == 2 &&
        line.find('-') < line.find(' ')) {
      inside = from <= at && at < to;
    } else if (inside && line.rfind("VmFlags:", 0) == 0) {
      return line.substr(8);
    }
  }
  return "";
}

// Calls `done` every 10 ms until it returns true or `timeout` passes; returns its last answer.
template <typename Done>
bool WaitUntil(Done done, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return done();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

// A fresh directory under the system temp dir, removed (recursively) on destruction.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "mqstore-test-XXXXXX").string();
    char* made = mkdtemp(tmpl.data());
    if (made == nullptr) std::abort();
    path_ = made;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A clock that moves only when told to.
class ManualClock : public Clock {
 public:
  explicit ManualClock(int64_t start_ms = 1'700'000'000'000) : now_(start_ms) {}
  int64_t NowMillis() override { return now_.load(); }
  void Advance(int64_t ms) { now_ += ms; }
  void Set(int64_t ms) { now_ = ms; }

 private:
  std::atomic<int64_t> now_;
};

// A message with the given topic/queue/body and optional tags and keys.
inline Message MakeMessage(std::string topic, int32_t queue_id, std::string body,
                           std::string tags = "", std::string keys = "") {
  Message m;
  m.topic = std::move(topic);
  m.queue_id = queue_id;
  m.body = std::move(body);
  m.born_timestamp_ms = 1'700'000'000'000;
  m.born_host = SocketAddress::V4(10, 0, 0, 1, 50000);
  if (!tags.empty()) m.SetTags(std::move(tags));
  if (!keys.empty()) m.SetKeys(std::move(keys));
  return m;
}

}  // namespace mqstore::test

#endif  // MQSTORE_TESTS_SUPPORT_TEST_UTIL_H_

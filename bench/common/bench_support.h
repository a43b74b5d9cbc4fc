// Helpers shared by the micro benchmarks and mqbench: scratch directories, incompressible
// message bodies, latency percentiles and resident-memory figures.
//
// Header-only; uses nothing of libmqstore beyond its public headers.
#ifndef MQSTORE_BENCH_COMMON_BENCH_SUPPORT_H_
#define MQSTORE_BENCH_COMMON_BENCH_SUPPORT_H_

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace mqbench {

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it by the
// destructor. path() is empty when creation failed.
class ScratchDir {
 public:
  explicit ScratchDir(std::string_view prefix) {
    const char* tmp = std::getenv("TMPDIR");
    std::string base = (tmp != nullptr && *tmp != '\0') ? tmp : "/tmp";
    std::string templ = base + "/" + std::string(prefix) + ".XXXXXX";
    std::vector<char> buf(templ.begin(), templ.end());
    buf.push_back('\0');
    if (::mkdtemp(buf.data()) != nullptr) path_ = buf.data();
  }
  ~ScratchDir() {
    if (path_.empty()) return;
    std::error_code ec;  // best effort: a leftover scratch dir is not worth a crash
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::string& path() const { return path_; }
  // The directory the store lives in (created by Store::Open).
  std::string StorePath() const { return path_ + "/store"; }

 private:
  std::string path_;
};

// Incompressible message bodies: a random pool generated once; body i starts at a varying
// offset (the scheme of the peer programs in /work/shared/peers/embedded/bench_common.h).
class BodyPool {
 public:
  // REQUIRES: body_size > 0.
  explicit BodyPool(size_t body_size, uint64_t seed = 42)
      : pool_(std::max<size_t>(size_t{4} << 20, 2 * body_size + 4096)), size_(body_size) {
    std::mt19937_64 rng(seed);
    for (size_t i = 0; i + 8 <= pool_.size(); i += 8) {
      uint64_t r = rng();
      std::copy_n(reinterpret_cast<const char*>(&r), 8, pool_.begin() + static_cast<long>(i));
    }
  }

  std::string_view Body(uint64_t i) const {
    return {pool_.data() + (i * 4099) % (pool_.size() - size_), size_};
  }
  size_t body_size() const { return size_; }

 private:
  std::vector<char> pool_;
  size_t size_;
};

// Percentile p (0..100) of sorted samples, by the peers' rule: sample floor(p/100 * n).
inline double Percentile(const std::vector<float>& sorted, double p) {
  if (sorted.empty()) return 0;
  size_t i = std::min(sorted.size() - 1, static_cast<size_t>(p / 100.0 * sorted.size()));
  return sorted[i];
}

// A "Vm..." field of /proc/self/status in bytes (e.g. "VmHWM", "VmRSS"); -1 if unavailable.
inline int64_t ProcStatusBytes(std::string_view field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() > field.size() && line.compare(0, field.size(), field) == 0 &&
        line[field.size()] == ':') {
      return std::strtoll(line.c_str() + field.size() + 1, nullptr, 10) * 1024;  // kB
    }
  }
  return -1;
}

}  // namespace mqbench

#endif  // MQSTORE_BENCH_COMMON_BENCH_SUPPORT_H_

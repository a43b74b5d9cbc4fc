// SegmentZeroer: zeros past the page cache where the Env allows it, through it otherwise.
#include "log/segment_zeroer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <vector>

#include "mqstore/mem_env.h"
#include "support/forwarding_env.h"
#include "support/test_util.h"
#include "util/zeros.h"

namespace mqstore {
namespace {

// Forwards to a MemEnv (whose direct files refuse unaligned writes), records every write's
// range and whether it was direct, and can refuse direct opens or direct writes.
class RefusingEnv final : public test::ForwardingEnv {
 public:
  struct Written {
    uint64_t from, to;
    bool direct;
  };
  RefusingEnv() : ForwardingEnv(NewMemEnv()) {}
  bool refuse_open = false;
  std::atomic<bool> refuse_writes{false};
  std::vector<Written> writes;

  Result<std::unique_ptr<File>> OpenFile(const std::string& path, OpenMode mode) override {
    const bool direct = mode == OpenMode::kReadWriteDirect;
    if (direct && refuse_open) return Status::NotSupported("no O_DIRECT here");
    MQ_ASSIGN_OR_RETURN(std::unique_ptr<File> file, base()->OpenFile(path, mode));
    return std::unique_ptr<File>(new RecordingFile(this, std::move(file), direct));
  }

 private:
  class RecordingFile final : public test::ForwardingFile {
   public:
    RecordingFile(RefusingEnv* env, std::unique_ptr<File> file, bool direct)
        : ForwardingFile(std::move(file)), env_(env), direct_(direct) {}
    Status Write(uint64_t offset, std::string_view data) override {
      if (direct_ && env_->refuse_writes.load()) return Status::NotSupported("refused");
      MQ_RETURN_IF_ERROR(base()->Write(offset, data));
      env_->writes.push_back({offset, offset + data.size(), direct_});
      return Status::OK();
    }

   private:
    RefusingEnv* env_;
    bool direct_;
  };
};

class SegmentZeroerTest : public ::testing::Test {
 protected:
  static constexpr uint64_t kSize = 2 << 20;
  void SetUp() override {
    ASSERT_OK(env_.CreateDir("/s"));
    auto file = env_.OpenFile(kPath, OpenMode::kCreate);
    ASSERT_OK(file.status());
    ASSERT_OK((*file)->Write(0, std::string(kSize, 'x')));
    env_.writes.clear();
  }
  // The bytes of [from, to) of the file are zeros, and those around them are not.
  void ExpectZerosExactly(uint64_t from, uint64_t to) {
    auto file = env_.base()->OpenFile(kPath, OpenMode::kReadOnly);
    ASSERT_OK(file.status());
    std::string all(kSize, '\0');
    size_t n = 0;
    ASSERT_OK((*file)->Read(0, kSize, all.data(), &n));
    EXPECT_EQ(all.find_first_not_of('x'), from);
    EXPECT_EQ(all.find_first_not_of('\0', from), to);
  }

  const std::string kPath = "/s/segment";
  RefusingEnv env_;
  SegmentZeroer zeroer_{&env_};
};

TEST_F(SegmentZeroerTest, DirectWritesTakeWholePagesUpToTheZerosAtOnce) {
  ASSERT_OK(zeroer_.Open(kPath));
  ASSERT_TRUE(zeroer_.direct());
  EXPECT_EQ(zeroer_.piece_bytes(), kAlignedZerosBytes);
  const uint64_t from = 4096, to = from + kAlignedZerosBytes + 8192;
  ASSERT_OK(zeroer_.Write(from, to));
  ASSERT_EQ(env_.writes.size(), 2u);
  EXPECT_EQ(env_.writes[0].to - env_.writes[0].from, kAlignedZerosBytes);
  EXPECT_EQ(env_.writes[1].to, to);
  for (const auto& w : env_.writes) EXPECT_TRUE(w.direct);
  ExpectZerosExactly(from, to);
  ASSERT_OK(zeroer_.Sync());
}

TEST_F(SegmentZeroerTest, WithoutDirectOpensZerosGoThroughTheCacheAPageAtATime) {
  env_.refuse_open = true;
  ASSERT_OK(zeroer_.Open(kPath));
  ASSERT_FALSE(zeroer_.direct());
  EXPECT_EQ(zeroer_.piece_bytes(), 1u << 20);
  ASSERT_OK(zeroer_.Write(100, 3 * 4096 + 50));  // need not be aligned through the cache
  ASSERT_EQ(env_.writes.size(), 4u);
  for (const auto& w : env_.writes) {
    EXPECT_FALSE(w.direct);
    EXPECT_EQ(w.from / 4096, (w.to - 1) / 4096) << w.from << " to " << w.to;
  }
  ExpectZerosExactly(100, 3 * 4096 + 50);
  ASSERT_OK(zeroer_.WriteBack(0, 4 * 4096));
}

TEST_F(SegmentZeroerTest, ARefusedDirectWriteSendsLaterOpensThroughTheCache) {
  env_.refuse_writes = true;
  ASSERT_OK(zeroer_.Open(kPath));
  ASSERT_TRUE(zeroer_.direct());
  EXPECT_EQ(zeroer_.Write(0, 4096).code(), Status::Code::kNotSupported);
  ASSERT_OK(zeroer_.Open(kPath));
  EXPECT_FALSE(zeroer_.direct());
  ASSERT_OK(zeroer_.Write(0, 4096));
  ExpectZerosExactly(0, 4096);
}

}  // namespace
}  // namespace mqstore

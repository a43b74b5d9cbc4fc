#include "util/mirrored_buffer.h"

#include <unistd.h>

#include <cstring>
#include <string>

#include "support/test_util.h"

namespace mqstore {
namespace {

TEST(MirroredBufferTest, RoundsCapacityUpToAPage) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  ASSERT_OK_AND_ASSIGN(auto buffer, MirroredBuffer::Create(page + 1));
  EXPECT_EQ(buffer->capacity(), 2 * page);
}

TEST(MirroredBufferTest, RejectsZeroCapacity) {
  EXPECT_TRUE(MirroredBuffer::Create(0).status().IsInvalidArgument());
}

TEST(MirroredBufferTest, PositionsWrapModuloCapacity) {
  ASSERT_OK_AND_ASSIGN(auto buffer, MirroredBuffer::Create(4096));
  const size_t cap = buffer->capacity();
  EXPECT_EQ(buffer->At(0), buffer->At(static_cast<int64_t>(cap)));
  EXPECT_EQ(buffer->At(5) + 1, buffer->At(6));
  EXPECT_EQ(buffer->At(static_cast<int64_t>(3 * cap + 17)), buffer->At(17));
}

TEST(MirroredBufferTest, RangeAcrossTheEndIsContiguousAndLandsAtTheStart) {
  ASSERT_OK_AND_ASSIGN(auto buffer, MirroredBuffer::Create(4096));
  const int64_t cap = static_cast<int64_t>(buffer->capacity());
  std::string pattern(300, '\0');
  for (size_t i = 0; i < pattern.size(); ++i) pattern[i] = static_cast<char>('a' + i % 26);
  // Starts 100 bytes before the end: 200 bytes wrap to the start of the ring.
  std::memcpy(buffer->At(cap - 100), pattern.data(), pattern.size());
  EXPECT_EQ(std::string(buffer->At(cap - 100), pattern.size()), pattern);
  EXPECT_EQ(std::string(buffer->At(0), 200), pattern.substr(100));
  // And a write through the low view shows through the high one.
  buffer->At(0)[0] = 'Z';
  EXPECT_EQ(buffer->At(cap - 100)[100], 'Z');
}

TEST(MirroredBufferTest, WholeCapacityFromAnyPositionIsUsable) {
  ASSERT_OK_AND_ASSIGN(auto buffer, MirroredBuffer::Create(8192));
  const size_t cap = buffer->capacity();
  std::string data(cap, '\0');
  for (size_t i = 0; i < cap; ++i) data[i] = static_cast<char>(i * 7);
  for (int64_t start : {int64_t{0}, int64_t{1}, static_cast<int64_t>(cap) - 1, int64_t{4097}}) {
    std::memcpy(buffer->At(start), data.data(), cap);
    ASSERT_EQ(std::memcmp(buffer->At(start), data.data(), cap), 0) << start;
  }
}

}  // namespace
}  // namespace mqstore

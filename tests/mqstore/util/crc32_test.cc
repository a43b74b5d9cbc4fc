#include "util/crc32.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <random>
#include <string>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace mqstore {
namespace {

TEST(Crc32Test, MatchesZlibAndJavaCrc32) {
  // java.util.zip.CRC32 of "123456789" is 0xCBF43926, the standard check value.
  EXPECT_EQ(crc32::Value("123456789", 9), 0xCBF43926u);
  std::mt19937 rng(7);
  for (size_t len : {0, 1, 7, 64, 1000, 4096, 100000}) {
    std::string data(len, '\0');
    for (char& c : data) c = static_cast<char>(rng());
    uint32_t expected = static_cast<uint32_t>(
        ::crc32(0, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(len)));
    EXPECT_EQ(crc32::Value(data.data(), len), expected) << "len " << len;
  }
}

TEST(Crc32Test, ExtendAndCombineAgreeWithOnePass) {
  std::string a = "the quick brown fox ", b = "jumps over the lazy dog";
  uint32_t whole = crc32::Value((a + b).data(), a.size() + b.size());
  EXPECT_EQ(crc32::Extend(crc32::Value(a.data(), a.size()), b.data(), b.size()), whole);
  EXPECT_EQ(
      crc32::Combine(crc32::Value(a.data(), a.size()), crc32::Value(b.data(), b.size()), b.size()),
      whole);
}

TEST(Crc32Test, MaskClearsTheSignBit) {
  EXPECT_EQ(crc32::Mask(0xFFFFFFFFu), 0x7FFFFFFFu);
  EXPECT_EQ(crc32::Mask(0x12345678u), 0x12345678u);
}

#if defined(__x86_64__)
// XGETBV with ECX = 1 reads XINUSE: which register state components are not in their initial
// (zeroed) state. Bit 2 is the upper halves of YMM0-15, bit 6 the upper halves of ZMM0-15.
bool ReadVectorStateInUse(uint64_t* in_use) {
  unsigned eax, ebx, ecx, edx;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || (ecx & bit_OSXSAVE) == 0) return false;
  if (!__get_cpuid_count(0xD, 1, &eax, &ebx, &ecx, &edx) || (eax & (1u << 2)) == 0) return false;
  uint32_t low, high;
  asm volatile("xgetbv" : "=a"(low), "=d"(high) : "c"(1));
  *in_use = (uint64_t{high} << 32) | low;
  return true;
}

TEST(Crc32Test, LeavesNoDirtyUpperVectorHalvesBehind) {
  std::string data(4096, 'x');
  ASSERT_NE(crc32::Value(data.data(), data.size()), 0u);
  uint64_t in_use = 0;
  if (!ReadVectorStateInUse(&in_use)) GTEST_SKIP() << "this CPU cannot report XINUSE";
  // Dirty upper halves make every later SSE instruction pay a transition penalty.
  EXPECT_EQ(in_use & ((1u << 2) | (1u << 6)), 0u) << "XINUSE " << std::hex << in_use;
}
#endif

}  // namespace
}  // namespace mqstore

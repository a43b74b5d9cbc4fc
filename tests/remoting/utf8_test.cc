#include "utf8.h"

#include <gtest/gtest.h>

namespace mqremoting::internal {
namespace {

constexpr std::string_view kFffd = "\xEF\xBF\xBD";

TEST(Utf8Test, WellFormedTextIsValidAndUnchanged) {
  const std::string_view good[] = {"",
                                   "plain ASCII \x01\x02",
                                   "caf\xC3\xA9",
                                   "\xE2\x82\xAC",
                                   "\xF0\x9F\x98\x80",
                                   "\xED\x9F\xBF",      // U+D7FF, just below the surrogates
                                   "\xF4\x8F\xBF\xBF",  // U+10FFFF
                                   std::string_view("nul\0inside", 10)};
  for (std::string_view text : good) {
    EXPECT_TRUE(IsValidUtf8(text)) << text;
    EXPECT_EQ(SanitizeUtf8(text), text);
  }
}

TEST(Utf8Test, IllFormedSequencesBecomeReplacementCharacters) {
  struct Case {
    std::string_view in;
    std::string out;
  };
  const std::string f(kFffd);
  const Case cases[] = {
      {"\xFF", f},
      {"a\x80z", "a" + f + "z"},
      {"\xC0\xAF", f + f},                  // overlong '/', each byte on its own
      {"\xE0\x80\xAF", f + f + f},          // overlong
      {"\xED\xA0\x80", f + f + f},          // a surrogate
      {"\xF4\x90\x80\x80", f + f + f + f},  // past U+10FFFF
      {"\xE2\x82", f},                      // truncated at the end: one maximal subpart
      {"\xE2\x82z", f + "z"},
      {"\xF0\x9F\x98", f},
      {"\xC3", f},
  };
  for (const Case& c : cases) {
    EXPECT_FALSE(IsValidUtf8(c.in));
    EXPECT_EQ(SanitizeUtf8(c.in), c.out);
    EXPECT_TRUE(IsValidUtf8(SanitizeUtf8(c.in)));
  }
}

TEST(Utf8Test, ASequenceIsFoundAtEveryPositionInLongAsciiRuns) {
  // ASCII is skipped eight bytes at a time: a sequence at any offset from a word boundary,
  // and at the very end, must still be checked.
  for (size_t before = 0; before < 20; ++before) {
    for (size_t after : {size_t{0}, size_t{1}, size_t{7}, size_t{8}, size_t{13}}) {
      const std::string pad_before(before, 'a');
      const std::string pad_after(after, 'z');
      const std::string good = pad_before + "\xE2\x82\xAC" + pad_after;
      const std::string bad = pad_before + "\xE2\x82" + pad_after;
      EXPECT_TRUE(IsValidUtf8(good)) << before << " " << after;
      EXPECT_FALSE(IsValidUtf8(bad)) << before << " " << after;
      EXPECT_EQ(SanitizeUtf8(bad), pad_before + std::string(kFffd) + pad_after);
    }
    EXPECT_TRUE(IsValidUtf8(std::string(before, 'q')));
  }
}

}  // namespace
}  // namespace mqremoting::internal

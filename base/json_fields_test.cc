#include "base/json_fields.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace cell {
namespace {

using ::cell::testing::IsOk;
using ::cell::testing::StatusIs;
using ::testing::HasSubstr;

TEST(IsValidUtf8Test, AcceptsWellFormedText) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("caf\xc3\xa9"));       // U+00E9
  EXPECT_TRUE(IsValidUtf8("\xe2\x82\xac"));      // U+20AC
  EXPECT_TRUE(IsValidUtf8("\xf0\x9f\x98\x80"));  // U+1F600
  EXPECT_TRUE(IsValidUtf8("\xf4\x8f\xbf\xbf"));  // U+10FFFF
}

TEST(IsValidUtf8Test, RejectsMalformedText) {
  EXPECT_FALSE(IsValidUtf8("\xff"));
  EXPECT_FALSE(IsValidUtf8("\x80"));              // Lone continuation.
  EXPECT_FALSE(IsValidUtf8("\xc3"));              // Truncated.
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));          // Truncated.
  EXPECT_FALSE(IsValidUtf8("\xc0\x80"));          // Overlong NUL.
  EXPECT_FALSE(IsValidUtf8("\xe0\x80\xaf"));      // Overlong '/'.
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // Surrogate U+D800.
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // Above U+10FFFF.
  EXPECT_FALSE(IsValidUtf8("a\xc3(b"));           // Bad continuation.
}

TEST(CheckTextTest, NamesTheField) {
  EXPECT_THAT(CheckText("env.A", std::string("a\0b", 3)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("field `env.A`: contains a NUL byte")));
  EXPECT_THAT(CheckText("logDir", "/tmp/\xff"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("field `logDir`: is not valid UTF-8")));
  EXPECT_THAT(CheckText("logDir", "/tmp/ok"), IsOk());
}

}  // namespace
}  // namespace cell

#include "base/printable.h"

#include <string>

#include "gtest/gtest.h"

namespace cell {
namespace {

TEST(PrintableTest, ShowsControlsAndKeepsText) {
  EXPECT_EQ(Printable("plain text, 1.2 ~/a_b"), "plain text, 1.2 ~/a_b");
  EXPECT_EQ(Printable("a\rb\nc\td"), "a\\x0db\\x0ac\\x09d");
  // An attack found in review: a directory name that redraws its row.
  EXPECT_EQ(Printable("x\r\033[2K\033[32m  PASS  \033[0m"),
            "x\\x0d\\x1b[2K\\x1b[32m  PASS  \\x1b[0m");
  EXPECT_EQ(Printable(std::string("\0\x7f", 2)), "\\x00\\x7f");
  // OSC 52 (the clipboard), ended by BEL.
  EXPECT_EQ(Printable("\033]52;c;aGk=\a"), "\\x1b]52;c;aGk=\\x07");
}

TEST(PrintableTest, KeepsUtf8ButNotC1OrBrokenSequences) {
  EXPECT_EQ(Printable("café ✓ 𝄞"), "café ✓ 𝄞");
  EXPECT_EQ(Printable("\xc2\x9b"
                      "31m"),
            "\\xc2\\x9b31m");  // C1 CSI.
  EXPECT_EQ(Printable("\x9b"
                      "31m"),
            "\\x9b31m");                                    // Raw CSI byte.
  EXPECT_EQ(Printable("\xc0\xaf"), "\\xc0\\xaf");           // Overlong '/'.
  EXPECT_EQ(Printable("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // A surrogate.
  EXPECT_EQ(Printable("\xe2\x9c"), "\\xe2\\x9c");           // Cut short.
  EXPECT_EQ(Printable("\xf4\x90\x80\x80"),
            "\\xf4\\x90\\x80\\x80");  // > U+10FFFF.
}

}  // namespace
}  // namespace cell

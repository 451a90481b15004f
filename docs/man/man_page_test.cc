// The generated man pages and completion scripts against the flag table:
// every flag `cell` takes is in cell(1) and in both completion scripts, and
// the pages have the sections a man page needs.
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "launcher/cli/flags.h"
#include "testing/runfiles.h"
#include "testing/status_matchers.h"

namespace cell {
namespace {

using ::testing::HasSubstr;

std::string Read(const std::string& workspace_path) {
  absl::StatusOr<std::string> text = testing::ReadRunfile(workspace_path);
  EXPECT_TRUE(text.ok()) << text.status();
  return text.value_or("");
}

// Roff as a reader sees the words: "\-" is "-", font changes are gone.
std::string Plain(const std::string& roff) {
  return absl::StrReplaceAll(roff, {{"\\-", "-"},
                                    {"\\fB", ""},
                                    {"\\fI", ""},
                                    {"\\fR", ""},
                                    {"\\e", "\\"},
                                    {"\\&", ""}});
}

TEST(ManPageTest, EveryFlagIsInTheManPage) {
  const std::string page = Plain(Read("docs/man/cell.1"));
  ASSERT_FALSE(page.empty());
  for (const FlagDef& flag : Flags()) {
    EXPECT_THAT(page, HasSubstr(absl::StrCat("--", flag.name)))
        << "cell.1 does not name --" << flag.name;
  }
}

TEST(ManPageTest, EveryFlagIsInBothCompletionScripts) {
  const std::string bash = Read("docs/man/cell.bash");
  const std::string zsh = Read("docs/man/_cell");
  ASSERT_FALSE(bash.empty());
  ASSERT_FALSE(zsh.empty());
  for (const FlagDef& flag : Flags()) {
    const std::string name = absl::StrCat("--", flag.name);
    EXPECT_THAT(bash, HasSubstr(name)) << "cell.bash lacks " << name;
    EXPECT_THAT(zsh, HasSubstr(name)) << "_cell lacks " << name;
  }
}

TEST(ManPageTest, PagesHaveTheirSections) {
  const std::string cell = Read("docs/man/cell.1");
  EXPECT_TRUE(absl::StartsWith(cell, ".TH CELL 1 "));
  for (const char* section :
       {".SH NAME\ncell \\- ", ".SH SYNOPSIS", ".SH DESCRIPTION",
        ".SH COMMANDS", ".SS \"cell run\"", ".SS \"cell check-spec\"",
        ".SS \"cell pack\"", ".SS \"cell log\"", ".SS \"cell completion\"",
        ".SH SEE ALSO"}) {
    EXPECT_THAT(cell, HasSubstr(section));
  }
  const std::string verify = Read("docs/man/cell-verify.1");
  EXPECT_TRUE(absl::StartsWith(verify, ".TH CELL\\-VERIFY 1 "));
  for (const char* section : {".SH NAME\ncell\\-verify \\- ", ".SH SYNOPSIS",
                              ".SH DESCRIPTION", ".SH SEE ALSO"}) {
    EXPECT_THAT(verify, HasSubstr(section));
  }
  EXPECT_THAT(Plain(verify), HasSubstr("--sandbox=COMMAND"));
  const std::string spec = Read("docs/man/cell-spec.5");
  EXPECT_TRUE(absl::StartsWith(spec, ".TH CELL\\-SPEC 5 "));
  for (const char* section :
       {".SH NAME\ncell\\-spec \\- ", ".SH \"THE CELL SPEC\"",
        ".SH \"THE COMMAND LINE\"", ".SH \"INSIDE A CELL\""}) {
    EXPECT_THAT(spec, HasSubstr(section));
  }
  // Every field of the reference's table is a tagged paragraph.
  EXPECT_THAT(spec, HasSubstr(".TP\n\\fBisolation.pidNamespace\\fR\n"));
}

TEST(ManPageTest, NoRawMarkupLeftInThePages) {
  for (const char* page :
       {"docs/man/cell.1", "docs/man/cell-verify.1", "docs/man/cell-spec.5"}) {
    const std::string text = Read(page);
    // Markdown's bold and a code span left as it was.
    EXPECT_THAT(text, ::testing::Not(HasSubstr("**"))) << page;
    EXPECT_THAT(text, ::testing::Not(HasSubstr("`"))) << page;
  }
}

}  // namespace
}  // namespace cell

#include "launcher/cli/trust.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "launcher/cli/common.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace cell {
namespace {

using ::testing::HasSubstr;
using ::testing::Optional;

class TrustTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(testing::TempDir dir, testing::TempDir::Create());
    dir_.emplace(std::move(dir));
    for (const char* sub : {"repo", "repo/.git", "repo/a", "repo/a/b"}) {
      ASSERT_EQ(mkdir(Path(sub).c_str(), 0755), 0);
    }
  }
  std::string Path(const std::string& relative) const {
    return dir_->Path(relative);
  }
  void Write(const std::string& relative, const std::string& text) {
    std::ofstream(Path(relative)) << text;
  }
  std::optional<testing::TempDir> dir_;
};

TEST_F(TrustTest, TheNearestSpecUpToTheRepositoryRoot) {
  EXPECT_EQ(FindSpecUpwards(Path("repo/a/b")), std::nullopt);
  // Above the repository root is not looked at.
  Write("cell.json", "{}");
  EXPECT_EQ(FindSpecUpwards(Path("repo/a/b")), std::nullopt);
  Write("repo/cell.json", "{}");
  EXPECT_THAT(FindSpecUpwards(Path("repo/a/b")),
              Optional(Path("repo/cell.json")));
  Write("repo/a/cell.json", "{}");
  EXPECT_THAT(FindSpecUpwards(Path("repo/a/b")),
              Optional(Path("repo/a/cell.json")));
}

TEST_F(TrustTest, TrustIsForTheExactBytesAndTheProjectFilesTheSpecNames) {
  Write("repo/filter.txt", "^example\\.com$\n");
  Write("outside-filter.txt", "^example\\.org$\n");
  Write(
      "repo/cell.json",
      R"({"version": 1, "worktreePath": ".", "tinyproxyFilter": "filter.txt"})");
  const std::string store = Path("store/deeper");
  const FoundSpec before{Path("repo/cell.json"),
                         R"({"version": 1, "worktreePath": ".", )"
                         R"("tinyproxyFilter": "filter.txt"})"};
  EXPECT_THAT(IsTrusted(before, store), ::IsOkAndHolds(false));
  ASSERT_OK(TrustSpec(Path("repo/cell.json"), store));
  EXPECT_THAT(IsTrusted(before, store), ::IsOkAndHolds(true));
  // One byte more in the spec, or a changed filter beside it: not trusted.
  FoundSpec longer = before;
  longer.text += " ";
  EXPECT_THAT(IsTrusted(longer, store), ::IsOkAndHolds(false));
  Write("repo/filter.txt", ".*\n");
  EXPECT_THAT(IsTrusted(before, store), ::IsOkAndHolds(false));
  // A filter outside the spec's tree is the user's own: not part of it.
  const FoundSpec outside{Path("repo/cell.json"),
                          absl::StrCat(R"({"version": 1, "tinyproxyFilter": ")",
                                       Path("outside-filter.txt"), "\"}")};
  EXPECT_EQ(TrustRecord(outside, ProjectFiles(outside)), outside.text);
}

// Attacker round 11: a filter swapped while `cell trust` read it twice
// left a copy of the agent's bytes under a record of the reviewed ones.
// The copy the launch uses must hold what the record vouches for.
TEST_F(TrustTest, ACopyThatDiffersFromItsRecordIsNotTrusted) {
  Write("repo/filter.txt", "^example\\.com$\n");
  const std::string text =
      R"({"version": 1, "worktreePath": ".", "tinyproxyFilter": "filter.txt"})";
  Write("repo/cell.json", text);
  const std::string store = Path("store");
  ASSERT_OK(TrustSpec(Path("repo/cell.json"), store));
  const FoundSpec spec{Path("repo/cell.json"), text, {}};
  EXPECT_THAT(IsTrusted(spec, store), ::IsOkAndHolds(true));
  // The copy beside the record, rewritten as the race would have left it.
  const std::string name = absl::StrCat(
      store, "/",
      absl::StrReplaceAll(Path("repo/cell.json"), {{"%", "%25"}, {"/", "%2F"}}),
      ".tinyproxyFilter");
  ASSERT_EQ(access(name.c_str(), F_OK), 0) << name;
  std::ofstream(name) << ".*\n";
  EXPECT_THAT(IsTrusted(spec, store), ::IsOkAndHolds(false));
}

TEST_F(TrustTest, TheStoreMayBeALinkOfTheUsers) {
  ASSERT_EQ(mkdir(Path("real-config").c_str(), 0700), 0);
  ASSERT_EQ(symlink(Path("real-config").c_str(), Path("config").c_str()), 0);
  Write("repo/cell.json", R"({"version": 1, "worktreePath": "."})");
  ASSERT_OK(TrustSpec(Path("repo/cell.json"), Path("config/cell/trusted")));
  const FoundSpec spec{Path("repo/cell.json"),
                       R"({"version": 1, "worktreePath": "."})"};
  EXPECT_THAT(IsTrusted(spec, Path("config/cell/trusted")),
              ::IsOkAndHolds(true));
}

TEST_F(TrustTest, MakeDirectoriesNeverFollowsALinkOnTheWay) {
  ASSERT_OK(MakeDirectories(Path("logs/a/b"), 0700));
  struct stat info;
  ASSERT_EQ(stat(Path("logs/a/b").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0700u);
  // A link where a component will be made: nothing is made through it
  // (resolution then names the link).
  ASSERT_EQ(mkdir(Path("elsewhere").c_str(), 0755), 0);
  ASSERT_EQ(symlink(Path("elsewhere").c_str(), Path("logs/x").c_str()), 0);
  (void)MakeDirectories(Path("logs/x/y"), 0700);
  EXPECT_NE(access(Path("elsewhere/y").c_str(), F_OK), 0);
  // A file where a directory should be: an error naming it.
  std::ofstream(Path("logs/file")) << "x";
  EXPECT_THAT(MakeDirectories(Path("logs/file/y"), 0700),
              ::cell::testing::StatusIs(absl::StatusCode::kNotFound,
                                        HasSubstr("logs/file")))
      << "";
}

}  // namespace
}  // namespace cell

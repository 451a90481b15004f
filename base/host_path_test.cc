#include "base/host_path.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace cell {
namespace {

using ::testing::HasSubstr;

class HostPathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(geteuid(), 0u) << "these tests make root-owned and other "
                                "users' symlinks";
    ASSERT_OK_AND_ASSIGN(testing::TempDir dir, testing::TempDir::Create());
    dir_.emplace(std::move(dir));
    ASSERT_EQ(mkdir(Path("real").c_str(), 0755), 0);
    std::ofstream(Path("real/file")) << "content\n";
  }
  std::string Path(const std::string& relative) const {
    return dir_->Path(relative);
  }
  // A symlink `link` -> `target` owned by `uid`.
  void Link(const std::string& target, const std::string& link, uid_t uid) {
    ASSERT_EQ(symlink(target.c_str(), Path(link).c_str()), 0);
    ASSERT_EQ(lchown(Path(link).c_str(), uid, uid), 0);
  }
  std::optional<testing::TempDir> dir_;
};

TEST_F(HostPathTest, PlainPathsAreMadeCanonical) {
  EXPECT_THAT(ResolveTrustedPath(Path("real/./../real//file")),
              IsOkAndHolds(Path("real/file")));
  EXPECT_THAT(ResolveTrustedPath("/"), IsOkAndHolds("/"));
  EXPECT_THAT(ResolveTrustedPath("/.."), IsOkAndHolds("/"));
  EXPECT_EQ(ResolveTrustedPath(Path("missing/x")).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_FALSE(ResolveTrustedPath("relative").ok());
}

// Root's links in "/" (merged /usr: /bin -> usr/bin) are followed, with
// `..` after a link meaning the parent of its target.
TEST_F(HostPathTest, RootsLinksInSlashAreFollowed) {
  struct stat info;
  ASSERT_EQ(lstat("/bin", &info), 0);
  ASSERT_TRUE(S_ISLNK(info.st_mode))
      << "this test needs a merged-/usr host, where /bin is a link";
  char real[PATH_MAX];
  ASSERT_NE(realpath("/bin", real), nullptr);
  EXPECT_THAT(ResolveTrustedPath("/bin"), IsOkAndHolds(std::string(real)));
  EXPECT_THAT(ResolveTrustedPath("/bin/../bin/."),
              IsOkAndHolds(std::string(real)));
}

// Any other link may be a cell's: one of another user, and root's own
// anywhere but "/" (a cell launched by root makes root-owned links in
// whatever a spec let it write).
TEST_F(HostPathTest, EveryOtherLinkIsRefused) {
  Link("/etc", "planted", 65534);
  const absl::Status planted = ResolveTrustedPath(Path("planted")).status();
  EXPECT_EQ(planted.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(planted.message(), HasSubstr("-> /etc, owned by uid 65534"));
  // As a middle component too.
  EXPECT_FALSE(ResolveTrustedPath(Path("planted/passwd")).ok());
  Link("real", "roots-link", 0);
  EXPECT_THAT(ResolveTrustedPath(Path("roots-link/file")).status().message(),
              HasSubstr("owned by uid 0"));
}

TEST_F(HostPathTest, OpenFollowsNoSymlinkAtAll) {
  Link("real", "system-link", 0);
  EXPECT_OK(OpenWithoutSymlinks(Path("real/file"), O_RDONLY));
  const absl::Status status =
      OpenWithoutSymlinks(Path("system-link/file"), O_RDONLY).status();
  EXPECT_THAT(status.message(), HasSubstr("ELOOP"));
}

TEST_F(HostPathTest, ConfigFilesAreRegularAndReachedWithoutUntrustedLinks) {
  EXPECT_THAT(ReadConfigFile(Path("real/file"), 100),
              IsOkAndHolds("content\n"));
  Link("real/file", "user-link", 65534);
  EXPECT_THAT(ReadConfigFile(Path("user-link"), 100).status().message(),
              HasSubstr("owned by uid 65534"));
  ASSERT_EQ(mkfifo(Path("fifo").c_str(), 0600), 0);
  EXPECT_THAT(ReadConfigFile(Path("fifo"), 100).status().message(),
              HasSubstr("not a regular file"));
}

TEST_F(HostPathTest, LogFilesRefuseLinksPlantedByTheCell) {
  ASSERT_OK_AND_ASSIGN(UniqueFd log, OpenLogFile(Path("real"), "audit.log"));
  ASSERT_EQ(write(log.get(), "x\n", 2), 2);
  // A symlink at the name: never followed.
  std::ofstream(Path("victim")) << "untouched\n";
  ASSERT_EQ(symlink(Path("victim").c_str(), Path("real/sym.log").c_str()), 0);
  EXPECT_THAT(OpenLogFile(Path("real"), "sym.log").status().message(),
              HasSubstr("symlink"));
  // A hard link to another file.
  ASSERT_EQ(link(Path("victim").c_str(), Path("real/hard.log").c_str()), 0);
  EXPECT_THAT(OpenLogFile(Path("real"), "hard.log").status().message(),
              HasSubstr("hard link"));
  EXPECT_EQ(testing::ReadHostFile(Path("victim")), "untouched\n");
  // A symlink as the directory.
  Link("real", "dir-link", 0);
  EXPECT_FALSE(OpenLogFile(Path("dir-link"), "audit.log").ok());
}

}  // namespace
}  // namespace cell

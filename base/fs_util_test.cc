#include "base/fs_util.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace cell {
namespace {

using ::cell::testing::IsOk;
using ::cell::testing::StatusIs;
using ::cell::testing::TempDir;
using ::testing::AllOf;
using ::testing::HasSubstr;

bool Exists(const std::string& path) {
  struct stat info;
  return lstat(path.c_str(), &info) == 0;
}

TEST(RemoveTreeTest, RemovesEverythingButNeverFollowsSymlinks) {
  ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create());
  // A precious file outside the tree, reachable through symlinks inside it.
  ASSERT_EQ(mkdir(dir.Path("outside").c_str(), 0755), 0);
  std::ofstream(dir.Path("outside/precious")) << "keep";
  const std::string tree = dir.Path("tree");
  ASSERT_EQ(mkdir(tree.c_str(), 0755), 0);
  ASSERT_EQ(mkdir((tree + "/a").c_str(), 0755), 0);
  ASSERT_EQ(mkdir((tree + "/a/b").c_str(), 0700), 0);
  std::ofstream(tree + "/a/b/file") << "x";
  ASSERT_EQ(symlink(dir.Path("outside").c_str(), (tree + "/a/dirlink").c_str()),
            0);
  ASSERT_EQ(symlink(dir.Path("outside/precious").c_str(),
                    (tree + "/filelink").c_str()),
            0);
  ASSERT_EQ(mkfifo((tree + "/fifo").c_str(), 0600), 0);

  EXPECT_THAT(RemoveTree(tree), IsOk());
  EXPECT_FALSE(Exists(tree));
  EXPECT_TRUE(Exists(dir.Path("outside/precious")));
  EXPECT_THAT(RemoveTree(tree), IsOk());  // Already gone is fine.
}

TEST(RemoveTreeTest, ASymlinkAsTheRootIsRemovedNotFollowed) {
  ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create());
  ASSERT_EQ(mkdir(dir.Path("target").c_str(), 0755), 0);
  std::ofstream(dir.Path("target/file")) << "x";
  ASSERT_EQ(symlink(dir.Path("target").c_str(), dir.Path("link").c_str()), 0);
  EXPECT_THAT(RemoveTree(dir.Path("link")), IsOk());
  EXPECT_FALSE(Exists(dir.Path("link")));
  EXPECT_TRUE(Exists(dir.Path("target/file")));
}

TEST(ReadFileToStringTest, ReadsAndEnforcesLimits) {
  ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create());
  std::ofstream(dir.Path("f")) << "hello";
  ASSERT_OK_AND_ASSIGN(std::string content, ReadFileToString(dir.Path("f"), 5));
  EXPECT_EQ(content, "hello");
  EXPECT_THAT(ReadFileToString(dir.Path("f"), 4),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("the limit is 4")));
  EXPECT_THAT(ReadFileToString(dir.Path("absent"), 5),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("ENOENT")));
  ASSERT_EQ(mkfifo(dir.Path("fifo").c_str(), 0600), 0);
  EXPECT_THAT(ReadFileToString(dir.Path("fifo"), 5),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("not a regular file")));
  EXPECT_THAT(ReadFileToString("/dev/zero", 5),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(WriteNewFileTest, RefusesExistingFilesAndSymlinks) {
  ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create());
  EXPECT_THAT(WriteNewFile(dir.Path("new"), "content", 0600), IsOk());
  ASSERT_OK_AND_ASSIGN(std::string content,
                       ReadFileToString(dir.Path("new"), 100));
  EXPECT_EQ(content, "content");
  EXPECT_THAT(WriteNewFile(dir.Path("new"), "again", 0600),
              StatusIs(absl::StatusCode::kAlreadyExists));
  ASSERT_EQ(symlink(dir.Path("elsewhere").c_str(), dir.Path("link").c_str()),
            0);
  EXPECT_FALSE(WriteNewFile(dir.Path("link"), "x", 0600).ok());
  EXPECT_FALSE(Exists(dir.Path("elsewhere")));
}

TEST(WriteControlFileTest, WritesExistingFilesAndNamesWhatFailed) {
  ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create());
  std::ofstream(dir.Path("control")) << "old";
  EXPECT_THAT(WriteControlFile(dir.Path("control"), "1"), IsOk());
  ASSERT_OK_AND_ASSIGN(std::string content,
                       ReadFileToString(dir.Path("control"), 100));
  EXPECT_EQ(content, "1ld");  // Written in place, as kernel files are.
  // Never creates: a missing control file is the caller's error.
  EXPECT_THAT(WriteControlFile(dir.Path("missing"), "1"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("missing")));
  EXPECT_FALSE(Exists(dir.Path("missing")));
  EXPECT_THAT(WriteControlFile("/dev/full", "max"),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       AllOf(HasSubstr("'max'"), HasSubstr("/dev/full"),
                             HasSubstr("ENOSPC"))));
}

TEST(PathIsSameOrUnderTest, WholeComponents) {
  EXPECT_TRUE(PathIsSameOrUnder("/a/b", "/a/b"));
  EXPECT_TRUE(PathIsSameOrUnder("/a/b/c", "/a/b"));
  EXPECT_TRUE(PathIsSameOrUnder("/anything", "/"));
  EXPECT_FALSE(PathIsSameOrUnder("/a/bc", "/a/b"));
  EXPECT_FALSE(PathIsSameOrUnder("/a", "/a/b"));
}

TEST(ErrnoTest, NamesAreStable) {
  EXPECT_EQ(ErrnoName(ENOENT), "ENOENT");
  EXPECT_EQ(ErrnoName(EROFS), "EROFS");
  EXPECT_THAT(ErrnoStatus(EACCES, "open x"),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       "open x: EACCES (Permission denied)"));
}

}  // namespace
}  // namespace cell

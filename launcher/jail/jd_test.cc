#include "launcher/jail/jd.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace cell {
namespace {

using ::cell::testing::IsOk;
using ::cell::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::StartsWith;

bool Exists(const std::string& path) {
  struct stat info;
  return lstat(path.c_str(), &info) == 0;
}

TEST(JobDirTest, PrivateLockedAndRemoved) {
  ASSERT_OK_AND_ASSIGN(TempDir parent, TempDir::Create());
  std::string path;
  {
    ASSERT_OK_AND_ASSIGN(JobDir jd, JobDir::Create(parent.path()));
    path = jd.path();
    EXPECT_THAT(path, StartsWith(parent.Path("cell-jd.")));
    struct stat info;
    ASSERT_EQ(stat(path.c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 0777, 0700);
    EXPECT_TRUE(Exists(jd.Path("lock")));
    // A live $JD is never swept.
    EXPECT_EQ(SweepStaleJobDirs(parent.path()), 0);
    EXPECT_TRUE(Exists(path));
  }
  EXPECT_FALSE(Exists(path)) << "destructor must remove the $JD";
}

TEST(JobDirTest, RemoveIsExplicitAndIdempotent) {
  ASSERT_OK_AND_ASSIGN(TempDir parent, TempDir::Create());
  ASSERT_OK_AND_ASSIGN(JobDir jd, JobDir::Create(parent.path()));
  const std::string path = jd.path();
  ASSERT_EQ(mkdir(jd.Path("root").c_str(), 0700), 0);
  EXPECT_THAT(jd.Remove(), IsOk());
  EXPECT_FALSE(Exists(path));
  EXPECT_THAT(jd.Remove(), IsOk());
}

TEST(JobDirTest, UnwritableParentIsAClearError) {
  const absl::StatusOr<JobDir> jd = JobDir::Create("/proc/no-such-dir");
  ASSERT_FALSE(jd.ok());
  // The launcher adds what to change (TMPDIR, a container's /tmp:
  // base/outer_runtime.h); fault_test checks the whole line.
  EXPECT_THAT(std::string(jd.status().message()),
              HasSubstr("cannot create the run directory in /proc/no-such-dir"));
}

TEST(SweepTest, RemovesOnlyDirsWhoseOwnerIsGone) {
  ASSERT_OK_AND_ASSIGN(TempDir parent, TempDir::Create());
  // A launcher in another process creates a $JD and dies without cleanup.
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    absl::StatusOr<JobDir> jd = JobDir::Create(parent.path());
    if (!jd.ok()) _exit(1);
    const std::string& path = jd->path();
    (void)!write(pipe_fds[1], path.data(), path.size());
    _exit(0);  // No destructors: like a SIGKILLed launcher.
  }
  close(pipe_fds[1]);
  char buffer[4096];
  const ssize_t n = read(pipe_fds[0], buffer, sizeof(buffer));
  close(pipe_fds[0]);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_GT(n, 0);
  const std::string stale(buffer, n);
  ASSERT_TRUE(Exists(stale));

  ASSERT_OK_AND_ASSIGN(JobDir live, JobDir::Create(parent.path()));
  // Not a $JD: wrong prefix, or a fresh one without a lock file yet.
  ASSERT_EQ(mkdir(parent.Path("other").c_str(), 0700), 0);
  ASSERT_EQ(mkdir(parent.Path("cell-jd.fresh").c_str(), 0700), 0);

  EXPECT_EQ(SweepStaleJobDirs(parent.path()), 1);
  EXPECT_FALSE(Exists(stale));
  EXPECT_TRUE(Exists(live.path()));
  EXPECT_TRUE(Exists(parent.Path("other")));
  EXPECT_TRUE(Exists(parent.Path("cell-jd.fresh")));
}

TEST(SweepTest, OldUnlockedDirsWithoutALockAreSwept) {
  ASSERT_OK_AND_ASSIGN(TempDir parent, TempDir::Create());
  const std::string old = parent.Path("cell-jd.old");
  ASSERT_EQ(mkdir(old.c_str(), 0700), 0);
  const timespec times[2] = {{1, 0}, {1, 0}};
  ASSERT_EQ(utimensat(AT_FDCWD, old.c_str(), times, 0), 0);
  EXPECT_EQ(SweepStaleJobDirs(parent.path()), 1);
  EXPECT_FALSE(Exists(old));
}

// A launcher killed while making its $JD leaves a staging dir, unlocked
// but with a lock file: swept only once a minute old, as a younger one may
// be another launcher's that is about to lock and rename it.
TEST(SweepTest, StagingDirsAreSweptOnlyWhenOld) {
  ASSERT_OK_AND_ASSIGN(TempDir parent, TempDir::Create());
  const std::string young = parent.Path("cell-jd-new.young");
  const std::string old = parent.Path("cell-jd-new.old");
  for (const std::string& dir : {young, old}) {
    ASSERT_EQ(mkdir(dir.c_str(), 0700), 0);
    std::ofstream(dir + "/lock");
  }
  const timespec times[2] = {{1, 0}, {1, 0}};
  ASSERT_EQ(utimensat(AT_FDCWD, old.c_str(), times, 0), 0);
  EXPECT_EQ(SweepStaleJobDirs(parent.path()), 1);
  EXPECT_FALSE(Exists(old));
  EXPECT_TRUE(Exists(young));
}

TEST(JobDirTest, NoStagingDirIsLeft) {
  ASSERT_OK_AND_ASSIGN(TempDir parent, TempDir::Create());
  ASSERT_OK_AND_ASSIGN(JobDir jd, JobDir::Create(parent.path()));
  EXPECT_TRUE(absl::StartsWith(jd.path(), parent.Path("cell-jd.")));
  EXPECT_EQ(SweepStaleJobDirs(parent.path()), 0);
  EXPECT_TRUE(Exists(jd.Path("lock")));
}

TEST(JobDirParentTest, FollowsTmpdir) {
  setenv("TMPDIR", "/var/tmp", 1);
  EXPECT_EQ(JobDirParent(), "/var/tmp");
  setenv("TMPDIR", "relative", 1);
  EXPECT_EQ(JobDirParent(), "/tmp");
  unsetenv("TMPDIR");
  EXPECT_EQ(JobDirParent(), "/tmp");
}

}  // namespace
}  // namespace cell

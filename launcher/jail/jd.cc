#include "launcher/jail/jd.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/fs_util.h"
#include "base/test_faults.h"

namespace cell {
namespace {

constexpr char kLockName[] = "lock";
constexpr int kUnlockedGraceSeconds = 60;

}  // namespace

std::string JobDirParent() {
  const char* tmpdir = std::getenv("TMPDIR");
  if (tmpdir != nullptr && tmpdir[0] == '/') return tmpdir;
  return "/tmp";
}

absl::StatusOr<JobDir> JobDir::Create(absl::string_view parent) {
  // Made under a staging name and renamed once locked, so that a $JD is
  // never visible to other launchers' sweeps unlocked: found by launching
  // 50 cells at once, where one's sweep deleted another's new $JD, or held
  // its lock just when the owner tried to take it.
  std::string staging =
      absl::StrCat(parent, "/", kJobDirStagingPrefix, "XXXXXX");
  if (mkdtemp(staging.data()) == nullptr) {
    // The caller adds what to change (TMPDIR, the container's /tmp).
    return ErrnoStatus(errno, absl::StrCat("cannot create the run directory "
                                           "in ",
                                           parent));
  }
  const std::string lock = absl::StrCat(staging, "/", kLockName);
  const int fd = open(lock.c_str(),
                      O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  std::string path = absl::StrCat(
      parent, "/", kJobDirPrefix,
      staging.substr(staging.size() - 6));  // The same random suffix.
  if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) != 0 ||
      rename(staging.c_str(), path.c_str()) != 0) {
    const absl::Status status =
        ErrnoStatus(errno, "cannot set up the run directory " + staging);
    if (fd >= 0) close(fd);
    (void)RemoveTree(staging);
    return status;
  }
  return JobDir(std::move(path), fd);
}

JobDir::JobDir(JobDir&& other) noexcept
    : path_(std::move(other.path_)), lock_fd_(other.lock_fd_) {
  other.path_.clear();
  other.lock_fd_ = -1;
}

JobDir::~JobDir() { (void)Remove(); }

std::string JobDir::Path(absl::string_view name) const {
  return absl::StrCat(path_, "/", name);
}

absl::Status JobDir::Remove() {
  absl::Status status;
  if (!path_.empty() && !TestFault(fault::kKeepJobDir)) {
    status = RemoveTree(path_);
  }
  if (lock_fd_ >= 0) close(lock_fd_);
  path_.clear();
  lock_fd_ = -1;
  return status;
}

int SweepStaleJobDirs(absl::string_view parent) {
  const std::string parent_path(parent);
  std::unique_ptr<DIR, int (*)(DIR*)> dir(opendir(parent_path.c_str()),
                                          closedir);
  if (dir == nullptr) return 0;
  int removed = 0;
  const uid_t euid = geteuid();
  while (const dirent* entry = readdir(dir.get())) {
    // Staging dirs are normally renamed within microseconds; one is stale
    // only when its launcher died in between (and a minute has passed).
    const bool staging = absl::StartsWith(entry->d_name, kJobDirStagingPrefix);
    if (!staging && !absl::StartsWith(entry->d_name, kJobDirPrefix)) continue;
    struct stat info;
    if (fstatat(dirfd(dir.get()), entry->d_name, &info, AT_SYMLINK_NOFOLLOW) !=
            0 ||
        !S_ISDIR(info.st_mode) || info.st_uid != euid) {
      continue;
    }
    const std::string path = absl::StrCat(parent_path, "/", entry->d_name);
    const std::string lock = absl::StrCat(path, "/", kLockName);
    const int fd = open(lock.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    const bool old = time(nullptr) - info.st_mtime > kUnlockedGraceSeconds;
    bool stale = false;
    if (fd >= 0) {
      stale = (!staging || old) && flock(fd, LOCK_EX | LOCK_NB) == 0;
    } else if (errno == ENOENT) {
      stale = old;
    }
    // Remove while still holding the lock, so that no other sweeper races.
    if (stale && RemoveTree(path).ok()) ++removed;
    if (fd >= 0) close(fd);
  }
  return removed;
}

}  // namespace cell

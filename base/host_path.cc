#include "base/host_path.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/fs_util.h"
#include "base/test_faults.h"

namespace cell {
namespace {

// The longest chain of trusted links followed, as the kernel's MAXSYMLINKS.
constexpr int kMaxLinks = 40;

std::string Parent(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

// A symlink the cell cannot have made: root's, directly in the host's "/"
// (the merged-/usr links /bin, /lib, /lib64, /sbin; /home -> var/home),
// which no cell may write ("/" is never bound read-write). Ownership alone
// is not enough: a cell launched by root makes root-owned links wherever a
// spec, today's or an earlier one, let it write.
bool Trusted(const struct stat& link, const std::string& dir,
             const struct stat& dir_info) {
  if (TestFault(fault::kFollowSymlinks)) return true;
  return dir == "/" && link.st_uid == 0 && dir_info.st_uid == 0 &&
         (dir_info.st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

// Pushes the components of `path` so that the first is popped first.
void PushComponents(absl::string_view path, std::vector<std::string>* stack) {
  std::vector<std::string> parts = absl::StrSplit(path, '/', absl::SkipEmpty());
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
    stack->push_back(std::move(*it));
  }
}

// `path` made absolute against the working directory.
absl::StatusOr<std::string> Absolute(absl::string_view path) {
  if (!path.empty() && path.front() == '/') return std::string(path);
  char cwd[PATH_MAX];
  if (getcwd(cwd, sizeof(cwd)) == nullptr) return ErrnoStatus(errno, "getcwd");
  return absl::StrCat(cwd, "/", path);
}

}  // namespace

std::optional<std::string> PathUnderByIdentity(const std::string& path,
                                               const std::string& dir) {
  struct stat target;
  if (path.empty() || path.front() != '/' || stat(dir.c_str(), &target) != 0) {
    return std::nullopt;
  }
  std::string ancestor = path;
  while (true) {
    struct stat info;
    if (stat(ancestor.c_str(), &info) == 0 && info.st_dev == target.st_dev &&
        info.st_ino == target.st_ino) {
      return ancestor == "/" ? path : path.substr(ancestor.size());
    }
    if (ancestor == "/") return std::nullopt;
    ancestor = Parent(ancestor);
  }
}

absl::StatusOr<ExistingAncestor> FindExistingAncestor(absl::string_view path) {
  ExistingAncestor ancestor;
  std::string current(path);
  while (true) {
    absl::StatusOr<std::string> resolved = ResolveTrustedPath(current);
    if (resolved.ok()) {
      ancestor.resolved = *std::move(resolved);
      std::reverse(ancestor.missing.begin(), ancestor.missing.end());
      return ancestor;
    }
    const size_t slash = current.rfind('/');
    if (!absl::IsNotFound(resolved.status()) || slash == std::string::npos ||
        current == "/") {
      return resolved.status();
    }
    const std::string leaf = current.substr(slash + 1);
    if (leaf == "..") {
      return absl::InvalidArgumentError(
          absl::StrCat("'", path, "' has `..` below a missing directory"));
    }
    if (!leaf.empty() && leaf != ".") ancestor.missing.push_back(leaf);
    current = slash == 0 ? "/" : current.substr(0, slash);
  }
}

absl::StatusOr<std::string> ResolveTrustedPathFromCwd(absl::string_view path) {
  absl::StatusOr<std::string> absolute = Absolute(path);
  if (!absolute.ok()) return absolute.status();
  return ResolveTrustedPath(*absolute);
}

absl::StatusOr<std::string> ResolveTrustedPath(absl::string_view path) {
  if (path.empty() || path.front() != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("'", path, "' is not an absolute path"));
  }
  std::vector<std::string> pending;
  PushComponents(path, &pending);
  std::string resolved;  // No symlink in it; "" is "/".
  int links = 0;
  while (!pending.empty()) {
    const std::string component = std::move(pending.back());
    pending.pop_back();
    if (component == ".") continue;
    if (component == "..") {
      resolved = resolved.empty() ? "" : Parent(resolved);
      if (resolved == "/") resolved.clear();
      continue;
    }
    const std::string next = absl::StrCat(resolved, "/", component);
    struct stat info;
    if (lstat(next.c_str(), &info) != 0) {
      const int error = errno;
      if (error == ENOENT) {
        return absl::NotFoundError(absl::StrCat("'", next, "' does not exist"));
      }
      return ErrnoStatus(error, absl::StrCat("cannot look at '", next, "'"));
    }
    if (!S_ISLNK(info.st_mode)) {
      resolved = next;
      continue;
    }
    char target[PATH_MAX];
    const ssize_t length = readlink(next.c_str(), target, sizeof(target) - 1);
    if (length < 0) {
      return ErrnoStatus(errno,
                         absl::StrCat("cannot read the link '", next, "'"));
    }
    target[length] = '\0';
    struct stat dir;
    const std::string parent = resolved.empty() ? "/" : resolved;
    if (lstat(parent.c_str(), &dir) != 0 || !Trusted(info, parent, dir)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "'", next, "' is a symlink (-> ", target, ", owned by uid ",
          info.st_uid,
          "): a cell may have made it to redirect this path, so only root's "
          "links in / (such as /bin -> usr/bin) are followed; name the real "
          "path instead (realpath)"));
    }
    if (++links > kMaxLinks) {
      return absl::InvalidArgumentError(
          absl::StrCat("too many symlinks resolving '", path, "'"));
    }
    if (target[0] == '/') resolved.clear();
    PushComponents(target, &pending);
  }
  return resolved.empty() ? std::string("/") : resolved;
}

absl::StatusOr<UniqueFd> OpenWithoutSymlinks(absl::string_view path, int flags,
                                             int mode) {
  const std::string name(path);
  open_how how{};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.mode = (flags & O_CREAT) != 0 ? static_cast<uint64_t>(mode) : 0;
  how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  long fd = syscall(SYS_openat2, AT_FDCWD, name.c_str(), &how, sizeof(how));
  if (fd < 0 && errno == ENOSYS) {
    fd = open(name.c_str(), flags | O_CLOEXEC | O_NOFOLLOW, mode);
  }
  if (fd < 0) {
    const int error = errno;
    return ErrnoStatus(
        error, absl::StrCat("cannot open '", name, "'",
                            error == ELOOP ? " (a symlink is in the way; "
                                             "the launcher follows none)"
                                           : ""));
  }
  return UniqueFd(static_cast<int>(fd));
}

absl::StatusOr<std::string> ReadConfigFile(absl::string_view path,
                                           size_t max_bytes) {
  absl::StatusOr<std::string> resolved = ResolveTrustedPathFromCwd(path);
  if (!resolved.ok()) {
    return absl::Status(
        resolved.status().code(),
        absl::StrCat("cannot read ", path, ": ", resolved.status().message()));
  }
  // O_NONBLOCK: opening a FIFO must not hang; ReadOpenFile rejects it.
  absl::StatusOr<UniqueFd> fd =
      OpenWithoutSymlinks(*resolved, O_RDONLY | O_NOCTTY | O_NONBLOCK);
  if (!fd.ok()) return fd.status();
  // A second name, made by a cell that could write beside it, would let
  // the cell change it where it is not read-only.
  struct stat info;
  if (fstat(fd->get(), &info) == 0 && S_ISREG(info.st_mode) &&
      info.st_nlink != 1) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot read ", path, ": it has ", info.st_nlink,
        " hard links; a cell may have made one to change it; remove the "
        "other links"));
  }
  return ReadOpenFile(fd->get(), path, max_bytes);
}

absl::StatusOr<UniqueFd> OpenLogFile(absl::string_view dir,
                                     absl::string_view name, LogFileMode how,
                                     int mode) {
  absl::StatusOr<UniqueFd> dir_fd =
      OpenWithoutSymlinks(dir, O_PATH | O_DIRECTORY);
  if (!dir_fd.ok()) return dir_fd.status();
  const std::string leaf(name);
  const std::string shown = absl::StrCat(dir, "/", name);
  const int append = how == LogFileMode::kAppend ? O_APPEND : 0;
  UniqueFd fd(openat(dir_fd->get(), leaf.c_str(),
                     O_WRONLY | O_CREAT | append | O_NOFOLLOW | O_NONBLOCK |
                         O_NOCTTY | O_CLOEXEC,
                     mode));
  if (fd.get() < 0) {
    const int error = errno;
    return ErrnoStatus(error,
                       absl::StrCat("cannot open the log '", shown, "'",
                                    error == ELOOP ? " (it is a symlink; "
                                                     "remove it)"
                                                   : ""));
  }
  struct stat info;
  if (fstat(fd.get(), &info) != 0 || !S_ISREG(info.st_mode) ||
      info.st_nlink != 1) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the log '", shown,
        "' is not a plain file of its own (a FIFO, a device or a hard link "
        "to another file); remove it"));
  }
  if (how == LogFileMode::kTruncate && ftruncate(fd.get(), 0) != 0) {
    return ErrnoStatus(errno, absl::StrCat("cannot truncate '", shown, "'"));
  }
  return fd;
}

absl::StatusOr<UniqueFd> OpenOutputFile(absl::string_view path, LogFileMode how,
                                        int mode) {
  absl::StatusOr<std::string> made_absolute = Absolute(path);
  if (!made_absolute.ok()) return made_absolute.status();
  const std::string& absolute = *made_absolute;
  const size_t slash = absolute.rfind('/');
  const std::string name = absolute.substr(slash + 1);
  absl::StatusOr<std::string> dir =
      ResolveTrustedPath(slash == 0 ? "/" : absolute.substr(0, slash));
  if (!dir.ok()) {
    return absl::Status(dir.status().code(),
                        absl::StrCat("'", path, "': ", dir.status().message()));
  }
  if (name.empty() || name == "." || name == "..") {
    return absl::InvalidArgumentError(
        absl::StrCat("'", path, "' names a directory, not a file"));
  }
  return OpenLogFile(*dir, name, how, mode);
}

}  // namespace cell

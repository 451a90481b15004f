#include "base/fs_util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace cell {
namespace {

absl::StatusCode CodeForErrno(int error) {
  switch (error) {
    case ENOENT:
    case ENOTDIR:
      return absl::StatusCode::kNotFound;
    case EACCES:
    case EPERM:
    case EROFS:
      return absl::StatusCode::kPermissionDenied;
    case EEXIST:
      return absl::StatusCode::kAlreadyExists;
    case ENOSPC:
    case EMFILE:
    case ENFILE:
    case ENOMEM:
      return absl::StatusCode::kResourceExhausted;
    case EINVAL:
    case ELOOP:
    case ENAMETOOLONG:
      return absl::StatusCode::kInvalidArgument;
    default:
      return absl::StatusCode::kInternal;
  }
}

// Empties the directory open as `dir_fd` (closed on return), then the caller
// removes it. Recursion depth follows the tree; $JD trees are shallow.
absl::Status RemoveContents(int dir_fd, const std::string& path, dev_t device) {
  DIR* dir = fdopendir(dir_fd);
  if (dir == nullptr) {
    const int error = errno;
    close(dir_fd);
    return ErrnoStatus(error, absl::StrCat("opendir ", path));
  }
  absl::Status result;
  while (const dirent* entry = readdir(dir)) {
    const char* name = entry->d_name;
    if (std::strcmp(name, ".") == 0 || std::strcmp(name, "..") == 0) continue;
    const std::string child = absl::StrCat(path, "/", name);
    struct stat info;
    if (fstatat(dirfd(dir), name, &info, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno != ENOENT) result.Update(ErrnoStatus(errno, "stat " + child));
      continue;
    }
    if (S_ISDIR(info.st_mode)) {
      if (info.st_dev != device) {
        result.Update(absl::FailedPreconditionError(
            absl::StrCat("not removing ", child,
                         ": another file system is "
                         "mounted there")));
        continue;
      }
      const int child_fd = openat(
          dirfd(dir), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (child_fd < 0) {
        result.Update(ErrnoStatus(errno, "open " + child));
        continue;
      }
      result.Update(RemoveContents(child_fd, child, device));
      if (unlinkat(dirfd(dir), name, AT_REMOVEDIR) != 0 && errno != ENOENT) {
        result.Update(ErrnoStatus(errno, "rmdir " + child));
      }
    } else if (unlinkat(dirfd(dir), name, 0) != 0 && errno != ENOENT) {
      result.Update(ErrnoStatus(errno, "unlink " + child));
    }
  }
  closedir(dir);
  return result;
}

}  // namespace

absl::Status WriteControlFile(absl::string_view path,
                              absl::string_view content) {
  const std::string path_text(path);
  const int fd = open(path_text.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, absl::StrCat("open ", path));
  const ssize_t n = write(fd, content.data(), content.size());
  const int error = errno;
  close(fd);
  if (n != static_cast<ssize_t>(content.size())) {
    // One line: the content ("0 0 1\n" for a uid_map) escaped.
    return ErrnoStatus(n < 0 ? error : EIO,
                       absl::StrCat("write '", absl::CHexEscape(content),
                                    "' to ", path));
  }
  return absl::OkStatus();
}

bool PathIsSameOrUnder(absl::string_view path, absl::string_view ancestor) {
  if (ancestor == "/") return true;
  return path == ancestor ||
         (absl::StartsWith(path, ancestor) && path.size() > ancestor.size() &&
          path[ancestor.size()] == '/');
}

std::string ErrnoName(int error) {
  const char* name = strerrorname_np(error);
  return name != nullptr ? name : absl::StrCat("errno ", error);
}

absl::Status ErrnoStatus(int error, absl::string_view what) {
  return absl::Status(CodeForErrno(error),
                      absl::StrCat(what, ": ", ErrnoName(error), " (",
                                   std::strerror(error), ")"));
}

absl::Status RemoveTree(absl::string_view path) {
  const std::string root(path);
  struct stat info;
  if (lstat(root.c_str(), &info) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return ErrnoStatus(errno, "stat " + root);
  }
  if (!S_ISDIR(info.st_mode)) {
    if (unlink(root.c_str()) != 0 && errno != ENOENT) {
      return ErrnoStatus(errno, "unlink " + root);
    }
    return absl::OkStatus();
  }
  const int fd =
      open(root.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "open " + root);
  absl::Status result = RemoveContents(fd, root, info.st_dev);
  if (rmdir(root.c_str()) != 0 && errno != ENOENT) {
    result.Update(ErrnoStatus(errno, "rmdir " + root));
  }
  return result;
}

absl::StatusOr<std::string> ReadFileToString(absl::string_view path,
                                             size_t max_bytes) {
  const std::string name(path);
  // O_NONBLOCK: opening a FIFO must not hang; it is rejected below.
  const int fd = open(name.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return ErrnoStatus(errno, absl::StrCat("cannot open ", name));
  absl::StatusOr<std::string> content = ReadOpenFile(fd, name, max_bytes);
  close(fd);
  return content;
}

absl::StatusOr<std::string> ReadOpenFile(int fd, absl::string_view name,
                                         size_t max_bytes) {
  struct stat info;
  if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, " is not a regular file"));
  }
  if (static_cast<size_t>(info.st_size) > max_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        name, " is ", info.st_size, " bytes; the limit is ", max_bytes));
  }
  std::string content;
  char buffer[65536];
  while (true) {
    const ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, absl::StrCat("cannot read ", name));
    }
    if (n == 0) break;
    content.append(buffer, n);
    if (content.size() > max_bytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          name, " is larger than the limit of ", max_bytes, " bytes"));
    }
  }
  return content;
}

absl::Status WriteNewFile(absl::string_view path, absl::string_view content,
                          int mode) {
  const std::string name(path);
  const int fd = open(
      name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) return ErrnoStatus(errno, absl::StrCat("cannot create ", name));
  size_t written = 0;
  while (written < content.size()) {
    const ssize_t n =
        write(fd, content.data() + written, content.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int error = errno;
      close(fd);
      return ErrnoStatus(error, absl::StrCat("cannot write ", name));
    }
    written += n;
  }
  if (close(fd) != 0) return ErrnoStatus(errno, "close " + name);
  return absl::OkStatus();
}

}  // namespace cell

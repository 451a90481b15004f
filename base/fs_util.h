// Small file-system helpers used before the clone and after the command
// exits (never in the child between clone and exec).
#ifndef CELL_BASE_FS_UTIL_H_
#define CELL_BASE_FS_UTIL_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace cell {

// Removes `path` and everything beneath it without following symlinks (a
// symlink inside is removed, never its target) and without crossing into
// other mounts. A missing `path` is OK.
absl::Status RemoveTree(absl::string_view path);

// Reads a whole regular file of at most `max_bytes`; errors name the path.
absl::StatusOr<std::string> ReadFileToString(absl::string_view path,
                                             size_t max_bytes);

// The same for an open fd (opened O_NONBLOCK); `name` is for errors.
absl::StatusOr<std::string> ReadOpenFile(int fd, absl::string_view name,
                                         size_t max_bytes);

// Writes `content` to a new file `path` (O_EXCL, O_NOFOLLOW) with `mode`.
absl::Status WriteNewFile(absl::string_view path, absl::string_view content,
                          int mode);

// Writes `content` to the existing file `path` in one write(2), as kernel
// control files (/proc/PID/uid_map, cgroup files) require; a short write
// is an error naming the path and the content.
absl::Status WriteControlFile(absl::string_view path,
                              absl::string_view content);

// True when `path` is `ancestor` or lies beneath it, comparing whole
// components ("/a/bc" is not under "/a/b"); "/" is above everything. Both
// must be absolute and normalised.
bool PathIsSameOrUnder(absl::string_view path, absl::string_view ancestor);

// "ENOENT", "EACCES", ...: errno names are stable across libc versions and
// readable in logs, unlike numbers.
std::string ErrnoName(int error);

// absl::Status for a failed syscall: "WHAT: ENOENT (No such file or
// directory)"; the code follows errno.
absl::Status ErrnoStatus(int error, absl::string_view what);

}  // namespace cell

#endif  // CELL_BASE_FS_UTIL_H_

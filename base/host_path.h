// Host paths the launcher mounts or reads for its own configuration (bind
// sources, the worktree, logDir, the filter, the spec). Parent side, before
// the clone.
//
// The cell's user may own directories among them (the worktree, a bind
// source, logDir), and a process it left behind, or the agent through a
// read-write bind, can swap one for a symlink between two launches. A
// launcher that followed it would bind /etc read-write, or read another
// user's file as its filter, on the next launch. So a path is resolved
// following only symlinks no cell can have made (root's, in "/": /bin ->
// usr/bin), and what is read or
// written is opened with no symlink at all (the child opens bind sources
// the same way, so a swap after resolution makes the launch fail, never
// follow).
#ifndef CELL_BASE_HOST_PATH_H_
#define CELL_BASE_HOST_PATH_H_

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/unique_fd.h"

namespace cell {

// The canonical form of the absolute `path`: `.` and `..` applied, and
// only trusted symlinks followed: root's, directly in "/" (/bin -> usr/bin
// and the like), which no cell can write. NotFound when a component is
// missing; InvalidArgument naming any other link (its owner and target).
absl::StatusOr<std::string> ResolveTrustedPath(absl::string_view path);

// The same for `path` relative to the working directory (or absolute).
absl::StatusOr<std::string> ResolveTrustedPathFromCwd(absl::string_view path);

// A path that may not exist yet: its nearest existing ancestor (itself
// included), resolved as ResolveTrustedPath does, and the components below
// that ancestor that are missing, outermost first.
struct ExistingAncestor {
  std::string resolved;
  std::vector<std::string> missing;
};

// For absolute `path`. Errors: ResolveTrustedPath's for an untrusted link
// on the way; InvalidArgument for a `..` among the missing components
// (which would name a place depending on what gets made).
absl::StatusOr<ExistingAncestor> FindExistingAncestor(absl::string_view path);

// open(2) of `path` refusing a symlink in any component (openat2 with
// RESOLVE_NO_SYMLINKS; the last component only with O_NOFOLLOW on kernels
// before 5.6). `flags` gets O_CLOEXEC.
absl::StatusOr<UniqueFd> OpenWithoutSymlinks(absl::string_view path, int flags,
                                             int mode = 0);

// A whole regular file of at most `max_bytes` (`path` relative to the
// working directory or absolute): resolved through trusted symlinks only,
// then opened through none.
absl::StatusOr<std::string> ReadConfigFile(absl::string_view path,
                                           size_t max_bytes);

// Where canonical `path` lies under directory `dir` by identity (device
// and inode), not by spelling: "" when it is `dir`, "/rest" when an
// ancestor of it is `dir` (another name for it included: a bind mount of
// one directory at another path is the same directory), nullopt
// otherwise. `path` itself may be missing; its ancestors are compared.
std::optional<std::string> PathUnderByIdentity(const std::string& path,
                                               const std::string& dir);

enum class LogFileMode { kAppend, kTruncate };

// Opens (creating, `mode`) `dir`/`name` for writing, where `dir` may be
// writable by a cell: no symlink in `dir` or at `name`, and `name` must be
// a regular file with one link (not a hard link a cell made to a file of
// the user's elsewhere); truncated only once that is checked.
absl::StatusOr<UniqueFd> OpenLogFile(absl::string_view dir,
                                     absl::string_view name,
                                     LogFileMode how = LogFileMode::kAppend,
                                     int mode = 0600);

// OpenLogFile for a whole path (relative to the working directory),
// resolved through trusted symlinks only; for files a caller names, such
// as --status-file.
absl::StatusOr<UniqueFd> OpenOutputFile(absl::string_view path, LogFileMode how,
                                        int mode);

}  // namespace cell

#endif  // CELL_BASE_HOST_PATH_H_

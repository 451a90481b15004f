// Files the cell must not change because something outside it trusts them
// later. Host side, before the clone (and cleanup after the command):
//
// - control files: the spec, the filter, the launcher binary or packed
//   cell that is running, logDir. Where a read-write bind of the cell shows
//   one, it is bound read-only over itself (a packed cell in the worktree
//   replaced with a script would run on the host at the next launch);
// - the spec's `protect` paths in the worktree. One that does not exist yet
//   gets an empty placeholder (directory for "path/", else a file) for the
//   run, bound read-only, so the cell cannot create it either; the
//   placeholder is removed after the command, if still empty and the same.
//
// The directories between a read-write bind's mount point and each
// protected path are pinned (bound over themselves): a mount point cannot
// be renamed inside the cell, so a protected file cannot be swapped out
// with its directory.
//
// Paths in the worktree are walked without following a symlink: a link
// there is the cell's to point anywhere, so `protect` through one is an
// error naming it.
#ifndef CELL_LAUNCHER_SPEC_PROTECT_H_
#define CELL_LAUNCHER_SPEC_PROTECT_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "base/unique_fd.h"
#include "launcher/spec/plan.h"
#include "launcher/spec/spec.h"

namespace cell {

// Read-only binds of `host_path` over each view of it that a read-write
// bind among `mounts` gives the cell: a bind of a directory holding it, or
// of itself, compared by identity (base/host_path.h PathUnderByIdentity),
// so another name for the same directory counts. Reads the file system.
std::vector<MountOp> ProtectViews(const std::string& host_path,
                                  const std::vector<MountOp>& mounts);

// What the launcher created for a run; removed by the destructor when
// still unchanged (an empty file or directory with the same inode).
class Placeholders {
 public:
  Placeholders() = default;
  Placeholders(Placeholders&&) = default;
  Placeholders& operator=(Placeholders&&) = default;
  ~Placeholders();
  // Removes them now (idempotent).
  void RemoveAll();

  struct Entry {
    UniqueFd dir;  // The directory holding it.
    std::string name;
    ino_t inode = 0;
    bool is_dir = false;
    size_t size = 0;  // A file's placeholder content.
  };
  void Add(Entry entry) { entries_.push_back(std::move(entry)); }
  size_t size() const { return entries_.size(); }

 private:
  std::vector<Entry> entries_;
};

// A path to keep read-only in the worktree, and the field or reason that
// asks for it (for errors).
struct ProtectEntry {
  std::string entry;  // Worktree-relative; a trailing '/' for a directory.
  std::string field;
};

// `spec.protect`, and what it implies (reads the host's file system):
// - with `@defaults` (.git/config among the paths): the directory
//   `core.hooksPath` names and the files `include.path`/`includeIf` pull in,
//   from the repository's config and the launching user's global ones
//   (~/.gitconfig, $XDG_CONFIG_HOME/git/config, /etc/gitconfig), when they
//   lie in the worktree (git_config.h);
// - the targets in the worktree of symlinks inside a protected directory
//   (.git/hooks/pre-commit -> ../../scripts/hook.sh: the hook runs what the
//   cell could otherwise rewrite).
// A file with a second hard link inside a protected directory is an error
// naming it (its other name may be writable), as for a protected file;
// directories named `objects` (git's object store, hard-linked by a local
// clone; never run) are not looked into.
absl::StatusOr<std::vector<ProtectEntry>> ProtectedEntries(
    const CellSpec& spec);

// The read-only binds for `spec.protect` (walking the worktree, creating
// placeholders into `placeholders`; ProtectedEntries) and for
// `control_files` (through
// ProtectViews over `mounts`), to apply after every other mount. Errors
// name the field: a `protect` path through a symlink in the worktree.
absl::StatusOr<std::vector<MountOp>> ProtectOps(
    const CellSpec& spec, const std::vector<MountOp>& mounts,
    const std::vector<std::string>& control_files, Placeholders* placeholders);

}  // namespace cell

#endif  // CELL_LAUNCHER_SPEC_PROTECT_H_

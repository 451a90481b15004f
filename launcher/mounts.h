// Child side: carries out the plan's mount operations inside the new mount
// namespace, below the new root, before pivot_root. Runs between clone and
// exec, so it makes only syscalls and reports failures as (index, errno).
#ifndef CELL_LAUNCHER_MOUNTS_H_
#define CELL_LAUNCHER_MOUNTS_H_

#include <cstddef>
#include <vector>

#include "launcher/plan.h"

namespace cell {

struct MountFailure {
  size_t index = 0;  // Into the ops.
  int error = 0;     // errno.
};

// Makes every mount private (nothing propagates back to the host), mounts a
// tmpfs at `new_root` and applies `ops` beneath it. Paths inside the new
// root are walked one component at a time with O_NOFOLLOW: a symlink planted
// in a bound host directory (say, the worktree) cannot redirect a mount or a
// mkdir onto the host. Returns true on success.
bool SetUpNewRoot(const char* new_root, const std::vector<MountOp>& ops,
                  MountFailure* failure);

// Index value in MountFailure for steps that are not one of the ops.
inline constexpr size_t kMountStepPrivate = static_cast<size_t>(-1);
inline constexpr size_t kMountStepRoot = static_cast<size_t>(-2);

// pivot_root into `new_root` and detach the old root. Returns 0 or errno.
int PivotInto(const char* new_root);

// After PivotInto: makes the root mount itself read-only (the mounts on it
// keep their own mode). Returns 0 or an errno.
int RemountRootReadOnly();

}  // namespace cell

#endif  // CELL_LAUNCHER_MOUNTS_H_

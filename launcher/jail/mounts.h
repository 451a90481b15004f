// Child side: carries out the plan's mount operations inside the new mount
// namespace, below the new root, before pivot_root. Runs between clone and
// exec, so it makes only syscalls and reports failures as (index, errno).
#ifndef CELL_LAUNCHER_JAIL_MOUNTS_H_
#define CELL_LAUNCHER_JAIL_MOUNTS_H_

#include <sys/types.h>

#include <cstddef>
#include <vector>

#include "launcher/spec/plan.h"

namespace cell {

struct MountFailure {
  size_t index = 0;  // Into the ops.
  int error = 0;     // errno.
};

// Makes every mount private (nothing propagates back to the host) and
// mounts a tmpfs owned by `uid`:`gid` at `new_root`; *root_fd gets an
// O_PATH fd of it. Returns 0 or an errno (also in *failure).
int PrepareNewRoot(const char* new_root, uid_t uid, gid_t gid, int* root_fd,
                   MountFailure* failure);

// Applies `ops` beneath `root_fd`. Paths inside the new root are walked one
// component at a time with O_NOFOLLOW: a symlink planted in a bound host
// directory (say, the worktree) cannot redirect a mount or a mkdir onto the
// host. Returns true on success.
bool ApplyMountOps(int root_fd, const std::vector<MountOp>& ops,
                   MountFailure* failure);

// Index value in MountFailure for steps that are not one of the ops.
inline constexpr size_t kMountStepPrivate = static_cast<size_t>(-1);
inline constexpr size_t kMountStepRoot = static_cast<size_t>(-2);

// After the pivot, as the cell's user: no file system of the kernel's
// (proc, sysfs, debugfs, cgroup, bpf, devtmpfs, devpts, ...) may be
// reachable in the cell but its own /proc (and the read-only binds of its
// parts), its devpts and allowed device nodes. The spec's paths were
// checked before the clone; this is what the cell really sees, so a bind
// source swapped in between (a directory renamed for one holding a proc
// mount, a proc mounted on a source) stops the launch. Each mount point is
// opened component by component (no PATH_MAX limit); one a mask covers
// shows another device; one that moved since mountinfo was read is
// refused. No allocation. Returns 0, EPERM for a reachable one, or the
// errno of reading.
int CheckNoHostKernelMounts();

// pivot_root into the new root and detach the old root. Returns 0 or errno.
int PivotInto(int root_fd);

// After PivotInto: makes the root mount itself read-only (the mounts on it
// keep their own mode). Returns 0 or an errno.
int RemountRootReadOnly();

// Locking the cell's mounts. The kernel locks the flags of every mount it
// copies into a mount namespace owned by a less privileged user namespace
// (MNT_LOCK_READONLY and friends) and nothing clears them, so a command that
// keeps CAP_SYS_ADMIN can no longer remount a read-only bind (the Nix store)
// read-write. It takes two processes: a holder moves into a new, nested user
// namespace and a locked copy of its mount namespace; the command joins that
// mount namespace and stays in the cell's user namespace, so its
// capabilities over the cell's network namespace are unchanged. All run
// after the mounts are final, single-threaded, and return 0 or an errno.

// The holder's half: unshare a user and a mount namespace.
int UnshareLockedMounts();

// The joiner's half: join the mount namespace of `holder` (resets the root
// and the working directory to that namespace's root).
int JoinMountNamespaceOf(pid_t holder);

// Both halves, with a cloned helper as the holder, for a process that has
// no init to be its holder.
int LockMounts();

}  // namespace cell

#endif  // CELL_LAUNCHER_JAIL_MOUNTS_H_

// The mount flags a bind remount must repeat to keep what the kernel may
// have locked (nosuid, nodev, noexec, atime): dropping one of them makes
// the remount fail with EPERM. Used by the child between clone and exec and
// by the store probe, so header-only and allocation-free.
#ifndef CELL_BASE_MOUNT_FLAGS_H_
#define CELL_BASE_MOUNT_FLAGS_H_

#include <sys/mount.h>
#include <sys/statvfs.h>

namespace cell {

// The MS_* flags of `path`'s mount that a remount must keep; 0 if `path`
// cannot be examined (the remount then reports the real error).
inline unsigned long KeptMountFlags(const char* path) {
  struct statvfs info;
  if (statvfs(path, &info) != 0) return 0;
  unsigned long flags = 0;
  if (info.f_flag & ST_NOSUID) flags |= MS_NOSUID;
  if (info.f_flag & ST_NODEV) flags |= MS_NODEV;
  if (info.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
  if (info.f_flag & ST_NOATIME) flags |= MS_NOATIME;
  if (info.f_flag & ST_NODIRATIME) flags |= MS_NODIRATIME;
  if (info.f_flag & ST_RELATIME) flags |= MS_RELATIME;
  return flags;
}

}  // namespace cell

#endif  // CELL_BASE_MOUNT_FLAGS_H_

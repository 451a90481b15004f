// The kernel's own file systems, by the type name mountinfo gives them:
// proc, sysfs and the like act on the whole host, devtmpfs and devpts
// carry its devices. One list for the launcher (what it masks beneath a
// bind, and what the child refuses to let the cell reach) and the probe
// (what it reports), so that none of them misses a type the others know.
// Safe on both sides of the clone: no allocation.
#ifndef CELL_BASE_KERNEL_FS_H_
#define CELL_BASE_KERNEL_FS_H_

#include <cstring>

namespace cell {

inline bool IsKernelFileSystem(const char* type) {
  for (const char* kernel :
       {"proc", "sysfs", "debugfs", "tracefs", "securityfs", "cgroup",
        "cgroup2", "bpf", "configfs", "pstore", "efivarfs", "binfmt_misc",
        "fusectl", "devtmpfs", "devpts", "mqueue", "hugetlbfs", "rpc_pipefs",
        "nsfs"}) {
    if (std::strcmp(type, kernel) == 0) return true;
  }
  return false;
}

}  // namespace cell

#endif  // CELL_BASE_KERNEL_FS_H_

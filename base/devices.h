// The device nodes a cell may have bound in: those that act on nothing of
// the host's (null, zero, full, random, urandom) and those agents need that
// the kernel confines to the caller (kvm, fuse, net/tun, dri render
// nodes). Everything else (terminals, disks, memory, the console, the
// kernel log, userfaultfd, ...) acts on the host. Checked where a spec is
// resolved and again on the descriptor the child binds (the path may have
// been swapped in between). Safe on both sides of the clone.
#ifndef CELL_BASE_DEVICES_H_
#define CELL_BASE_DEVICES_H_

#include <sys/stat.h>
#include <sys/sysmacros.h>

namespace cell {

constexpr bool DeviceAllowedInCell(bool character, unsigned major_number,
                                   unsigned minor_number) {
  if (!character) return false;  // Block devices: disks.
  return (major_number == 1 &&
          (minor_number == 3 || minor_number == 5 || minor_number == 7 ||
           minor_number == 8 || minor_number == 9)) ||
         (major_number == 10 && (minor_number == 232 || minor_number == 229 ||
                                 minor_number == 200)) ||
         (major_number == 226 && minor_number >= 128);
}

inline bool DeviceAllowedInCell(const struct stat& info) {
  return DeviceAllowedInCell(S_ISCHR(info.st_mode), major(info.st_rdev),
                             minor(info.st_rdev));
}

}  // namespace cell

#endif  // CELL_BASE_DEVICES_H_

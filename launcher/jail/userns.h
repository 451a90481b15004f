// User namespace id maps. Parent side: written by the launcher into
// /proc/CHILD/{setgroups,uid_map,gid_map} while the child waits.
#ifndef CELL_LAUNCHER_JAIL_USERNS_H_
#define CELL_LAUNCHER_JAIL_USERNS_H_

#include <sys/types.h>

#include "absl/status/status.h"

namespace cell {

enum class Setgroups {
  kAllow,  // Root's own cell: setgroups(2) stays as for root.
  kDeny,   // Required of an unprivileged writer; and a cell run as another
           // user must not drop the groups it was given (a group can deny).
};

// Maps `uid` and `gid` to themselves (1:1 identity: the cell's ids appear
// unchanged inside). An unprivileged caller must deny setgroups before it
// may write a gid map, which kDeny does whatever `setgroups` says.
absl::Status WriteIdentityMaps(pid_t child, uid_t uid, gid_t gid,
                               Setgroups setgroups);

}  // namespace cell

#endif  // CELL_LAUNCHER_JAIL_USERNS_H_

// User namespace id maps. Parent side: written by the launcher into
// /proc/CHILD/{setgroups,uid_map,gid_map} while the child waits.
#ifndef CELL_LAUNCHER_USERNS_H_
#define CELL_LAUNCHER_USERNS_H_

#include <sys/types.h>

#include "absl/status/status.h"

namespace cell {

// Maps `uid` and `gid` to themselves (1:1 identity: the caller's ids appear
// unchanged inside). An unprivileged caller must deny setgroups before it
// may write a gid map; root keeps setgroups and may map itself.
absl::Status WriteIdentityMaps(pid_t child, uid_t uid, gid_t gid);

}  // namespace cell

#endif  // CELL_LAUNCHER_USERNS_H_

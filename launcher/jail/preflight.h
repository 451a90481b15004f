// Host side, before the clone: what a run checks and gathers on the host
// (its identity's files, the Nix daemon's trust, binds against run
// directories, rlimits) and the run's id. Pure except for reading host
// files and one connect() to the Nix daemon.
#ifndef CELL_LAUNCHER_JAIL_PREFLIGHT_H_
#define CELL_LAUNCHER_JAIL_PREFLIGHT_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "launcher/spec/host_identity.h"
#include "launcher/spec/plan.h"
#include "launcher/spec/spec.h"

namespace cell {

// /etc/passwd or /etc/group, read directly rather than through NSS: the
// launcher is a static binary, where getpwuid() would dlopen the host's
// NSS modules (and ask nscd), and the cell only needs names for its own
// generated /etc files. "" when unreadable.
std::string IdFileText(const std::string& path);

// What the plan needs to know of the host: the cell's ids and names, TERM
// and LANG.
HostFacts GatherHostFacts(const HostIdentity& identity);

// A cell must never be a trusted user of the Nix daemon it reaches: a
// trusted user may build with `--option sandbox false` and an empty
// `build-users-group`, running its builder as the daemon's user (root) in
// the host's namespaces. Only a daemon that answers at the socket counts.
absl::Status CheckNixTrust(const CellSpec& spec, const HostIdentity& identity,
                           absl::string_view group_text);

// Before the run directory exists: a read-write bind must not give the
// cell where run directories live ($JD holds the proxy's state and audit
// log, and the staging root; others' hold theirs), nor one of them, as it
// could rewrite them. A read-only bind of a parent (`/` for a test of the
// host's tree) only shows them; the mount policy judges such binds.
absl::Status CheckBindsHideJobDirs(const std::vector<MountOp>& mounts,
                                   const std::string& jd_parent);

// The command may lower its rlimits but not raise them past the
// launcher's hard limits (that needs CAP_SYS_RESOURCE on the host), so
// such a value is an error now rather than in the child.
absl::Status CheckRlimits(const CellPlan& plan);

// The host directories the cell may write: its read-write binds.
std::vector<std::string> WritableSources(const CellPlan& plan);

// 16 hex digits from the kernel's random source: this run's id in the
// status file and the audit log.
std::string NewRunId();

// /proc/sys/kernel/cap_last_cap, for the child's capability drop.
int ReadCapLast();

}  // namespace cell

#endif  // CELL_LAUNCHER_JAIL_PREFLIGHT_H_

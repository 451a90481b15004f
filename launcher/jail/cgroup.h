// The cell's own cgroup, for `limits.memoryMax` and `limits.pidsMax`.
//
// Host side only (the launcher, before the clone and after the child
// exits). Each controller is used where the host has it: in the unified
// (v2) hierarchy when it is enabled there, else in its own v1 hierarchy.
// Either way the cell's cgroup is a child of the launcher's own cgroup (v2:
// or of `limits.cgroupParent`), named after the launcher, so that a later
// launcher can tell a stale one from a live one and remove it with every
// process still in it.
#ifndef CELL_LAUNCHER_JAIL_CGROUP_H_
#define CELL_LAUNCHER_JAIL_CGROUP_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "launcher/spec/spec.h"

namespace cell {

// One mounted cgroup hierarchy and where this process sits in it.
struct CgroupHierarchy {
  int version = 2;
  std::string mount_point;
  // v1: the controllers the hierarchy was mounted with ("memory"; "cpu",
  // "cpuacct"). v2: empty; the kernel lists them per directory.
  std::vector<std::string> controllers;
  // The directory of this process's cgroup in it (mount point + path).
  std::string own_dir;

  bool operator==(const CgroupHierarchy& other) const {
    return version == other.version && mount_point == other.mount_point &&
           controllers == other.controllers && own_dir == other.own_dir;
  }
};

// From /proc/self/mountinfo and /proc/self/cgroup. A hierarchy mounted
// more than once is listed once (the first mount); one whose mount does not
// show this process's cgroup (a bind of another subtree) is left out.
std::vector<CgroupHierarchy> ParseCgroupHierarchies(
    absl::string_view mountinfo, absl::string_view self_cgroup);

// The limit files to write in the cell's cgroup of `version` for
// `controller` ("memory" or "pids"), as (file, value) in order. Optional
// files (swap) that the host lacks are skipped by the caller.
std::vector<std::pair<std::string, std::string>> CgroupLimitFiles(
    int version, absl::string_view controller, uint64_t limit);

// "cell-<pid namespace inode>-<launcher pid>-<unique>".
std::string CgroupName(uint64_t pid_namespace, pid_t launcher, uint64_t unique);

// Parses a CgroupName; false for other names.
bool ParseCgroupName(absl::string_view name, uint64_t* pid_namespace,
                     pid_t* launcher);

class CellCgroup {
 public:
  // Creates the cgroup with the limits of `limits` (which must need one),
  // first removing stale cgroups of launchers that died. Errors name the
  // field, the directory and what to change on the host.
  static absl::StatusOr<CellCgroup> Create(const LimitsSpec& limits);

  CellCgroup(CellCgroup&& other) noexcept;
  CellCgroup& operator=(CellCgroup&& other) = delete;
  ~CellCgroup();

  // Moves `pid` (the cell's first process, still waiting to go on) in.
  absl::Status AddProcess(pid_t pid) const;

  // SIGKILLs whatever is still inside (a daemon the command left behind)
  // and removes the directories. Idempotent.
  absl::Status KillAndRemove();

  // One directory per hierarchy used.
  const std::vector<std::string>& dirs() const { return dirs_; }

 private:
  CellCgroup() = default;
  std::vector<std::string> dirs_;
};

// SIGKILLs every process in the cgroup directory `dir` until it is empty
// (or 2 s pass), then removes it.
absl::Status KillCgroup(const std::string& dir);

}  // namespace cell

#endif  // CELL_LAUNCHER_JAIL_CGROUP_H_

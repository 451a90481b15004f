// What cell-verify looks at on the host, around the run: the spec's host
// paths as written (a symlink on the way, a source inside a writable bind)
// and the files that control the next launch, mapped to where the cell
// sees them. Host side only; the probes report what the cell could do.
#ifndef CELL_POLICY_HOST_CHECKS_H_
#define CELL_POLICY_HOST_CHECKS_H_

#include <map>
#include <string>
#include <vector>

#include "launcher/spec/spec.h"
#include "nlohmann/json.hpp"

namespace cell::policy {

// Everywhere the cell sees host path `path` through a read-write bind (the
// worktree, a "bind" mount): a bind of a directory holding it or of itself,
// compared by identity (another name for the same directory counts).
// `path` and the spec's sources are canonical (as `cell check-spec` prints
// them).
std::vector<std::string> WritableCellViews(const CellSpec& spec,
                                           const std::string& path);

// The host paths `protect` keeps read-only, host path -> "protect: ENTRY":
// each entry as ProtectedEntries expands it (git's hooksPath and includes,
// symlink targets; the plain list where the launcher would refuse the
// worktree and say why), at its place in the worktree.
std::map<std::string, std::string> ProtectedHostPaths(const CellSpec& spec);

// The paths the probe must fail to write, in-cell path -> what it is:
// /home/cell/log, and every view a writable bind gives of logDir, of each
// `protect` path and of each control file (`control`: host path -> what
// it is: the spec, the filter, the `cell` binary).
std::map<std::string, std::string> ControlPaths(
    const CellSpec& spec, const std::map<std::string, std::string>& control);

// Problems with the spec's host paths as its file writes them (`raw`, the
// spec's JSON; relative paths as `cell` reads them, from the working
// directory): each path reached through a symlink a cell could have made
// (not root's links in /), and each bind source, filter or logDir that lies
// inside a writable bind of `spec` (the resolved spec), where the cell can
// swap it before the next launch. One line per problem, naming the field.
std::vector<std::string> HostPathProblems(const nlohmann::json& raw,
                                          const CellSpec& spec);

}  // namespace cell::policy

#endif  // CELL_POLICY_HOST_CHECKS_H_

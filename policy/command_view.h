// What the host sees of a cell's command while it runs: its descriptors,
// working directory and root, on every thread (/proc/PID/task/TID). A
// descriptor the launcher left open, or a cwd or root outside the new
// root, is an escape the command's own view may not show. Host side,
// cell-verify only.
#ifndef CELL_POLICY_COMMAND_VIEW_H_
#define CELL_POLICY_COMMAND_VIEW_H_

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace cell::policy {

struct CommandView {
  pid_t pid = 0;
  // Descriptors 3 and up, "TID fd N -> target", on every thread.
  std::vector<std::string> descriptors;
  // "DEV:INO" of each thread's cwd and root (deduplicated).
  std::vector<std::string> cwd_ids;
  std::vector<std::string> root_ids;
  // Its cgroups as the host names them (ParseCgroups of /proc/PID/cgroup):
  // a sandbox's cgroup namespace shows the command other paths.
  std::map<std::string, std::string> cgroups;
};

// /proc/PID/cgroup's lines "ID:CONTROLLERS:PATH" as controllers -> path
// ("" for the unified hierarchy).
std::map<std::string, std::string> ParseCgroups(absl::string_view text);

// The command among `pid` (the process the launcher started: the command
// itself, or the cell's init; or a foreign sandbox's first process) and
// its descendants at any depth: the first, breadth first, whose executable
// ends with `exe_suffix`; nullopt when none does.
std::optional<pid_t> FindCommand(pid_t pid, absl::string_view exe_suffix);

// The view of process `pid` (all threads); nullopt when it is gone.
std::optional<CommandView> ViewCommand(pid_t pid);

// "DEV:INO" of `path` (followed), or "" when it cannot be stat'ed.
std::string IdentityOf(const std::string& path);

}  // namespace cell::policy

#endif  // CELL_POLICY_COMMAND_VIEW_H_

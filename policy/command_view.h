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
  std::string name;  // Its executable's file name.
  // "DEV:INO" of descriptors 0, 1 and 2 ("" where closed).
  std::vector<std::string> stdio_ids;
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

// What /proc/PID/stat says of a process: its command name, state ('R',
// 'S', 'Z', ...), parent and session.
struct ProcessStat {
  std::string name;
  char state = '?';
  pid_t parent = 0;
  pid_t session = 0;
};

// nullopt when the process is gone or its stat cannot be read.
std::optional<ProcessStat> StatOf(pid_t pid);

// `pid` and its descendants at any depth, breadth first.
std::vector<pid_t> Descendants(pid_t pid);

// Those of Descendants(pid) (the process the launcher started: the command
// itself, or the cell's init; or a foreign sandbox's first process) whose
// executable is the file `exe_identity` ("DEV:INO", IdentityOf): by the
// file, not its name, so that a decoy named like the command is not taken
// for it.
std::vector<pid_t> FindCommands(pid_t pid, const std::string& exe_identity);

// The /proc/PID/ns/KIND link ("mnt:[4026531841]"), or "" when unreadable.
std::string NamespaceOf(pid_t pid, absl::string_view kind);

// The view of process `pid` (all threads); nullopt when it is gone.
std::optional<CommandView> ViewCommand(pid_t pid);

// "DEV:INO" of `path` (followed), or "" when it cannot be stat'ed.
std::string IdentityOf(const std::string& path);

}  // namespace cell::policy

#endif  // CELL_POLICY_COMMAND_VIEW_H_

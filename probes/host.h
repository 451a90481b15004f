// Host-side observations that cannot be made from inside a cell: the host's
// own namespace inodes (to tell shared from new), whether the run left
// anything behind ($JD, proxy, processes). Used by cell-verify and tests.
#ifndef CELL_PROBES_HOST_H_
#define CELL_PROBES_HOST_H_

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace cell::probes {

// Namespace kind ("pid", "net", ...) -> inode, of the calling process.
std::map<std::string, uint64_t> HostNamespaceInodes(
    const std::string& proc_root = "/proc");

// The same for the process whose /proc directory is `process_dir`
// ("/proc/1234"): read from outside, where the process cannot forge it.
std::map<std::string, uint64_t> NamespaceInodesOf(
    const std::string& process_dir);

// The network namespace of that process as the host reads it
// (process_dir/net/...): its interfaces and routes.
struct NetworkView {
  std::vector<std::string> interfaces;
  size_t ipv4_routes = 0;
  bool ipv4_default = false;
  bool ipv6_default = false;  // One that can carry traffic.
};
NetworkView NetworkOf(const std::string& process_dir);

// True when nothing exists at `path` (not even a dangling symlink).
bool PathGone(const std::string& path);

// True when `pid` is gone or a zombie (it can no longer act).
bool ProcessGone(pid_t pid, const std::string& proc_root = "/proc");

// Entries of `parent` named like a $JD ("cell-jd.*").
std::vector<std::string> JobDirsIn(const std::string& parent);

}  // namespace cell::probes

#endif  // CELL_PROBES_HOST_H_

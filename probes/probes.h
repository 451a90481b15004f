// In-cell probes: each observes one area and returns facts, never a
// verdict (the policy judges). A probe that cannot observe something says
// so as a fact ("error": "EACCES: ..."), and never crashes.
#ifndef CELL_PROBES_PROBES_H_
#define CELL_PROBES_PROBES_H_

#include <string>
#include <utility>
#include <vector>

#include "nlohmann/json.hpp"

namespace cell::probes {

using Facts = nlohmann::json;

struct ProbeOptions {
  std::string proc_root = "/proc";
  std::string worktree = "/home/cell/worktree";
  std::string nix_socket = "/run/nix/socket";
  std::string nix_store = "/nix/store";
  // "host:port" targets for a CONNECT through the cell's proxy.
  std::vector<std::string> connect_targets;
  // A direct TCP connect that must fail in a cell (no route): an address
  // reserved for documentation (RFC 5737), so nothing leaves even where a
  // route exists.
  std::string direct_target = "192.0.2.1:80";
  // The limits probe's tests of the cell's cgroup (0: not run): fork up to
  // this many waiting children; touch up to this many MiB in a child.
  int fork_max = 0;
  int alloc_mib = 0;
  // A host process of the same uid for host-reach (0: none given).
  int host_pid = 0;
  // Host paths that must not be visible inside a cell.
  std::vector<std::string> host_paths = {"/etc/shadow",
                                         "/etc/ssh",
                                         "/root",
                                         "/var/run/docker.sock",
                                         "/run/docker.sock",
                                         "/var/lib",
                                         "/var/log",
                                         "/boot",
                                         "/sys",
                                         "/run/user"};
};

Facts ProbePid(const ProbeOptions& options);
Facts ProbeNet(const ProbeOptions& options);
Facts ProbeStore(const ProbeOptions& options);
Facts ProbeNix(const ProbeOptions& options);
Facts ProbeIdentity(const ProbeOptions& options);
Facts ProbeCaps(const ProbeOptions& options);
Facts ProbeNs(const ProbeOptions& options);
Facts ProbeMounts(const ProbeOptions& options);
Facts ProbeFs(const ProbeOptions& options);
Facts ProbeEnv(const ProbeOptions& options);
Facts ProbeHostReach(const ProbeOptions& options);
// Seccomp mode and filter count, and the escape routes the filter denies,
// each attempted: {"mode","filters","attempts":{"unshareUser",...}}.
Facts ProbeSeccomp(const ProbeOptions& options);

// Kernel interfaces: for each sysctl (and /proc/sysrq-trigger) that a
// host-root process could abuse, whether an O_WRONLY open succeeds
// ("writeOpen": path -> "ok" or the error; nothing is written); the bytes
// a read of kcore, kmsg, keys, ... shows ("read": path -> count or error);
// and whether /proc/kallsyms shows real addresses ("kallsyms").
Facts ProbeKernel(const ProbeOptions& options);

// The session and terminal: pid and session id (a cell's command leads a
// session of its own), the tty name of each standard fd, and what opening
// /dev/tty gives (the cell's own pty, or ENXIO without one).
Facts ProbeTerminal(const ProbeOptions& options);

// Rlimits (soft, hard; null for unlimited) by name, the cgroup per
// hierarchy, and with fork_max / alloc_mib how many children could be
// started and how much memory touched before the cell's bounds stopped it.
Facts ProbeLimits(const ProbeOptions& options);

using ProbeFunction = Facts (*)(const ProbeOptions&);
// Every probe by name, in the order `all` runs them.
const std::vector<std::pair<std::string, ProbeFunction>>& AllProbes();

// {"probe": name, "facts": facts} as one line.
std::string FormatProbeLine(const std::string& name, const Facts& facts);

// "ENOENT: No such file or directory".
std::string ErrnoFact(int error);

}  // namespace cell::probes

#endif  // CELL_PROBES_PROBES_H_

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
  // "host:port@HOST-HEADER": a plain GET of http://host:port/ through the
  // cell's proxy with that Host header (one that differs from the request
  // line, as a client fronting for another virtual host would send).
  std::vector<std::string> get_targets;
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
  // The terminal cell-verify ran the cell under ("DEV:INO" of its pty's
  // slave, from fstat; "" when none): the stand-in for the caller's
  // terminal. TIOCSTI is tried only when it is given: fd 0 and /dev/tty
  // are then the cell's own pty or cell-verify's, never a person's.
  std::string caller_tty;
  // Paths inside the cell that must not be writable (what controls the
  // next launch, and `protect` paths), from cell-verify: the fs probe tries
  // each (a file: an O_WRONLY open, nothing written; a directory: creating
  // and removing a file in it).
  std::vector<std::string> try_write;
  // "DEV:INO" of the host directories above the worktree (its parent, and
  // so on up to /), from cell-verify: a directory inside whose parent is
  // one of them lies in the host's own tree, where a rename shows.
  std::vector<std::string> host_ancestors;
  // An abstract Unix socket cell-verify listens on in the host's network
  // namespace (without the leading NUL); "" when none. A cell has its own
  // abstract namespace: a connect must fail.
  std::string abstract_canary;
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
// The worktree, /tmp and / writable or not; the worktree's identity
// ("worktreeId": "DEV:INO", a bind keeps the host's); and "controlWrites":
// each try_write path -> "ok" (writable) or the error.
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
// /dev/tty gives (the cell's own pty, or ENXIO without one). With
// caller_tty: whether fd 0 is that terminal ("stdinIsCallerTty"), and a
// TIOCSTI of a NUL into fd 0 and /dev/tty ("tiocsti": {"stdin","devTty"}:
// "ok", the errno, or "not tried"), from a child; cell-verify sees whether
// one landed in its terminal. Always: TIOCSTI into a pty the probe made
// itself ("ownPtyTiocsti": does injection work in this cell at all) and
// the outcome of a harmless TIOCLINUX on fd 0 ("tioclinux").
Facts ProbeTerminal(const ProbeOptions& options);

// Rlimits (soft, hard; null for unlimited) by name, the cgroup per
// hierarchy, and with fork_max / alloc_mib how many children could be
// started and how much memory touched before the cell's bounds stopped it.
Facts ProbeLimits(const ProbeOptions& options);

// What the cell can reach through its binds, from one walk of its tree
// (kernel file systems and the Nix store not descended): every pathname
// socket ("sockets": path, and the Nix worker handshake's answer when it
// is a daemon: its trust; mount points looked at themselves, so a socket
// bound over a file counts), every device other than those a cell may have
// ("devices": path, kind "terminal" or "device", whether it is the
// caller's terminal, what an O_RDWR open gives), the abstract
// canary's connect ("abstractCanary"), inherited socket descriptors, and
// every kernel file system mounted other than the cell's own /proc and
// /dev/pts ("kernelMounts", with write-open and read tests of the
// sensitive /proc files under a proc mount).
Facts ProbeReach(const ProbeOptions& options);

// The Nix worker handshake at `socket_path` and the daemon's trust
// (nix.cc): {"connected","handshake","protocolVersion","trust",...}.
Facts AskNixDaemon(const std::string& socket_path, int timeout_seconds);

using ProbeFunction = Facts (*)(const ProbeOptions&);
// Every probe by name, in the order `all` runs them.
const std::vector<std::pair<std::string, ProbeFunction>>& AllProbes();

// {"probe": name, "facts": facts} as one line.
std::string FormatProbeLine(const std::string& name, const Facts& facts);

// "ENOENT: No such file or directory".
std::string ErrnoFact(int error);

}  // namespace cell::probes

#endif  // CELL_PROBES_PROBES_H_

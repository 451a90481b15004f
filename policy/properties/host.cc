// What the host's kernel sees of the cell: its identity there, and the
// kernel's own interfaces a host-root process could abuse.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "policy/properties/facts.h"
#include "policy/properties/property.h"

namespace cell::policy {
namespace {

using Json = nlohmann::json;

Verdict HostIdentity(const CellSpec&, const Observation& o) {
  const Json uid =
      HostIdOf(At(o, "identity", {"uid"}), At(o, "identity", {"uidMap"}));
  const Json gid =
      HostIdOf(At(o, "identity", {"gid"}), At(o, "identity", {"gidMap"}));
  return {!uid.is_null(), !uid.is_null() && uid != 0 && gid != 0,
          "a host user other than root (hostUser, or a non-root launcher)",
          absl::StrCat("host uid ", Show(uid), ", gid ", Show(gid)),
          "the cell is host root to the kernel's uid checks and to the Nix "
          "daemon; run it as another user (--host-user=NAME as root)"};
}

Verdict KernelInterfaces(const CellSpec&, const Observation& o) {
  if (std::string why; !WalkComplete(o, &why)) {
    return {false, false, "a complete walk of the cell", why, ""};
  }
  const Json writes = At(o, "kernel", {"writeOpen"});
  const Json reads = At(o, "kernel", {"read"});
  const Json kallsyms = At(o, "kernel", {"kallsyms"});
  std::vector<std::string> open;
  if (writes.is_object()) {
    for (const auto& [path, result] : writes.items()) {
      if (result == "ok") open.push_back(absl::StrCat(path, " writable"));
    }
  }
  if (reads.is_object()) {
    for (const auto& [path, result] : reads.items()) {
      if (result.is_number_integer() && result.get<int64_t>() > 0) {
        open.push_back(absl::StrCat(path, " readable"));
      }
    }
  }
  if (kallsyms == "real") open.push_back("/proc/kallsyms shows addresses");
  // The host's kernel file systems bound in elsewhere (a bind of /proc/sys,
  // of /sys, of /): the same tests at their place, and any that is
  // writable at all.
  const Json mounts = At(o, "reach", {"kernelMounts"});
  if (mounts.is_array()) {
    for (const Json& mount : mounts) {
      const std::string where =
          absl::StrCat(Show(mount.value("fsType", Json())), " at ",
                       Show(mount.value("mountPoint", Json())));
      if (mount.value("readOnly", true) != true) {
        open.push_back(absl::StrCat("the host's ", where, " is writable"));
      }
      for (const char* key : {"writeOpen", "read"}) {
        const Json tests = mount.value(key, Json::object());
        if (!tests.is_object()) continue;
        for (const auto& [path, result] : tests.items()) {
          if (result == "ok" ||
              (result.is_number_integer() && result.get<int64_t>() > 0)) {
            open.push_back(absl::StrCat(
                path, key == std::string("read") ? " readable" : " writable",
                " (", where, ")"));
          }
        }
      }
    }
  }
  const Json devices = At(o, "reach", {"devices"});
  if (devices.is_array()) {
    for (const Json& device : devices) {
      const Json kind = device.value("kind", Json());
      if (kind == "device" && device.value("open", Json()) == "ok") {
        open.push_back(absl::StrCat(
            "the host device ", Show(device.value("path", Json())), " opens"));
      }
    }
  }
  return {writes.is_object() && reads.is_object() && mounts.is_array(),
          open.empty(),
          "no sysctl or sysrq-trigger opens for writing; kcore, kmsg, keys, "
          "timers and kernel addresses show nothing",
          open.empty() ? "all refused or empty" : absl::StrJoin(open, ", "),
          "the cell can reach kernel interfaces that act on the whole host"};
}

// cell-verify starts the cell under a pty of its own (the stand-in for the
// caller's terminal) and tells the probe which it is.
Verdict Terminal(const CellSpec&, const Observation& o) {
  if (std::string why; !WalkComplete(o, &why)) {
    return {false, false, "a complete walk of the cell", why, ""};
  }
  const Json given = At(o, "terminal", {"callerTtyGiven"});
  const Json leader = At(o, "terminal", {"sessionLeader"});
  const Json on_stdin = At(o, "terminal", {"stdinIsCallerTty"});
  std::vector<std::string> reached;
  // The host's view where it has one: a sandbox's PID namespace init may
  // lead the new session instead of the command.
  if (o.command_in_caller_session.is_boolean()
          ? o.command_in_caller_session == true
          : leader == false) {
    reached.push_back("the command shares its launcher's session");
  }
  if (on_stdin == true) reached.push_back("fd 0 is the caller's terminal");
  // Another process in the sandbox (its init, a helper) holding the
  // caller's terminal where the command can reach it through /proc.
  const Json holders = At(o, "terminal", {"sandboxProcesses", "callerTty"});
  if (holders.is_array()) {
    for (const Json& holder : holders) {
      reached.push_back(absl::StrCat(
          "process ", Show(holder), " (the caller's terminal, through /proc)"));
    }
  }
  // A terminal device bound in (/dev/pts, a pty): the caller's, or any of
  // the host's that opens.
  const Json devices = At(o, "reach", {"devices"});
  if (devices.is_array()) {
    for (const Json& device : devices) {
      if (device.value("kind", Json()) != "terminal") continue;
      const Json path = device.value("path", Json());
      if (device.value("callerTty", false) == true) {
        reached.push_back(
            absl::StrCat("the caller's terminal is reachable at ", Show(path)));
      } else if (device.value("open", Json()) == "ok") {
        reached.push_back(
            absl::StrCat("a host terminal opens at ", Show(path)));
      }
    }
  }
  if (o.caller_terminal_input > 0) {
    reached.push_back(absl::StrCat(
        o.caller_terminal_input,
        " byte(s) pushed into the caller's terminal (TIOCSTI on fd 0: ",
        Show(At(o, "terminal", {"tiocsti", "stdin"})), ", on /dev/tty: ",
        Show(At(o, "terminal", {"tiocsti", "devTty"})), ")"));
  }
  return {given == true && leader.is_boolean() && on_stdin.is_boolean() &&
              o.caller_terminal_input >= 0 && devices.is_array(),
          reached.empty(),
          "a session of its own; fd 0 and /dev/tty are the cell's own pty, "
          "never the caller's terminal",
          reached.empty()
              ? absl::StrCat("own session; caller's terminal out of reach "
                             "(TIOCSTI into a pty of its own: ",
                             Show(At(o, "terminal", {"ownPtyTiocsti"})), ")")
              : absl::StrJoin(reached, "; "),
          "the cell can push input into the terminal it was started from, "
          "which the caller's shell runs on the host after the cell exits"};
}

// Host services a cell reaches: pathname sockets through its binds (only
// the Nix daemon's, where the spec asks for Nix), the host's abstract
// sockets (a cell has its own network namespace, so a canary cell-verify
// opens there must not answer), sockets handed to the command.
Verdict Sockets(const CellSpec& spec, const Observation& o) {
  if (std::string why; !WalkComplete(o, &why)) {
    return {false, false, "a complete walk of the cell", why, ""};
  }
  const Json sockets = At(o, "reach", {"sockets"});
  const Json canary = At(o, "reach", {"abstractCanary"});
  const Json inherited = At(o, "reach", {"inheritedSockets"});
  std::vector<std::string> reached;
  if (sockets.is_array()) {
    for (const Json& socket : sockets) {
      const Json path = socket.value("path", Json());
      if (spec.nix && path == "/run/nix/socket") continue;
      reached.push_back(Show(path));
    }
  }
  if (canary == "ok") {
    reached.push_back("the host's abstract socket canary answers");
  }
  if (inherited.is_array() && !inherited.empty()) {
    reached.push_back(
        absl::StrCat("inherited socket descriptors ", inherited.dump()));
  }
  return {sockets.is_array() && canary.is_string() && inherited.is_array() &&
              canary != "not given",
          reached.empty(),
          spec.nix ? "no socket but the Nix daemon's at /run/nix/socket"
                   : "no socket of the host's",
          reached.empty()
              ? absl::StrCat(Show(At(o, "reach", {"walked"})),
                             " entries walked; abstract canary: ", Show(canary))
              : absl::StrCat("reachable: ", absl::StrJoin(reached, ", ")),
          "the cell reaches host services (a socket is a door: an agent, a "
          "container runtime, a session bus); remove the bind that shows "
          "it"};
}

// The launcher hands the command nothing but its standard descriptors
// (runc's CVE-2024-21626 was a leaked descriptor of the host's cgroup
// directory: a cwd outside the container). Seen from the host, on every
// thread, while the probe waits before opening anything.
Verdict Descriptors(const CellSpec&, const Observation& o) {
  std::vector<std::string> problems = o.command_descriptors;
  // What another process in the sandbox holds, where the command reaches
  // it through /proc/PID/fd (found from inside: the kernel decides).
  const Json held = At(o, "terminal", {"sandboxProcesses", "descriptors"});
  if (held.is_array()) {
    for (const Json& descriptor : held) {
      problems.push_back(absl::StrCat("process ", Show(descriptor)));
    }
  }
  for (const std::string& root : o.command_root_ids) {
    if (root == o.host_root_id) {
      problems.push_back("its root is the host's /");
    }
  }
  for (const std::string& cwd : o.command_cwd_ids) {
    if (cwd != o.host_worktree_id) {
      problems.push_back(absl::StrCat("its cwd (", cwd,
                                      ") is not the worktree (",
                                      o.host_worktree_id, ")"));
    }
  }
  return {o.command_inspected && !o.host_worktree_id.empty(), problems.empty(),
          "descriptors 0-2 only; root the cell's own; cwd the worktree",
          problems.empty() ? "as expected" : absl::StrJoin(problems, "; "),
          "the command holds what the launcher should not have handed it; a "
          "descriptor or cwd outside the cell's root reaches the host's "
          "files"};
}

}  // namespace

void AddHostProperties(std::vector<PropertyDef>* out) {
  out->push_back({"host-identity",
                  "the cell is not host root (as the host's kernel sees its "
                  "ids)",
                  "identity", 8, nullptr, HostIdentity});
  out->push_back({"kernel-interfaces",
                  "host sysctls, sysrq-trigger, kernel memory, keys and logs "
                  "are out of reach",
                  "kernel,reach", 10, nullptr, KernelInterfaces});
  out->push_back({"terminal",
                  "the caller's terminal is out of reach (own session and "
                  "pty; no TIOCSTI into it)",
                  "terminal,reach", 10, nullptr, Terminal});
  out->push_back({"descriptors",
                  "the command inherits no descriptor, and its root and cwd "
                  "are the cell's (seen from the host, every thread)",
                  "", 9, nullptr, Descriptors});
  out->push_back({"sockets",
                  "no host socket is reachable (the Nix daemon's aside), "
                  "nor the host's abstract sockets",
                  "reach", 8, nullptr, Sockets});
}

}  // namespace cell::policy

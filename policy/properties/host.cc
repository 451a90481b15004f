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

// `id` inside, as the host sees it through `map` ([[inside, outside,
// count], ...]), or null when unmapped.
Json HostId(const Json& id, const Json& map) {
  if (!id.is_number_integer() || !map.is_array()) return nullptr;
  const int64_t inside = id.get<int64_t>();
  for (const Json& entry : map) {
    if (!entry.is_array() || entry.size() != 3 ||
        !entry[0].is_number_integer() || !entry[1].is_number_integer() ||
        !entry[2].is_number_integer()) {
      continue;
    }
    const int64_t first = entry[0].get<int64_t>();
    if (inside >= first && inside - first < entry[2].get<int64_t>()) {
      return entry[1].get<int64_t>() + (inside - first);
    }
  }
  return nullptr;
}

Verdict HostIdentity(const CellSpec&, const Observation& o) {
  const Json uid =
      HostId(At(o, "identity", {"uid"}), At(o, "identity", {"uidMap"}));
  const Json gid =
      HostId(At(o, "identity", {"gid"}), At(o, "identity", {"gidMap"}));
  return {!uid.is_null(), !uid.is_null() && uid != 0 && gid != 0,
          "a host user other than root (hostUser, or a non-root launcher)",
          absl::StrCat("host uid ", Show(uid), ", gid ", Show(gid)),
          "the cell is host root to the kernel's uid checks and to the Nix "
          "daemon; run it as another user (--host-user=NAME as root)"};
}

Verdict KernelInterfaces(const CellSpec&, const Observation& o) {
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
  return {writes.is_object() && reads.is_object(), open.empty(),
          "no sysctl or sysrq-trigger opens for writing; kcore, kmsg, keys, "
          "timers and kernel addresses show nothing",
          open.empty() ? "all refused or empty" : absl::StrJoin(open, ", "),
          "the cell can reach kernel interfaces that act on the whole host"};
}

// cell-verify starts the cell under a pty of its own (the stand-in for the
// caller's terminal) and tells the probe which it is.
Verdict Terminal(const CellSpec&, const Observation& o) {
  const Json given = At(o, "terminal", {"callerTtyGiven"});
  const Json leader = At(o, "terminal", {"sessionLeader"});
  const Json on_stdin = At(o, "terminal", {"stdinIsCallerTty"});
  std::vector<std::string> reached;
  if (leader == false) {
    reached.push_back("the command shares its launcher's session");
  }
  if (on_stdin == true) reached.push_back("fd 0 is the caller's terminal");
  if (o.caller_terminal_input > 0) {
    reached.push_back(absl::StrCat(
        o.caller_terminal_input,
        " byte(s) pushed into the caller's terminal (TIOCSTI on fd 0: ",
        Show(At(o, "terminal", {"tiocsti", "stdin"})), ", on /dev/tty: ",
        Show(At(o, "terminal", {"tiocsti", "devTty"})), ")"));
  }
  return {given == true && leader.is_boolean() && on_stdin.is_boolean() &&
              o.caller_terminal_input >= 0,
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

}  // namespace

void AddHostProperties(std::vector<PropertyDef>* out) {
  out->push_back({"host-identity",
                  "the cell is not host root (as the host's kernel sees its "
                  "ids)",
                  "identity", 8, nullptr, HostIdentity});
  out->push_back({"kernel-interfaces",
                  "host sysctls, sysrq-trigger, kernel memory, keys and logs "
                  "are out of reach",
                  "kernel", 10, nullptr, KernelInterfaces});
  out->push_back({"terminal",
                  "the caller's terminal is out of reach (own session and "
                  "pty; no TIOCSTI into it)",
                  "terminal", 10, nullptr, Terminal});
}

}  // namespace cell::policy

// PID and IPC namespaces: the host's unless the spec asks for its own.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "policy/properties/facts.h"
#include "policy/properties/property.h"

namespace cell::policy {
namespace {

using Json = nlohmann::json;

Verdict PidNamespace(const CellSpec& spec, const Observation& o) {
  const Json ns = CommandNamespace(o, "pid");
  const Json comm = At(o, "pid", {"pid1Comm"});
  const bool shared = !ns.is_null() && ns == HostNamespace(o, "pid");
  const bool want_own = spec.isolation.pid_namespace;
  return {!ns.is_null(), want_own ? !shared : shared,
          want_own ? "own PID namespace" : "host PID namespace (PID 1 visible)",
          // Read as a match with the spec, not as a verdict on it (the
          // policy judges sharing: isolation-policy).
          absl::StrCat(shared ? "the host's" : "its own",
                       shared == !want_own ? ", as the spec says" : "",
                       " (PID 1 is ", Show(comm), ")"),
          want_own ? "the cell sees the host's processes although "
                     "isolation.pidNamespace is true"
                   : "the cell has its own PID namespace although the spec "
                     "shares the host's"};
}

Verdict IpcNamespace(const CellSpec& spec, const Observation& o) {
  const Json ns = CommandNamespace(o, "ipc");
  const bool shared = !ns.is_null() && ns == HostNamespace(o, "ipc");
  const bool want_own = spec.isolation.ipc_namespace;
  return {!ns.is_null(), want_own ? !shared : shared,
          want_own ? "own IPC namespace" : "host IPC namespace",
          absl::StrCat(shared ? "the host's" : "its own",
                       shared == !want_own ? ", as the spec says" : ""),
          "the IPC namespace does not match isolation.ipcNamespace"};
}

// Every namespace kind against the host's: user, mount and network must
// be the cell's own (they are the jail); the others are named when shared
// (PID and IPC have properties of their own).
Verdict Namespaces(const CellSpec&, const Observation& o) {
  std::vector<std::string> shared;
  bool jail_shared = false;
  bool have = false;
  for (const char* kind :
       {"user", "mnt", "net", "pid", "ipc", "uts", "cgroup", "time"}) {
    const Json inside = CommandNamespace(o, kind);
    const Json host = HostNamespace(o, kind);
    if (inside.is_null() || host.is_null()) continue;
    have = true;
    if (inside != host) continue;
    shared.push_back(kind);
    const std::string name = kind;
    jail_shared =
        jail_shared || name == "user" || name == "mnt" || name == "net";
  }
  return {have, !jail_shared,
          "own user, mount and network namespaces; shared ones named",
          shared.empty() ? "none shared"
                         : absl::StrCat("shared with the host: ",
                                        absl::StrJoin(shared, ", ")),
          "the cell shares a user, mount or network namespace with the host: "
          "it is not jailed"};
}

}  // namespace

void AddNamespaceProperties(std::vector<PropertyDef>* out) {
  out->push_back({"pid-namespace",
                  "the PID namespace is the host's, or the cell's own when "
                  "isolation.pidNamespace asks",
                  "ns,pid", 6, nullptr, PidNamespace});
  out->push_back({"ipc-namespace",
                  "the IPC namespace matches isolation.ipcNamespace", "ns", 3,
                  nullptr, IpcNamespace});
  out->push_back({"namespaces",
                  "own user, mount and network namespaces; every namespace "
                  "shared with the host is named",
                  "ns", 9, nullptr, Namespaces});
}

}  // namespace cell::policy

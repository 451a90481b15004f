// The policy an operator verifies a cell against: what the organisation
// requires of network, mounts, env and isolation, and how severe each
// property's failure is. JSON, comments allowed, unknown fields are errors
// (as for the spec: a typo must not silently weaken a check).
#ifndef CELL_POLICY_POLICY_H_
#define CELL_POLICY_POLICY_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "launcher/spec/spec.h"

namespace cell::policy {

enum class Severity { kFail, kWarn, kOff };

struct NetworkRules {
  std::vector<std::string> must_allow;  // Hosts the filter must allow.
  std::vector<std::string> must_deny;   // Hosts the filter must deny.
  bool forbid_allow_all = false;
  // Private, loopback, link-local and cloud-metadata hosts must be denied.
  bool forbid_private_addresses = false;
};

struct MountRules {
  // Host paths that may not be bound, nor any directory containing them.
  // "~" is the invoking user's home.
  std::vector<std::string> forbidden_sources;
  // When set, every writable bind (worktree, logDir, "bind" mounts) must
  // come from beneath one of these.
  std::vector<std::string> writable_sources_under;
  // No read-write bind of a system directory (SystemDirectories()), of one
  // inside it, or of one holding it: what the host runs as root.
  bool forbid_writable_system_dirs = false;
};

struct EnvRules {
  std::vector<std::string> forbidden_names;  // Globs, e.g. "*_TOKEN".
};

struct IsolationRules {
  std::optional<bool> pid_namespace;
  std::optional<bool> ipc_namespace;
  std::optional<Capabilities> capabilities;
  std::optional<bool> seccomp;
  std::optional<bool> read_only_root;
  // true: the cell must not run as host uid 0 (see hostUser).
  std::optional<bool> non_root_host_user;
  // true: `protect` must cover DefaultProtectedPaths().
  std::optional<bool> protect_defaults;
};

struct LimitRules {
  // Limits the spec must set: "memoryMax", "pidsMax", or an rlimit name
  // ("nofile", "nproc", ...).
  std::vector<std::string> required;
};

struct Policy {
  std::string name;
  NetworkRules network;
  MountRules mounts;
  EnvRules env;
  IsolationRules isolation;
  LimitRules limits;
  bool nix_daemon_required = false;
  // What to make of the Nix daemon fetching for the cell on the host
  // (fixed-output derivations, substitutes: not through the cell's proxy
  // and filter): a warning by default; "fail" in agent-strict unless a
  // site policy says "accept".
  enum class DaemonEgress { kAccept, kWarn, kFail };
  DaemonEgress nix_daemon_egress = DaemonEgress::kWarn;
  // Property id -> severity; properties not listed fail.
  std::map<std::string, Severity> severity;
};

// The host's system directories: /usr, /bin, /sbin, /lib*, /etc, /boot,
// /opt, /var/lib, /var/cache.
const std::vector<std::string>& SystemDirectories();

// Every property id a policy can name in `severity`, in report order: the
// registry's (policy/properties/property.h).
const std::vector<std::string>& PropertyIds();

absl::StatusOr<Policy> ParsePolicy(absl::string_view text,
                                   absl::string_view source);

// The shipped profiles: "documented" (the cell behaves exactly as
// docs/spec.md documents, unsafe defaults included) and "agent-strict"
// (what we recommend before letting an agent loose).
absl::StatusOr<Policy> BuiltinProfile(absl::string_view name);
const std::vector<std::string>& BuiltinProfileNames();

Severity SeverityOf(const Policy& policy, absl::string_view property);
absl::string_view SeverityName(Severity severity);

}  // namespace cell::policy

#endif  // CELL_POLICY_POLICY_H_

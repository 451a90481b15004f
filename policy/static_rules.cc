#include "policy/static_rules.h"

#include <fnmatch.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/fs_util.h"
#include "base/status_macros.h"
#include "launcher/proxy/filter.h"
#include "policy/filter_analysis.h"

namespace cell::policy {
namespace {

std::string Expand(const std::string& path, const std::string& home) {
  if (path == "~") return home;
  if (absl::StartsWith(path, "~/")) return absl::StrCat(home, path.substr(1));
  return path;
}

// A host path the cell sees, where from in the spec, and whether writable.
struct Source {
  std::string path;
  std::string field;
  bool writable;
};

std::vector<Source> Sources(const CellSpec& spec) {
  std::vector<Source> sources = {{spec.worktree_path, "worktreePath", true}};
  if (spec.log_dir.has_value())
    sources.push_back({*spec.log_dir, "logDir", true});
  if (spec.nix) {
    sources.push_back({spec.nix_store, "nixStore", false});
    sources.push_back({spec.nix_daemon_socket, "nixDaemonSocket", false});
  }
  // Read-only, but shown to every TLS client: a forbidden file (a key in
  // ~/.ssh) named there is as exposed as a bind of it.
  if (spec.tls_roots.has_value()) {
    sources.push_back({*spec.tls_roots, "tlsRoots", false});
  }
  for (size_t i = 0; i < spec.mounts.size(); ++i) {
    const MountSpec& mount = spec.mounts[i];
    if (mount.type != MountType::kBind && mount.type != MountType::kRoBind) {
      continue;
    }
    sources.push_back({mount.src, absl::StrCat("mounts[", i, "].src"),
                       mount.type == MountType::kBind});
  }
  return sources;
}

// Each forbidden source with "~" expanded for every home: the cell's own
// user's (hostUser), cell-verify's and the launcher's may differ
// (attacker round 11: a hostUser's home bound whole passed).
std::vector<std::pair<std::string, std::string>> ForbiddenPaths(
    const Policy& policy, const std::vector<std::string>& homes) {
  std::vector<std::pair<std::string, std::string>> paths;
  for (const std::string& raw : policy.mounts.forbidden_sources) {
    if (raw == "~" || absl::StartsWith(raw, "~/")) {
      for (const std::string& home : homes) {
        paths.emplace_back(raw, Expand(raw, home));
      }
    } else {
      paths.emplace_back(raw, raw);
    }
  }
  return paths;
}

// Writable, in a hidden directory of a home (other than cell's own
// ~/.local/share/cell) or in ~/bin: what a cell writes there runs on the
// host later (~/.local/bin and ~/bin are on PATH, ~/.config holds
// autostart entries and tools' settings).
bool RunsOnTheHost(const std::string& path,
                   const std::vector<std::string>& homes) {
  for (const std::string& home : homes) {
    if (!PathIsSameOrUnder(path, home) || path == home) continue;
    const std::string relative = path.substr(home == "/" ? 0 : home.size());
    if ((absl::StartsWith(relative, "/.") &&
         !PathIsSameOrUnder(relative, "/.local/share/cell")) ||
        PathIsSameOrUnder(relative, "/bin")) {
      return true;
    }
  }
  return false;
}

void CheckMounts(const CellSpec& spec, const Policy& policy,
                 const std::vector<std::string>& homes,
                 std::vector<Finding>* findings) {
  const auto forbidden_paths = ForbiddenPaths(policy, homes);
  for (const Source& source : Sources(spec)) {
    for (const auto& [raw, forbidden] : forbidden_paths) {
      // Binding a directory that contains a forbidden path exposes it too.
      // Beneath one is what narrower binds are for (/etc/ssl/certs, a
      // project in /home), except in the home's own secret stores: a file
      // of ~/.ssh is the key itself.
      const bool secret_store = absl::StartsWith(raw, "~/");
      if (secret_store && PathIsSameOrUnder(source.path, forbidden) &&
          source.path != forbidden) {
        findings->push_back(
            {"mount-policy", FindingLevel::kFail,
             absl::StrCat("`", source.field, "` binds '", source.path,
                          "', inside '", forbidden,
                          "': forbidden by the policy (", raw,
                          "), which holds credentials; remove it"),
             source.field, ""});
        continue;
      }
      if (PathIsSameOrUnder(forbidden, source.path)) {
        findings->push_back(
            {"mount-policy", FindingLevel::kFail,
             absl::StrCat(
                 "`", source.field, "` binds '", source.path, "'",
                 source.path == forbidden
                     ? ""
                     : absl::StrCat(", which contains '", forbidden, "'"),
                 ": forbidden by the policy (", raw,
                 "); bind a narrower directory"),
             source.field, ""});
      }
    }
    if (source.writable && spec.nix &&
        (PathIsSameOrUnder(source.path, spec.nix_store) ||
         PathIsSameOrUnder(spec.nix_store, source.path))) {
      findings->push_back(
          {"mount-policy", FindingLevel::kFail,
           absl::StrCat("`", source.field, "` binds '", source.path,
                        "' writable, which exposes the Nix store (",
                        spec.nix_store, ") for writing; make it a ro-bind"),
           source.field, "--ro-bind=SRC[:DST]"});
    }
    // What a cell writes in a home's hidden directories runs on the host
    // later: ~/.local/bin is on PATH, ~/.config holds autostart entries
    // and tools' settings, ~/.bashrc... A persistent home belongs in a
    // place of cell's own.
    if (source.writable && source.field != "logDir" &&
        policy.mounts.forbid_writable_system_dirs) {
      if (RunsOnTheHost(source.path, homes)) {
        findings->push_back(
            {"mount-policy", FindingLevel::kFail,
             absl::StrCat("`", source.field, "` binds '", source.path,
                          "' writable: a hidden directory of a home (or its "
                          "bin), where what the cell writes runs on the host "
                          "(~/.local/bin and ~/bin are on PATH, ~/.config "
                          "holds autostart entries); use "
                          "~/.local/share/cell/ or a directory outside the "
                          "home"),
             source.field, "--bind=SRC[:DST]"});
      }
    }
    // logDir is written by the launcher only (read-only inside).
    if (source.writable && source.field != "logDir" &&
        policy.mounts.forbid_writable_system_dirs) {
      for (const std::string& dir : SystemDirectories()) {
        if (!PathIsSameOrUnder(source.path, dir) &&
            !PathIsSameOrUnder(dir, source.path)) {
          continue;
        }
        findings->push_back(
            {"mount-policy", FindingLevel::kFail,
             absl::StrCat("`", source.field, "` binds '", source.path,
                          "' writable: ", dir,
                          " is a system directory the host runs as root; "
                          "make it a ro-bind"),
             source.field, "--ro-bind=SRC[:DST]"});
        break;
      }
    }
    if (source.writable && !policy.mounts.writable_sources_under.empty()) {
      bool inside = false;
      for (const std::string& raw : policy.mounts.writable_sources_under) {
        for (const std::string& home : homes) {
          inside = inside || PathIsSameOrUnder(source.path, Expand(raw, home));
        }
      }
      if (!inside) {
        findings->push_back(
            {"mount-policy", FindingLevel::kFail,
             absl::StrCat("`", source.field, "` binds '", source.path,
                          "' writable, outside the directories the policy "
                          "allows for writable binds; move it, or make it a "
                          "ro-bind"),
             source.field, "--ro-bind=SRC[:DST]"});
      }
    }
  }
}

// What a credential's value looks like, when its name does not say so
// (attacker round 11: GH_PAT=ghp_..., OPENAI_KEY=sk-..., a database URL
// with its password): the providers' token prefixes, cloud access keys,
// PEM keys, and URLs carrying user:password. "" when none.
std::string CredentialShape(const std::string& value) {
  static const char* const kPrefixes[] = {
      "ghp_",  "gho_",  "ghu_",  "ghs_",  "ghr_", "github_pat_", "glpat-",
      "xoxb-", "xoxp-", "xoxa-", "xapp-", "sk-",  "sk_live_",    "rk_live_",
      "AIza",  "ya29.", "npm_",  "pypi-", "hf_",  "dop_v1_",     "SG."};
  for (const char* prefix : kPrefixes) {
    if (absl::StartsWith(value, prefix) && value.size() >= 16) {
      return absl::StrCat("a token (", prefix, "...)");
    }
  }
  if ((absl::StartsWith(value, "AKIA") || absl::StartsWith(value, "ASIA")) &&
      value.size() == 20) {
    return "an AWS access key";
  }
  if (absl::StrContains(value, "-----BEGIN")) return "a PEM key or certificate";
  // scheme://user:password@host
  const size_t scheme = value.find("://");
  if (scheme != std::string::npos) {
    const size_t at = value.find('@', scheme + 3);
    const size_t colon = value.find(':', scheme + 3);
    const size_t slash = value.find('/', scheme + 3);
    if (at != std::string::npos && colon != std::string::npos && colon < at &&
        (slash == std::string::npos || at < slash) && colon + 1 < at) {
      return "a URL with a password";
    }
  }
  return "";
}

void CheckEnv(const CellSpec& spec, const Policy& policy,
              std::vector<Finding>* findings) {
  for (const auto& [name, value] : spec.env) {
    if (const std::string shape = CredentialShape(value);
        !shape.empty() && !policy.env.forbidden_names.empty()) {
      findings->push_back(
          {"env-policy", FindingLevel::kFail,
           absl::StrCat("`env.", name, "` holds what looks like ", shape,
                        "; pass credentials by reference (a file bound "
                        "read-only), not in the environment"),
           absl::StrCat("env.", name), ""});
      continue;
    }
    for (const std::string& glob : policy.env.forbidden_names) {
      if (fnmatch(glob.c_str(), name.c_str(), 0) == 0) {
        findings->push_back(
            {"env-policy", FindingLevel::kFail,
             absl::StrCat("`env.", name, "` matches the forbidden name '", glob,
                          "'; pass credentials by reference (a file bound "
                          "read-only), not in the environment"),
             absl::StrCat("env.", name), ""});
        break;
      }
    }
  }
}

void CheckIsolation(const CellSpec& spec, const Policy& policy, uid_t cell_uid,
                    std::vector<Finding>* findings) {
  const IsolationRules& rules = policy.isolation;
  // `field` and `flag` set it right; the flag is "" where the fix is to
  // leave a switch off.
  auto require = [findings](bool ok, const std::string& message,
                            const std::string& field, const std::string& flag) {
    if (!ok) {
      findings->push_back(
          {"isolation-policy", FindingLevel::kFail, message, field, flag});
    }
  };
  if (rules.pid_namespace.has_value()) {
    require(spec.isolation.pid_namespace == *rules.pid_namespace,
            *rules.pid_namespace
                ? "the cell shares the host's PID namespace (it can see and "
                  "signal host processes); set isolation.pidNamespace: true "
                  "(--pid-namespace)"
                : "the policy requires the host's PID namespace; set "
                  "isolation.pidNamespace: false",
            "isolation.pidNamespace",
            *rules.pid_namespace ? "--pid-namespace" : "");
  }
  if (rules.ipc_namespace.has_value()) {
    require(spec.isolation.ipc_namespace == *rules.ipc_namespace,
            *rules.ipc_namespace
                ? "the cell shares the host's IPC namespace; set "
                  "isolation.ipcNamespace: true (--ipc-namespace)"
                : "the policy requires the host's IPC namespace; set "
                  "isolation.ipcNamespace: false",
            "isolation.ipcNamespace",
            *rules.ipc_namespace ? "--ipc-namespace" : "");
  }
  if (rules.seccomp.has_value()) {
    require(spec.isolation.seccomp == *rules.seccomp,
            *rules.seccomp
                ? "the cell may create namespaces, ptrace, use keyrings and "
                  "bpf; set isolation.seccomp: true (--seccomp)"
                : "the policy forbids the seccomp filter; set "
                  "isolation.seccomp: false",
            "isolation.seccomp", *rules.seccomp ? "--seccomp" : "");
  }
  if (rules.read_only_root.has_value()) {
    require(spec.isolation.read_only_root == *rules.read_only_root,
            *rules.read_only_root
                ? "the cell may rewrite its root (/etc, /bin links); set "
                  "isolation.readOnlyRoot: true (--read-only-root)"
                : "the policy requires a writable root; set "
                  "isolation.readOnlyRoot: false",
            "isolation.readOnlyRoot",
            *rules.read_only_root ? "--read-only-root" : "");
  }
  if (rules.non_root_host_user.value_or(false)) {
    require(cell_uid != 0,
            "the cell runs as host root: to the kernel's uid checks (sysctls, "
            "files on binds) and to the Nix daemon, which trusts it; launch "
            "it as an unprivileged user, or set hostUser (--host-user=NAME) "
            "when the launcher runs as root",
            "hostUser", "--host-user=NAME");
  }
  if (rules.protect_defaults.value_or(false)) {
    std::vector<std::string> missing;
    for (const std::string& path : DefaultProtectedPaths()) {
      if (std::find(spec.protect.begin(), spec.protect.end(), path) ==
          spec.protect.end()) {
        missing.push_back(path);
      }
    }
    require(missing.empty(),
            absl::StrCat("the cell may write ", absl::StrJoin(missing, ", "),
                         ", which run code or decide what runs outside the "
                         "cell later; set \"protect\": [\"@defaults\"] "
                         "(--protect=@defaults)"),
            "protect", "--protect=@defaults");
  }
  for (const std::string& name : policy.limits.required) {
    const bool set = name == "memoryMax" ? spec.limits.memory_max.has_value()
                     : name == "pidsMax" ? spec.limits.pids_max.has_value()
                                         : spec.limits.rlimits.count(name) > 0;
    const std::string field = name == "memoryMax" || name == "pidsMax"
                                  ? absl::StrCat("limits.", name)
                                  : absl::StrCat("limits.rlimits.", name);
    const std::string flag = name == "memoryMax" ? "--memory-max=SIZE"
                             : name == "pidsMax"
                                 ? "--pids-max=N"
                                 : absl::StrCat("--rlimit=", name, "=N");
    require(
        set,
        absl::StrCat("the policy requires `", field, "`; set it (", flag, ")"),
        field, flag);
  }
  if (rules.capabilities.has_value()) {
    require(spec.isolation.capabilities == *rules.capabilities,
            *rules.capabilities == Capabilities::kNone
                ? "the cell keeps every capability of its namespace; set "
                  "isolation.capabilities: \"none\" (--capabilities=none)"
                : "the policy requires capabilities; set "
                  "isolation.capabilities: \"all\"",
            "isolation.capabilities",
            *rules.capabilities == Capabilities::kNone ? "--capabilities=none"
                                                       : "--capabilities=all");
  }
}

}  // namespace

absl::StatusOr<std::vector<Finding>> CheckSpecStatically(
    const CellSpec& spec, const Policy& policy,
    const std::vector<std::string>& homes, uid_t cell_uid) {
  std::vector<Finding> findings;
  CheckMounts(spec, policy, homes, &findings);
  CheckEnv(spec, policy, &findings);
  CheckIsolation(spec, policy, cell_uid, &findings);
  if (spec.nix && policy.nix_daemon_egress != Policy::DaemonEgress::kAccept) {
    findings.push_back(
        {"nix-policy",
         policy.nix_daemon_egress == Policy::DaemonEgress::kFail
             ? FindingLevel::kFail
             : FindingLevel::kWarn,
         "the Nix daemon downloads for the cell on the host, past its proxy "
         "and filter (fixed-output derivations such as fetchurl, and "
         "substitutes): a derivation can fetch any URL the host can reach; "
         "set \"nix\": false (--no-nix), or accept it in the policy "
         "(\"nixDaemonEgress\": \"accept\")",
         "nix", "--no-nix"});
  }
  if (policy.nix_daemon_required && !spec.nix) {
    findings.push_back({"nix-policy", FindingLevel::kFail,
                        "the policy requires the Nix daemon; set \"nix\": true "
                        "and point nixDaemonSocket at it",
                        "nix", ""});
  }
  if (spec.network.mode == NetworkMode::kProxy) {
    std::vector<FilterPattern> patterns;
    std::string source = "(no filter)";
    if (spec.tinyproxy_filter.has_value()) {
      source = *spec.tinyproxy_filter;
      CELL_ASSIGN_OR_RETURN(patterns, LoadFilterFile(source));
    }
    // Every filter finding is fixed in the filter file, or by naming one.
    for (Finding& finding :
         AnalyzeFilter(patterns, source, spec.tinyproxy_filter.has_value(),
                       policy.network)) {
      finding.field = "tinyproxyFilter";
      finding.flag = "--filter=FILE";
      findings.push_back(std::move(finding));
    }
    // tinyproxy judges names only: one that resolves to the host's own
    // loopback or a private network is let through (the builtin engine
    // checks the address it connects to).
    if (spec.network.engine == EngineKind::kTinyproxy) {
      findings.push_back(
          {"filter-policy",
           policy.network.forbid_private_addresses ? FindingLevel::kFail
                                                   : FindingLevel::kWarn,
           "the tinyproxy engine judges host names only: a name the filter "
           "allows may resolve to host loopback, a private network or a "
           "metadata address; use the builtin engine (\"engine\": "
           "\"builtin\", --engine=builtin), which checks the address",
           "network.engine", "--engine=builtin"});
    }
  }
  return findings;
}

}  // namespace cell::policy

#include "policy/evaluate.h"

#include <signal.h>
#include <sys/resource.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/fs_util.h"
#include "launcher/spec/plan.h"

namespace cell::policy {
namespace {

using Json = nlohmann::json;

// A fact at a path of keys, or null when any step is missing.
Json At(const Observation& observation, const std::string& probe,
        std::initializer_list<const char*> keys) {
  const auto it = observation.facts.find(probe);
  if (it == observation.facts.end()) return nullptr;
  const Json* node = &it->second;
  for (const char* key : keys) {
    if (!node->is_object() || !node->contains(key)) return nullptr;
    node = &(*node)[key];
  }
  return *node;
}

// True when the spec itself puts something at `path` (a mount at it or
// above it): then seeing it is what the spec asked for.
bool BoundBySpec(const CellSpec& spec, const std::string& path) {
  for (const MountSpec& mount : spec.mounts) {
    if (PathIsSameOrUnder(path, mount.dst)) return true;
  }
  return false;
}

std::string Show(const Json& value) {
  return value.is_string() ? value.get<std::string>() : value.dump();
}

class Judge {
 public:
  Judge(const Policy& policy, std::vector<PropertyResult>* results)
      : policy_(policy), results_(results) {}

  // Records one property: `ok` with the values side by side; a missing
  // probe or fact makes it an error, never a pass.
  void Check(const std::string& property, bool have_facts, bool ok,
             std::string expected, std::string observed, std::string message) {
    PropertyResult result{property, Outcome::kPass, std::move(expected),
                          std::move(observed), ""};
    const Severity severity = SeverityOf(policy_, property);
    if (severity == Severity::kOff) {
      result.outcome = Outcome::kOff;
    } else if (!have_facts) {
      result.outcome = Outcome::kError;
      result.message = "the probe did not report this; see the probe output";
    } else if (!ok) {
      result.outcome =
          severity == Severity::kWarn ? Outcome::kWarn : Outcome::kFail;
      result.message = std::move(message);
    }
    results_->push_back(std::move(result));
  }

 private:
  const Policy& policy_;
  std::vector<PropertyResult>* results_;
};

void EvaluateFindings(const Policy& policy,
                      const std::vector<Finding>& findings,
                      std::vector<PropertyResult>* results) {
  for (const char* property : {"filter-policy", "mount-policy", "env-policy",
                               "isolation-policy", "nix-policy"}) {
    std::vector<std::string> failures;
    std::vector<std::string> warnings;
    for (const Finding& finding : findings) {
      if (finding.property != property) continue;
      (finding.level == FindingLevel::kFail ? failures : warnings)
          .push_back(finding.message);
    }
    PropertyResult result{property, Outcome::kPass, "no findings", "", ""};
    const Severity severity = SeverityOf(policy, property);
    if (severity == Severity::kOff) {
      result.outcome = Outcome::kOff;
    } else if (!failures.empty()) {
      result.outcome =
          severity == Severity::kWarn ? Outcome::kWarn : Outcome::kFail;
      failures.insert(failures.end(), warnings.begin(), warnings.end());
      result.message = absl::StrJoin(failures, "; ");
    } else if (!warnings.empty()) {
      result.outcome = Outcome::kWarn;
      result.message = absl::StrJoin(warnings, "; ");
    }
    result.observed = absl::StrCat(failures.size(), " failing, ",
                                   warnings.size(), " advisory");
    results->push_back(std::move(result));
  }
}

constexpr uint64_t kMiB = 1 << 20;

// The last component of a cgroup path, e.g. "cell-4026531836-12-34".
absl::string_view Leaf(const Json& path) {
  if (!path.is_string()) return "";
  absl::string_view text = path.get_ref<const std::string&>();
  return text.substr(text.rfind('/') + 1);
}

// The cell's own cgroup holds `controller` when its path there (or in the
// unified hierarchy) ends in one the launcher made.
bool InCellCgroup(const Json& cgroups, const char* controller) {
  if (!cgroups.is_object()) return false;
  for (const char* key : {controller, ""}) {
    if (cgroups.contains(key) &&
        absl::StartsWith(Leaf(cgroups[key]), "cell-")) {
      return true;
    }
  }
  return false;
}

void JudgeLimits(const CellSpec& spec, const Observation& o, Judge* judge) {
  {
    const Json rlimits = At(o, "limits", {"rlimits"});
    std::vector<std::string> wrong;
    for (const auto& [name, host] : o.host_rlimits.items()) {
      const auto set = spec.limits.rlimits.find(name);
      const Json want = set == spec.limits.rlimits.end()
                            ? host
                            : RlimitFacts(set->second, set->second);
      const Json got = rlimits.is_object() && rlimits.contains(name)
                           ? rlimits[name]
                           : Json();
      if (got != want) {
        wrong.push_back(
            absl::StrCat(name, " ", Show(got), " (want ", Show(want), ")"));
      }
    }
    std::vector<std::string> set;
    for (const auto& [name, value] : spec.limits.rlimits) {
      set.push_back(absl::StrCat(name, "=", value));
    }
    judge->Check("rlimits", rlimits.is_object(), wrong.empty(),
                 set.empty() ? "the launcher's rlimits, unchanged"
                             : absl::StrCat(absl::StrJoin(set, ", "),
                                            "; the others as the launcher's"),
                 wrong.empty() ? "as expected" : absl::StrJoin(wrong, "; "),
                 "the rlimits inside do not match limits.rlimits");
  }
  const Json cgroups = At(o, "limits", {"cgroups"});
  if (!spec.limits.NeedsCgroup()) {
    judge->Check("cgroup-limits", cgroups.is_object(),
                 cgroups == o.host_cgroups, "the launcher's cgroups, unchanged",
                 Show(cgroups),
                 "the cell runs in other cgroups than the launcher although "
                 "the spec sets no limits");
    return;
  }
  std::vector<std::string> expected;
  std::vector<std::string> observed;
  bool ok = true;
  if (spec.limits.pids_max.has_value()) {
    const uint64_t max = *spec.limits.pids_max;
    const bool inside = InCellCgroup(cgroups, "pids");
    ok = ok && inside;
    expected.push_back(absl::StrCat("pids: own cgroup, under ", max, " tasks"));
    std::string seen = inside ? "pids: own cgroup" : "pids: NOT in own cgroup";
    if (ForkTestCount(spec) > 0) {
      const Json started = At(o, "limits", {"forkTest", "started"});
      const bool bounded = started.is_number_integer() &&
                           started.get<int64_t>() >= 0 &&
                           started.get<uint64_t>() < max;
      ok = ok && bounded;
      absl::StrAppend(&seen, ", ", Show(started), " of ", ForkTestCount(spec),
                      " forks started");
    }
    observed.push_back(std::move(seen));
  }
  if (spec.limits.memory_max.has_value()) {
    const uint64_t max = *spec.limits.memory_max;
    const bool inside = InCellCgroup(cgroups, "memory");
    ok = ok && inside;
    expected.push_back(
        absl::StrCat("memory: own cgroup, killed before ", max / kMiB, " MiB"));
    std::string seen =
        inside ? "memory: own cgroup" : "memory: NOT in own cgroup";
    if (MemoryTestMiB(spec) > 0) {
      const Json touched = At(o, "limits", {"memoryTest", "touchedMiB"});
      const Json signal = At(o, "limits", {"memoryTest", "signal"});
      const bool bounded =
          touched.is_number_integer() && touched.get<int64_t>() >= 0 &&
          touched.get<uint64_t>() * kMiB <= max && signal == SIGKILL;
      ok = ok && bounded;
      absl::StrAppend(&seen, ", touched ", Show(touched), " of ",
                      MemoryTestMiB(spec), " MiB, then signal ", Show(signal));
    }
    observed.push_back(std::move(seen));
  }
  judge->Check("cgroup-limits", cgroups.is_object(), ok,
               absl::StrJoin(expected, "; "), absl::StrJoin(observed, "; "),
               "the cell's cgroup does not bound what limits.memoryMax / "
               "limits.pidsMax say");
}

}  // namespace

int ForkTestCount(const CellSpec& spec) {
  if (!spec.limits.pids_max.has_value() || *spec.limits.pids_max > 1024) {
    return 0;
  }
  return static_cast<int>(*spec.limits.pids_max) + 8;
}

int MemoryTestMiB(const CellSpec& spec) {
  if (!spec.limits.memory_max.has_value() ||
      *spec.limits.memory_max > 512 * kMiB) {
    return 0;
  }
  return static_cast<int>(*spec.limits.memory_max / kMiB) * 2 + 8;
}

Json RlimitFacts(uint64_t soft, uint64_t hard) {
  const auto fact = [](uint64_t value) {
    return value == RLIM_INFINITY ? Json() : Json(value);
  };
  return {{"soft", fact(soft)}, {"hard", fact(hard)}};
}

absl::string_view OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kPass:
      return "pass";
    case Outcome::kFail:
      return "fail";
    case Outcome::kWarn:
      return "warn";
    case Outcome::kError:
      return "error";
    case Outcome::kOff:
      return "off";
  }
  return "?";
}

bool AllPassed(const std::vector<PropertyResult>& results) {
  for (const PropertyResult& result : results) {
    if (result.outcome == Outcome::kFail || result.outcome == Outcome::kError) {
      return false;
    }
  }
  return true;
}

std::vector<PropertyResult> EvaluateStatic(
    const Policy& policy, const std::vector<Finding>& findings) {
  std::vector<PropertyResult> results;
  EvaluateFindings(policy, findings, &results);
  return results;
}

std::map<std::string, Json> ParseProbeFacts(absl::string_view probe_output) {
  std::map<std::string, Json> facts;
  for (absl::string_view line :
       absl::StrSplit(probe_output, '\n', absl::SkipEmpty())) {
    Json parsed = Json::parse(line.begin(), line.end(), nullptr,
                              /*allow_exceptions=*/false);
    if (!parsed.is_object()) continue;
    const auto probe = parsed.find("probe");
    const auto probe_facts = parsed.find("facts");
    if (probe == parsed.end() || !probe->is_string() ||
        probe_facts == parsed.end() || !probe_facts->is_object()) {
      continue;
    }
    facts[probe->get<std::string>()] = std::move(*probe_facts);
  }
  return facts;
}

std::vector<PropertyResult> Evaluate(const CellSpec& spec, const Policy& policy,
                                     const Observation& o,
                                     const std::vector<Finding>& findings) {
  std::vector<PropertyResult> results;
  Judge judge(policy, &results);
  const auto host_ns = [&o](const char* kind) -> Json {
    const auto it = o.host_namespaces.find(kind);
    return it == o.host_namespaces.end() ? Json() : Json(it->second);
  };

  // pid-namespace: the host's (PID 1 visible) unless the spec asks for one.
  {
    const Json ns = At(o, "ns", {"pid"});
    const Json comm = At(o, "pid", {"pid1Comm"});
    const bool shared = !ns.is_null() && ns == host_ns("pid");
    const bool want_own = spec.isolation.pid_namespace;
    judge.Check(
        "pid-namespace", !ns.is_null(), want_own ? !shared : shared,
        want_own ? "own PID namespace" : "host PID namespace (PID 1 visible)",
        absl::StrCat(shared ? "host" : "own", " PID namespace, PID 1 is ",
                     Show(comm)),
        want_own ? "the cell sees the host's processes although "
                   "isolation.pidNamespace is true"
                 : "the cell has its own PID namespace although the spec "
                   "shares the host's");
  }
  {
    const Json ns = At(o, "ns", {"ipc"});
    const bool shared = !ns.is_null() && ns == host_ns("ipc");
    const bool want_own = spec.isolation.ipc_namespace;
    judge.Check("ipc-namespace", !ns.is_null(), want_own ? !shared : shared,
                want_own ? "own IPC namespace" : "host IPC namespace",
                shared ? "host IPC namespace" : "own IPC namespace",
                "the IPC namespace does not match isolation.ipcNamespace");
  }
  {
    const Json v4 = At(o, "net", {"ipv4", "count"});
    const Json v6 = At(o, "net", {"ipv6", "default"});
    const Json interfaces = At(o, "net", {"interfaces"});
    const Json direct = At(o, "net", {"direct", "connected"});
    bool only_lo = interfaces.is_object() && interfaces.size() == 1 &&
                   interfaces.contains("lo");
    const bool ok = v4 == 0 && v6 == false && only_lo && direct == false;
    judge.Check(
        "no-routes", !v4.is_null() && !interfaces.is_null(), ok,
        "only lo, no IPv4 routes, no IPv6 default, direct connect fails",
        absl::StrCat("interfaces ", Show(interfaces), ", ", Show(v4),
                     " IPv4 routes, IPv6 default ", Show(v6),
                     ", direct connect ",
                     direct == true ? "succeeded" : "failed"),
        "the cell has a way out besides the proxy");
  }
  if (spec.nix) {
    const Json read_only = At(o, "store", {"mount", "readOnly"});
    const Json error = At(o, "store", {"writeError"});
    // Read-only until the command remounts it: the remount must fail too.
    const Json remount = At(o, "store", {"remountWritable"});
    judge.Check(
        "store-read-only", !read_only.is_null(),
        read_only == true && At(o, "store", {"writable"}) == false &&
            remount.is_string() && remount != "ok",
        "/nix/store mounted read-only, writes fail with EROFS, a read-write "
        "remount fails",
        absl::StrCat("read-only ", Show(read_only), ", write: ", Show(error),
                     ", remount read-write: ", Show(remount)),
        remount == "ok" ? "the command can remount the store read-write"
                        : "the store is writable from inside the cell");
    const Json config = At(o, "nix", {"NIX_CONFIG"});
    const Json remote = At(o, "nix", {"NIX_REMOTE"});
    judge.Check(
        "nix-config", o.facts.count("nix") > 0,
        config ==
                "experimental-features = nix-command flakes\nsubstitute = "
                "true" &&
            remote == "unix:///run/nix/socket",
        "NIX_CONFIG and NIX_REMOTE forced",
        absl::StrCat("NIX_CONFIG=", Show(config), " NIX_REMOTE=", Show(remote)),
        "the forced Nix variables are missing or changed");
    const Json handshake = At(o, "nix", {"daemon", "handshake"});
    judge.Check(
        "nix-daemon", o.facts.count("nix") > 0, handshake == true,
        "the daemon answers the worker handshake at /run/nix/socket",
        handshake == true
            ? absl::StrCat("protocol ",
                           Show(At(o, "nix", {"daemon", "protocolVersion"})))
            : Show(At(o, "nix", {"daemon", "error"})),
        "the Nix daemon is not reachable; check nixDaemonSocket");
  }
  {
    const Json mode = At(o, "seccomp", {"mode"});
    const Json attempts = At(o, "seccomp", {"attempts"});
    const bool want = spec.isolation.seccomp;
    std::vector<std::string> allowed;  // Routes not denied with EPERM.
    if (attempts.is_object()) {
      for (const auto& [name, result] : attempts.items()) {
        if (!result.is_string() ||
            !absl::StartsWith(result.get<std::string>(), "EPERM")) {
          allowed.push_back(name);
        }
      }
    }
    const bool all_denied =
        attempts.is_object() && !attempts.empty() && allowed.empty();
    judge.Check(
        "seccomp", !mode.is_null(), want ? mode == 2 && all_denied : mode == 0,
        want ? "filter on (mode 2); unshare, ptrace, keyctl, bpf, io_uring, "
               "TIOCSTI fail with "
               "EPERM"
             : "no filter (mode 0)",
        absl::StrCat(
            "mode ", Show(mode),
            allowed.empty()
                ? ""
                : absl::StrCat("; allowed: ", absl::StrJoin(allowed, ", "))),
        "the seccomp filter does not match isolation.seccomp");
  }
  {
    const Json uid = At(o, "identity", {"uid"});
    const Json gid = At(o, "identity", {"gid"});
    judge.Check("identity", !uid.is_null(), uid == o.uid && gid == o.gid,
                absl::StrCat("uid ", o.uid, ", gid ", o.gid, " (1:1)"),
                absl::StrCat("uid ", Show(uid), ", gid ", Show(gid)),
                "ids inside differ from the caller's");
  }
  {
    const Json count = At(o, "caps", {"CapEff", "count"});
    const Json mount = At(o, "caps", {"mountInNewNamespace", "ok"});
    const Json net = At(o, "caps", {"setLoopbackFlags", "ok"});
    const bool all = spec.isolation.capabilities == Capabilities::kAll;
    // The mount test needs unshare, which the seccomp filter denies.
    const bool mount_expected = all && !spec.isolation.seccomp;
    const bool ok = all ? count == o.host_capability_count &&
                              mount == mount_expected && net == true
                        : count == 0 && mount == false && net == false;
    judge.Check(
        "capabilities", !count.is_null(), ok,
        all ? absl::StrCat("all ", o.host_capability_count,
                           " effective, and they work")
            : "none effective, and privileged operations fail",
        absl::StrCat(Show(count),
                     " effective; mount in a new "
                     "namespace ",
                     mount == true ? "works" : "fails", "; setting lo's flags ",
                     net == true ? "works" : "fails"),
        "capabilities do not match isolation.capabilities");
  }
  {
    const Json visible = At(o, "mounts", {"hostPathsVisible"});
    std::vector<std::string> leaked;
    if (visible.is_object()) {
      for (const auto& [path, seen] : visible.items()) {
        if (seen != true || BoundBySpec(spec, path)) continue;
        leaked.push_back(path);
      }
    }
    judge.Check("only-explicit-binds", visible.is_object(), leaked.empty(),
                "no host path visible unless bound",
                leaked.empty()
                    ? "none visible"
                    : absl::StrCat("visible: ", absl::StrJoin(leaked, ", ")),
                "host paths are visible that the spec does not bind");
  }
  {
    const Json writable = At(o, "fs", {"root", "writable"});
    const bool want_read_only = spec.isolation.read_only_root;
    judge.Check(
        "root-read-only", !writable.is_null(),
        want_read_only ? writable == false : writable == true,
        want_read_only ? "/ read-only (EROFS)" : "/ writable (a private tmpfs)",
        writable == true ? "writable" : Show(At(o, "fs", {"root", "error"})),
        "the root's mode does not match isolation.readOnlyRoot");
  }
  JudgeLimits(spec, o, &judge);
  {
    const Json writable = At(o, "fs", {"worktree", "writable"});
    judge.Check("worktree-writable", !writable.is_null(), writable == true,
                "writable at /home/cell/worktree",
                writable == true ? "writable"
                                 : Show(At(o, "fs", {"worktree", "error"})),
                "the worktree cannot be written");
  }
  if (spec.network.mode == NetworkMode::kProxy) {
    const Json env = At(o, "net", {"proxyEnv", "http_proxy"});
    const Json connects = At(o, "net", {"connect"});
    std::vector<std::string> expected = {
        absl::StrCat("http_proxy=", ProxyUrl(spec.network.port))};
    std::vector<std::string> observed = {
        absl::StrCat("http_proxy=", Show(env))};
    bool ok = env == ProxyUrl(spec.network.port) &&
              !o.expected_connect_statuses.empty() && connects.is_array() &&
              connects.size() == o.expected_connect_statuses.size();
    for (size_t i = 0; i < o.expected_connect_statuses.size(); ++i) {
      const Json item = connects.is_array() && i < connects.size()
                            ? connects[i]
                            : Json::object();
      const Json target =
          item.is_object() ? item.value("target", Json()) : Json();
      const Json code =
          item.is_object() ? item.value("status", Json()) : Json();
      expected.push_back(absl::StrCat("CONNECT ", Show(target), " -> ",
                                      o.expected_connect_statuses[i]));
      observed.push_back(absl::StrCat(
          "CONNECT ", Show(target), " -> ",
          code.is_null() ? Show(item.value("error", Json("no answer")))
                         : Show(code)));
      ok = ok && code == o.expected_connect_statuses[i];
    }
    judge.Check("proxy", o.facts.count("net") > 0, ok,
                absl::StrJoin(expected, ", "), absl::StrJoin(observed, ", "),
                "the proxy is unreachable, or its decisions differ from "
                "what the filter says (static analysis)");
  }
  judge.Check(
      "cleanup", true, o.jd_removed && o.proxy_gone && o.command_gone,
      "$JD removed, no proxy or command left after exit",
      absl::StrCat("$JD ", o.jd_removed ? "removed" : "LEFT BEHIND", ", proxy ",
                   o.proxy_gone ? "gone" : "STILL RUNNING", ", command ",
                   o.command_gone ? "gone" : "STILL RUNNING"),
      "the run left something behind");
  EvaluateFindings(policy, findings, &results);
  return results;
}

}  // namespace cell::policy

// What the command may do to the kernel: the seccomp filter, its ids and
// its capabilities.
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "policy/properties/facts.h"
#include "policy/properties/property.h"

namespace cell::policy {
namespace {

using Json = nlohmann::json;

Verdict Seccomp(const CellSpec& spec, const Observation& o) {
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
  // Under an outer filter (cell-verify's own: a container's), mode 2 is
  // inherited, and a cell without a filter of its own shows it too.
  const int expected_without = o.host_seccomp_filter ? 2 : 0;
  return {!mode.is_null(),
          want ? mode == 2 && all_denied : mode == expected_without,
          want ? "filter on (mode 2); unshare, ptrace, keyctl, bpf, io_uring, "
                 "TIOCSTI fail with EPERM"
          : o.host_seccomp_filter
              ? "no filter of its own (mode 2: the one cell-verify runs "
                "under, a container's, is inherited)"
              : "no filter (mode 0)",
          absl::StrCat(
              "mode ", Show(mode),
              allowed.empty()
                  ? ""
                  : absl::StrCat("; allowed: ", absl::StrJoin(allowed, ", "))),
          "the seccomp filter does not match isolation.seccomp"};
}

// Every route the filter must close, tried by the bad-arguments method;
// the other ABIs must kill; a new thread must be filtered too.
Verdict SeccompCoverage(const CellSpec&, const Observation& o) {
  const Json coverage = At(o, "seccomp", {"coverage"});
  const Json abis = At(o, "seccomp", {"otherAbis"});
  const Json thread = At(o, "seccomp", {"threadMode"});
  std::vector<std::string> open;
  if (coverage.is_object()) {
    for (const auto& [name, result] : coverage.items()) {
      const std::string text =
          result.is_string() ? result.get<std::string>() : result.dump();
      const bool denied =
          absl::StartsWith(text, "EPERM") ||
          (name == "clone3" && absl::StartsWith(text, "ENOSYS"));
      if (!denied) open.push_back(absl::StrCat(name, " (", text, ")"));
    }
  }
  if (abis.is_object()) {
    for (const auto& [abi, result] : abis.items()) {
      if (result != "SIGSYS") {
        open.push_back(absl::StrCat(abi, " syscalls ", Show(result)));
      }
    }
  }
  if (thread != "2") {
    open.push_back(
        absl::StrCat("a new thread's seccomp mode is ", Show(thread)));
  }
  return {coverage.is_object() && !coverage.empty() && abis.is_object() &&
              thread.is_string(),
          open.empty(),
          "every denied route fails with EPERM (clone3: ENOSYS), i386 and x32 "
          "syscalls kill the process, threads are filtered",
          open.empty()
              ? absl::StrCat(coverage.size(),
                             " routes denied; i386, x32: "
                             "SIGSYS; threads filtered")
              : absl::StrCat("reached the kernel: ", absl::StrJoin(open, ", ")),
          "the seccomp filter leaves a route open"};
}

bool SeccompOn(const CellSpec& spec) { return spec.isolation.seccomp; }

Verdict Identity(const CellSpec&, const Observation& o) {
  const Json uid = At(o, "identity", {"uid"});
  const Json gid = At(o, "identity", {"gid"});
  if (o.foreign_sandbox) {
    // Whichever host user the sandbox runs as: mapped 1:1 (the same
    // number inside as outside), not made root or another user inside.
    const Json host_uid = HostIdOf(uid, At(o, "identity", {"uidMap"}));
    const Json host_gid = HostIdOf(gid, At(o, "identity", {"gidMap"}));
    return {!uid.is_null(),
            !uid.is_null() && uid == host_uid && gid == host_gid,
            "ids inside are the host's (1:1)",
            absl::StrCat("uid ", Show(uid), " (host ", Show(host_uid),
                         "), gid ", Show(gid), " (host ", Show(host_gid), ")"),
            "ids inside differ from the ones the host sees"};
  }
  return {!uid.is_null(), uid == o.uid && gid == o.gid,
          absl::StrCat("uid ", o.uid, ", gid ", o.gid, " (1:1)"),
          absl::StrCat("uid ", Show(uid), ", gid ", Show(gid)),
          "ids inside differ from the caller's"};
}

Verdict CapabilitySet(const CellSpec& spec, const Observation& o) {
  const Json count = At(o, "caps", {"CapEff", "count"});
  const Json mount = At(o, "caps", {"mountInNewNamespace", "ok"});
  const Json net = At(o, "caps", {"setLoopbackFlags", "ok"});
  const bool all = spec.isolation.capabilities == Capabilities::kAll;
  // The mount test needs unshare, which the seccomp filter denies.
  const bool mount_expected = all && !spec.isolation.seccomp;
  const bool ok = all ? count == o.host_capability_count &&
                            mount == mount_expected && net == true
                      : count == 0 && mount == false && net == false;
  return {
      !count.is_null(), ok,
      all ? absl::StrCat("all ", o.host_capability_count,
                         " effective, and they work")
          : "none effective, and privileged operations fail",
      absl::StrCat(Show(count), " effective; mount in a new namespace ",
                   mount == true ? "works" : "fails", "; setting lo's flags ",
                   net == true ? "works" : "fails"),
      "capabilities do not match isolation.capabilities"};
}

}  // namespace

void AddCapabilityProperties(std::vector<PropertyDef>* out) {
  out->push_back({"seccomp",
                  "the seccomp filter matches isolation.seccomp, and denies "
                  "every escape route it lists",
                  "seccomp", 6, nullptr, Seccomp});
  out->push_back({"seccomp-coverage",
                  "with seccomp on: every denied route (namespaces, ptrace, "
                  "keyrings, bpf, io_uring, the new mount API, personality, "
                  "...) fails with EPERM; other ABIs kill; threads filtered",
                  "seccomp", 6, SeccompOn, SeccompCoverage});
  out->push_back({"identity", "ids inside are the caller's (1:1)", "identity",
                  3, nullptr, Identity});
  out->push_back({"capabilities",
                  "capabilities match isolation.capabilities, and work or "
                  "fail accordingly",
                  "caps", 5, nullptr, CapabilitySet});
}

}  // namespace cell::policy

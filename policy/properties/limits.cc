// Rlimits and the cell's cgroup: what bounds the command's resources.
#include "policy/properties/limits.h"

#include <signal.h>
#include <sys/resource.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "policy/properties/facts.h"
#include "policy/properties/property.h"

namespace cell::policy {
namespace {

using Json = nlohmann::json;

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

// A limit value of RlimitFacts ({"soft","hard"}, null for unlimited) at or
// below `host`'s, both halves; `below`: and lower in one.
bool AtMost(const Json& got, const Json& host, bool* below) {
  if (!got.is_object() || !host.is_object()) return false;
  bool ok = true;
  for (const char* half : {"soft", "hard"}) {
    const Json a = got.value(half, Json());
    const Json b = host.value(half, Json());
    if (!b.is_null() && (a.is_null() || !a.is_number() || a > b)) ok = false;
    if (!a.is_null() && (b.is_null() || a < b)) *below = true;
  }
  return ok;
}

// A foreign sandbox may lower the caller's rlimits, never raise them; the
// ones the policy requires (limits.required) it must lower.
Verdict SandboxRlimits(const Observation& o) {
  const Json rlimits = At(o, "limits", {"rlimits"});
  std::vector<std::string> wrong;
  for (const auto& [name, host] : o.host_rlimits.items()) {
    const Json got =
        rlimits.is_object() && rlimits.contains(name) ? rlimits[name] : Json();
    bool below = false;
    const bool at_most = AtMost(got, host, &below);
    const bool required =
        std::find(o.required_limits.begin(), o.required_limits.end(), name) !=
        o.required_limits.end();
    if (!at_most || (required && !below)) {
      wrong.push_back(absl::StrCat(name, " ", Show(got), " (the caller's ",
                                   Show(host),
                                   required ? ", required lower" : "", ")"));
    }
  }
  return {rlimits.is_object(), wrong.empty(),
          "none above the caller's; those limits.required names below them",
          wrong.empty() ? "as expected" : absl::StrJoin(wrong, "; "),
          "the sandbox raises an rlimit, or leaves one the policy requires at "
          "the caller's"};
}

Verdict Rlimits(const CellSpec& spec, const Observation& o) {
  if (o.foreign_sandbox) return SandboxRlimits(o);
  const Json rlimits = At(o, "limits", {"rlimits"});
  std::vector<std::string> wrong;
  for (const auto& [name, host] : o.host_rlimits.items()) {
    const auto set = spec.limits.rlimits.find(name);
    const Json want = set == spec.limits.rlimits.end()
                          ? host
                          : RlimitFacts(set->second, set->second);
    const Json got =
        rlimits.is_object() && rlimits.contains(name) ? rlimits[name] : Json();
    if (got != want) {
      wrong.push_back(
          absl::StrCat(name, " ", Show(got), " (want ", Show(want), ")"));
    }
  }
  std::vector<std::string> set;
  for (const auto& [name, value] : spec.limits.rlimits) {
    set.push_back(absl::StrCat(name, "=", value));
  }
  return {rlimits.is_object(), wrong.empty(),
          set.empty() ? "the launcher's rlimits, unchanged"
                      : absl::StrCat(absl::StrJoin(set, ", "),
                                     "; the others as the launcher's"),
          wrong.empty() ? "as expected" : absl::StrJoin(wrong, "; "),
          "the rlimits inside do not match limits.rlimits"};
}

// A foreign sandbox's cgroup, as the host sees the command: for each of
// memoryMax and pidsMax the policy requires, a cgroup other than the
// caller's for that controller (or the unified hierarchy). The bound's
// value is not read: only that something other than the caller's cgroup
// can hold one.
Verdict SandboxCgroupLimits(const Observation& o) {
  const Json& seen = o.command_cgroups.is_object()
                         ? o.command_cgroups
                         : At(o, "limits", {"cgroups"});
  std::vector<std::string> wrong;
  std::vector<std::string> expected;
  for (const auto& [limit, controller] :
       {std::pair{"memoryMax", "memory"}, std::pair{"pidsMax", "pids"}}) {
    if (std::find(o.required_limits.begin(), o.required_limits.end(), limit) ==
        o.required_limits.end()) {
      continue;
    }
    expected.push_back(absl::StrCat(controller, ": a cgroup of its own"));
    bool own = false;
    for (const char* key : {controller, ""}) {
      own = own ||
            (seen.is_object() && seen.contains(key) &&
             o.host_cgroups.contains(key) && seen[key] != o.host_cgroups[key]);
    }
    if (!own) wrong.push_back(absl::StrCat(controller, ": the caller's"));
  }
  return {seen.is_object(), wrong.empty(),
          expected.empty() ? "nothing required (limits.required)"
                           : absl::StrJoin(expected, "; "),
          wrong.empty() ? Show(seen) : absl::StrJoin(wrong, "; "),
          "the policy requires a memory or pids bound, and the sandbox runs "
          "the command in the caller's cgroup"};
}

Verdict CgroupLimits(const CellSpec& spec, const Observation& o) {
  if (o.foreign_sandbox) return SandboxCgroupLimits(o);
  const Json cgroups = At(o, "limits", {"cgroups"});
  if (!spec.limits.NeedsCgroup()) {
    // As the host saw the command, where it did: a cgroup namespace shows
    // the probe the same cgroups under other names.
    const Json& seen =
        o.command_cgroups.is_object() ? o.command_cgroups : cgroups;
    return {seen.is_object(), seen == o.host_cgroups,
            "the launcher's cgroups, unchanged", Show(seen),
            "the cell runs in other cgroups than the launcher although "
            "the spec sets no limits"};
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
  return {cgroups.is_object(), ok, absl::StrJoin(expected, "; "),
          absl::StrJoin(observed, "; "),
          "the cell's cgroup does not bound what limits.memoryMax / "
          "limits.pidsMax say"};
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

void AddLimitProperties(std::vector<PropertyDef>* out) {
  out->push_back({"rlimits",
                  "rlimits inside are the launcher's, or what limits.rlimits "
                  "sets",
                  "limits", 2, nullptr, Rlimits});
  out->push_back({"cgroup-limits",
                  "the cell's own cgroup bounds memory and tasks as "
                  "limits.memoryMax and limits.pidsMax say",
                  "limits", 4, nullptr, CgroupLimits});
}

}  // namespace cell::policy

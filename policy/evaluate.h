// The judge: expectations derived from the spec (what SPEC.md documents for
// it) and the policy, compared with the facts the probes printed and what
// the host saw after the run. Every property ends as pass / fail / warn /
// error / off, with the observed and expected values side by side.
#ifndef CELL_POLICY_EVALUATE_H_
#define CELL_POLICY_EVALUATE_H_

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "launcher/spec/spec.h"
#include "nlohmann/json.hpp"
#include "policy/finding.h"
#include "policy/policy.h"

namespace cell::policy {

enum class Outcome { kPass, kFail, kWarn, kError, kOff };

struct PropertyResult {
  std::string property;
  Outcome outcome = Outcome::kPass;
  std::string expected;
  std::string observed;
  std::string message;  // Why, and what fixes it, when not passing.
};

// Everything observed about one run of the probes in a cell.
struct Observation {
  // Probe name -> facts, as cell-probe printed them.
  std::map<std::string, nlohmann::json> facts;
  // What the host saw.
  std::map<std::string, uint64_t> host_namespaces;
  std::string host_pid1_comm;
  int host_capability_count = 0;  // cap_last_cap + 1.
  uid_t uid = 0;
  gid_t gid = 0;
  // After the run.
  bool jd_removed = false;
  bool proxy_gone = true;
  bool command_gone = true;
  // cell-verify's own rlimits ({"soft","hard"}, null for unlimited, by
  // RlimitResources() name) and cgroups (controllers -> path, "" for the
  // unified hierarchy): what a cell without `limits` must show.
  nlohmann::json host_rlimits = nlohmann::json::object();
  nlohmann::json host_cgroups = nlohmann::json::object();
  // The status each --connect target should get from the proxy, in order:
  // 200 where the filter (as the static analysis reads it) allows the
  // canary's host, 403 where it denies it.
  std::vector<int> expected_connect_statuses;
};

// The limits probe's cgroup tests for `spec` (0: not run): forks past
// `limits.pidsMax`, and MiB past `limits.memoryMax`, while that stays cheap
// (pidsMax up to 1024, memoryMax up to 512 MiB); larger bounds are judged
// by the cell's cgroup path alone.
int ForkTestCount(const CellSpec& spec);
int MemoryTestMiB(const CellSpec& spec);

// An rlimit as the limits probe reports it: {"soft": N, "hard": N}, null
// for unlimited.
nlohmann::json RlimitFacts(uint64_t soft, uint64_t hard);

// The facts in cell-probe's output: one `{"probe":NAME,"facts":{...}}` per
// line. Lines that are not such an object are skipped: the output comes
// from inside a cell and is never trusted to be well formed.
std::map<std::string, nlohmann::json> ParseProbeFacts(
    absl::string_view probe_output);

// Dynamic properties from `observation`, then the static `findings`
// grouped by property. Severity from the policy turns a fail into a warn or
// off.
std::vector<PropertyResult> Evaluate(const CellSpec& spec, const Policy& policy,
                                     const Observation& observation,
                                     const std::vector<Finding>& findings);

// Static findings only (cell-verify --static-only).
std::vector<PropertyResult> EvaluateStatic(
    const Policy& policy, const std::vector<Finding>& findings);

absl::string_view OutcomeName(Outcome outcome);

// True when no result is a fail or an error.
bool AllPassed(const std::vector<PropertyResult>& results);

}  // namespace cell::policy

#endif  // CELL_POLICY_EVALUATE_H_

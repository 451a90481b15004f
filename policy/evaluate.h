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
#include "policy/properties/limits.h"
#include "policy/properties/property.h"

namespace cell::policy {

enum class Outcome { kPass, kFail, kWarn, kError, kOff };

struct PropertyResult {
  std::string property;
  Outcome outcome = Outcome::kPass;
  std::string expected;
  std::string observed;
  std::string message;  // Why, and what fixes it, when not passing.
};

// The facts in cell-probe's output: one `{"probe":NAME,"facts":{...}}` per
// line. Lines that are not such an object are skipped: the output comes
// from inside a cell and is never trusted to be well formed.
std::map<std::string, nlohmann::json> ParseProbeFacts(
    absl::string_view probe_output);

// Every property of the registry (policy/properties) that applies to
// `spec`: the dynamic ones judged from `observation`, then the static
// `findings` grouped by property. Severity from the policy turns a fail into a
// warn or off.
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

// The judge: expectations derived from the spec (what docs/spec.md
// documents for it) and the policy, compared with the facts the probes printed and what
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

// One entry of a static property's findings, for tools (the JSON report):
// near-identical findings grouped into one (see GroupFindings).
struct FindingEntry {
  // "<property>.<slug>": the slug is the first five words of the message
  // without its quoted names and file lines (lower case, joined by dashes,
  // "the"/"a"/"an" left out; a `field` in backquotes is kept), so the same
  // problem keeps its id from run to run and from spec to spec. A second
  // entry of the property with the same slug gets "-2", and so on.
  std::string id;
  // "fail" or "warn": the finding's level after the policy's severity (a
  // property the policy downgrades to warn has only warnings).
  std::string severity;
  std::string field;  // The spec field that fixes it; "" when not known.
  std::string flag;   // The `cell run` flag that fixes it; "" when not known.
  std::string message;
  int count = 1;  // How many findings this entry stands for.
};

struct PropertyResult {
  std::string property;
  Outcome outcome = Outcome::kPass;
  std::string expected;
  std::string observed;
  std::string message;  // Why, and what fixes it, when not passing.
  // The static findings behind `message`, grouped; empty for a dynamic
  // property, a pass, and a property the policy turns off.
  std::vector<FindingEntry> findings;
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

// A foreign sandbox (cell-verify --sandbox): the dynamic properties judged
// against `reference` (policy/sandbox.h: what the policy requires), the
// static ones `off`: there is no spec to read them from. Never a pass for
// what was not judged.
std::vector<PropertyResult> EvaluateSandbox(const CellSpec& reference,
                                            const Policy& policy,
                                            const Observation& observation);

// Static findings only (cell-verify --static-only).
std::vector<PropertyResult> EvaluateStatic(
    const Policy& policy, const std::vector<Finding>& findings);

// The findings of one property (all with the same `property`) as entries,
// failures first, then warnings, each in the order found. Findings with the
// same level, field and flag whose messages differ only in '...'-quoted
// names are one entry: its `count` says how many, and each quoted place
// lists its names once, comma-separated (`'127.0.0.1', 'localhost' is
// allowed by f:1 '.*'`). A quote opens after a non-alphanumeric character
// and closes before one, so the apostrophe of "host's" is not a quote.
// `as_warnings`: the policy turns this property's failures into warnings.
std::vector<FindingEntry> GroupFindings(const std::vector<Finding>& findings,
                                        bool as_warnings);

absl::string_view OutcomeName(Outcome outcome);

// True when no result is a fail or an error.
bool AllPassed(const std::vector<PropertyResult>& results);

}  // namespace cell::policy

#endif  // CELL_POLICY_EVALUATE_H_

#include "policy/evaluate.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace cell::policy {
namespace {

using Json = nlohmann::json;

// One property's result: the verdict, with the policy's severity applied.
// A missing probe or fact makes it an error, never a pass.
PropertyResult Judged(const Policy& policy, const PropertyDef& property,
                      Verdict verdict) {
  PropertyResult result{property.id, Outcome::kPass,
                        std::move(verdict.expected),
                        std::move(verdict.observed), ""};
  const Severity severity = SeverityOf(policy, property.id);
  if (severity == Severity::kOff) {
    result.outcome = Outcome::kOff;
  } else if (!verdict.have_facts) {
    result.outcome = Outcome::kError;
    result.message = "the probe did not report this; see the probe output";
  } else if (!verdict.ok) {
    result.outcome =
        severity == Severity::kWarn ? Outcome::kWarn : Outcome::kFail;
    result.message = std::move(verdict.message);
  }
  return result;
}

// The static properties, each from its findings.
void EvaluateFindings(const Policy& policy,
                      const std::vector<Finding>& findings,
                      std::vector<PropertyResult>* results) {
  for (const PropertyDef& property : Properties()) {
    if (property.judge != nullptr) continue;
    std::vector<std::string> failures;
    std::vector<std::string> warnings;
    for (const Finding& finding : findings) {
      if (finding.property != property.id) continue;
      (finding.level == FindingLevel::kFail ? failures : warnings)
          .push_back(finding.message);
    }
    PropertyResult result{property.id, Outcome::kPass, "no findings", "", ""};
    const Severity severity = SeverityOf(policy, property.id);
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
  // A finding for no static property is a bug in a rule: shown, never
  // dropped.
  for (const Finding& finding : findings) {
    const PropertyDef* property = FindProperty(finding.property);
    if (property == nullptr || property->judge != nullptr) {
      results->push_back({finding.property, Outcome::kError, "a known property",
                          finding.message,
                          "a static rule reported an unknown property"});
    }
  }
}

}  // namespace

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
                                     const Observation& observation,
                                     const std::vector<Finding>& findings) {
  std::vector<PropertyResult> results;
  for (const PropertyDef& property : Properties()) {
    if (property.judge == nullptr) continue;
    if (property.applies != nullptr && !property.applies(spec)) continue;
    results.push_back(
        Judged(policy, property, property.judge(spec, observation)));
  }
  EvaluateFindings(policy, findings, &results);
  return results;
}

}  // namespace cell::policy

// A finding of a policy check: which property, how bad, and one line that
// says what is wrong and which spec field (or file line) fixes it.
// `field` and `flag` name the fix for tools (the JSON report's findings);
// rules that do not set them leave them empty, so `{property, level,
// message}` still builds one.
#ifndef CELL_POLICY_FINDING_H_
#define CELL_POLICY_FINDING_H_

#include <string>

namespace cell::policy {

enum class FindingLevel { kFail, kWarn };

struct Finding {
  std::string property;  // One of PropertyIds().
  FindingLevel level = FindingLevel::kFail;
  std::string message;
  std::string field;  // The spec field that fixes it, e.g. "env.GH_TOKEN".
  std::string flag;   // The `cell run` flag that fixes it, e.g. "--seccomp".

  bool operator==(const Finding& other) const {
    return property == other.property && level == other.level &&
           message == other.message && field == other.field &&
           flag == other.flag;
  }
};

}  // namespace cell::policy

#endif  // CELL_POLICY_FINDING_H_

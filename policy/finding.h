// A finding of a policy check: which property, how bad, and one line that
// says what is wrong and which spec field (or file line) fixes it.
#ifndef CELL_POLICY_FINDING_H_
#define CELL_POLICY_FINDING_H_

#include <string>

namespace cell::policy {

enum class FindingLevel { kFail, kWarn };

struct Finding {
  std::string property;  // One of PropertyIds().
  FindingLevel level = FindingLevel::kFail;
  std::string message;

  bool operator==(const Finding& other) const {
    return property == other.property && level == other.level &&
           message == other.message;
  }
};

}  // namespace cell::policy

#endif  // CELL_POLICY_FINDING_H_

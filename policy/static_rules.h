// Checks a resolved spec against a policy without launching anything:
// mounts, env, isolation, Nix and (through filter_analysis) the filter.
// Each finding says which spec field fixes it.
#ifndef CELL_POLICY_STATIC_RULES_H_
#define CELL_POLICY_STATIC_RULES_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "launcher/spec/spec.h"
#include "policy/finding.h"
#include "policy/policy.h"

namespace cell::policy {

// `homes` expand "~" in the policy's paths: each of them (cell-verify's
// user's, the cell's hostUser's: launcher/spec/resolve.h HomeDirectories);
// `cell_uid` is the host uid the cell runs as (the launcher's, or
// hostUser's). Errors only when the filter file cannot be read.
absl::StatusOr<std::vector<Finding>> CheckSpecStatically(
    const CellSpec& spec, const Policy& policy,
    const std::vector<std::string>& homes, uid_t cell_uid);

}  // namespace cell::policy

#endif  // CELL_POLICY_STATIC_RULES_H_

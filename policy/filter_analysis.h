// Static analysis of a domain filter against a policy, with RE2 (RE2::Set
// over all lines): which `mustAllow` hosts it denies, which `mustDeny` hosts
// it allows, lines that allow every host in disguise, private and metadata
// addresses it lets through, unanchored lines that match more than meant,
// and lines RE2 and tinyproxy's POSIX regcomp would read differently (an
// error: the analysis would not describe what tinyproxy does).
#ifndef CELL_POLICY_FILTER_ANALYSIS_H_
#define CELL_POLICY_FILTER_ANALYSIS_H_

#include <string>
#include <vector>

#include "launcher/proxy/filter.h"
#include "policy/finding.h"
#include "policy/policy.h"

namespace cell::policy {

// Hosts that must never be reachable when forbidPrivateAddresses is set:
// loopback, RFC 1918, link-local, cloud metadata, IPv6 local ranges.
const std::vector<std::string>& PrivateProbeHosts();

// `patterns` are the filter's lines as tinyproxy reads them (ParseFilter);
// `source` names the file in messages. `has_filter` is false when the spec
// has no tinyproxyFilter (tinyproxy then gets `.*`).
std::vector<Finding> AnalyzeFilter(const std::vector<FilterPattern>& patterns,
                                   const std::string& source, bool has_filter,
                                   const NetworkRules& rules);

}  // namespace cell::policy

#endif  // CELL_POLICY_FILTER_ANALYSIS_H_

#include "policy/filter_analysis.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "launcher/proxy/address_policy.h"
#include "launcher/proxy/host_filter.h"
#include "re2/re2.h"

namespace cell::policy {
namespace {

constexpr char kProperty[] = "filter-policy";

// Hosts no sane filter means to allow all of at once: a line matching every
// one of them (or the empty string) allows everything.
const char* const kCanaryHosts[] = {"a", "zz-cell-canary.invalid",
                                    "203.0.113.7", "x.y.z.example"};

std::string Where(const std::string& source, const FilterPattern& pattern) {
  return absl::StrCat(source, ":", pattern.line, " '", pattern.pattern, "'");
}

bool Anchored(const std::string& pattern) {
  return !pattern.empty() && pattern.front() == '^' && pattern.back() == '$' &&
         (pattern.size() < 2 || pattern[pattern.size() - 2] != '\\');
}

}  // namespace

const std::vector<std::string>& PrivateProbeHosts() {
  static const auto* hosts = new std::vector<std::string>{
      // Loopback, in every spelling a resolver or the kernel accepts.
      "localhost", "localhost.", "LOCALHOST", "localhost.localdomain",
      "127.0.0.1", "127.1", "127.0.1", "127.255.255.254", "2130706433",
      "0x7f000001", "0x7f.0.0.1", "017700000001", "0177.0.0.1", "0", "0.0.0.0",
      "0x0", "::1", "[::1]", "0:0:0:0:0:0:0:1", "::", "::ffff:127.0.0.1",
      "[::ffff:127.0.0.1]", "::ffff:7f00:1", "::127.0.0.1", "ip6-localhost",
      "ip6-loopback",
      // Private and shared networks.
      "10.0.0.1", "172.16.0.1", "192.168.1.1", "100.64.0.1", "::ffff:10.0.0.1",
      "fd00::1", "fc00::1",
      // Link-local and cloud metadata.
      "169.254.169.254", "[fd00:ec2::254]", "fd00:ec2::254", "fe80::1",
      "metadata.google.internal", "metadata", "100.100.100.200",
      "instance-data", "instance-data.ec2.internal"};
  return *hosts;
}

std::vector<Finding> AnalyzeFilter(const std::vector<FilterPattern>& patterns,
                                   const std::string& source, bool has_filter,
                                   const NetworkRules& rules) {
  std::vector<Finding> findings;
  auto add = [&findings](FindingLevel level, std::string message) {
    findings.push_back({kProperty, level, std::move(message)});
  };
  if (!has_filter) {
    add(rules.forbid_allow_all ? FindingLevel::kFail : FindingLevel::kWarn,
        "no tinyproxyFilter: every host is allowed; set `tinyproxyFilter` "
        "(--filter) to a file listing the allowed hosts");
  }

  // Lines RE2 cannot read as tinyproxy does are errors and stay out of the
  // decisions; the rest are compiled once into the launcher's HostFilter,
  // the same decision code the builtin proxy engine uses.
  std::vector<FilterPattern> portable;
  for (const FilterPattern& pattern : patterns) {
    std::string problem = PosixDifference(pattern.pattern);
    if (problem.empty()) {
      RE2 re(pattern.pattern, TinyproxyRe2Options());
      if (!re.ok()) problem = re.error();
    }
    if (!problem.empty()) {
      add(FindingLevel::kFail,
          absl::StrCat(Where(source, pattern), ": ", problem,
                       "; rewrite it in portable POSIX ERE (e.g. [0-9] for "
                       "\\d)"));
      continue;
    }
    portable.push_back(pattern);
  }
  absl::StatusOr<HostFilter> filter = HostFilter::Compile(portable, source);
  if (!filter.ok()) {
    add(FindingLevel::kFail, std::string(filter.status().message()));
    return findings;
  }
  std::map<int, const FilterPattern*> by_line;
  for (const FilterPattern& pattern : portable) {
    by_line[pattern.line] = &pattern;
  }
  auto allowed = [&](const std::string& host) {
    return !has_filter || filter->Decide(host).allowed;
  };

  for (size_t i = 0; i < portable.size(); ++i) {
    const FilterPattern& pattern = portable[i];
    const RE2& line = filter->compiled(i);
    bool matches_all = RE2::PartialMatch("", line);
    if (!matches_all) {
      matches_all = true;
      for (const char* canary : kCanaryHosts) {
        matches_all = matches_all && RE2::PartialMatch(canary, line);
      }
    }
    if (matches_all) {
      add(rules.forbid_allow_all ? FindingLevel::kFail : FindingLevel::kWarn,
          absl::StrCat(Where(source, pattern),
                       " allows every host; list the hosts instead, "
                       "e.g. ^github\\.com$"));
      continue;
    }
    if (!Anchored(pattern.pattern)) {
      // Show what it lets through beyond what it names, where we can.
      std::string example;
      for (const std::string& host : rules.must_allow) {
        if (!RE2::PartialMatch(host, line)) continue;
        for (const std::string& wider :
             {host + ".evil.example", "evil" + host}) {
          if (RE2::PartialMatch(wider, line)) {
            example = wider;
            break;
          }
        }
        if (!example.empty()) break;
      }
      add(FindingLevel::kWarn,
          absl::StrCat(
              Where(source, pattern),
              " is not anchored (^...$), so it also matches hosts "
              "that merely contain it",
              example.empty() ? "" : absl::StrCat(", e.g. '", example, "'"),
              "; anchor it"));
    }
  }

  for (const std::string& host : rules.must_allow) {
    if (!allowed(host)) {
      add(FindingLevel::kFail,
          absl::StrCat("mustAllow host '", host, "' is denied: no line of ",
                       source, " matches it; add a line such as ^",
                       RE2::QuoteMeta(host), "$"));
    }
  }
  auto report_allowed = [&](const std::string& host, const std::string& why) {
    if (!has_filter) {
      add(FindingLevel::kFail,
          absl::StrCat(why, " '", host,
                       "' is allowed: without a filter every host is"));
      return;
    }
    const std::vector<int> hits = filter->MatchingLines(host);
    if (hits.empty()) return;
    std::vector<std::string> lines;
    for (const int hit : hits) lines.push_back(Where(source, *by_line.at(hit)));
    add(FindingLevel::kFail, absl::StrCat(why, " '", host, "' is allowed by ",
                                          absl::StrJoin(lines, ", ")));
  };
  for (const std::string& host : rules.must_deny) {
    report_allowed(host, "mustDeny host");
  }
  if (rules.forbid_private_addresses) {
    std::vector<std::string> hosts = PrivateProbeHosts();
    // This machine's own name resolves to it.
    char name[256] = {};
    if (gethostname(name, sizeof(name) - 1) == 0 && name[0] != '\0') {
      hosts.emplace_back(name);
    }
    for (const std::string& host : hosts) {
      report_allowed(host, "private or metadata address");
    }
    // A line that names an address literally is how the builtin engine is
    // told to reach a special-use one (attacker round 5: 127.0.0.2, the
    // host's own ULA address, 172.17.0.1, 169.254.170.2 all passed the
    // samples above). The host's own addresses first: a service bound to
    // 0.0.0.0 answers there, whatever range they are in.
    const std::vector<sockaddr_storage> own =
        HostAddresses().value_or(std::vector<sockaddr_storage>{});
    for (const FilterPattern& pattern : portable) {
      const std::optional<sockaddr_storage> named =
          LineAddress(pattern.pattern);
      if (!named.has_value()) continue;
      const sockaddr& address = reinterpret_cast<const sockaddr&>(*named);
      const bool host_own = std::any_of(
          own.begin(), own.end(), [&address](const sockaddr_storage& mine) {
            return SameAddress(address,
                               reinterpret_cast<const sockaddr&>(mine));
          });
      const AddressKind kind =
          host_own ? AddressKind::kHostOwn : ClassifyAddress(address, own);
      if (kind == AddressKind::kPublic) continue;
      add(FindingLevel::kFail,
          absl::StrCat("private or metadata address '", AddressText(address),
                       "' (", AddressKindName(kind), ") is allowed by ",
                       Where(source, pattern),
                       ": the builtin engine connects to an address a line "
                       "names; remove the line"));
    }
  }
  return findings;
}

}  // namespace cell::policy

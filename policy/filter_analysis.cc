#include "policy/filter_analysis.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "re2/re2.h"
#include "re2/set.h"

namespace cell::policy {
namespace {

constexpr char kProperty[] = "filter-policy";

// Hosts no sane filter means to allow all of at once: a line matching every
// one of them (or the empty string) allows everything.
const char* const kCanaryHosts[] = {"a", "zz-cell-canary.invalid",
                                    "203.0.113.7", "x.y.z.example"};

RE2::Options PosixOptions() {
  RE2::Options options;
  options.set_posix_syntax(true);  // POSIX ERE, as tinyproxy's regcomp.
  options.set_case_sensitive(false);
  options.set_log_errors(false);
  return options;
}

std::string Where(const std::string& source, const FilterPattern& pattern) {
  return absl::StrCat(source, ":", pattern.line, " '", pattern.pattern, "'");
}

// Escapes and bracket contents that glibc's regcomp and RE2 disagree on:
// a backslash inside a bracket expression is literal for POSIX; `\<`, `\w`,
// `\1` and friends are GNU extensions or back-references.
std::string PosixDifference(const std::string& pattern) {
  bool in_bracket = false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (in_bracket) {
      if (c == '\\') {
        return "a backslash inside [...] is a literal backslash for tinyproxy "
               "(POSIX) but an escape for RE2";
      }
      if (c == '[' && i + 1 < pattern.size() &&
          (pattern[i + 1] == ':' || pattern[i + 1] == '.' ||
           pattern[i + 1] == '=')) {
        const size_t close =
            pattern.find(std::string(1, pattern[i + 1]) + "]", i + 2);
        if (close != std::string::npos) i = close + 1;
        continue;
      }
      if (c == ']') in_bracket = false;
      continue;
    }
    if (c == '[') {
      in_bracket = true;
      if (i + 1 < pattern.size() && pattern[i + 1] == '^') ++i;
      if (i + 1 < pattern.size() && pattern[i + 1] == ']') ++i;
      continue;
    }
    if (c == '\\' && i + 1 < pattern.size()) {
      const char next = pattern[++i];
      if (absl::ascii_isdigit(next)) {
        return absl::StrCat("back-reference \\", std::string(1, next),
                            " (RE2 has none; tinyproxy would match it)");
      }
      if (absl::ascii_isalpha(next) || next == '<' || next == '>' ||
          next == '`' || next == '\'') {
        return absl::StrCat("\\", std::string(1, next),
                            " is a GNU regex extension; RE2 reads it "
                            "differently");
      }
    }
  }
  return "";
}

bool Anchored(const std::string& pattern) {
  return !pattern.empty() && pattern.front() == '^' && pattern.back() == '$' &&
         (pattern.size() < 2 || pattern[pattern.size() - 2] != '\\');
}

}  // namespace

const std::vector<std::string>& PrivateProbeHosts() {
  static const auto* hosts =
      new std::vector<std::string>{"localhost",
                                   "127.0.0.1",
                                   "10.0.0.1",
                                   "172.16.0.1",
                                   "192.168.1.1",
                                   "169.254.169.254",
                                   "metadata.google.internal",
                                   "metadata",
                                   "100.100.100.200",
                                   "::1",
                                   "[::1]",
                                   "fd00::1",
                                   "fe80::1"};
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

  // Compile each line once, alone (to judge it) and into one set (to match
  // hosts against all lines at once). Lines RE2 cannot read as tinyproxy
  // does are errors and stay out of the set.
  RE2::Set set(PosixOptions(), RE2::UNANCHORED);
  std::vector<const FilterPattern*> in_set;
  std::vector<std::unique_ptr<RE2>> compiled;
  for (const FilterPattern& pattern : patterns) {
    const std::string difference = PosixDifference(pattern.pattern);
    auto re = std::make_unique<RE2>(pattern.pattern, PosixOptions());
    if (!difference.empty() || !re->ok()) {
      add(FindingLevel::kFail,
          absl::StrCat(Where(source, pattern), ": ",
                       difference.empty() ? re->error() : difference,
                       "; rewrite it in portable POSIX ERE (e.g. [0-9] for "
                       "\\d)"));
      continue;
    }
    std::string error;
    if (set.Add(pattern.pattern, &error) < 0) continue;
    in_set.push_back(&pattern);
    compiled.push_back(std::move(re));
  }
  const bool set_ok = set.Compile();
  auto matching_lines = [&](const std::string& host) {
    std::vector<int> hits;
    if (set_ok) set.Match(host, &hits);
    return hits;
  };
  auto allowed = [&](const std::string& host) {
    return !has_filter || !matching_lines(host).empty();
  };

  for (size_t i = 0; i < compiled.size(); ++i) {
    const FilterPattern& pattern = *in_set[i];
    bool matches_all = RE2::PartialMatch("", *compiled[i]);
    if (!matches_all) {
      matches_all = true;
      for (const char* canary : kCanaryHosts) {
        matches_all = matches_all && RE2::PartialMatch(canary, *compiled[i]);
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
        if (!RE2::PartialMatch(host, *compiled[i])) continue;
        for (const std::string& wider :
             {host + ".evil.example", "evil" + host}) {
          if (RE2::PartialMatch(wider, *compiled[i])) {
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
    const std::vector<int> hits = matching_lines(host);
    if (hits.empty()) return;
    std::vector<std::string> lines;
    for (const int hit : hits) lines.push_back(Where(source, *in_set[hit]));
    add(FindingLevel::kFail, absl::StrCat(why, " '", host, "' is allowed by ",
                                          absl::StrJoin(lines, ", ")));
  };
  for (const std::string& host : rules.must_deny) {
    report_allowed(host, "mustDeny host");
  }
  if (rules.forbid_private_addresses) {
    for (const std::string& host : PrivateProbeHosts()) {
      report_allowed(host, "private or metadata address");
    }
  }
  return findings;
}

}  // namespace cell::policy

// The allow/deny decision for one host, compiled once with RE2 (one
// RE2::Set over every line) and read with tinyproxy's semantics: POSIX
// extended syntax, case-insensitive, unanchored, a host is allowed when any
// line matches. The builtin proxy engine decides with it, and the policy's
// static filter analysis asks it the same questions, so the two cannot
// disagree. Lines that RE2 and glibc's regcomp (tinyproxy) read differently
// are refused when compiling, naming FILE:LINE.
#ifndef CELL_LAUNCHER_PROXY_HOST_FILTER_H_
#define CELL_LAUNCHER_PROXY_HOST_FILTER_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "launcher/proxy/filter.h"
#include "re2/re2.h"
#include "re2/set.h"

namespace cell {

struct FilterDecision {
  bool allowed = false;
  // The first filter line (1-based, in the file) that matched; unset when
  // none did, or when there is no filter (allow-all).
  std::optional<int> line;
};

class HostFilter {
 public:
  // No filter in the spec: every host is allowed.
  static HostFilter AllowAll();
  // `patterns` as ParseFilter returns them; `source` names the file.
  static absl::StatusOr<HostFilter> Compile(
      const std::vector<FilterPattern>& patterns, absl::string_view source);

  HostFilter(HostFilter&&) = default;
  HostFilter& operator=(HostFilter&&) = default;

  FilterDecision Decide(absl::string_view host) const;
  // Every matching line (1-based), in file order.
  std::vector<int> MatchingLines(absl::string_view host) const;
  // The text of the patterns at those lines.
  std::vector<std::string> MatchingPatterns(absl::string_view host) const;

  bool allow_all() const { return allow_all_; }
  // Lines in the filter (for the 403 response's header).
  size_t line_count() const { return lines_.size(); }
  const std::vector<FilterPattern>& patterns() const { return patterns_; }
  // patterns()[index], compiled.
  const RE2& compiled(size_t index) const { return *lines_[index]; }

 private:
  HostFilter() = default;
  bool allow_all_ = false;
  std::vector<FilterPattern> patterns_;
  std::vector<std::unique_ptr<RE2>> lines_;  // Parallel to patterns_.
  std::unique_ptr<RE2::Set> set_;
};

// True for what the builtin engine accepts as a target host: 1 to 253
// bytes of ASCII letters, digits, '.', '-', '_' and ':' (IPv6 literals).
// Only such hosts are judged; RE2 (UTF-8) and regexec (bytes) could
// disagree on others, so they are refused with 400 instead.
bool IsProxyableHost(absl::string_view host);

// RE2 options that read a line as tinyproxy's regcomp does (as far as RE2
// can; PosixDifference() names where it cannot).
RE2::Options TinyproxyRe2Options();

// Why RE2 and glibc's regcomp would read `pattern` differently (a
// back-reference, a GNU escape such as \w or \<, a backslash inside a
// bracket expression), or "" when they agree.
std::string PosixDifference(absl::string_view pattern);

}  // namespace cell

#endif  // CELL_LAUNCHER_PROXY_HOST_FILTER_H_

#include "launcher/proxy/host_filter.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace cell {

RE2::Options TinyproxyRe2Options() {
  RE2::Options options;
  options.set_posix_syntax(true);  // POSIX ERE, as tinyproxy's regcomp.
  options.set_case_sensitive(false);
  options.set_log_errors(false);
  return options;
}

namespace {

// The intervals RE2 reads as counts.
LazyRE2 kRe2Interval = {R"((0|[1-9][0-9]*)(,(0|[1-9][0-9]*)?)?)"};

}  // namespace

std::string PosixDifference(absl::string_view pattern) {
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
            pattern.find(absl::StrCat(pattern.substr(i + 1, 1), "]"), i + 2);
        if (close != absl::string_view::npos) i = close + 1;
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
    if (c == '{') {
      // RE2 reads an interval only as {n}, {n,} or {n,m} without leading
      // zeros and takes anything else (`{,2}`, `{02}`) as literal text,
      // where regcomp reads a count. Found by fuzzing.
      const size_t close = pattern.find('}', i);
      const absl::string_view interval =
          close == absl::string_view::npos
              ? pattern.substr(i + 1)
              : pattern.substr(i + 1, close - i - 1);
      if (close == absl::string_view::npos ||
          !RE2::FullMatch(re2::StringPiece(interval.data(), interval.size()),
                          *kRe2Interval)) {
        return absl::StrCat(
            "'{", interval,
            "}' is a count for tinyproxy (POSIX) but text for RE2; write "
            "{n}, {n,} or {n,m} without leading zeros, or \\{ for a brace");
      }
      i = close;
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

bool IsProxyableHost(absl::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  for (const char c : host) {
    if (!absl::ascii_isalnum(c) && c != '.' && c != '-' && c != '_' &&
        c != ':') {
      return false;
    }
  }
  return true;
}

HostFilter HostFilter::AllowAll() {
  HostFilter filter;
  filter.allow_all_ = true;
  return filter;
}

absl::StatusOr<HostFilter> HostFilter::Compile(
    const std::vector<FilterPattern>& patterns, absl::string_view source) {
  HostFilter filter;
  filter.patterns_ = patterns;
  // A large filter (thousands of lines) needs more than RE2's default 8 MiB
  // for the set's automaton.
  RE2::Options set_options = TinyproxyRe2Options();
  set_options.set_max_mem(int64_t{256} << 20);
  filter.set_ = std::make_unique<RE2::Set>(set_options, RE2::UNANCHORED);
  for (const FilterPattern& pattern : patterns) {
    const std::string where =
        absl::StrCat(source, ":", pattern.line, " '", pattern.pattern, "'");
    const std::string difference = PosixDifference(pattern.pattern);
    if (!difference.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": ", difference,
          "; rewrite it in portable POSIX ERE (e.g. [0-9] for \\d)"));
    }
    auto re = std::make_unique<RE2>(pattern.pattern, TinyproxyRe2Options());
    std::string error;
    if (!re->ok() || filter.set_->Add(pattern.pattern, &error) < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": ", re->ok() ? error : re->error(),
                       "; rewrite it in portable POSIX ERE"));
    }
    filter.lines_.push_back(std::move(re));
  }
  if (!filter.set_->Compile()) {
    return absl::ResourceExhaustedError(absl::StrCat(
        source, ": the filter is too large to compile as one set"));
  }
  return filter;
}

std::vector<int> HostFilter::MatchingLines(absl::string_view host) const {
  std::vector<int> lines;
  if (allow_all_ || set_ == nullptr || lines_.empty()) return lines;
  std::vector<int> hits;
  RE2::Set::ErrorInfo error;
  const re2::StringPiece subject(host.data(), host.size());
  if (!set_->Match(subject, &hits, &error) &&
      error.kind != RE2::Set::kNoError) {
    // The set's DFA ran out of memory: ask each line, never guess.
    hits.clear();
    for (size_t i = 0; i < lines_.size(); ++i) {
      if (RE2::PartialMatch(subject, *lines_[i])) {
        hits.push_back(static_cast<int>(i));
      }
    }
  }
  std::sort(hits.begin(), hits.end());
  for (const int hit : hits) lines.push_back(patterns_[hit].line);
  return lines;
}

FilterDecision HostFilter::Decide(absl::string_view host) const {
  if (allow_all_) return {true, std::nullopt};
  const std::vector<int> lines = MatchingLines(host);
  if (lines.empty()) return {false, std::nullopt};
  return {true, lines.front()};
}

std::vector<std::string> HostFilter::MatchingPatterns(
    absl::string_view host) const {
  std::vector<std::string> patterns;
  for (const int line : MatchingLines(host)) {
    for (const FilterPattern& pattern : patterns_) {
      if (pattern.line == line) patterns.push_back(pattern.pattern);
    }
  }
  return patterns;
}

}  // namespace cell

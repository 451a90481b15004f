#include "launcher/filter.h"

#include <regex.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "launcher/fs_util.h"

namespace cell {
namespace {

// tinyproxy: REG_NEWLINE | REG_NOSUB, REG_EXTENDED for `FilterType ere`,
// REG_ICASE unless `FilterCaseSensitive Yes`.
constexpr int kRegcompFlags =
    REG_EXTENDED | REG_ICASE | REG_NOSUB | REG_NEWLINE;

constexpr size_t kMaxFilterFileBytes = 1 << 20;

// Largest count allowed in a {m,n} repetition.
constexpr int kMaxRepeat = 100;

// Repetitions that make glibc's regcomp (and so tinyproxy) build enormous
// automata: a quantifier right after another (`a++++`, which POSIX leaves
// undefined) or a count over kMaxRepeat. Found by fuzzing: 26 `+` in a row
// made regcomp use over 2 GB. Returns why, or "".
std::string RepetitionProblem(absl::string_view pattern) {
  bool in_bracket = false;
  bool after_quantifier = false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (in_bracket) {
      if (c == ']') in_bracket = false;
      continue;
    }
    if (c == '\\') {
      ++i;
      after_quantifier = false;
      continue;
    }
    if (c == '[') {
      in_bracket = true;
      if (i + 1 < pattern.size() && pattern[i + 1] == '^') ++i;
      if (i + 1 < pattern.size() && pattern[i + 1] == ']') ++i;
      after_quantifier = false;
      continue;
    }
    const bool quantifier = c == '*' || c == '+' || c == '?' || c == '{';
    if (quantifier && after_quantifier) {
      return absl::StrCat("repetition operator '", std::string(1, c),
                          "' right after another; write one");
    }
    if (c == '{') {
      const size_t close = pattern.find('}', i);
      if (close == absl::string_view::npos) break;  // regcomp will say.
      for (absl::string_view count :
           absl::StrSplit(pattern.substr(i + 1, close - i - 1), ',')) {
        int value = 0;
        if (!count.empty() && absl::SimpleAtoi(count, &value) &&
            value > kMaxRepeat) {
          return absl::StrCat("repetition count ", value, " is over ",
                              kMaxRepeat);
        }
      }
      i = close;
    }
    after_quantifier = quantifier;
  }
  return "";
}

}  // namespace

absl::StatusOr<std::vector<FilterPattern>> ParseFilter(
    absl::string_view text, absl::string_view source) {
  std::vector<FilterPattern> patterns;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    if (line.size() > kMaxFilterLineBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ":", line_number, ": line is ", line.size(),
                       " bytes; tinyproxy reads at most ", kMaxFilterLineBytes,
                       " and would split it"));
    }
    if (line.find('\0') != absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ":", line_number, ": contains a NUL byte"));
    }
    const size_t hash = line.find('#');
    if (hash != absl::string_view::npos) line = line.substr(0, hash);
    line = absl::StripAsciiWhitespace(line);
    if (line.empty()) continue;
    const std::string pattern(line);
    if (const std::string problem = RepetitionProblem(pattern);
        !problem.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          source, ":", line_number, ": '", pattern, "': ", problem));
    }
    regex_t compiled;
    const int error = regcomp(&compiled, pattern.c_str(), kRegcompFlags);
    if (error != 0) {
      char message[256];
      regerror(error, &compiled, message, sizeof(message));
      return absl::InvalidArgumentError(
          absl::StrCat(source, ":", line_number, ": invalid extended regex '",
                       pattern, "': ", message));
    }
    regfree(&compiled);
    patterns.push_back({line_number, pattern});
  }
  return patterns;
}

absl::StatusOr<std::vector<FilterPattern>> LoadFilterFile(
    absl::string_view path) {
  absl::StatusOr<std::string> text =
      ReadFileToString(path, kMaxFilterFileBytes);
  if (!text.ok()) {
    return absl::Status(text.status().code(),
                        absl::StrCat("filter file: ", text.status().message()));
  }
  return ParseFilter(*text, path);
}

bool FilterAllows(const std::vector<FilterPattern>& patterns,
                  absl::string_view host) {
  const std::string subject(host);
  for (const FilterPattern& pattern : patterns) {
    regex_t compiled;
    if (regcomp(&compiled, pattern.pattern.c_str(), kRegcompFlags) != 0) {
      continue;
    }
    const bool match = regexec(&compiled, subject.c_str(), 0, nullptr, 0) == 0;
    regfree(&compiled);
    if (match) return true;
  }
  return false;
}

}  // namespace cell

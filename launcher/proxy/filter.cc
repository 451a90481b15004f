#include "launcher/proxy/filter.h"

#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/fs_util.h"
#include "base/host_path.h"
#include "base/status_macros.h"

namespace cell {
namespace {

// tinyproxy: REG_NEWLINE | REG_NOSUB, REG_EXTENDED for `FilterType ere`,
// REG_ICASE unless `FilterCaseSensitive Yes`.
constexpr int kRegcompFlags =
    REG_EXTENDED | REG_ICASE | REG_NOSUB | REG_NEWLINE;

constexpr size_t kMaxFilterFileBytes = 1 << 20;

// Largest count allowed in a {m,n} repetition.
constexpr int kMaxRepeat = 100;

// Largest number of atoms a line may expand to. glibc's regcomp (and so
// tinyproxy) copies the operand of `{m,n}` max(m,n) times and of `+` twice
// (weighted 3, see QuantifierCopies), so nested repetitions multiply. Found
// by fuzzing: `(((a{0,100}){0,100}){0,100}){0,100}` took over 2 GB, and 20
// nested `(...)+` did not finish. A line this size compiles in well under
// 10 ms.
constexpr int64_t kMaxExpandedAtoms = 2000;

// Deepest nesting of groups. regcomp's closure computation is superlinear in
// nested optional groups (found by fuzzing: a line with twelve levels of
// `(x{0})+` took 7 s); host patterns need two or three.
constexpr size_t kMaxGroupDepth = 8;

// Lines within these bounds compile in well under a millisecond whatever
// their shape: every blow-up found needed 5 levels of nested groups or
// hundreds of anchors (`^(x*$)` repeated 300 times took 1.6 s).
constexpr int64_t kCheapAtoms = 200;
constexpr size_t kCheapDepth = 3;
constexpr int kCheapInteriorAnchors = 4;

// CPU time regcomp may take for a whole filter; real ones take milliseconds.
constexpr rlim_t kMaxCompileCpuSeconds = 2;

// How many copies regcomp makes of the operand of the quantifier starting at
// pattern[i]; sets *end to its last character. -1 when it is not one that
// regcomp accepts (it then reports the error itself).
int64_t QuantifierCopies(absl::string_view pattern, size_t i, size_t* end,
                         std::string* problem) {
  *end = i;
  switch (pattern[i]) {
    case '*':
    case '?':
      return 1;
    case '+':
      // regcomp turns `a+` into `aa*`, and its closure computation over
      // nested copies grew about 5x per level here (12 nested `()+` took
      // 19 s and 1.2 GB), so it is counted as more than two copies.
      return 3;
    default:
      break;
  }
  const size_t close = pattern.find('}', i);
  if (close == absl::string_view::npos) return -1;
  *end = close;
  const std::vector<absl::string_view> counts =
      absl::StrSplit(pattern.substr(i + 1, close - i - 1), ',');
  int64_t copies = 1;
  for (size_t k = 0; k < counts.size(); ++k) {
    int value = 0;
    if (counts[k].empty()) continue;
    if (!absl::SimpleAtoi(counts[k], &value)) return -1;
    if (value > kMaxRepeat) {
      *problem =
          absl::StrCat("repetition count ", value, " is over ", kMaxRepeat);
      return -1;
    }
    // `{m,}` is m copies and a star.
    copies = std::max<int64_t>(
        copies,
        k == 0 && counts.size() == 2 && counts[1].empty() ? value + 1 : value);
  }
  return copies;
}

// Repetitions that make glibc's regcomp (and so tinyproxy) build enormous
// automata: a quantifier right after another (`a++++`, which POSIX leaves
// undefined), a count over kMaxRepeat, or nesting that expands the line past
// kMaxExpandedAtoms. Returns why, or "". Sets *cheap when the line is small
// and flat enough that regcomp's cost is trivially bounded (see
// FirstTooSlowToCompile).
std::string RepetitionProblem(absl::string_view pattern, bool* cheap) {
  size_t depth = 1;
  int interior_anchors = 0;
  // Per open group: atoms so far (all alternatives), and the size of the
  // last atom or group, which a quantifier multiplies.
  struct Group {
    int64_t atoms = 0;
    int64_t last = 0;
  };
  std::vector<Group> groups(1);
  bool after_quantifier = false;
  auto add_atom = [&groups](int64_t size) {
    groups.back().atoms += size;
    groups.back().last = size;
  };
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    const bool quantifier = c == '*' || c == '+' || c == '?' || c == '{';
    if (quantifier && after_quantifier) {
      return absl::StrCat("repetition operator '", std::string(1, c),
                          "' right after another; write one");
    }
    after_quantifier = quantifier;
    if (quantifier) {
      std::string problem;
      const int64_t copies = QuantifierCopies(pattern, i, &i, &problem);
      if (!problem.empty()) return problem;
      if (copies < 0) {  // regcomp will say what is wrong.
        *cheap = false;
        return "";
      }
      Group& group = groups.back();
      group.atoms += group.last * (copies - 1);
      group.last *= copies;
    } else if (c == '\\') {
      ++i;
      add_atom(1);
    } else if (c == '[') {
      // A bracket expression is one atom; `]` first (or after `^`) is a
      // member, not the end.
      size_t close = i + 1;
      if (close < pattern.size() && pattern[close] == '^') ++close;
      if (close < pattern.size() && pattern[close] == ']') ++close;
      close = pattern.find(']', close);
      if (close == absl::string_view::npos) {  // regcomp will say.
        *cheap = false;
        return "";
      }
      i = close;
      add_atom(1);
    } else if (c == '(') {
      if (groups.size() > kMaxGroupDepth) {
        return absl::StrCat("groups nested over ", kMaxGroupDepth,
                            " deep make regcomp (and tinyproxy) slow; "
                            "simplify it");
      }
      groups.emplace_back();
      depth = std::max(depth, groups.size());
    } else if (c == ')' && groups.size() > 1) {
      // The group counts as an atom itself: regcomp builds a node for it,
      // and nested empty groups under `+` made it run for minutes (found
      // by fuzzing).
      const int64_t atoms = groups.back().atoms + 1;
      groups.pop_back();
      add_atom(atoms);
    } else if (c == '|') {
      groups.back().last = 0;
    } else {
      if ((c == '^' && i > 0) || (c == '$' && i + 1 < pattern.size())) {
        ++interior_anchors;
      }
      add_atom(1);
    }
    int64_t total = 0;
    for (const Group& group : groups) total += group.atoms;
    if (total > kMaxExpandedAtoms) {
      return absl::StrCat(
          "nested repetitions expand it to over ", kMaxExpandedAtoms,
          " atoms, which makes regcomp (and tinyproxy) slow and huge; "
          "simplify it");
    }
  }
  int64_t total = 0;
  for (const Group& group : groups) total += group.atoms;
  *cheap = total <= kCheapAtoms && depth <= kCheapDepth &&
           interior_anchors <= kCheapInteriorAnchors;
  return "";
}

// Compiles every pattern in a child process limited to kMaxCompileCpuSeconds
// of CPU, so that a line regcomp takes minutes over (fuzzing keeps finding
// new shapes: anchors before nested optional groups, ...) is refused
// instead of hanging the launcher, cell-verify or tinyproxy. Returns the
// index of the first pattern that ran out of time, or -1. Runs before any
// thread is started (the child calls malloc).
absl::StatusOr<int> FirstTooSlowToCompile(
    const std::vector<FilterPattern>& patterns) {
  if (patterns.empty()) return -1;
  int progress[2];
  if (pipe2(progress, O_CLOEXEC) != 0) return ErrnoStatus(errno, "pipe2");
  const pid_t child = fork();
  if (child < 0) {
    const int error = errno;
    close(progress[0]);
    close(progress[1]);
    return ErrnoStatus(error, "fork");
  }
  if (child == 0) {
    signal(SIGXCPU, SIG_DFL);
    const rlimit cpu = {kMaxCompileCpuSeconds, kMaxCompileCpuSeconds + 1};
    setrlimit(RLIMIT_CPU, &cpu);
    for (size_t i = 0; i < patterns.size(); ++i) {
      const int32_t index = static_cast<int32_t>(i);
      if (write(progress[1], &index, sizeof(index)) != sizeof(index)) _exit(1);
      regex_t compiled;
      if (regcomp(&compiled, patterns[i].pattern.c_str(), kRegcompFlags) == 0) {
        regfree(&compiled);
      }
    }
    _exit(0);
  }
  close(progress[1]);
  int32_t last = -1;
  int32_t index = 0;
  while (true) {
    const ssize_t n = read(progress[0], &index, sizeof(index));
    if (n == sizeof(index)) {
      last = index;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    break;
  }
  close(progress[0]);
  int status = 0;
  while (waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) return ErrnoStatus(errno, "waitpid");
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return -1;
  if (WIFSIGNALED(status) &&
      (WTERMSIG(status) == SIGXCPU || WTERMSIG(status) == SIGKILL) &&
      last >= 0) {
    return last;
  }
  return absl::InternalError(
      "the process checking the filter's regexes failed unexpectedly");
}

// Whether every match of `pattern` contains a '/': one outside a bracket
// expression (inside one, as in [^/], it is a character the match may
// avoid). Alternation is the caller's concern.
bool NeedsSlash(const std::string& pattern) {
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '\\') {
      if (i + 1 < pattern.size() && pattern[i + 1] == '/') return true;
      ++i;
    } else if (pattern[i] == '[') {
      // To the closing ']': a ']' first (after an optional '^') is literal.
      size_t j = i + 1;
      if (j < pattern.size() && pattern[j] == '^') ++j;
      if (j < pattern.size() && pattern[j] == ']') ++j;
      while (j < pattern.size() && pattern[j] != ']') ++j;
      i = j;
    } else if (pattern[i] == '/') {
      // Optional when followed by ?, * or a {0,...} bound.
      const char next = i + 1 < pattern.size() ? pattern[i + 1] : '\0';
      if (next != '?' && next != '*' && next != '{') return true;
    }
  }
  return false;
}

}  // namespace

absl::StatusOr<std::vector<FilterPattern>> ParseFilter(
    absl::string_view text, absl::string_view source) {
  std::vector<FilterPattern> patterns;
  bool cheap = true;
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
    // Lines are matched against host names, which hold no '/' (nor a
    // scheme): a URL or a path can never match, and the host it names
    // would stay denied while the line looks like it allows it. With an
    // alternation another branch may still match.
    if (NeedsSlash(pattern) && pattern.find('|') == std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          source, ":", line_number, ": '", pattern,
          "' can never match: lines are matched against host names, which "
          "have no '/' or scheme; write the host only, e.g. ^github\\.com$"));
    }
    bool line_cheap = true;
    if (const std::string problem = RepetitionProblem(pattern, &line_cheap);
        !problem.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          source, ":", line_number, ": '", pattern, "': ", problem));
    }
    cheap = cheap && line_cheap;
    patterns.push_back({line_number, pattern});
  }
  // The checks above catch the blow-ups we know of by their shape; this
  // catches the rest by their cost, before regcomp runs in this process.
  // Filters of small flat lines (nearly all real ones) skip the fork.
  CELL_ASSIGN_OR_RETURN(const int slow,
                        cheap ? -1 : FirstTooSlowToCompile(patterns));
  if (slow >= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ":", patterns[slow].line, ": '", patterns[slow].pattern,
        "': regcomp (and so tinyproxy) needs over ", kMaxCompileCpuSeconds,
        " s of CPU to compile it; simplify it"));
  }
  for (const FilterPattern& pattern : patterns) {
    regex_t compiled;
    const int error =
        regcomp(&compiled, pattern.pattern.c_str(), kRegcompFlags);
    if (error != 0) {
      char message[256];
      regerror(error, &compiled, message, sizeof(message));
      return absl::InvalidArgumentError(
          absl::StrCat(source, ":", pattern.line, ": invalid extended regex '",
                       pattern.pattern, "': ", message));
    }
    regfree(&compiled);
  }
  return patterns;
}

absl::StatusOr<FilterFile> ReadFilterFile(absl::string_view path) {
  absl::StatusOr<std::string> text = ReadConfigFile(path, kMaxFilterFileBytes);
  if (!text.ok()) {
    return absl::Status(text.status().code(),
                        absl::StrCat("filter file: ", text.status().message()));
  }
  absl::StatusOr<std::vector<FilterPattern>> patterns =
      ParseFilter(*text, path);
  if (!patterns.ok()) return patterns.status();
  return FilterFile{*std::move(text), *std::move(patterns)};
}

absl::StatusOr<std::vector<FilterPattern>> LoadFilterFile(
    absl::string_view path) {
  absl::StatusOr<FilterFile> file = ReadFilterFile(path);
  if (!file.ok()) return file.status();
  return std::move(file->patterns);
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

#include "policy/sandbox.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"

namespace cell::policy {
namespace {

bool Blank(char c) { return c == ' ' || c == '\t' || c == '\n'; }

// The placeholders of a --sandbox command line.
constexpr char kProbes[] = "{probes}";
constexpr char kWorktree[] = "{worktree}";
constexpr char kCommand[] = "{command}";

// The first "{name}" in `word` that is not ours ("" when none): lower-case
// letters between braces and not after '$', so that a shell's ${var} or a
// brace list {a,b} inside an `sh -c` string is left alone.
std::string UnknownPlaceholder(absl::string_view word) {
  for (size_t open = word.find('{'); open != absl::string_view::npos;
       open = word.find('{', open + 1)) {
    if (open > 0 && word[open - 1] == '$') continue;
    size_t close = open + 1;
    while (close < word.size() &&
           absl::ascii_islower(static_cast<unsigned char>(word[close]))) {
      ++close;
    }
    if (close == open + 1 || close >= word.size() || word[close] != '}') {
      continue;
    }
    const absl::string_view name = word.substr(open, close - open + 1);
    if (name != kProbes && name != kWorktree && name != kCommand) {
      return std::string(name);
    }
  }
  return "";
}

}  // namespace

absl::StatusOr<std::vector<std::string>> SplitCommandLine(
    absl::string_view line) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (Blank(c)) {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
      continue;
    }
    in_word = true;
    if (c == '\\') {
      if (++i == line.size()) {
        return absl::InvalidArgumentError(
            "--sandbox: a backslash ends the command line; quote it ('\\')");
      }
      if (line[i] != '\n') word += line[i];
    } else if (c == '\'') {
      const size_t close = line.find('\'', i + 1);
      if (close == absl::string_view::npos) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--sandbox: the ' at column ", i + 1, " is never closed"));
      }
      absl::StrAppend(&word, line.substr(i + 1, close - i - 1));
      i = close;
    } else if (c == '"') {
      const size_t open = i;
      for (++i; i < line.size() && line[i] != '"'; ++i) {
        if (line[i] == '\\' && i + 1 < line.size() &&
            absl::string_view("$`\"\\\n").find(line[i + 1]) !=
                absl::string_view::npos) {
          ++i;
          if (line[i] == '\n') continue;
        }
        word += line[i];
      }
      if (i == line.size()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--sandbox: the \" at column ", open + 1, " is never closed"));
      }
    } else if (absl::string_view("|;&<>()`").find(c) !=
               absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--sandbox: '", std::string(1, c), "' at column ", i + 1,
          " is shell syntax, and the command is not run by a shell; quote "
          "it, or wrap the pipeline in sh -c '...'"));
    } else {
      word += c;
    }
  }
  if (in_word) words.push_back(std::move(word));
  if (words.empty()) {
    return absl::InvalidArgumentError(
        "--sandbox: the command is empty; give the sandbox's command line, "
        "e.g. --sandbox='bwrap --unshare-all --ro-bind / / --'");
  }
  return words;
}

std::string ShellQuote(absl::string_view word) {
  const bool safe = !word.empty() &&
                    word.find_first_not_of(
                        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVW"
                        "XYZ0123456789_-./=:@%+,") == absl::string_view::npos;
  if (safe) return std::string(word);
  return absl::StrCat("'", absl::StrReplaceAll(word, {{"'", "'\\''"}}), "'");
}

absl::StatusOr<std::vector<std::string>> ExpandSandboxCommand(
    const std::vector<std::string>& words, const SandboxPlaces& places,
    const std::vector<std::string>& command) {
  std::vector<std::string> quoted;
  for (const std::string& word : command) quoted.push_back(ShellQuote(word));
  const std::string as_string = absl::StrJoin(quoted, " ");
  std::vector<std::string> out;
  int commands = 0;
  for (const std::string& word : words) {
    if (const std::string unknown = UnknownPlaceholder(word);
        !unknown.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--sandbox: unknown placeholder ", unknown,
                       "; expected {probes}, {worktree} or {command}"));
    }
    if (word == kCommand) {
      ++commands;
      out.insert(out.end(), command.begin(), command.end());
      continue;
    }
    for (size_t at = word.find(kCommand); at != std::string::npos;
         at = word.find(kCommand, at + 1)) {
      ++commands;
    }
    out.push_back(absl::StrReplaceAll(word, {{kProbes, places.probes},
                                             {kWorktree, places.worktree},
                                             {kCommand, as_string}}));
  }
  if (commands > 1) {
    return absl::InvalidArgumentError(
        "--sandbox: {command} appears more than once; the probe runs once");
  }
  if (commands == 0) out.insert(out.end(), command.begin(), command.end());
  return out;
}

CellSpec SandboxReference(const Policy& policy, const std::string& worktree) {
  CellSpec spec;
  spec.worktree_path = worktree;
  spec.nix = policy.nix_daemon_required;
  spec.network.mode = NetworkMode::kNone;
  const IsolationRules& rules = policy.isolation;
  IsolationSpec& isolation = spec.isolation;
  isolation.pid_namespace = rules.pid_namespace.value_or(false);
  isolation.ipc_namespace = rules.ipc_namespace.value_or(false);
  isolation.capabilities = rules.capabilities.value_or(Capabilities::kAll);
  isolation.seccomp = rules.seccomp.value_or(false);
  isolation.read_only_root = rules.read_only_root.value_or(false);
  if (rules.protect_defaults.value_or(false)) {
    spec.protect = DefaultProtectedPaths();
  }
  return spec;
}

}  // namespace cell::policy

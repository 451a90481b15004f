// A foreign sandbox under cell-verify (--sandbox=COMMAND): bubblewrap,
// firejail, srt, a shell pipeline, or a cell started by hand. Its command
// line, with placeholders for what cell-verify provides, and the spec it is
// judged against: a sandbox has no spec of ours, so the expectations come
// from the policy alone. Pure: nothing here touches the host.
#ifndef CELL_POLICY_SANDBOX_H_
#define CELL_POLICY_SANDBOX_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "launcher/spec/spec.h"
#include "policy/policy.h"

namespace cell::policy {

// The words of `line` as a POSIX shell splits a simple command: blanks
// separate, '...' and "..." quote (backslash escapes $ ` " \ and newline
// inside double quotes), a backslash quotes the next character. Nothing is
// expanded: no variables, globs or substitutions ('$' is just a
// character), and operators (| ; & < >) are refused rather than guessed
// at: wrap a pipeline in `sh -c '...'`. Errors name the column.
absl::StatusOr<std::vector<std::string>> SplitCommandLine(
    absl::string_view line);

// `word` quoted for sh: as it is when only safe characters make it up,
// else in single quotes.
std::string ShellQuote(absl::string_view word);

// What cell-verify provides a sandbox: host directories the sandbox must
// show at the same path inside.
struct SandboxPlaces {
  std::string probes;    // Holds cell-probe (read-only is enough).
  std::string worktree;  // The agent's working directory (read-write).
};

// `words` with the placeholders filled in:
// - {probes} and {worktree} anywhere in a word: the paths of `places`;
// - {command} as a whole word: the probe's argv, word for word; inside a
//   longer word (a sandbox that takes one string, run by a shell): the argv
//   quoted for sh (ShellQuote), joined by spaces;
// - no {command}: the probe's argv is appended.
// Another {name} is an error naming it, as is a {command} given twice.
absl::StatusOr<std::vector<std::string>> ExpandSandboxCommand(
    const std::vector<std::string>& words, const SandboxPlaces& places,
    const std::vector<std::string>& command);

// The spec a foreign sandbox is judged against: a cell's defaults (as
// documented) with every isolation setting the policy requires, the Nix
// daemon when the policy requires it, `protect: @defaults` when the policy
// requires that, the worktree at `worktree`, and no network (mode none).
// The caller sets network.mode to kProxy when the probe saw a proxy in its
// environment: then the proxy properties apply.
CellSpec SandboxReference(const Policy& policy, const std::string& worktree);

}  // namespace cell::policy

#endif  // CELL_POLICY_SANDBOX_H_

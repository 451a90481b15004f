// `cell completion bash|zsh`: shell completion for `cell` and `cell-verify`,
// made from the flag table (flags.h), so that a flag added there is
// completed without another edit. Subcommands, each subcommand's flags,
// the values of a choice ("proxy|none"), files and directories for FILE
// and DIR values, users, variable names, rlimit names. cell-verify keeps
// its flags in its own parser (policy/cell_verify_main.cc): its list here
// is static, and a test holds it to `cell-verify --help`.
#ifndef CELL_LAUNCHER_CLI_COMPLETION_H_
#define CELL_LAUNCHER_CLI_COMPLETION_H_

#include <string>
#include <vector>

#include "launcher/cli/flags.h"

namespace cell {

// What a flag's value is, for completion.
enum class ValueKind {
  kNone,       // A switch: no value.
  kText,       // A value with nothing to offer (a size, a number, a path
               // inside a sandbox).
  kFile,       // A host file (or any path).
  kDirectory,  // A host directory.
  kChoice,     // One of `choices`.
  kUser,       // A host user name.
  kEnvName,    // A variable name (NAME, or NAME=VALUE).
  kRlimit,     // NAME=VALUE with NAME an rlimit.
  kProtect,    // A worktree path, or @defaults.
};

struct CompletionFlag {
  std::string name;  // Without "--".
  ValueKind value = ValueKind::kNone;
  std::vector<std::string> choices;  // For kChoice.
  bool repeatable = false;
  bool optional_value = false;  // --tls-roots or --tls-roots=FILE.
  std::string help;             // One line.
};

// What follows a subcommand's flags.
enum class Operands {
  kNone,
  kFiles,    // `cell log FILE...`.
  kCommand,  // `cell run ... -- COMMAND [ARG...]`.
  kWords,    // One of `words` (`cell help TOPIC`, `cell completion SHELL`).
};

struct CompletionCommand {
  std::string name;  // "run", "check-spec", ...
  std::string help;  // One line.
  std::vector<CompletionFlag> flags;
  Operands operands = Operands::kNone;
  std::vector<std::string> words;  // For Operands::kWords.
};

// How completion reads one row of the flag table.
CompletionFlag CompletionFlagOf(const FlagDef& flag);

// `cell`'s subcommands with their flags (from Flags() and the subcommand
// bits, plus those of `log`, `help` and `completion`).
std::vector<CompletionCommand> CellCommands();

// cell-verify's flags, as its --help lists them (plus --help).
std::vector<CompletionFlag> CellVerifyFlags();

// The scripts `cell completion bash` and `cell completion zsh` print. The
// bash one defines _cell and _cell_verify and registers them with
// `complete`; the zsh one is an autoloadable _cell (#compdef cell
// cell-verify) that also registers itself when sourced.
std::string BashCompletion();
std::string ZshCompletion();

// `cell completion --help`.
std::string CompletionUsage();

// `cell completion SHELL`: the script on stdout; 2 on a usage error.
int Completion(const std::vector<std::string>& args);

}  // namespace cell

#endif  // CELL_LAUNCHER_CLI_COMPLETION_H_

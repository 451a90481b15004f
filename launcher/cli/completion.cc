#include "launcher/cli/completion.h"

#include <cstdio>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "launcher/spec/spec.h"

namespace cell {
namespace {

constexpr int kExitUsage = 2;

constexpr char kCompletionUsage[] = R"(Usage: cell completion bash|zsh

Prints a completion script for cell and cell-verify: the subcommands, every
flag of each, the values of a choice (--network=proxy|none), files and
directories for FILE and DIR values, users, variable and rlimit names, and
a command after `cell run ... --`. It is made from the same flag table as
`cell help run`, so it completes every flag this cell takes.

  bash: source <(cell completion bash)          # e.g. in ~/.bashrc
        or save it as ~/.local/share/bash-completion/completions/cell,
        with a link named cell-verify beside it
  zsh:  cell completion zsh > ~/.zfunc/_cell    # a directory in $fpath,
        before compinit runs; or source <(cell completion zsh) after it
)";

// The help of a flag as one short line: up to its first "; ", at most
// about 70 columns.
std::string OneLine(absl::string_view help) {
  std::string line(help.substr(0, help.find("; ")));
  constexpr size_t kMax = 70;
  if (line.size() > kMax) {
    const size_t space = line.rfind(' ', kMax - 3);
    line = absl::StrCat(
        line.substr(0, space == std::string::npos ? kMax - 3 : space), "...");
  }
  return line;
}

CompletionFlag Flag(const char* name, ValueKind value, const char* help,
                    std::vector<std::string> choices = {}) {
  CompletionFlag flag;
  flag.name = name;
  flag.value = value;
  flag.help = help;
  flag.choices = std::move(choices);
  return flag;
}

CompletionFlag HelpFlag() {
  return Flag("help", ValueKind::kNone, "print the usage");
}

bool TakesValue(const CompletionFlag& flag) {
  return flag.value != ValueKind::kNone;
}

// ---- bash ----

// How the bash script names a kind of value (see _cell_values).
std::string BashKind(const CompletionFlag& flag) {
  switch (flag.value) {
    case ValueKind::kNone:
      return "switch";
    case ValueKind::kText:
      return "text";
    case ValueKind::kFile:
      return "file";
    case ValueKind::kDirectory:
      return "dir";
    case ValueKind::kChoice:
      return absl::StrCat("choice ", absl::StrJoin(flag.choices, " "));
    case ValueKind::kUser:
      return "user";
    case ValueKind::kEnvName:
      return "env";
    case ValueKind::kRlimit:
      return "rlimit";
    case ValueKind::kProtect:
      return "protect";
  }
  return "text";
}

// "--name=" for a flag that takes a value, "--name" for a switch or a
// flag whose value is optional.
std::string Offered(const CompletionFlag& flag) {
  return absl::StrCat("--", flag.name,
                      TakesValue(flag) && !flag.optional_value ? "=" : "");
}

std::string OfferedList(const std::vector<CompletionFlag>& flags) {
  std::vector<std::string> words;
  for (const CompletionFlag& flag : flags) words.push_back(Offered(flag));
  return absl::StrJoin(words, " ");
}

// A shell function mapping each value-taking flag to its kind ("optional
// KIND" when the value may be left out); switches (and unknown flags) are
// "switch".
std::string BashKindFunction(const std::string& function,
                             const std::vector<CompletionFlag>& flags) {
  std::string out = absl::StrCat(function, "() {\n  case $1 in\n");
  std::set<std::string> seen;
  for (const CompletionFlag& flag : flags) {
    if (!TakesValue(flag) || !seen.insert(flag.name).second) continue;
    absl::StrAppend(&out, "    --", flag.name, ") echo '",
                    flag.optional_value ? "optional " : "", BashKind(flag),
                    "' ;;\n");
  }
  absl::StrAppend(&out, "    *) echo switch ;;\n  esac\n}\n");
  return out;
}

constexpr char kBashHead[] = R"(# bash completion for cell and cell-verify.
# Made by `cell completion bash` from cell's flag table; do not edit.
# Use: source <(cell completion bash), e.g. in ~/.bashrc; or save it as
# ~/.local/share/bash-completion/completions/cell, with a link named
# cell-verify beside it.

# The word being completed as typed (whatever COMP_WORDBREAKS splits) in
# _cell_cur, the words before it in _cell_before.
_cell_split() {
  local line=${COMP_LINE:0:COMP_POINT}
  _cell_cur=${line##*[[:space:]]}
  read -ra _cell_before <<<"${line:0:${#line}-${#_cell_cur}}"
}

# _cell_reply WORD CANDIDATE...: COMPREPLY from the whole-word candidates
# that start with WORD, each less the part of WORD that bash keeps (up to
# its last COMP_WORDBREAKS character, e.g. "--network=").
_cell_reply() {
  local word=$1 keep= candidate i
  shift
  for ((i = ${#word} - 1; i >= 0; i--)); do
    if [[ $COMP_WORDBREAKS == *"${word:i:1}"* ]]; then
      keep=${word:0:i+1}
      break
    fi
  done
  COMPREPLY=()
  for candidate in "$@"; do
    if [[ $candidate == "$word"* ]]; then
      COMPREPLY+=("${candidate#"$keep"}")
    fi
  done
}

# _cell_values KIND PREFIX VALUE: in _cell_candidates, PREFIX followed by
# each value of KIND (file, dir, user, env, rlimit, protect, "choice A B",
# text) that starts with VALUE.
_cell_values() {
  local kind=$1 prefix=$2 value=$3 item
  local -a items=()
  case $kind in
    file)
      compopt -o filenames 2>/dev/null
      mapfile -t items < <(compgen -f -- "$value")
      ;;
    dir)
      compopt -o filenames 2>/dev/null
      mapfile -t items < <(compgen -d -- "$value")
      ;;
    user) mapfile -t items < <(compgen -u -- "$value") ;;
    env) mapfile -t items < <(compgen -e -- "$value") ;;
    rlimit)
      compopt -o nospace 2>/dev/null
      items=()";

constexpr char kBashMiddle[] = R"()
      ;;
    protect)
      compopt -o filenames 2>/dev/null
      mapfile -t items < <(compgen -f -- "$value")
      items+=(@defaults)
      ;;
    choice\ *) read -ra items <<<"${kind#choice }" ;;
  esac
  _cell_candidates=()
  for item in "${items[@]}"; do
    _cell_candidates+=("$prefix$item")
  done
}

# _cell_flags KIND_FUNCTION FLAG...: completes a flag (one of FLAG...,
# "--name=" when it takes a value) or the value of a flag, in the same word
# (--network=) or the next (--network proxy). Returns 1 when the word is
# neither.
_cell_flags() {
  local kind_of=$1 cur=$_cell_cur prev= kind
  shift
  if ((${#_cell_before[@]} > 0)); then
    prev=${_cell_before[${#_cell_before[@]}-1]}
  fi
  if [[ $cur == --*=* ]]; then
    kind=$("$kind_of" "${cur%%=*}")
    _cell_values "${kind#optional }" "${cur%%=*}=" "${cur#*=}"
    _cell_reply "$cur" "${_cell_candidates[@]}"
    return 0
  fi
  if [[ $prev == --?* && $prev != *=* ]]; then
    kind=$("$kind_of" "$prev")
    if [[ $kind != switch && $kind != optional\ * ]]; then
      _cell_values "$kind" "" "$cur"
      _cell_reply "$cur" "${_cell_candidates[@]}"
      return 0
    fi
  fi
  if [[ $cur == -* ]]; then
    _cell_reply "$cur" "$@"
    if [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *= ]]; then
      compopt -o nospace 2>/dev/null
    fi
    return 0
  fi
  return 1
}

)";

// The branch of _cell's `case` for one subcommand.
std::string BashCommandBranch(const CompletionCommand& command) {
  const std::string flags = OfferedList(command.flags);
  std::string out = absl::StrCat("    ", command.name, ")\n");
  switch (command.operands) {
    case Operands::kCommand:
      // After `--`: a command, then its arguments (files).
      absl::StrAppend(&out,
                      "      for ((i = 2; i < n; i++)); do\n"
                      "        if [[ ${_cell_before[i]} == -- ]]; then\n"
                      "          if ((i == n - 1)); then\n"
                      "            mapfile -t COMPREPLY < <(compgen -c -- "
                      "\"$_cell_cur\" | sort -u)\n"
                      "          else\n"
                      "            compopt -o default 2>/dev/null\n"
                      "            COMPREPLY=()\n"
                      "          fi\n"
                      "          return 0\n"
                      "        fi\n"
                      "      done\n"
                      "      _cell_flags _cell_kind ",
                      flags, "\n");
      break;
    case Operands::kFiles:
      absl::StrAppend(&out, "      if ! _cell_flags _cell_kind ", flags,
                      "; then\n"
                      "        compopt -o filenames 2>/dev/null\n"
                      "        mapfile -t COMPREPLY < <(compgen -f -- "
                      "\"$_cell_cur\")\n"
                      "      fi\n");
      break;
    case Operands::kWords:
      absl::StrAppend(&out, "      if ! _cell_flags _cell_kind ", flags,
                      " && ((n == 2)); then\n"
                      "        _cell_reply \"$_cell_cur\" ",
                      absl::StrJoin(command.words, " "), "\n      fi\n");
      break;
    case Operands::kNone:
      absl::StrAppend(&out, "      _cell_flags _cell_kind ", flags, "\n");
      break;
  }
  absl::StrAppend(&out, "      ;;\n");
  return out;
}

// ---- zsh ----

// `text` inside a single-quoted zsh word.
std::string ZshQuoted(absl::string_view text) {
  return absl::StrReplaceAll(text, {{"'", "'\\''"}});
}

// A description inside _arguments' [...] (or after _describe's ':').
std::string ZshDescription(absl::string_view help) {
  return ZshQuoted(absl::StrReplaceAll(
      OneLine(help), {{"\\", "\\\\"}, {"[", "("}, {"]", ")"}, {":", "\\:"}}));
}

// The value's message and action in an _arguments spec.
std::string ZshValue(const CompletionFlag& flag, absl::string_view message) {
  std::string action;
  switch (flag.value) {
    case ValueKind::kNone:
      return "";
    case ValueKind::kText:
      action = " ";
      break;
    case ValueKind::kFile:
      action = "_files";
      break;
    case ValueKind::kDirectory:
      action = "_files -/";
      break;
    case ValueKind::kChoice:
      action = absl::StrCat("(", absl::StrJoin(flag.choices, " "), ")");
      break;
    case ValueKind::kUser:
      action = "_users";
      break;
    case ValueKind::kEnvName:
      action = "_parameters -g \"*export*\"";
      break;
    case ValueKind::kRlimit: {
      std::vector<absl::string_view> names;
      for (const auto& [name, resource] : RlimitResources()) {
        names.push_back(name);
      }
      action =
          absl::StrCat("{compadd -S = -- ", absl::StrJoin(names, " "), "}");
      break;
    }
    case ValueKind::kProtect:
      action = "{compadd -- @defaults; _files}";
      break;
  }
  return absl::StrCat(
      ":", ZshQuoted(absl::StrReplaceAll(message, {{":", "\\:"}, {"'", ""}})),
      ":", ZshQuoted(action));
}

std::string MessageOf(const CompletionFlag& flag) {
  switch (flag.value) {
    case ValueKind::kFile:
      return "file";
    case ValueKind::kDirectory:
      return "directory";
    case ValueKind::kChoice:
      return flag.name;
    case ValueKind::kUser:
      return "user name or uid";
    case ValueKind::kEnvName:
      return "NAME or NAME=VALUE";
    case ValueKind::kRlimit:
      return "NAME=VALUE";
    case ValueKind::kProtect:
      return "worktree path";
    case ValueKind::kText:
    case ValueKind::kNone:
      break;
  }
  return flag.name;
}

// One _arguments spec: a quoted word and " \\" on a line of its own,
// `indent` deep.
std::string ZshFlagSpec(const CompletionFlag& flag, absl::string_view indent) {
  return absl::StrCat(indent, "'", flag.repeatable ? "*" : "", "--", flag.name,
                      !TakesValue(flag)     ? ""
                      : flag.optional_value ? "=-"
                                            : "=",
                      "[", ZshDescription(flag.help), "]",
                      flag.optional_value ? ":" : "",
                      ZshValue(flag, MessageOf(flag)), "' \\\n");
}

// The branch of the `case $words[1]` for one subcommand.
std::string ZshCommandBranch(const CompletionCommand& command) {
  constexpr absl::string_view kIndent = "            ";
  std::string out =
      absl::StrCat("        ", command.name, ")\n          _arguments -S \\\n");
  for (const CompletionFlag& flag : command.flags) {
    absl::StrAppend(&out, ZshFlagSpec(flag, kIndent));
  }
  switch (command.operands) {
    case Operands::kCommand:
      absl::StrAppend(&out, kIndent, "'*::command and arguments:_normal' \\\n");
      break;
    case Operands::kFiles:
      absl::StrAppend(&out, kIndent, "'*:file:_files' \\\n");
      break;
    case Operands::kWords:
      absl::StrAppend(&out, kIndent, "'1:", command.name, ":(",
                      absl::StrJoin(command.words, " "), ")' \\\n");
      break;
    case Operands::kNone:
      break;
  }
  absl::StrAppend(&out, kIndent, "&& ret=0\n          ;;\n");
  return out;
}

constexpr char kZshHead[] = R"(#compdef cell cell-verify
# zsh completion for cell and cell-verify.
# Made by `cell completion zsh` from cell's flag table; do not edit.
# Use: save it as _cell in a directory of $fpath before compinit runs, or
# source <(cell completion zsh) after compinit.

_cell() {
  local curcontext=$curcontext state state_descr line ret=1
  typeset -A opt_args
  if [[ $service == cell-verify ]]; then
    _arguments -S \
)";

}  // namespace

CompletionFlag CompletionFlagOf(const FlagDef& def) {
  CompletionFlag flag;
  flag.name = def.name;
  flag.help = def.help;
  const absl::string_view value_name = def.value_name;
  const absl::string_view field = def.field;
  // Fields that are lists or maps take the flag again and again.
  flag.repeatable = field == "mounts" || field == "env" || field == "protect" ||
                    field == "presets" ||
                    absl::StartsWith(field, "limits.rlimits");
  // "[=FILE]": the flag alone means its default.
  flag.optional_value = absl::StartsWith(value_name, "[");
  switch (def.kind) {
    case FlagKind::kRlimit:
      flag.value = ValueKind::kRlimit;
      return flag;
    case FlagKind::kEnv:
      flag.value = ValueKind::kEnvName;
      return flag;
    case FlagKind::kProtect:
      flag.value = ValueKind::kProtect;
      return flag;
    case FlagKind::kMount:
      // SRC[:DST]: the host's SRC.
      flag.value = ValueKind::kFile;
      return flag;
    case FlagKind::kBytes:
    case FlagKind::kCount:
      flag.value = ValueKind::kText;
      return flag;
    default:
      break;
  }
  // Every other kind by what its row says: choices ("a|b"), no value (a
  // switch), or a value named DIR, FILE, PATH, CELL, NAME|UID.
  if (*def.choices != '\0') {
    flag.value = ValueKind::kChoice;
    flag.choices = absl::StrSplit(def.choices, '|', absl::SkipEmpty());
  } else if (value_name.empty()) {
    flag.value = ValueKind::kNone;
  } else if (absl::StrContains(value_name, "DIR") &&
             !absl::StrContains(value_name, ":")) {
    flag.value = ValueKind::kDirectory;
  } else if ((absl::StrContains(value_name, "FILE") ||
              absl::StrContains(value_name, "PATH") ||
              absl::StrContains(value_name, "CELL")) &&
             !absl::StrContains(value_name, ":")) {
    flag.value = ValueKind::kFile;
  } else if (absl::StrContains(value_name, "UID")) {
    flag.value = ValueKind::kUser;
  } else {
    flag.value = ValueKind::kText;
  }
  return flag;
}

std::vector<CompletionCommand> CellCommands() {
  std::vector<CompletionCommand> commands;
  const std::pair<Subcommand, unsigned> kTableCommands[] = {
      {Subcommand::kRun, kForRun},
      {Subcommand::kCheckSpec, kForCheckSpec},
      {Subcommand::kPack, kForPack}};
  for (const auto& [subcommand, bit] : kTableCommands) {
    CompletionCommand command;
    switch (subcommand) {
      case Subcommand::kRun:
        command.name = "run";
        command.help = "launch a command inside a cell";
        command.operands = Operands::kCommand;
        break;
      case Subcommand::kCheckSpec:
        command.name = "check-spec";
        command.help = "validate a spec and print it fully resolved, as JSON";
        break;
      case Subcommand::kPack:
        command.name = "pack";
        command.help =
            "write a self-contained executable with the spec baked in";
        break;
    }
    for (const FlagDef& def : Flags()) {
      if ((def.subcommands & bit) != 0) {
        command.flags.push_back(CompletionFlagOf(def));
      }
    }
    command.flags.push_back(HelpFlag());
    commands.push_back(std::move(command));
  }
  CompletionCommand log;
  log.name = "log";
  log.help = "summarise the builtin proxy's audit log";
  log.flags = {Flag("top", ValueKind::kText,
                    "how many of the busiest hosts to list (default 10)"),
               HelpFlag()};
  log.operands = Operands::kFiles;
  commands.push_back(std::move(log));

  CompletionCommand trust;
  trust.name = "trust";
  trust.help = "mark a cell.json as reviewed, for run and check-spec";
  trust.flags = {HelpFlag()};
  trust.operands = Operands::kFiles;
  commands.push_back(std::move(trust));

  CompletionCommand help;
  help.name = "help";
  help.help = "print the usage of cell or of one command";
  help.operands = Operands::kWords;
  for (const CompletionCommand& command : commands) {
    help.words.push_back(command.name);
  }
  help.words.push_back("presets");

  CompletionCommand completion;
  completion.name = "completion";
  completion.help = "print a bash or zsh completion script";
  completion.flags = {HelpFlag()};
  completion.operands = Operands::kWords;
  completion.words = {"bash", "zsh"};
  commands.push_back(std::move(help));
  commands.push_back(std::move(completion));
  return commands;
}

std::vector<CompletionFlag> CellVerifyFlags() {
  return {
      Flag("spec", ValueKind::kFile, "the cell spec (as for cell run --spec)"),
      Flag("policy", ValueKind::kFile, "a policy file (JSON)"),
      Flag("profile", ValueKind::kChoice, "a shipped policy",
           {"documented", "agent-strict"}),
      Flag("format", ValueKind::kChoice, "the report's format",
           {"text", "json", "junit"}),
      Flag("output", ValueKind::kFile,
           "write the report there instead of stdout"),
      Flag("static-only", ValueKind::kNone,
           "check the spec and policy only; launch nothing"),
      Flag("cell", ValueKind::kFile, "the cell launcher"),
      Flag("probe", ValueKind::kFile, "the cell-probe binary"),
      Flag("version", ValueKind::kNone,
           "print the version and how it was built"),
      Flag("threshold", ValueKind::kText,
           "exit 1 only when the exposure score is above N"),
      Flag("sandbox", ValueKind::kText,
           "verify another sandbox: its command line"),
      Flag("worktree", ValueKind::kDirectory,
           "the worktree to use with --sandbox"),
      Flag("sandbox-worktree", ValueKind::kText,
           "where the sandbox shows the worktree"),
      Flag("filter", ValueKind::kFile,
           "the domain filter the sandbox's proxy claims to apply"),
      HelpFlag(),
  };
}

std::string BashCompletion() {
  const std::vector<CompletionCommand> commands = CellCommands();
  std::string out = kBashHead;
  bool first = true;
  for (const auto& [name, resource] : RlimitResources()) {
    absl::StrAppend(&out, first ? "" : " ", name, "=");
    first = false;
  }
  absl::StrAppend(&out, kBashMiddle);

  std::vector<CompletionFlag> all_flags;
  std::vector<std::string> names;
  for (const CompletionCommand& command : commands) {
    all_flags.insert(all_flags.end(), command.flags.begin(),
                     command.flags.end());
    names.push_back(command.name);
  }
  absl::StrAppend(&out, "# The kind of value each of cell's flags takes.\n",
                  BashKindFunction("_cell_kind", all_flags), "\n");
  absl::StrAppend(&out,
                  "_cell() {\n"
                  "  local n i\n"
                  "  _cell_split\n"
                  "  n=${#_cell_before[@]}\n"
                  "  if ((n <= 1)); then\n"
                  "    _cell_reply \"$_cell_cur\" ",
                  absl::StrJoin(names, " "),
                  " --help --version\n"
                  "    return 0\n"
                  "  fi\n"
                  "  case ${_cell_before[1]} in\n");
  for (const CompletionCommand& command : commands) {
    absl::StrAppend(&out, BashCommandBranch(command));
  }
  absl::StrAppend(&out, "  esac\n  return 0\n}\n\n");

  const std::vector<CompletionFlag> verify = CellVerifyFlags();
  absl::StrAppend(&out,
                  "# The kind of value each of cell-verify's flags takes.\n",
                  BashKindFunction("_cell_verify_kind", verify), "\n",
                  "_cell_verify() {\n"
                  "  _cell_split\n"
                  "  _cell_flags _cell_verify_kind ",
                  OfferedList(verify),
                  "\n  return 0\n}\n\n"
                  "complete -F _cell cell\n"
                  "complete -F _cell_verify cell-verify\n");
  return out;
}

std::string ZshCompletion() {
  const std::vector<CompletionCommand> commands = CellCommands();
  std::string out = kZshHead;
  for (const CompletionFlag& flag : CellVerifyFlags()) {
    absl::StrAppend(&out, ZshFlagSpec(flag, "      "));
  }
  absl::StrAppend(&out,
                  "      && ret=0\n"
                  "    return ret\n"
                  "  fi\n"
                  "  _arguments -C \\\n"
                  "    '(- *)--help[print the usage]' \\\n"
                  "    '(- *)--version[print the version and how it was "
                  "built]' \\\n"
                  "    '1:command:->command' \\\n"
                  "    '*::argument:->argument' && ret=0\n"
                  "  case $state in\n"
                  "    command)\n"
                  "      local -a commands\n"
                  "      commands=(\n");
  for (const CompletionCommand& command : commands) {
    absl::StrAppend(&out, "        '", command.name, ":",
                    ZshDescription(command.help), "'\n");
  }
  absl::StrAppend(&out,
                  "      )\n"
                  "      _describe -t commands 'cell command' commands && "
                  "ret=0\n"
                  "      ;;\n"
                  "    argument)\n"
                  "      curcontext=${curcontext%:*:*}:cell-$words[1]:\n"
                  "      case $words[1] in\n");
  for (const CompletionCommand& command : commands) {
    absl::StrAppend(&out, ZshCommandBranch(command));
  }
  absl::StrAppend(&out,
                  "      esac\n"
                  "      ;;\n"
                  "  esac\n"
                  "  return ret\n"
                  "}\n\n"
                  "# Autoloaded from $fpath this file is _cell's body: "
                  "define it, then run it.\n"
                  "# Sourced, register it.\n"
                  "if [[ $funcstack[1] == _cell ]]; then\n"
                  "  _cell \"$@\"\n"
                  "else\n"
                  "  compdef _cell cell cell-verify\n"
                  "fi\n");
  return out;
}

std::string CompletionUsage() { return kCompletionUsage; }

int Completion(const std::vector<std::string>& args) {
  if (args.size() == 1 && args[0] == "bash") {
    std::fputs(BashCompletion().c_str(), stdout);
    return 0;
  }
  if (args.size() == 1 && args[0] == "zsh") {
    std::fputs(ZshCompletion().c_str(), stdout);
    return 0;
  }
  if (args.size() == 1 && (args[0] == "--help" || args[0] == "-h")) {
    std::fputs(kCompletionUsage, stdout);
    return 0;
  }
  std::fprintf(stderr,
               "cell: completion: expected bash or zsh, e.g. "
               "source <(cell completion bash) (see 'cell completion "
               "--help')\n");
  return kExitUsage;
}

}  // namespace cell

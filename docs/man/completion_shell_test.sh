#!/usr/bin/env bash
# The generated completion scripts in the shells themselves, and the man
# pages through groff:
#   completion_shell_test.sh CELL_BASH ZSH_CELL CELL CELL_VERIFY PAGE...
# - bash: the script parses (bash -n); sourced, _cell completes what a user
#   types (`cell run --net` offers --network=, its values, directories,
#   commands after --), with and without '=' in COMP_WORDBREAKS;
# - every subcommand `cell help` lists, and every flag each one's --help
#   lists, is offered; cell-verify's static list is exactly the flags its
#   --help shows;
# - zsh: the script parses (zsh -n) and completes in a real interactive zsh;
# - groff reads every page without a warning.
set -uo pipefail
bash_script=$1
zsh_script=$2
cell=$3
verify=$4
shift 4
pages=("$@")
here=$(dirname "$0")

passed=0
failed=0
pass() {
  echo "PASS: $1"
  passed=$((passed + 1))
}
fail() {
  echo "FAIL: $1" >&2
  failed=$((failed + 1))
}

# Completes LINE (to its end) with bash's FUNCTION (default _cell) as bash
# would call it, COMP_WORDS split at COMP_WORDBREAKS; prints COMPREPLY one
# a line. BREAKS, when given, replaces COMP_WORDBREAKS.
complete_bash() {
  local line=$1 function=${2:-_cell} breaks=${3-}
  bash --norc --noprofile -c '
    source "$1" || exit 3
    [[ -n $4 ]] && COMP_WORDBREAKS=$4
    COMP_LINE=$2
    COMP_POINT=${#COMP_LINE}
    # Words as bash splits them: at blanks, and a word-break character is
    # a word of its own.
    COMP_WORDS=()
    word=
    for ((i = 0; i < ${#COMP_LINE}; i++)); do
      c=${COMP_LINE:i:1}
      if [[ $c == " " ]]; then
        [[ -n $word ]] && COMP_WORDS+=("$word")
        word=
      elif [[ $COMP_WORDBREAKS == *"$c"* ]]; then
        [[ -n $word ]] && COMP_WORDS+=("$word")
        COMP_WORDS+=("$c")
        word=
      else
        word+=$c
      fi
    done
    COMP_WORDS+=("$word")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMPREPLY=()
    "$3"
    printf "%s\n" "${COMPREPLY[@]}"
  ' complete_bash "$bash_script" "$line" "$function" "$breaks"
}

# expect_reply LINE WANTED [FUNCTION [BREAKS]]: WANTED is one of the
# replies.
expect_reply() {
  local line=$1 wanted=$2 replies
  replies=$(complete_bash "$line" "${3:-_cell}" "${4-}")
  if grep -qxF -- "$wanted" <<<"$replies"; then
    pass "bash: '$line' offers '$wanted'"
  else
    fail "bash: '$line' does not offer '$wanted'; it offers: $(tr '\n' ' ' <<<"$replies")"
  fi
}

# The flag names ("--name") a help text lists in its flag column.
help_flags() {
  grep -oE '^  --[a-z][a-z-]*' | sed 's/^ *//' | grep -v '^--cell-' | sort -u
}

# --- bash ---
if bash -n "$bash_script"; then
  pass "bash -n $bash_script"
else
  fail "bash -n $bash_script"
fi
# Sourcing it outside completion must not fail (compopt is guarded).
if bash --norc --noprofile -c 'source "$1" && complete -p cell cell-verify' \
    _ "$bash_script" >/dev/null; then
  pass "bash: sourced, registers cell and cell-verify"
else
  fail "bash: sourcing the script"
fi

expect_reply "cell run --net" "--network="
expect_reply "cell run --network=" "proxy"
expect_reply "cell run --network=" "none"
expect_reply "cell run --network=n" "none"
expect_reply "cell run --network " "proxy"
expect_reply "cell run --engine=" "tinyproxy"
expect_reply "cell check-spec --pac" "--packed="
expect_reply "cell pack --unch" "--unchecked-paths"
expect_reply "cell run --rlimit=nof" "nofile="
expect_reply "cell run --protect=@" "defaults"
expect_reply "cell " "run"
expect_reply "cell che" "check-spec"
expect_reply "cell completion " "zsh"
expect_reply "cell help " "pack"
expect_reply "cell log --" "--top="
expect_reply "cell run -- bas" "bash"
expect_reply "cell-verify --prof" "--profile=" _cell_verify
expect_reply "cell-verify --format=" "junit" _cell_verify
# Without '=' among the word breaks, the reply is the whole word.
expect_reply "cell run --network=p" "--network=proxy" _cell " "
# Directories for DIR, files for FILE.
scratch=$(mktemp -d "${TEST_TMPDIR:-/tmp}/completion.XXXXXX")
mkdir "$scratch/worktree-dir"
touch "$scratch/spec-file.json"
expect_reply "cell run --worktree=$scratch/worktree-" "$scratch/worktree-dir"
expect_reply "cell run --spec=$scratch/spec-" "$scratch/spec-file.json"
if complete_bash "cell run --worktree=$scratch/spec-" | grep -q spec-file; then
  fail "bash: --worktree= offers a file"
else
  pass "bash: --worktree= offers directories only"
fi

# Every subcommand the usage names (cell help), and every flag each one's
# --help lists.
offered_commands=$(complete_bash "cell " | grep -v '^-' | sort -u)
usage_commands=$("$cell" help | sed -n '/^Usage:/,/^$/p' |
  sed -n 's/^ *cell \([a-z][a-z-]*\).*/\1/p' | sort -u)
if [[ -n $usage_commands && $offered_commands == "$usage_commands" ]]; then
  pass "bash: 'cell ' offers exactly the commands of 'cell help'"
else
  fail "bash: 'cell ' offers [$(echo $offered_commands)], 'cell help' names [$(echo $usage_commands)]"
fi
for command in $usage_commands; do
  [[ $command == help ]] && continue
  wanted=$("$cell" "$command" --help | help_flags)
  offered=$(complete_bash "cell $command --" | sed 's/=$//' | sort -u)
  missing=$(comm -23 <(echo "$wanted") <(echo "$offered"))
  if [[ -z $missing ]]; then
    pass "bash: 'cell $command --' offers every flag of its --help"
  else
    fail "bash: 'cell $command --' lacks $(echo $missing)"
  fi
done

# cell-verify's flags: the static list is exactly what its --help shows.
wanted=$( ("$verify" --help | help_flags; echo --help) | sort -u)
offered=$(complete_bash "cell-verify --" _cell_verify | sed 's/=$//' | sort -u)
if [[ $wanted == "$offered" ]]; then
  pass "bash: cell-verify's flags are those of its --help"
else
  fail "bash: cell-verify: --help lists [$(echo $wanted)], completion offers [$(echo $offered)]"
fi

# --- zsh ---
if ! command -v zsh >/dev/null; then
  fail "zsh is not installed (./setup.sh installs it)"
else
  if zsh -n "$zsh_script"; then
    pass "zsh -n $zsh_script"
  else
    fail "zsh -n $zsh_script"
  fi
  zsh_dir=$(mktemp -d "${TEST_TMPDIR:-/tmp}/zsh.XXXXXX")
  cp "$zsh_script" "$zsh_dir/_cell"
  results=$(cd "$scratch" && HOME=$zsh_dir zsh -f "$here/zsh_complete.zsh" \
    "$zsh_dir" 'cell run --net' 'cell run --network=n' 'cell che' \
    'cell run --ro-bi' 'cell-verify --prof' "cell run --worktree=$scratch/worktree-" \
    'cell help tr' 'cell run --rlimit=nof' 'cell log --t')
  echo "$results"
  for expected in \
      'cell run --net => cell run --network=' \
      'cell run --network=n => cell run --network=none ' \
      'cell che => cell check-spec ' \
      'cell run --ro-bi => cell run --ro-bind=' \
      'cell-verify --prof => cell-verify --profile=' \
      "cell run --worktree=$scratch/worktree- => cell run --worktree=$scratch/worktree-dir/" \
      'cell run --rlimit=nof => cell run --rlimit=nofile=' \
      'cell log --t => cell log --top='; do
    if grep -qxF -- "$expected" <<<"$results"; then
      pass "zsh: $expected"
    else
      fail "zsh: expected '$expected'"
    fi
  done
fi

# --- the pages ---
if command -v groff >/dev/null; then
  for page in "${pages[@]}"; do
    warnings=$(groff -man -ww -z "$page" 2>&1)
    if [[ -z $warnings ]]; then
      pass "groff reads $(basename "$page") without a warning"
    else
      fail "groff on $(basename "$page"): $warnings"
    fi
  done
fi

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]

#!/usr/bin/env bash
# What the cell's own pty costs: `cat` of a large file to a terminal, on the
# host and inside a cell whose stdout is that terminal (the launcher relays
# the cell's pty to it), side by side in one hyperfine run. Both run under
# `script`, which gives them a pty and copies it to /dev/null, so the only
# difference is the cell (its launch and the relay). Noisy machines: read
# the ratio.
#
#   tests/bench/terminal_bench.sh [--mib=N] [--runs=N] [--export=FILE.md]
set -euo pipefail
cd "$(dirname "$0")/../.."

mib=256
runs=10
export_file=""
for arg in "$@"; do
  case "$arg" in
    --mib=*) mib="${arg#--mib=}" ;;
    --runs=*) runs="${arg#--runs=}" ;;
    --export=*) export_file="${arg#--export=}" ;;
    *) echo "usage: $0 [--mib=N] [--runs=N] [--export=FILE.md]" >&2; exit 2 ;;
  esac
done
for tool in hyperfine script; do
  command -v "$tool" >/dev/null || { echo "missing $tool: run ./setup.sh" >&2; exit 2; }
done

bazel build -c opt //launcher:cell >/dev/null 2>&1
cell="$(bazel info -c opt bazel-bin 2>/dev/null)/launcher/cell"

work=$(mktemp -d /tmp/cell-tty-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir "$work/wt"
chmod 755 "$work" "$work/wt"
# Text, as a terminal would get it: lines of printable bytes.
# (yes dies of SIGPIPE when head is done: not a failure.)
{ yes 'the quick brown fox jumps over the lazy dog 0123456789' || true; } |
  head -c "$((mib * 1024 * 1024))" > "$work/wt/big.txt"

binds=""
for dir in /usr /bin /lib /lib64; do
  [[ -e $dir ]] && binds+=" --ro-bind=$dir"
done
cell_cat="$cell run --worktree=$work/wt --no-nix --network=none$binds -- cat big.txt"

args=(-N --warmup 1 --runs "$runs")
[[ -n "$export_file" ]] && args+=(--export-markdown "$export_file")
hyperfine "${args[@]}" \
  -n "host: cat ${mib} MiB to a pty" "script -qec 'cat $work/wt/big.txt' /dev/null" \
  -n "cell: cat ${mib} MiB to a pty (relayed)" "script -qec 'cd $work && $cell_cat' /dev/null"

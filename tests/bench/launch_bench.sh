#!/usr/bin/env bash
# Launch latency of `cell run -- /bin/true` with no network (documented,
# hardened, and with limits), with the builtin proxy engine and with a
# tinyproxy per run, against bubblewrap with an equivalent mount set,
# `unshare -Urmn /bin/true`, and the seed's pipeline
# (tests/bench/seed_cell.sh: shell + tinyproxy + two socats + bwrap), side
# by side in one hyperfine run (noisy machines: read ratios).
#
#   tests/bench/launch_bench.sh [--runs=N] [--export=FILE.md] [--csv=FILE.csv]
#
# Run as root or as a user allowed to create user namespaces.
set -euo pipefail
cd "$(dirname "$0")/../.."

runs=300
export_file=""
csv_file=""
for arg in "$@"; do
  case "$arg" in
    --runs=*) runs="${arg#--runs=}" ;;
    --export=*) export_file="${arg#--export=}" ;;
    --csv=*) csv_file="${arg#--csv=}" ;;
    *) echo "usage: $0 [--runs=N] [--export=FILE.md] [--csv=FILE.csv]" >&2; exit 2 ;;
  esac
done
for tool in hyperfine bwrap unshare tinyproxy socat; do
  command -v "$tool" >/dev/null || { echo "missing $tool: run ./setup.sh" >&2; exit 2; }
done

bazel build -c opt //launcher:cell >/dev/null 2>&1
cell="$(bazel info -c opt bazel-bin 2>/dev/null)/launcher/cell"

work=$(mktemp -d /tmp/cell-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir "$work/wt"

# The same host paths in both sandboxes: /usr, /bin, /lib, /lib64 read-only,
# the worktree read-write as cwd, tmpfs /tmp and /home/cell, a minimal /dev,
# the host's /proc, new user + mount + network namespaces.
binds=()
bwrap_binds=()
for dir in /usr /bin /lib /lib64; do
  [[ -e $dir ]] || continue
  binds+=("--ro-bind=$dir")
  bwrap_binds+=(--ro-bind "$dir" "$dir")
done

cell_base="$cell run --worktree=$work/wt --no-nix ${binds[*]}"
cell_cmd="$cell_base --network=none -- /bin/true"
bwrap_cmd="bwrap --unshare-user --unshare-net ${bwrap_binds[*]} --bind /proc /proc \
--dev /dev --tmpfs /tmp --tmpfs /home/cell --bind $work/wt /home/cell/worktree \
--chdir /home/cell/worktree /bin/true"
unshare_cmd="unshare -Urmn /bin/true"

# Hardening and limits are opt-in; what they cost at launch. Limits need a
# cgroup (root, or a delegated one).
hardened="--pid-namespace --ipc-namespace --capabilities=none --seccomp --read-only-root"
limited=()
if [[ $(id -u) -eq 0 ]]; then
  limited=(-n cell-limits "$cell_base --network=none --pids-max=512 --memory-max=512M --rlimit=nofile=1024 -- /bin/true")
fi

args=(-N --warmup 30 --runs "$runs")
[[ -n "$export_file" ]] && args+=(--export-markdown "$export_file")
[[ -n "$csv_file" ]] && args+=(--export-csv "$csv_file")
hyperfine "${args[@]}" \
  -n unshare "$unshare_cmd" \
  -n cell-none "$cell_cmd" \
  -n cell-hardened "$cell_base --network=none $hardened -- /bin/true" \
  "${limited[@]}" \
  -n bwrap "$bwrap_cmd" \
  -n cell-builtin "$cell_base --engine=builtin -- /bin/true" \
  -n cell-tinyproxy "$cell_base --engine=tinyproxy -- /bin/true" \
  -n seed "tests/bench/seed_cell.sh $work/wt /bin/true"

#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine and runs the main job: `./verify.sh`.
#
# Until cell-verify lands (it will verify a default cell end to end against
# the `documented` profile), this builds the launcher and runs a real cell —
# new user, mount and network namespaces, the host's /usr bound read-only, a
# scratch worktree, egress only through the filtering proxy — and shows from
# inside what the cell looks like. The filter allows only `localhost`, so the
# request to example.com is refused by the proxy (403) and nothing leaves
# the machine.
set -euo pipefail
cd "$(dirname "$0")"
./setup.sh
bazel build -c opt //launcher:cell
cell="$(bazel info -c opt bazel-bin 2>/dev/null)/launcher/cell"

work=$(mktemp -d /tmp/cell-verify.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir "$work/wt"
echo '^localhost$' > "$work/filter"
binds=()
for dir in /usr /bin /lib /lib64; do
  [[ -e $dir ]] && binds+=("--ro-bind=$dir")
done

echo "== a cell, seen from inside"
"$cell" run --worktree="$work/wt" --no-nix --filter="$work/filter" "${binds[@]}" \
  --status-file="$work/status.jsonl" -- sh -c '
    echo "identity:     $(id)"
    echo "cwd:          $(pwd)"
    echo "root:         $(ls / | tr "\n" " ")"
    echo "interfaces:   $(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " " | tr "\n" " ")"
    echo "capabilities: $(grep CapEff /proc/self/status | cut -f2)"
    echo "host PID 1:   $(cat /proc/1/comm)"
    touch /usr/probe 2>/dev/null && echo "/usr:         WRITABLE" || echo "/usr:         read-only"
    echo "proxy:        $http_proxy"
    echo "example.com:  HTTP $(curl -s -o /dev/null -w "%{http_code}" --noproxy "" http://example.com/) through the proxy (filtered)"
    echo "IPv4 routes:  $(tail -n +2 /proc/net/route | wc -l)"
    echo hello > from-the-cell && echo "worktree:     writable"
  '
echo "== launcher status events"
cat "$work/status.jsonl"
test "$(cat "$work/wt/from-the-cell")" = hello
jd=$(sed -n 's/.*"jd":"\([^"]*\)".*/\1/p' "$work/status.jsonl")
if [[ -e "$jd" ]]; then echo "FAIL: $jd left behind" >&2; exit 1; fi
echo "== ok: the worktree write reached the host and \$JD ($jd) is gone"

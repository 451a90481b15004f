#!/usr/bin/env bash
# The side-by-side comparison in README.md ("Compared with other
# sandboxes"): cell-verify --sandbox judges each sandbox on this machine
# under agent-strict, and the table of verdicts is regenerated from those
# runs. Every column is a real run here; a sandbox that is not installed or
# cannot run the probe is shown as "not measured" with the reason.
#
#   tests/compare/setup.sh      # once, as root: firejail, ripgrep, srt
#   tests/compare/run.sh        # build, verify every sandbox, update README
#   tests/compare/run.sh --print    # the same, table to stdout only
#
# Rows: the documented cell, the hardened cell (as nobody when root), the
# original jail's pipeline (tests/bench/seed_cell.sh), bubblewrap as agent
# projects run it and with its hardening flags, firejail likewise, and
# Anthropic's sandbox runtime (srt) with an allow-list. All go through the
# same door (--sandbox), so all are judged alike; a cell verified through
# its spec (--spec) gets the same verdicts (sandbox_verify_test) and the
# static checks besides.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)
print_only=0
case "${1:-}" in
  --print) print_only=1 ;;
  "") ;;
  *) echo "usage: tests/compare/run.sh [--print]" >&2; exit 2 ;;
esac

out=$(mktemp -d /tmp/cell-compare.XXXXXX)
chmod 755 "$out"
trap 'rm -rf "$out"' EXIT

echo "compare: building cell, cell-probe and cell-verify (-c opt)" >&2
if ! nix/build.sh "$out/prefix" >"$out/build.log" 2>&1; then
  tail -n 20 "$out/build.log" >&2
  echo "compare: the build failed (nix/build.sh)" >&2
  exit 1
fi
verify="$out/prefix/bin/cell-verify"
cell="$out/prefix/bin/cell"
srt="${CELL_COMPARE_PREFIX:-/var/cache/cell-compare}/node_modules/.bin/srt"

# The cells' specs: the documented cell, and the hardened one.
mkdir -p "$out/wt-doc" "$out/wt-hard"
printf '%s\n' '^github\.com$' >"$out/filter"
binds='[{"type": "ro-bind", "src": "/usr"}, {"type": "ro-bind", "src": "/lib"},
        {"type": "ro-bind", "src": "/lib64"}, {"type": "ro-bind", "src": "/bin"}]'
cat >"$out/documented.json" <<EOF
{"version": 1, "worktreePath": "$out/wt-doc", "tinyproxyFilter": "$out/filter",
 "nix": false, "mounts": $binds}
EOF
host_user=""
if [[ $(id -u) -eq 0 ]]; then
  host_user='"hostUser": "nobody",'
  chown 65534:65534 "$out/wt-hard"
fi
cat >"$out/hardened.json" <<EOF
{"version": 1, "worktreePath": "$out/wt-hard", "tinyproxyFilter": "$out/filter",
 "nix": false, $host_user "protect": ["@defaults"],
 "isolation": {"pidNamespace": true, "ipcNamespace": true,
               "capabilities": "none", "seccomp": true, "readOnlyRoot": true},
 "mounts": $binds}
EOF
# srt's allow-list: the same one host, the worktree writable.
cat >"$out/srt.json" <<'EOF'
{"network": {"allowedDomains": ["github.com"], "deniedDomains": []},
 "filesystem": {"denyRead": [], "allowWrite": ["."], "denyWrite": []}}
EOF

# One line each: a row below is read up to its end of line.
bwrap_base="--unshare-all --die-with-parent --ro-bind /usr /usr"
bwrap_base+=" --symlink usr/lib /lib --symlink usr/lib64 /lib64"
bwrap_base+=" --symlink usr/bin /bin --ro-bind /etc /etc --proc /proc"
bwrap_base+=" --dev /dev --tmpfs /tmp --ro-bind {probes} {probes}"
bwrap_base+=" --bind {worktree} {worktree} --chdir {worktree}"
firejail_hard="--caps.drop=all --seccomp --nonewprivs --noroot"
firejail_hard+=" --private-dev --private-tmp --whitelist={worktree}"
firejail_hard+=" --whitelist={probes}"

# name | label | needs | sandbox command | extra cell-verify flags
rows=(
  "cell|cell (documented)|$cell|$cell run --spec=$out/documented.json --ro-bind={probes}:{probes} --|--worktree=$out/wt-doc --sandbox-worktree=/home/cell/worktree"
  "cell-hardened|cell (hardened)|$cell|$cell run --spec=$out/hardened.json --ro-bind={probes}:{probes} --|--worktree=$out/wt-hard --sandbox-worktree=/home/cell/worktree"
  "seed|original jail|socat|$repo/tests/bench/seed_cell.sh --ro-bind={probes} {worktree}|--sandbox-worktree=/home/cell/worktree"
  "bwrap|bwrap (agent line)|bwrap|bwrap $bwrap_base --|"
  "bwrap-hardened|bwrap (hardened)|bwrap|bwrap $bwrap_base --new-session --cap-drop ALL --unshare-user --disable-userns --|"
  "firejail|firejail|firejail|firejail --quiet --noprofile --net=none {command}|"
  "firejail-hardened|firejail (hardened)|firejail|firejail --quiet --noprofile --net=none $firejail_hard {command}|"
  "srt|srt (allow-list)|$srt|$srt --settings $out/srt.json -- {command}|"
)

: >"$out/rows.tsv"
for row in "${rows[@]}"; do
  IFS='|' read -r name label needs command extra <<<"$row"
  status=measured
  reason=""
  seconds=""
  if ! command -v "$needs" >/dev/null 2>&1 && [[ ! -x "$needs" ]]; then
    status="not measured"
    reason="$(basename "$needs") is not installed (tests/compare/setup.sh)"
  else
    echo "compare: $label" >&2
    start=$(date +%s%N)
    # shellcheck disable=SC2086 # $extra is a list of flags.
    set +e
    (cd "$out" && "$verify" "--sandbox=$command" $extra --profile=agent-strict \
      --format=json --output="$out/$name.json") 2>"$out/$name.err"
    code=$?
    set -e
    seconds=$(awk -v ns=$(($(date +%s%N) - start)) 'BEGIN{printf "%.1f", ns / 1e9}')
    if [[ $code -gt 1 ]]; then
      status="not measured"
      reason=$(grep -v '^cell-verify: running' "$out/$name.err" | tail -n 1)
    fi
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$label" "$status" "$reason" \
    "$seconds" "$(sed "s|$out|\$TMP|g; s|$repo/||g" <<<"$command")" \
    >>"$out/rows.tsv"
done

versions="kernel $(uname -r)"
versions+=", bubblewrap $(bwrap --version 2>/dev/null | awk '{print $2}' || echo -)"
versions+=", firejail $(firejail --version 2>/dev/null | awk 'NR==1{print $3}' || echo -)"
versions+=", srt $("$srt" --version 2>/dev/null || echo -)"
versions+=", $(date -u +%Y-%m-%d)"

python3 - "$out" "$versions" "$print_only" <<'PY'
import json, os, sys
out, versions, print_only = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
rows = [line.rstrip("\n").split("\t") for line in open(os.path.join(out, "rows.tsv"))]
reports = {}
for name, label, status, reason, seconds, command in rows:
    path = os.path.join(out, name + ".json")
    if status == "measured" and os.path.exists(path):
        reports[name] = json.load(open(path))
order = []
for report in reports.values():
    for result in report["results"]:
        if result["property"] not in order:
            order.append(result["property"])
word = {"pass": "PASS", "fail": "**FAIL**", "warn": "warn", "error": "error",
        "off": "off"}
head = "| property | " + " | ".join(r[1] for r in rows) + " |"
lines = [head, "|---" * (len(rows) + 1) + "|"]
for prop in order:
    cells = []
    for name, label, status, *_ in rows:
        if name not in reports:
            cells.append("not measured")
            continue
        outcome = next((r["outcome"] for r in reports[name]["results"]
                        if r["property"] == prop), None)
        cells.append(word.get(outcome, "—"))
    lines.append(f"| `{prop}` | " + " | ".join(cells) + " |")
def summary(name, key):
    report = reports.get(name)
    if report is None:
        return ""
    if key == "score":
        e = report["exposure"]
        return f"**{e['score']:.1f}** {e['band']}"
    s = report["summary"]
    return f"{s['pass']}/{s['pass'] + s['fail'] + s['warn'] + s['error']}"
lines.append("| passed / judged | " + " | ".join(summary(r[0], "passed") for r in rows) + " |")
lines.append("| exposure score | " + " | ".join(summary(r[0], "score") for r in rows) + " |")
lines.append("| seconds (one verify) | " + " | ".join(r[4] for r in rows) + " |")
table = "\n".join(lines)
notes = [f"Measured by `tests/compare/run.sh` ({versions}); `agent-strict`, "
         "every column through `cell-verify --sandbox`. —: not applicable "
         "(no proxy, so no proxy to judge); `error`: the probe could not see enough to judge "
         "(a walk of the host's whole root is cut short).", "", "Commands "
         "(`$TMP` is the run's directory):", ""]
for name, label, status, reason, seconds, command in rows:
    if status == "measured":
        notes.append(f"- {label}: `{command}`")
    else:
        notes.append(f"- {label}: **not measured**: {reason}")
block = table + "\n\n" + "\n".join(notes) + "\n"
if print_only:
    print(block)
    sys.exit(0)
readme_path = "README.md"
readme = open(readme_path).read()
begin, end = "<!-- compare:begin -->\n", "<!-- compare:end -->"
if begin not in readme or end not in readme:
    sys.exit("README.md has no compare:begin/end markers")
start = readme.index(begin) + len(begin)
readme = readme[:start] + block + readme[readme.index(end):]
open(readme_path, "w").write(readme)
print("compare: README.md updated", file=sys.stderr)
PY

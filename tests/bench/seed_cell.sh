#!/usr/bin/env bash
# The seed's pipeline, rebuilt for comparison (benchmarks only): a shell
# host script starts tinyproxy and a socat from a Unix socket to it, then
# bwrap runs the command in new user and network namespaces next to a
# second socat that turns 127.0.0.1:3128 inside into that Unix socket.
#   tests/bench/seed_cell.sh [--ro-bind=DIR]... WORKTREE COMMAND [ARG...]
# --ro-bind shows DIR read-only at the same path inside: not the seed's,
# only how cell-verify --sandbox brings its probe into this jail
# (tests/compare/run.sh).
set -euo pipefail
extra=()
while [[ "${1:-}" == --ro-bind=* ]]; do
  extra+=(--ro-bind "${1#--ro-bind=}" "${1#--ro-bind=}")
  shift
done
wt="$1"; shift
jd=$(mktemp -d /tmp/seed-jd.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$jd"
}
trap cleanup EXIT
port=$((20000 + RANDOM % 30000))
echo ".*" > "$jd/filter"
cat > "$jd/tinyproxy.conf" <<CONF
Port $port
Listen 127.0.0.1
LogFile "$jd/tinyproxy.log"
LogLevel Connect
Filter "$jd/filter"
FilterDefaultDeny Yes
FilterType ere
CONF
tinyproxy -d -c "$jd/tinyproxy.conf" >/dev/null 2>&1 &
pids+=($!)
socat "UNIX-LISTEN:$jd/proxy.sock,fork" "TCP:127.0.0.1:$port" &
pids+=($!)
for _ in $(seq 2500); do
  (echo >/dev/tcp/127.0.0.1/$port) 2>/dev/null && [[ -S $jd/proxy.sock ]] && break
  sleep 0.002
done
binds=()
for dir in /usr /bin /lib /lib64; do [[ -e $dir ]] && binds+=(--ro-bind "$dir" "$dir"); done
bwrap --unshare-user --unshare-net --die-with-parent "${binds[@]}" \
  --bind /proc /proc --dev /dev --tmpfs /tmp --tmpfs /home/cell "${extra[@]}" \
  --bind "$jd" "$jd" --bind "$wt" /home/cell/worktree --chdir /home/cell/worktree \
  --setenv http_proxy http://127.0.0.1:3128 \
  sh -c "socat TCP-LISTEN:3128,bind=127.0.0.1,fork,reuseaddr UNIX-CONNECT:$jd/proxy.sock & i=0; until grep -q ':0C38 00000000:0000 0A' /proc/net/tcp || [ \$i -ge 500 ]; do i=\$((i+1)); sleep 0.01; done; \"\$@\"; s=\$?; kill \$!; exit \$s" sh "$@"

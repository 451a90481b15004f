#!/usr/bin/env bash
# Network path benchmark, side by side in one run: bulk throughput and
# per-request latency from a client to a loopback HTTP server
#   direct     - client on the host, no proxy (the ceiling)
#   tinyproxy  - client on the host through tinyproxy (no sandbox)
#   seed       - the seed's pipeline: client in its own network namespace,
#                socat TCP->Unix socket inside, socat Unix->TCP outside,
#                then tinyproxy
#   cell-tinyproxy - client inside a cell: the launcher's splice relay,
#                then a tinyproxy process (network.engine "tinyproxy")
#   cell-builtin - client inside a cell: the launcher's own proxy
#                (network.engine "builtin", the default)
#
#   tests/bench/proxy_bench.sh [--bytes=N] [--requests=N]
set -euo pipefail
cd "$(dirname "$0")/../.."

bytes=$((1024 * 1024 * 1024))
requests=300
for arg in "$@"; do
  case "$arg" in
    --bytes=*) bytes="${arg#--bytes=}" ;;
    --requests=*) requests="${arg#--requests=}" ;;
    *) echo "usage: $0 [--bytes=N] [--requests=N]" >&2; exit 2 ;;
  esac
done
for tool in curl socat tinyproxy unshare ip; do
  command -v "$tool" >/dev/null || { echo "missing $tool: run ./setup.sh" >&2; exit 2; }
done

bazel build -c opt //launcher:cell //tests/bench:http_server >/dev/null 2>&1
bin="$(bazel info -c opt bazel-bin 2>/dev/null)"
work=$(mktemp -d /tmp/cell-proxy-bench.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
cp tests/bench/measure_http.sh "$work/measure_http.sh"

# The server: prints its port; runs until its stdin (a fifo we hold) closes.
mkfifo "$work/server.in"
"$bin/tests/bench/http_server" < "$work/server.in" > "$work/server.port" &
pids+=($!)
exec 9> "$work/server.in"
until [[ -s "$work/server.port" ]]; do sleep 0.01; done
port=$(cat "$work/server.port")

# A host tinyproxy for the reference and seed paths (cell starts its own).
free_port() { for _ in $(seq 50); do p=$((20000 + RANDOM % 30000)); \
  (echo >/dev/tcp/127.0.0.1/$p) 2>/dev/null || { echo $p; return; }; done; }
tp=$(free_port)
echo ".*" > "$work/filter"
cat > "$work/tinyproxy.conf" <<CONF
Port $tp
Listen 127.0.0.1
MaxClients 1024
LogFile "$work/tinyproxy.log"
LogLevel Connect
Filter "$work/filter"
FilterDefaultDeny Yes
FilterType ere
DisableViaHeader Yes
CONF
tinyproxy -d -c "$work/tinyproxy.conf" >/dev/null 2>&1 &
pids+=($!)
socat "UNIX-LISTEN:$work/proxy.sock,fork,mode=666" "TCP:127.0.0.1:$tp" &
pids+=($!)
until (echo >/dev/tcp/127.0.0.1/$tp) 2>/dev/null && [[ -S $work/proxy.sock ]]; do sleep 0.01; done

measure() {  # NAME, then the command that runs measure_http.sh
  local name=$1; shift
  "$@" > "$work/$name.out"
}
measure direct sh "$work/measure_http.sh" "--noproxy *" "$port" "$bytes" "$requests"
measure tinyproxy sh "$work/measure_http.sh" "--noproxy '' -x http://127.0.0.1:$tp" \
  "$port" "$bytes" "$requests"
measure seed unshare -Urn bash -c "ip link set lo up
  socat TCP-LISTEN:3128,bind=127.0.0.1,fork,reuseaddr UNIX-CONNECT:$work/proxy.sock &
  until (echo > /dev/tcp/127.0.0.1/3128) 2>/dev/null; do sleep 0.01; done
  sh $work/measure_http.sh \"--noproxy '' -x http://127.0.0.1:3128\" $port $bytes $requests
  kill \$!"
binds=()
for dir in /usr /bin /lib /lib64; do [[ -e $dir ]] && binds+=("--ro-bind=$dir"); done
for engine in tinyproxy builtin; do
  measure "cell-$engine" "$bin/launcher/cell" run --worktree="$work" --no-nix \
    --engine="$engine" "${binds[@]}" -- \
    sh measure_http.sh "--noproxy '' -x http://127.0.0.1:3128" "$port" "$bytes" "$requests"
done

summarize() {  # NAME -> "MB/s p50_ms p99_ms"
  awk '/^tput/ {t += $2; n++} END {printf "%.0f ", t / n / 1e6}' "$work/$1.out"
  awk '/^lat/ {print $2 * 1000}' "$work/$1.out" | sort -g | awk '
    {v[NR] = $1} END {printf "%.3f %.3f\n", v[int(NR * 0.5 + 0.5)], v[int(NR * 0.99 + 0.5)]}'
}
read -r direct_tput direct_p50 direct_p99 < <(summarize direct)
echo
echo "bulk: 3 x $((bytes / 1024 / 1024)) MiB; latency: $requests sequential small requests"
echo
echo "| path | throughput [MB/s] | vs direct | p50 [ms] | p99 [ms] | p50 vs direct [ms] |"
echo "|---|---:|---:|---:|---:|---:|"
for name in direct tinyproxy seed cell-tinyproxy cell-builtin; do
  read -r tput p50 p99 < <(summarize "$name")
  awk -v n="$name" -v t="$tput" -v a="$p50" -v b="$p99" -v dt="$direct_tput" -v dl="$direct_p50" \
    'BEGIN {printf "| %s | %d | %.2f | %.3f | %.3f | %+.3f |\n", n, t, t / dt, a, b, a - dl}'
done

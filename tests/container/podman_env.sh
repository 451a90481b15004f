# Sourced by the container tests: a private rootful podman (every piece of
# its state under one temporary directory, nothing read from or written to
# the machine's own container storage or configuration), a minimal image
# built offline from Debian's busybox-static and cell's own static binaries,
# check helpers that print PASS/FAIL lines, and a cleanup that runs on every
# exit path and fails the test if anything is left behind.
#
# Needs (Debian 12, root): podman runc busybox-static catatonit python3
# libxml2-utils
# (./setup.sh installs them). Nothing is downloaded: the image is imported
# from a tar of a directory made here.
#
# The caller sets CELL, CELL_PROBE and CELL_VERIFY (paths of the binaries)
# before sourcing, then calls podman_env_setup and build_image.

set -u

failures=0
checks=0

die() {
  echo "FAIL: $*" >&2
  exit 1
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# ---- requirements: fail loudly, naming what to install ---------------------
require_environment() {
  [[ $(id -u) -eq 0 ]] || die "the container tests run as root (rootful podman)"
  local missing=() tool
  for tool in podman runc conmon "$@"; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
  [[ -x /bin/busybox ]] || missing+=("busybox-static")
  command -v python3 >/dev/null 2>&1 || missing+=("python3")
  if [[ ${#missing[@]} -gt 0 ]]; then
    die "missing: ${missing[*]}; install with: apt-get install" \
      "--no-install-recommends podman runc busybox-static catatonit python3 libxml2-utils" \
      "(./setup.sh installs them)"
  fi
  # Debian's busybox package is dynamic; busybox-static replaces it with a
  # static one, which is what an image with no libraries needs.
  if ldd /bin/busybox >/dev/null 2>&1; then
    die "/bin/busybox is dynamically linked: install busybox-static" \
      "(apt-get install busybox-static; ./setup.sh installs it)"
  fi
  local binary
  for binary in "$CELL" "$CELL_PROBE" "$CELL_VERIFY"; do
    [[ -x $binary ]] || die "not an executable: $binary"
  done
}

# ---- the private podman ----------------------------------------------------
# W: everything of this run. S: podman's state. Recorded before podman runs,
# so that cleanup removes only what this run created.
podman_env_setup() {
  W=$(mktemp -d /tmp/cell-container-test.XXXXXX) || die "mktemp failed"
  S=$W/state
  mkdir -p "$S/tmp" "$W/conf" "$W/out" || die "cannot create $W"
  had_varlib=0
  [[ -e /var/lib/containers ]] && had_varlib=1
  had_runc=0
  [[ -e /run/runc ]] && had_runc=1
  # The cgroup directories podman (cgroupfs manager) creates: libpod_parent
  # under each v1 hierarchy (hybrid, as on this development machine) or at
  # the top of a unified v2 tree (a fresh Debian 12 VM). Remembered so that
  # only new ones are removed.
  cgroups_before=$(list_libpod_cgroups)
  trap cleanup EXIT
  trap 'exit 130' INT TERM HUP

  # The hard limits this process may raise a container's to: podman's
  # default RLIMIT_NOFILE is 1048576, above the hard limit of some hosts
  # (this one), where even root cannot raise it (no CAP_SYS_RESOURCE in a
  # nested container): the OCI runtime then fails with "setrlimit ... EPERM".
  local nofile nproc
  nofile=$(ulimit -Hn)
  nproc=$(ulimit -Hu)
  [[ $nofile == unlimited || $nofile -gt 1024 ]] && nofile=1024
  [[ $nproc == unlimited || $nproc -gt 1024 ]] && nproc=1024

  cat >"$W/conf/containers.conf" <<CONF
[containers]
# Within the host's hard limits (see podman_env.sh).
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
# journald may not be there (no systemd in a CI container or a chroot).
log_driver = "k8s-file"
# No network at all: podman's default bridge (netavark or CNI) adds
# iptables chains and state under /var/lib/cni or /run/netavark that
# outlive the test. The cells run with --network=none anyway.
netns = "none"

[engine]
# Scratch files of image copies and of podman itself stay in this run.
tmp_dir = "$S/tmp"
image_copy_tmp_dir = "$S/tmp"
# cgroupfs, not systemd: no D-Bus or transient units needed, the same on
# cgroup v1, hybrid and v2 hosts, with or without systemd as PID 1.
cgroup_manager = "cgroupfs"
# journald again: a file inside this run.
events_logger = "file"
# runc: Debian's crun 1.8 fails on hybrid cgroup hosts (and on setrlimit
# here); runc 1.1 works on v1, hybrid and v2.
runtime = "runc"
CONF

  # No registry is ever asked: the only image is imported from a tar.
  echo 'unqualified-search-registries = []' >"$W/conf/registries.conf"

  # vfs: plain directory copies, no overlay or fuse mounts to leak, and it
  # works on any backing file system (overlay on overlay does not).
  cat >"$W/conf/storage.conf" <<CONF
[storage]
driver = "vfs"
runroot = "$S/runroot"
graphroot = "$S/root"
CONF
}

# podman with every path pointed into $S (the flags repeat the files: some
# podman 4.3 code paths read only one of them).
pm() {
  TMPDIR=$S/tmp CONTAINERS_CONF=$W/conf/containers.conf \
    CONTAINERS_STORAGE_CONF=$W/conf/storage.conf \
    CONTAINERS_REGISTRIES_CONF=$W/conf/registries.conf \
    podman --root="$S/root" --runroot="$S/runroot" --tmpdir="$S/tmp" \
    --storage-driver=vfs --cgroup-manager=cgroupfs --events-backend=file \
    --runtime=runc --network-config-dir="$S/cni" "$@"
}

# ---- the image -------------------------------------------------------------
# A rootfs of busybox-static (sh and the usual tools as links), the static
# cell and cell-probe, and cell-verify with the shared libraries it loads
# (copied at the paths ldd names), imported as localhost/cell-test.
IMAGE=localhost/cell-test:latest

build_image() {
  local R=$W/rootfs start
  start=$(now_ms)
  # /tmp/wt: the worktree of every check, there even when the container's
  # root is read-only.
  mkdir -p "$R"/{bin,etc,opt/cell-test,proc,sys,dev,run,tmp/wt} || die "cannot create $R"
  chmod 1777 "$R/tmp"
  cp /bin/busybox "$R/bin/busybox" || die "cannot copy /bin/busybox"
  chroot "$R" /bin/busybox --install -s /bin || die "busybox --install failed"
  cp "$CELL" "$R/bin/cell" && cp "$CELL_PROBE" "$R/bin/cell-probe" &&
    cp "$CELL_VERIFY" "$R/bin/cell-verify" || die "cannot copy cell's binaries"
  chmod 0755 "$R/bin/cell" "$R/bin/cell-probe" "$R/bin/cell-verify"
  # cell-verify is dynamically linked: its loader and libraries, at the
  # paths the host's loader found them (ldd's "=> /path" and the bare
  # loader path).
  local lib
  for lib in $(ldd "$CELL_VERIFY" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'); do
    mkdir -p "$R$(dirname "$lib")" && cp -L "$lib" "$R$lib" ||
      die "cannot copy $lib (a library of cell-verify)"
  done
  chroot "$R" /bin/cell-verify --version >/dev/null 2>&1 ||
    die "cell-verify does not run in the image's rootfs (a missing library?):" \
      "$(chroot "$R" /bin/cell-verify --version 2>&1)"
  # A minimal /etc: cell and cell-verify read /etc/passwd and /etc/group
  # themselves; the container runtime adds hosts, resolv.conf, hostname.
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n' >"$R/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$R/etc/group"
  local file
  for file in "$@"; do
    cp "$file" "$R/opt/cell-test/" || die "cannot copy $file into the image"
  done
  # An imported image has no configuration: give it the PATH a Kubernetes
  # container's command is looked up in.
  tar -C "$R" -c . | pm import -q \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    - "$IMAGE" >"$W/import.out" 2>&1 ||
    die "podman import failed: $(cat "$W/import.out")"
  echo "image $IMAGE built and imported in $(($(now_ms) - start)) ms"
}

# ---- checks ----------------------------------------------------------------
pass() {
  checks=$((checks + 1))
  echo "PASS $1"
}

# fail NAME WHY COMMAND RC OUTPUT
fail() {
  checks=$((checks + 1))
  failures=$((failures + 1))
  echo "FAIL $1: $2"
  echo "  command: $3"
  echo "  exit code: $4"
  echo "  output:"
  printf '%s\n' "$5" | sed 's/^/    | /'
}

# The shell script a check runs in the container: SCRIPT then a last line
# "cell-exit=N" with the exit status of SCRIPT, so that the cell's own exit
# status (125 for a launcher error) is never confused with podman's (125
# when podman itself fails).
# stderr is merged into stdout inside the container: podman carries the two
# streams separately and may deliver them out of order.
in_container_script() {
  printf '{ %s\n} 2>&1; echo "cell-exit=$?"\n' "$1"
}

# run_in_container OUT_VAR RC_VAR PODMAN_RUN_OPTIONS... -- SCRIPT
# Sets OUT_VAR to the output (stdout and stderr) without the cell-exit line
# and RC_VAR to the script's status (or "podman:N" when podman failed, or
# the line is missing). Also sets last_command.
run_in_container() {
  local -n _out=$1 _rc=$2
  shift 2
  local opts=()
  while [[ $1 != -- ]]; do
    opts+=("$1")
    shift
  done
  shift
  local script
  script=$(in_container_script "$1")
  last_command="podman run --rm ${opts[*]} $IMAGE /bin/sh -c '$1'"
  local raw status
  raw=$(pm run --rm "${opts[@]}" "$IMAGE" /bin/sh -c "$script" 2>&1)
  status=$?
  if [[ $status -eq 0 && $(tail -n 1 <<<"$raw") =~ ^cell-exit=([0-9]+)$ ]]; then
    _rc=${BASH_REMATCH[1]}
    _out=$(sed '$d' <<<"$raw")
  else
    _rc="podman:$status"
    _out=$raw
  fi
}

# ---- cleanup ---------------------------------------------------------------
list_libpod_cgroups() {
  local d
  for d in /sys/fs/cgroup/libpod_parent /sys/fs/cgroup/*/libpod_parent; do
    [[ -d $d ]] && find "$d" -type d 2>/dev/null
  done | sort
}

# conmon and the exit command it runs (`podman ... container cleanup`)
# outlive `podman run --rm` by ~100 ms: wait for every process naming $S.
wait_for_podman_processes() {
  local i
  for i in $(seq 100); do
    pgrep -f -- "$S" >/dev/null || return 0
    sleep 0.1
  done
  return 1
}

cleanup() {
  local status=$? leaks=()
  trap - EXIT INT TERM HUP
  if [[ -n ${S:-} && -d $S ]]; then
    wait_for_podman_processes
    pm pod rm -af -t 0 >/dev/null 2>&1
    pm rm -af -t 0 >/dev/null 2>&1
    pm rmi -af >/dev/null 2>&1
    pm system reset -f >/dev/null 2>&1
    wait_for_podman_processes ||
      leaks+=("processes: $(pgrep -af -- "$S" | tr '\n' ';')")
    # vfs mounts nothing, but a container's /dev/shm or a kube pod's
    # volumes may be mounted under the run directory: unmount, deepest first.
    grep -F " $W/" /proc/self/mountinfo | awk '{print $5}' | sort -r |
      xargs -r -n1 umount -l 2>/dev/null
    if grep -qF " $W/" /proc/self/mountinfo; then
      leaks+=("mounts under $W")
    fi
  fi
  [[ -n ${W:-} ]] && rm -rf "$W"
  # Rootful `podman import` writes containers/image's blob-info cache to
  # /var/lib/containers/cache whatever the storage paths (podman 4.3).
  [[ ${had_varlib:-1} -eq 0 ]] && rm -rf /var/lib/containers
  # The cgroups podman made (libpod_parent, its conmon child, a kube pod's
  # own directory; the per-container ones are removed by `runc delete`) and
  # runc's state root. rmdir removes a cgroup only when no process is left
  # in it.
  # A container's own cgroup can outlive its processes' exit by a moment
  # (runc deletes it from podman's cleanup process): retry for up to 5 s.
  local d left=() attempt
  for attempt in $(seq 50); do
    left=()
    for d in $(list_libpod_cgroups | sort -r); do
      grep -qxF "$d" <<<"${cgroups_before-}" && continue
      rmdir "$d" 2>/dev/null || left+=("$d")
    done
    # runc's state root for root; empty once every container is deleted.
    if [[ ${had_runc:-1} -eq 0 && -d /run/runc ]]; then
      rmdir /run/runc 2>/dev/null || left+=("/run/runc")
    fi
    [[ ${#left[@]} -eq 0 ]] && break
    sleep 0.1
  done
  [[ ${#left[@]} -gt 0 ]] && leaks+=("${left[*]}")
  if [[ ${#leaks[@]} -gt 0 ]]; then
    echo "FAIL cleanup: left behind: ${leaks[*]}"
    [[ $status -eq 0 ]] && status=1
  else
    echo "cleanup: nothing left behind"
  fi
  exit "$status"
}

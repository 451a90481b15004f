#!/usr/bin/env bash
# The static binaries that run on other machines (the launcher, and so
# every packed cell, which is a copy of it; the probe) contain no glibc NSS
# code: no getaddrinfo, gethostbyname*, getpw*/getgr* lookups, nothing of
# nsswitch (__nss_*). A static glibc resolves those by dlopen()ing the
# host's libnss_*.so at run time, modules of another glibc on another
# distribution (glibc's link-time warning: "Using 'getaddrinfo' in
# statically linked applications requires at runtime the shared libraries
# from the glibc version used for linking"). The launcher resolves names
# itself (launcher/proxy/builtin/resolver.h) and reads /etc/passwd and
# /etc/group itself.
#
# Usage: static_no_nss_test.sh CONTROL BINARY...
# CONTROL is a static program that calls getaddrinfo: it must be flagged,
# or the check is not working (nm missing, symbols stripped, ...).
set -euo pipefail

control=$1
shift

# Defined, or undefined (U) in a dynamic build (--config=asan), which then
# calls the host's.
forbidden=' (getaddrinfo|getnameinfo|gethostbyname[0-9a-z_]*|gethostbyaddr[a-z_]*|getpw(nam|uid|ent)(_r)?|getgr(nam|gid|ent)(_r)?|getgrouplist|initgroups|getspnam(_r)?|getserv(byname|byport|ent)(_r)?|getproto(byname|bynumber|ent)(_r)?|__nss_[0-9a-z_]+)$'

# The forbidden symbols of $1, one per line.
offenders() {
  local symbols
  if ! symbols=$(nm "$1" 2>&1); then
    echo "static_no_nss_test: nm cannot read $1: $symbols" >&2
    return 2
  fi
  if [[ -z $(grep -E ' [TtWw] main$' <<<"$symbols") ]]; then
    echo "static_no_nss_test: no symbol table in $1 (stripped?)" >&2
    return 2
  fi
  # Weak undefined symbols (w, v) are not linked in: glibc's fork() names
  # __nss_database_fork_* weakly and calls them only when NSS is there.
  grep -E "$forbidden" <<<"$symbols" |
    awk '$(NF-1) != "w" && $(NF-1) != "v" {print $NF}' | sort -u || true
}

status=0
found=$(offenders "$control") || exit 2
if ! grep -qx getaddrinfo <<<"$found"; then
  echo "FAIL: the control $control calls getaddrinfo, and the check did" \
    "not see it" >&2
  status=1
fi

for binary in "$@"; do
  found=$(offenders "$binary") || exit 2
  if [[ -n $found ]]; then
    echo "FAIL: $binary links glibc NSS code, which a static binary loads" \
      "from the host it runs on (libnss_*.so):" >&2
    sed 's/^/  /' <<<"$found" >&2
    echo "Resolve names with launcher/proxy/builtin/resolver.h; read" \
      "/etc/passwd and /etc/group directly (launcher/spec/host_identity.h)." >&2
    status=1
  else
    echo "ok: $binary: no NSS symbol"
  fi
done
exit $status

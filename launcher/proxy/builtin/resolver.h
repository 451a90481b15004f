// The builtin proxy's name resolution, without glibc's NSS. The launcher is
// linked statically (a packed cell runs on other machines), and a static
// getaddrinfo() dlopens the host's libnss_*.so at run time: modules of
// another glibc version may crash it or misbehave, and with none present
// it fails silently. This resolver is what "hosts: files dns" does, in the
// launcher itself:
//
//  1. An IP literal is its address, without any lookup: what inet_pton
//     reads for IPv6 (brackets allowed) and what inet_aton reads for IPv4,
//     as getaddrinfo does (so "127.1", "0x7f000001" and "2130706433" are
//     127.0.0.1).
//  2. /etc/hosts: every address of every line that lists the name
//     (case-insensitively; a trailing dot ignored), in file order. When the
//     file lists it, DNS is not asked, as with NSS "files" first.
//  3. DNS: the nameservers of /etc/resolv.conf (the first three, as glibc;
//     127.0.0.1 when it names none, as glibc), with its `search`/`domain`,
//     `options ndots:N timeout:N attempts:N`. A and AAAA are asked at once
//     over UDP, from a new socket connected to the server (the kernel picks
//     a random source port and drops datagrams from any other address or
//     port), with a random id (getrandom); an answer counts only when it
//     comes from the server's address and port and matches the query's id
//     and its one question (name, type, class). A truncated answer is asked
//     again over TCP. NXDOMAIN ends the lookup of that name; SERVFAIL,
//     REFUSED and silence move on to the next server, `attempts` rounds.
//
// Everything is bounded by a deadline and can be cancelled (checked at
// least every 100 ms): no thread is needed to give up on it.
//
// The order of the addresses: getaddrinfo sorts them by RFC 3484 with
// glibc's default table (no /etc/gai.conf). Of its rules this keeps the
// two that decide the usual cases: (1) addresses the host has no route to
// go last (a connected UDP socket, no packet sent, says which), (6) then
// by the default precedence: ::1 (50), IPv6 (40), 6to4 2002::/16 (30),
// IPv4-compatible ::/96 (20), IPv4 (10). Otherwise the order of /etc/hosts
// or of the answer stays. So a host with an IPv6 route tries IPv6 first and
// one without IPv4 first, as getaddrinfo would; the rules on source
// address scope and labels (2, 5, 7, 8, 9) are not applied.
#ifndef CELL_LAUNCHER_PROXY_BUILTIN_RESOLVER_H_
#define CELL_LAUNCHER_PROXY_BUILTIN_RESOLVER_H_

#include <sys/socket.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace cell {

// What /etc/resolv.conf says, glibc's defaults where it is silent.
struct ResolvConf {
  // AF_INET or AF_INET6, port 0 (ResolverOptions::dns_port is used). At
  // most 3. Empty when the file names none (then 127.0.0.1 is asked).
  std::vector<sockaddr_storage> nameservers;
  // `search` or `domain` (the last such line wins), at most 6 domains.
  std::vector<std::string> search;
  int ndots = 1;                              // At most 15.
  absl::Duration timeout = absl::Seconds(5);  // Per try, 1 to 30 s.
  int attempts = 2;                           // Rounds of servers, 1 to 5.
};

// Parses resolv.conf text; what it does not know or cannot read is
// ignored, as glibc does.
ResolvConf ParseResolvConf(absl::string_view text);

// The addresses /etc/hosts text gives `name` (see above), port 0.
std::vector<sockaddr_storage> HostsFileAddresses(absl::string_view text,
                                                 absl::string_view name);

// The address `host` is as an IP literal (see above), port 0.
std::optional<sockaddr_storage> NumericHostAddress(absl::string_view host);

// Sorts `addresses` (see above) stably. `routable` says whether the host
// has a route to an address (default: a UDP connect() to it succeeds).
void SortAddresses(
    std::vector<sockaddr_storage>* addresses,
    const std::function<bool(const sockaddr_storage&)>& routable = nullptr);

struct ResolverOptions {
  std::string hosts_path = "/etc/hosts";
  std::string resolv_conf_path = "/etc/resolv.conf";
  // The nameservers' port (resolv.conf has no syntax for one): tests run a
  // server on an unprivileged port.
  uint16_t dns_port = 53;
  absl::Time deadline = absl::InfiniteFuture();
  // Called while waiting; true gives up (Cancelled).
  std::function<bool()> cancelled;
  // Replaces the routability test of SortAddresses (tests).
  std::function<bool(const sockaddr_storage&)> routable;
};

// The addresses of `host` (AF_INET or AF_INET6 sockaddrs, port 0), sorted.
// Errors name the host and why:
//  - InvalidArgument: not a name that can be looked up;
//  - NotFound: no such name (NXDOMAIN), or it has no address (NODATA);
//  - DeadlineExceeded: no answer by the deadline or within resolv.conf's
//    timeout and attempts (which nameservers were tried, how each failed);
//  - Unavailable: the nameservers failed (SERVFAIL, REFUSED, a truncated
//    answer that TCP could not fetch, connection refused: none listens);
//  - ResourceExhausted: no descriptor for a socket;
//  - Cancelled: `cancelled` said so.
absl::StatusOr<std::vector<sockaddr_storage>> ResolveHost(
    absl::string_view host, const ResolverOptions& options);

}  // namespace cell

#endif  // CELL_LAUNCHER_PROXY_BUILTIN_RESOLVER_H_

// Which addresses the builtin proxy engine may connect to for a cell. The
// filter judges the host as written; a name (or a spelling such as 127.1,
// 0x7f000001, ::ffff:127.0.0.1) can still resolve to the host's loopback,
// a private network or a cloud metadata service. So after resolution, an
// address of a special-use range is refused unless the filter line that
// allowed the request names that very address. Pure: no resolution here.
#ifndef CELL_LAUNCHER_PROXY_ADDRESS_POLICY_H_
#define CELL_LAUNCHER_PROXY_ADDRESS_POLICY_H_

#include <sys/socket.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace cell {

enum class AddressKind {
  kPublic,
  kLoopback,     // 127.0.0.0/8, ::1
  kUnspecified,  // 0.0.0.0/8, ::
  kPrivate,      // 10/8, 172.16/12, 192.168/16
  kCgnat,        // 100.64/10
  kLinkLocal,    // 169.254/16 (cloud metadata), fe80::/10
  kUniqueLocal,  // fc00::/7 (fd00:ec2::254, a metadata address)
  kMulticast,    // 224/4, ff00::/8
  kReserved,     // 240/4, broadcast, documentation, benchmarking, 6to4,
                 // Teredo, local-use NAT64, ...
  kHostOwn,      // An address of the host's own interfaces.
};

// The kind of an AF_INET or AF_INET6 address; IPv4-mapped (::ffff:a.b.c.d),
// IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::a.b.c.d) and SIIT
// (::ffff:0:a.b.c.d) forms are judged by the IPv4 address they carry. Other
// families are kReserved.
AddressKind ClassifyAddress(const sockaddr& address);

// The same, where `host_addresses` are the host's own interface addresses
// (getifaddrs): a service bound to 0.0.0.0 answers on each of them, so
// reaching one is reaching the host, whatever range it is in.
AddressKind ClassifyAddress(
    const sockaddr& address,
    const std::vector<sockaddr_storage>& host_addresses);

// "loopback", "private", ...
absl::string_view AddressKindName(AddressKind kind);

// Whether `a` and `b` are the same AF_INET or AF_INET6 address (ports
// aside).
bool SameAddress(const sockaddr& a, const sockaddr& b);

// The address in text ("127.0.0.1", "::1").
std::string AddressText(const sockaddr& address);

// The addresses of the host's own interfaces, now (they may change while
// a cell runs): a service bound to 0.0.0.0 answers on each. An error when
// they cannot be listed: the engine's check fails closed (a cell that used
// up the launcher's descriptors must not turn it off).
absl::StatusOr<std::vector<sockaddr_storage>> HostAddresses();

// The address filter line `pattern` names literally (see LineNamesAddress),
// if it is one.
std::optional<sockaddr_storage> LineAddress(absl::string_view pattern);

// Whether the filter line `pattern` names `address` literally: anchors
// and backslash escapes aside it is nothing but the address, in the form
// inet_pton reads (a dotted quad, IPv6 text, optionally in brackets).
// "^127\.0\.0\.1$" (or 127.0.0.1, unescaped) names 127.0.0.1;
// "^127\.0\.0\.[0-9]+$", "127.1" and "localhost" name nothing.
bool LineNamesAddress(absl::string_view pattern, const sockaddr& address);

}  // namespace cell

#endif  // CELL_LAUNCHER_PROXY_ADDRESS_POLICY_H_

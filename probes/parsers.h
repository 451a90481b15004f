// Pure parsers for what probes read from /proc. They take text (or a root
// directory), never a fixed path, so unit tests feed them fake trees.
#ifndef CELL_PROBES_PARSERS_H_
#define CELL_PROBES_PARSERS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cell::probes {

// "Name:\tvalue" lines of /proc/PID/status.
std::map<std::string, std::string> ParseStatus(const std::string& text);

// A hex capability mask such as "000001ffffffffff".
std::optional<uint64_t> ParseCapMask(const std::string& hex);
int CountBits(uint64_t mask);

struct RouteEntry {
  std::string interface;
  std::string destination;  // Dotted quad or IPv6 hex, with /prefix.
  // A default route that can carry traffic (a reject route — the kernel's
  // "::/0 unreachable" on lo in every namespace — is not one).
  bool is_default = false;
  bool reject = false;
};
// /proc/net/route (IPv4).
std::vector<RouteEntry> ParseIpv4Routes(const std::string& text);
// /proc/net/ipv6_route.
std::vector<RouteEntry> ParseIpv6Routes(const std::string& text);

// Interface names from /proc/net/dev.
std::vector<std::string> ParseNetDevInterfaces(const std::string& text);

// A listening TCP socket of /proc/net/tcp or tcp6 (state 0A): its local
// address, numeric ("127.0.0.1", "::1", "0.0.0.0"), and port.
struct TcpListener {
  std::string address;
  int port = 0;
};
std::vector<TcpListener> ParseTcpListeners(const std::string& text);

// The names ("@name") of listening abstract sockets in /proc/net/unix text
// (the __SO_ACCEPTCON flag; a path starting with '@').
std::vector<std::string> ParseAbstractListeners(const std::string& text);

struct IdMapEntry {
  uint64_t inside = 0;
  uint64_t outside = 0;
  uint64_t count = 0;
};
// /proc/PID/uid_map or gid_map.
std::vector<IdMapEntry> ParseIdMap(const std::string& text);

// "pid:[4026531836]" -> 4026531836.
std::optional<uint64_t> ParseNamespaceLink(const std::string& link);

// Numeric entries of a proc root: the processes visible there.
std::vector<int> ListPids(const std::string& proc_root);

// True for names whose values must not be printed (tokens, keys, ...).
bool IsSecretName(const std::string& name);

// RFC 4648 base64 with padding (a proxy URL's USER:PASSWORD, sent as
// Proxy-Authorization: Basic).
std::string Base64(const std::string& bytes);

}  // namespace cell::probes

#endif  // CELL_PROBES_PARSERS_H_

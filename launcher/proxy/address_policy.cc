#include "launcher/proxy/address_policy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <optional>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "base/fs_util.h"

namespace cell {
namespace {

AddressKind ClassifyV4(uint32_t host_order) {
  const auto in = [host_order](uint32_t network, int bits) {
    const uint32_t mask = bits == 0 ? 0 : ~uint32_t{0} << (32 - bits);
    return (host_order & mask) == network;
  };
  if (in(0x00000000, 8)) return AddressKind::kUnspecified;
  if (in(0x7f000000, 8)) return AddressKind::kLoopback;
  if (in(0x0a000000, 8) || in(0xac100000, 12) || in(0xc0a80000, 16)) {
    return AddressKind::kPrivate;
  }
  if (in(0x64400000, 10)) return AddressKind::kCgnat;
  if (in(0xa9fe0000, 16)) return AddressKind::kLinkLocal;
  if (in(0xe0000000, 4)) return AddressKind::kMulticast;
  // IETF protocol assignments, documentation (TEST-NET-1/2/3),
  // benchmarking, 6to4 relay anycast; 240/4 and broadcast.
  if (in(0xc0000000, 24) || in(0xc0000200, 24) || in(0xc6336400, 24) ||
      in(0xcb007100, 24) || in(0xc6120000, 15) || in(0xc0586300, 24) ||
      in(0xf0000000, 4)) {
    return AddressKind::kReserved;
  }
  return AddressKind::kPublic;
}

// The IPv4 address carried by an IPv6 one in its last 32 bits.
uint32_t Embedded(const in6_addr& address) {
  uint32_t value;
  std::memcpy(&value, address.s6_addr + 12, sizeof(value));
  return ntohl(value);
}

bool Zero(const uint8_t* bytes, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    if (bytes[i] != 0) return false;
  }
  return true;
}

// ::ffff:a.b.c.d (mapped), ::a.b.c.d (compatible), 64:ff9b::a.b.c.d
// (NAT64), ::ffff:0:a.b.c.d (SIIT): IPv6 forms that are the IPv4 address in
// their last 32 bits.
bool CarriesIpv4(const uint8_t* b) {
  const uint8_t nat64[12] = {0x00, 0x64, 0xff, 0x9b};
  return (Zero(b, 10) && b[10] == 0xff && b[11] == 0xff) || Zero(b, 12) ||
         (Zero(b, 8) && b[8] == 0xff && b[9] == 0xff && b[10] == 0 &&
          b[11] == 0) ||
         std::memcmp(b, nat64, 12) == 0;
}

}  // namespace

AddressKind ClassifyAddress(const sockaddr& address) {
  if (address.sa_family == AF_INET) {
    sockaddr_in v4;
    std::memcpy(&v4, &address, sizeof(v4));
    return ClassifyV4(ntohl(v4.sin_addr.s_addr));
  }
  if (address.sa_family != AF_INET6) return AddressKind::kReserved;
  sockaddr_in6 v6;
  std::memcpy(&v6, &address, sizeof(v6));
  const uint8_t* b = v6.sin6_addr.s6_addr;
  if (Zero(b, 16)) return AddressKind::kUnspecified;
  if (Zero(b, 15) && b[15] == 1) return AddressKind::kLoopback;
  if (CarriesIpv4(b)) return ClassifyV4(Embedded(v6.sin6_addr));
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return AddressKind::kLinkLocal;
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return AddressKind::kPrivate;
  if ((b[0] & 0xfe) == 0xfc) return AddressKind::kUniqueLocal;
  if (b[0] == 0xff) return AddressKind::kMulticast;
  const auto prefix = [b](std::initializer_list<uint8_t> bytes, int bits) {
    int bit = 0;
    for (const uint8_t byte : bytes) {
      const int take = std::min(8, bits - bit);
      if (take <= 0) break;
      const uint8_t mask = static_cast<uint8_t>(0xff << (8 - take));
      if ((b[bit / 8] & mask) != (byte & mask)) return false;
      bit += 8;
    }
    return true;
  };
  // Local-use NAT64 (64:ff9b:1::/48), 6to4 (2002::/16) and Teredo
  // (2001::/32) carry IPv4 addresses a gateway may translate to anything;
  // documentation (2001:db8::/32, 3fff::/20), discard (100::/64),
  // benchmarking (2001:2::/48), ORCHID (2001:10::/28), SRv6 (5f00::/16).
  if (prefix({0x00, 0x64, 0xff, 0x9b, 0x00, 0x01}, 48) ||
      prefix({0x20, 0x02}, 16) || prefix({0x20, 0x01, 0x00, 0x00}, 32) ||
      prefix({0x20, 0x01, 0x0d, 0xb8}, 32) || prefix({0x3f, 0xff}, 20) ||
      prefix({0x01, 0x00, 0, 0, 0, 0, 0, 0}, 64) ||
      prefix({0x20, 0x01, 0x00, 0x02, 0x00, 0x00}, 48) ||
      prefix({0x20, 0x01, 0x00, 0x10}, 28) || prefix({0x5f, 0x00}, 16)) {
    return AddressKind::kReserved;
  }
  return AddressKind::kPublic;
}

AddressKind ClassifyAddress(
    const sockaddr& address,
    const std::vector<sockaddr_storage>& host_addresses) {
  const AddressKind kind = ClassifyAddress(address);
  if (kind != AddressKind::kPublic) return kind;
  // An IPv6 form carrying an IPv4 address is that address.
  if (address.sa_family == AF_INET6) {
    sockaddr_in6 v6;
    std::memcpy(&v6, &address, sizeof(v6));
    const uint8_t* b = v6.sin6_addr.s6_addr;
    if (CarriesIpv4(b)) {
      sockaddr_in v4{};
      v4.sin_family = AF_INET;
      std::memcpy(&v4.sin_addr, b + 12, 4);
      return ClassifyAddress(reinterpret_cast<const sockaddr&>(v4),
                             host_addresses);
    }
  }
  for (const sockaddr_storage& own : host_addresses) {
    if (SameAddress(address, reinterpret_cast<const sockaddr&>(own))) {
      return AddressKind::kHostOwn;
    }
  }
  return kind;
}

bool SameAddress(const sockaddr& a, const sockaddr& b) {
  if (a.sa_family != b.sa_family) return false;
  if (a.sa_family == AF_INET) {
    sockaddr_in x, y;
    std::memcpy(&x, &a, sizeof(x));
    std::memcpy(&y, &b, sizeof(y));
    return x.sin_addr.s_addr == y.sin_addr.s_addr;
  }
  if (a.sa_family == AF_INET6) {
    sockaddr_in6 x, y;
    std::memcpy(&x, &a, sizeof(x));
    std::memcpy(&y, &b, sizeof(y));
    return std::memcmp(&x.sin6_addr, &y.sin6_addr, sizeof(x.sin6_addr)) == 0;
  }
  return false;
}

absl::string_view AddressKindName(AddressKind kind) {
  switch (kind) {
    case AddressKind::kPublic:
      return "public";
    case AddressKind::kLoopback:
      return "loopback";
    case AddressKind::kUnspecified:
      return "unspecified";
    case AddressKind::kPrivate:
      return "private";
    case AddressKind::kCgnat:
      return "shared (CGNAT)";
    case AddressKind::kLinkLocal:
      return "link-local (cloud metadata)";
    case AddressKind::kUniqueLocal:
      return "unique-local";
    case AddressKind::kMulticast:
      return "multicast";
    case AddressKind::kReserved:
      return "reserved";
    case AddressKind::kHostOwn:
      return "the host's own";
  }
  return "?";
}

std::string AddressText(const sockaddr& address) {
  char text[INET6_ADDRSTRLEN] = "?";
  if (address.sa_family == AF_INET) {
    sockaddr_in v4;
    std::memcpy(&v4, &address, sizeof(v4));
    inet_ntop(AF_INET, &v4.sin_addr, text, sizeof(text));
  } else if (address.sa_family == AF_INET6) {
    sockaddr_in6 v6;
    std::memcpy(&v6, &address, sizeof(v6));
    inet_ntop(AF_INET6, &v6.sin6_addr, text, sizeof(text));
  }
  return text;
}

absl::StatusOr<std::vector<sockaddr_storage>> HostAddresses() {
  std::vector<sockaddr_storage> addresses;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) {
    if (errno == EMFILE || errno == ENFILE) {
      return absl::ResourceExhaustedError(
          "no descriptor to list the host's addresses (open-file limit "
          "reached)");
    }
    return ErrnoStatus(errno, "cannot list the host's addresses");
  }
  for (const ifaddrs* entry = list; entry != nullptr; entry = entry->ifa_next) {
    if (entry->ifa_addr == nullptr) continue;
    const int family = entry->ifa_addr->sa_family;
    if (family != AF_INET && family != AF_INET6) continue;
    sockaddr_storage address{};
    std::memcpy(&address, entry->ifa_addr,
                family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6));
    addresses.push_back(address);
  }
  freeifaddrs(list);
  return addresses;
}

std::optional<sockaddr_storage> LineAddress(absl::string_view pattern) {
  absl::ConsumePrefix(&pattern, "^");
  absl::ConsumeSuffix(&pattern, "$");
  std::string literal;
  for (size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == '\\') {
      if (++i == pattern.size()) return std::nullopt;
      c = pattern[i];
      if (c != '.' && c != ':' && c != '[' && c != ']') return std::nullopt;
    } else if (std::strchr("*+?(){}|^$", c) != nullptr) {
      // A regex, not a literal. An unescaped '.' stays: what counts is
      // that the text below is exactly the address.
      return std::nullopt;
    }
    literal.push_back(c);
  }
  absl::string_view text = literal;
  if (absl::ConsumePrefix(&text, "[") && !absl::ConsumeSuffix(&text, "]")) {
    return std::nullopt;
  }
  const std::string bare(text);
  sockaddr_storage storage{};
  auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
  if (inet_pton(AF_INET, bare.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    return storage;
  }
  if (inet_pton(AF_INET6, bare.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    return storage;
  }
  return std::nullopt;
}

bool LineNamesAddress(absl::string_view pattern, const sockaddr& address) {
  const std::optional<sockaddr_storage> named = LineAddress(pattern);
  return named.has_value() &&
         SameAddress(reinterpret_cast<const sockaddr&>(*named), address);
}

}  // namespace cell

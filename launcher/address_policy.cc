#include "launcher/address_policy.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstdint>
#include <cstring>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/strip.h"

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
  if (in(0xf0000000, 4)) return AddressKind::kReserved;  // And broadcast.
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
  // ::ffff:a.b.c.d (mapped), ::a.b.c.d (compatible), 64:ff9b::a.b.c.d.
  const bool mapped = Zero(b, 10) && b[10] == 0xff && b[11] == 0xff;
  const bool compatible = Zero(b, 12);
  const uint8_t nat64[12] = {0x00, 0x64, 0xff, 0x9b};
  if (mapped || compatible || std::memcmp(b, nat64, 12) == 0) {
    return ClassifyV4(Embedded(v6.sin6_addr));
  }
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return AddressKind::kLinkLocal;
  if ((b[0] & 0xfe) == 0xfc) return AddressKind::kUniqueLocal;
  if (b[0] == 0xff) return AddressKind::kMulticast;
  return AddressKind::kPublic;
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

bool LineNamesAddress(absl::string_view pattern, const sockaddr& address) {
  absl::ConsumePrefix(&pattern, "^");
  absl::ConsumeSuffix(&pattern, "$");
  std::string literal;
  for (size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == '\\') {
      if (++i == pattern.size()) return false;
      c = pattern[i];
      if (c != '.' && c != ':' && c != '[' && c != ']') return false;
    } else if (std::strchr("*+?(){}|^$", c) != nullptr) {
      // A regex, not a literal. An unescaped '.' stays: what counts is
      // that the text below is exactly the address.
      return false;
    }
    literal.push_back(c);
  }
  absl::string_view text = literal;
  if (absl::ConsumePrefix(&text, "[") && !absl::ConsumeSuffix(&text, "]")) {
    return false;
  }
  const std::string bare(text);
  if (address.sa_family == AF_INET) {
    in_addr parsed;
    sockaddr_in v4;
    std::memcpy(&v4, &address, sizeof(v4));
    return inet_pton(AF_INET, bare.c_str(), &parsed) == 1 &&
           parsed.s_addr == v4.sin_addr.s_addr;
  }
  if (address.sa_family == AF_INET6) {
    in6_addr parsed;
    sockaddr_in6 v6;
    std::memcpy(&v6, &address, sizeof(v6));
    return inet_pton(AF_INET6, bare.c_str(), &parsed) == 1 &&
           std::memcmp(&parsed, &v6.sin6_addr, sizeof(parsed)) == 0;
  }
  return false;
}

}  // namespace cell

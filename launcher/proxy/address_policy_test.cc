#include "launcher/proxy/address_policy.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cell {
namespace {

sockaddr_storage Address(const std::string& text) {
  sockaddr_storage storage{};
  auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
  if (inet_pton(AF_INET, text.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
  } else {
    EXPECT_EQ(inet_pton(AF_INET6, text.c_str(), &v6->sin6_addr), 1) << text;
    v6->sin6_family = AF_INET6;
  }
  return storage;
}

AddressKind Kind(const std::string& text) {
  const sockaddr_storage storage = Address(text);
  return ClassifyAddress(reinterpret_cast<const sockaddr&>(storage));
}

TEST(AddressPolicyTest, EverySpecialUseRangeAndItsIpv6Forms) {
  for (const char* text :
       {"127.0.0.1", "127.255.255.254", "::1", "::ffff:127.0.0.1",
        "::127.0.0.1", "64:ff9b::7f00:1"}) {
    EXPECT_EQ(Kind(text), AddressKind::kLoopback) << text;
  }
  for (const char* text : {"0.0.0.0", "0.1.2.3", "::", "::ffff:0.0.0.0"}) {
    EXPECT_EQ(Kind(text), AddressKind::kUnspecified) << text;
  }
  for (const char* text : {"10.1.2.3", "172.16.0.1", "172.31.255.255",
                           "192.168.1.1", "::ffff:10.0.0.1"}) {
    EXPECT_EQ(Kind(text), AddressKind::kPrivate) << text;
  }
  EXPECT_EQ(Kind("100.64.0.1"), AddressKind::kCgnat);
  EXPECT_EQ(Kind("169.254.169.254"), AddressKind::kLinkLocal);
  EXPECT_EQ(Kind("fe80::1"), AddressKind::kLinkLocal);
  EXPECT_EQ(Kind("fd00:ec2::254"), AddressKind::kUniqueLocal);
  EXPECT_EQ(Kind("fc00::1"), AddressKind::kUniqueLocal);
  EXPECT_EQ(Kind("224.0.0.1"), AddressKind::kMulticast);
  EXPECT_EQ(Kind("ff02::1"), AddressKind::kMulticast);
  EXPECT_EQ(Kind("255.255.255.255"), AddressKind::kReserved);
  EXPECT_EQ(Kind("240.0.0.1"), AddressKind::kReserved);
  // Found by an attacker review: documentation, benchmarking and relay
  // ranges, and IPv6 forms that a gateway translates to IPv4.
  for (const char* text :
       {"192.0.0.1", "192.0.2.2", "198.51.100.1", "203.0.113.1", "198.18.0.1",
        "198.19.255.1", "192.88.99.1", "2001:db8::1", "100::1", "2001:2::1",
        "2001:10::1", "3fff::1", "5f00::1", "64:ff9b:1::7f00:1",
        "2002:7f00:1::1", "2001:0:1::1"}) {
    EXPECT_EQ(Kind(text), AddressKind::kReserved) << text;
  }
  EXPECT_EQ(Kind("fec0::1"), AddressKind::kPrivate);           // Site-local.
  EXPECT_EQ(Kind("::ffff:0:7f00:1"), AddressKind::kLoopback);  // SIIT.
  for (const char* text : {"140.82.112.3", "172.32.0.1", "100.128.0.1",
                           "2606:4700::1111", "::ffff:8.8.8.8"}) {
    EXPECT_EQ(Kind(text), AddressKind::kPublic) << text;
  }
}

// The host's own public address is the host: a service bound to 0.0.0.0
// answers there. Also in an IPv6 form that carries it.
TEST(AddressPolicyTest, TheHostsOwnAddressesAreTheHost) {
  const std::vector<sockaddr_storage> own = {Address("140.82.112.3"),
                                             Address("2606:4700::1111")};
  for (const char* text :
       {"140.82.112.3", "::ffff:140.82.112.3", "2606:4700::1111"}) {
    const sockaddr_storage address = Address(text);
    EXPECT_EQ(ClassifyAddress(reinterpret_cast<const sockaddr&>(address), own),
              AddressKind::kHostOwn)
        << text;
  }
  const sockaddr_storage other = Address("140.82.112.4");
  EXPECT_EQ(ClassifyAddress(reinterpret_cast<const sockaddr&>(other), own),
            AddressKind::kPublic);
}

TEST(AddressPolicyTest, OnlyALiteralLineNamesAnAddress) {
  const sockaddr_storage loopback = Address("127.0.0.1");
  const auto& v4 = reinterpret_cast<const sockaddr&>(loopback);
  EXPECT_TRUE(LineNamesAddress("^127\\.0\\.0\\.1$", v4));
  EXPECT_TRUE(LineNamesAddress("127.0.0.1", v4));
  for (const char* pattern :
       {"^127\\.0\\.0\\.[0-9]+$", "127.1", "2130706433", "0x7f000001",
        "localhost", ".*", "^127\\.0\\.0\\.1|evil$", "^127\\.0\\.0\\.2$"}) {
    EXPECT_FALSE(LineNamesAddress(pattern, v4)) << pattern;
  }
  const sockaddr_storage six = Address("::1");
  const auto& v6 = reinterpret_cast<const sockaddr&>(six);
  EXPECT_TRUE(LineNamesAddress("^::1$", v6));
  EXPECT_TRUE(LineNamesAddress("^\\[::1\\]$", v6));
  EXPECT_FALSE(LineNamesAddress("^::2$", v6));
  EXPECT_EQ(AddressText(v6), "::1");
}

}  // namespace
}  // namespace cell

#include "probes/parsers.h"

#include <sys/stat.h>

#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace cell::probes {
namespace {

using ::testing::ElementsAre;
using ::testing::Optional;

TEST(ParseStatusTest, NameValuePairs) {
  const auto status = ParseStatus(
      "Name:\tsh\nUid:\t1000\t1000\t1000\t1000\nCapEff:\t000001ffffffffff\n"
      "NoNewPrivs:\t1\nbroken line\n");
  EXPECT_EQ(status.at("Name"), "sh");
  EXPECT_EQ(status.at("Uid"), "1000\t1000\t1000\t1000");
  EXPECT_EQ(status.at("CapEff"), "000001ffffffffff");
  EXPECT_EQ(status.at("NoNewPrivs"), "1");
  EXPECT_EQ(status.count("broken line"), 0);
}

TEST(ParseCapMaskTest, HexMasks) {
  EXPECT_THAT(ParseCapMask("000001ffffffffff"), Optional(0x1ffffffffffULL));
  EXPECT_THAT(ParseCapMask("0000000000000000"), Optional(0ULL));
  EXPECT_EQ(ParseCapMask(""), std::nullopt);
  EXPECT_EQ(ParseCapMask("xyz"), std::nullopt);
  EXPECT_EQ(ParseCapMask("11111111111111111"), std::nullopt);
  EXPECT_EQ(CountBits(0x1ffffffffffULL), 41);
}

TEST(ParseRoutesTest, Ipv4DefaultAndLocal) {
  const auto routes = ParseIpv4Routes(
      "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU"
      "\tWindow\tIRTT\n"
      "eth0\t00000000\t0100000A\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
      "eth0\t0000000A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n");
  ASSERT_EQ(routes.size(), 2);
  EXPECT_TRUE(routes[0].is_default);
  EXPECT_EQ(routes[0].destination, "0.0.0.0/0");
  EXPECT_FALSE(routes[1].is_default);
  EXPECT_EQ(routes[1].destination, "10.0.0.0/24");
  EXPECT_TRUE(ParseIpv4Routes("Iface\tDestination\n").empty());
}

TEST(ParseRoutesTest, Ipv6RejectRouteIsNotADefault) {
  const auto routes = ParseIpv6Routes(
      // The kernel's unreachable ::/0 on lo, present in every namespace.
      "00000000000000000000000000000000 00 00000000000000000000000000000000 "
      "00 00000000000000000000000000000000 ffffffff 00000001 00000000 "
      "00200200       lo\n"
      "00000000000000000000000000000001 80 00000000000000000000000000000000 "
      "00 00000000000000000000000000000000 00000000 00000002 00000000 "
      "80200001       lo\n"
      "00000000000000000000000000000000 00 00000000000000000000000000000000 "
      "00 fe800000000000000000000000000001 00000400 00000001 00000000 "
      "00000003     eth0\n");
  ASSERT_EQ(routes.size(), 3);
  EXPECT_TRUE(routes[0].reject);
  EXPECT_FALSE(routes[0].is_default);
  EXPECT_EQ(routes[1].destination, "00000000000000000000000000000001/128");
  EXPECT_FALSE(routes[1].is_default);
  EXPECT_TRUE(routes[2].is_default);
  EXPECT_EQ(routes[2].interface, "eth0");
}

TEST(ParseNetDevTest, InterfaceNames) {
  EXPECT_THAT(
      ParseNetDevInterfaces("Inter-|   Receive\n face |bytes\n    lo: 0 0 0\n"
                            "  eth0: 1 2 3\n"),
      ElementsAre("lo", "eth0"));
}

TEST(ParseIdMapTest, Entries) {
  const auto map = ParseIdMap(
      "         0          0 4294967295\n"
      "      1000       1000          1\n");
  ASSERT_EQ(map.size(), 2);
  EXPECT_EQ(map[0].count, 4294967295u);
  EXPECT_EQ(map[1].inside, 1000u);
  EXPECT_EQ(map[1].outside, 1000u);
  EXPECT_EQ(map[1].count, 1u);
}

TEST(ParseNamespaceLinkTest, Inode) {
  EXPECT_THAT(ParseNamespaceLink("pid:[4026531836]"), Optional(4026531836u));
  EXPECT_EQ(ParseNamespaceLink("pid:[]"), std::nullopt);
  EXPECT_EQ(ParseNamespaceLink(""), std::nullopt);
  EXPECT_EQ(ParseNamespaceLink("net:[12a]"), std::nullopt);
}

TEST(ListPidsTest, NumericEntriesOfAFakeProc) {
  ASSERT_OK_AND_ASSIGN(::cell::testing::TempDir proc,
                       ::cell::testing::TempDir::Create());
  for (const char* name : {"1", "42", "7", "self", "net", "1x"}) {
    ASSERT_EQ(mkdir(proc.Path(name).c_str(), 0755), 0);
  }
  EXPECT_THAT(ListPids(proc.path()), ElementsAre(1, 7, 42));
  EXPECT_TRUE(ListPids(proc.Path("absent")).empty());
}

TEST(IsSecretNameTest, MasksCredentials) {
  for (const char* name : {"GITHUB_TOKEN", "AWS_SECRET_ACCESS_KEY",
                           "OPENAI_API_KEY", "db_password", "SESSION_ID"}) {
    EXPECT_TRUE(IsSecretName(name)) << name;
  }
  for (const char* name : {"PATH", "HOME", "TERM", "NIX_CONFIG"}) {
    EXPECT_FALSE(IsSecretName(name)) << name;
  }
}

TEST(ParseTcpListenersTest, AddressesAndPortsOfListenersOnly) {
  const std::string tcp =
      "  sl  local_address rem_address   st tx_queue rx_queue\n"
      "   0: 0100007F:0C38 00000000:0000 0A 00000000:00000000\n"
      "   1: 0100007F:0C38 0100007F:D2F0 01 00000000:00000000\n"
      "   2: 0200007F:0438 00000000:0000 0A 00000000:00000000\n"
      "   3: 00000000:0016 00000000:0000 0A 00000000:00000000\n";
  const std::vector<TcpListener> v4 = ParseTcpListeners(tcp);
  ASSERT_EQ(v4.size(), 3u);
  EXPECT_EQ(v4[0].address, "127.0.0.1");
  EXPECT_EQ(v4[0].port, 3128);
  EXPECT_EQ(v4[1].address, "127.0.0.2");
  EXPECT_EQ(v4[1].port, 1080);
  EXPECT_EQ(v4[2].address, "0.0.0.0");
  const std::string tcp6 =
      "  sl  local_address                         remote_address   st\n"
      "   0: 00000000000000000000000001000000:0C38 "
      "00000000000000000000000000000000:0000 0A\n"
      "   1: 0000000000000000FFFF00000100007F:0050 "
      "00000000000000000000000000000000:0000 0A\n";
  const std::vector<TcpListener> v6 = ParseTcpListeners(tcp6);
  ASSERT_EQ(v6.size(), 2u);
  EXPECT_EQ(v6[0].address, "::1");
  EXPECT_EQ(v6[1].address, "::ffff:127.0.0.1");
  EXPECT_EQ(v6[1].port, 80);
  EXPECT_TRUE(ParseTcpListeners("junk\n1: x 0A\n1: 0100007F 0 0A\n").empty());
}

TEST(ParseAbstractListenersTest, ListeningAbstractNamesOnly) {
  const std::string unix_text =
      "Num       RefCount Protocol Flags    Type St Inode Path\n"
      "0000: 00000002 00000000 00010000 0001 01 12345 @proxy\n"
      "0000: 00000002 00000000 00000000 0001 03 12346 @connected\n"
      "0000: 00000002 00000000 00010000 0001 01 12347 /run/a.sock\n"
      "0000: 00000002 00000000 00010000 0001 01 12348\n";
  EXPECT_THAT(ParseAbstractListeners(unix_text), ElementsAre("@proxy"));
}

TEST(Base64Test, Rfc4648Vectors) {
  EXPECT_EQ(Base64(""), "");
  EXPECT_EQ(Base64("f"), "Zg==");
  EXPECT_EQ(Base64("fo"), "Zm8=");
  EXPECT_EQ(Base64("foo"), "Zm9v");
  EXPECT_EQ(Base64("foob"), "Zm9vYg==");
  EXPECT_EQ(Base64("fooba"), "Zm9vYmE=");
  EXPECT_EQ(Base64("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64(std::string("\xff\xfe\x00", 3)), "//4A");
}

}  // namespace
}  // namespace cell::probes

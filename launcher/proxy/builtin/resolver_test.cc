// The resolver against a real DNS server on loopback (testing/dns_server.h,
// UDP and TCP in this process), with hosts and resolv.conf files of the
// test's own.
#include "launcher/proxy/builtin/resolver.h"

#include <arpa/inet.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "launcher/proxy/address_policy.h"
#include "gtest/gtest.h"
#include "testing/dns_server.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace cell {
namespace {

using ::cell::testing::DnsEntry;
using ::cell::testing::DnsServer;
using ::cell::testing::StatusIs;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

std::string Text(const sockaddr_storage& address) {
  return AddressText(reinterpret_cast<const sockaddr&>(address));
}

std::vector<std::string> Texts(const std::vector<sockaddr_storage>& list) {
  std::vector<std::string> texts;
  for (const sockaddr_storage& address : list) texts.push_back(Text(address));
  return texts;
}

std::vector<sockaddr_storage> Addresses(const std::vector<std::string>& texts) {
  std::vector<sockaddr_storage> list;
  for (const std::string& text : texts) {
    std::optional<sockaddr_storage> address = NumericHostAddress(text);
    EXPECT_TRUE(address.has_value()) << text;
    if (address.has_value()) list.push_back(*address);
  }
  return list;
}

TEST(ResolvConfTest, NameserversOptionsAndSearch) {
  const ResolvConf conf = ParseResolvConf(
      "# comment\n"
      "nameserver 10.0.0.1\n"
      "nameserver   not-an-address\n"
      "nameserver 2001:db8::1 ; trailing comment\n"
      "\tnameserver 10.0.0.2\r\n"
      "nameserver 10.0.0.3\n"  // A fourth: ignored, as glibc (MAXNS 3).
      "domain first.test\n"
      "search corp.test. lab.test\n"
      "options rotate ndots:2 timeout:0 attempts:9 edns0\n"
      "bogus line\n");
  EXPECT_THAT(Texts(conf.nameservers),
              ElementsAre("10.0.0.1", "2001:db8::1", "10.0.0.2"));
  EXPECT_THAT(conf.search, ElementsAre("corp.test", "lab.test"));
  EXPECT_EQ(conf.ndots, 2);
  EXPECT_EQ(conf.timeout, absl::Seconds(1));  // Clamped up.
  EXPECT_EQ(conf.attempts, 5);                // Clamped down.

  const ResolvConf empty = ParseResolvConf("");
  EXPECT_THAT(empty.nameservers, IsEmpty());
  EXPECT_EQ(empty.ndots, 1);
  EXPECT_EQ(empty.timeout, absl::Seconds(5));
  EXPECT_EQ(empty.attempts, 2);
  EXPECT_THAT(ParseResolvConf("search a.test\ndomain b.test\n").search,
              ElementsAre("b.test"));
}

TEST(HostsFileTest, EveryLineThatListsTheNameInFileOrder) {
  const std::string hosts =
      "127.0.0.1\tlocalhost\n"
      "::1 localhost ip6-localhost # v6\n"
      "# 10.9.9.9 web.test\n"
      "192.0.2.10 web.test www.web.test\n"
      "not-an-ip web.test\n"
      "192.0.2.11 WEB.TEST.\n"
      "192.0.2.10 web.test\n"  // Again: once.
      "2001:db8::10 other.test web.test\n"
      "192.0.2.12 web.testing\n";
  EXPECT_THAT(Texts(HostsFileAddresses(hosts, "web.test")),
              ElementsAre("192.0.2.10", "192.0.2.11", "2001:db8::10"));
  EXPECT_THAT(Texts(HostsFileAddresses(hosts, "Web.Test.")),
              ElementsAre("192.0.2.10", "192.0.2.11", "2001:db8::10"));
  EXPECT_THAT(Texts(HostsFileAddresses(hosts, "localhost")),
              ElementsAre("127.0.0.1", "::1"));
  EXPECT_THAT(Texts(HostsFileAddresses(hosts, "www.web.test")),
              ElementsAre("192.0.2.10"));
  EXPECT_THAT(HostsFileAddresses(hosts, "10.9.9.9"), IsEmpty());
  EXPECT_THAT(HostsFileAddresses(hosts, "web"), IsEmpty());
  EXPECT_THAT(HostsFileAddresses(hosts, ""), IsEmpty());
}

TEST(NumericHostTest, LiteralsAsGetaddrinfoReadsThem) {
  for (const char* loopback :
       {"127.0.0.1", "127.1", "0x7f000001", "2130706433", "017700000001",
        "0x7f.1"}) {
    std::optional<sockaddr_storage> address = NumericHostAddress(loopback);
    ASSERT_TRUE(address.has_value()) << loopback;
    EXPECT_EQ(Text(*address), "127.0.0.1") << loopback;
  }
  EXPECT_EQ(Text(*NumericHostAddress("0")), "0.0.0.0");
  EXPECT_EQ(Text(*NumericHostAddress("[::1]")), "::1");
  EXPECT_EQ(Text(*NumericHostAddress("::ffff:127.0.0.1")), "::ffff:127.0.0.1");
  for (const char* name : {"localhost", "abc.def", "1.2.3.4x", "1.2.3.4 x",
                           "[127.0.0.1]", "[::1", "", "1.2.3.4.5", "deadbeef"}) {
    EXPECT_FALSE(NumericHostAddress(name).has_value()) << name;
  }
}

TEST(SortTest, RouteFirstThenGlibcsDefaultPrecedence) {
  auto all = [](const sockaddr_storage&) { return true; };
  std::vector<sockaddr_storage> list = Addresses(
      {"192.0.2.1", "2001:db8::1", "192.0.2.2", "::1", "2002:c000:201::1"});
  SortAddresses(&list, all);
  EXPECT_THAT(Texts(list), ElementsAre("::1", "2001:db8::1",
                                       "2002:c000:201::1", "192.0.2.1",
                                       "192.0.2.2"));
  // No IPv6 route: IPv4 first, each family in its own order.
  auto v4_only = [](const sockaddr_storage& a) { return a.ss_family == AF_INET; };
  list = Addresses({"2001:db8::1", "192.0.2.2", "2001:db8::2", "192.0.2.1"});
  SortAddresses(&list, v4_only);
  EXPECT_THAT(Texts(list), ElementsAre("192.0.2.2", "192.0.2.1", "2001:db8::1",
                                       "2001:db8::2"));
  // One family: the order stays, no route is asked.
  list = Addresses({"192.0.2.9", "192.0.2.1"});
  SortAddresses(&list, [](const sockaddr_storage&) -> bool {
    ADD_FAILURE() << "asked for a route";
    return false;
  });
  EXPECT_THAT(Texts(list), ElementsAre("192.0.2.9", "192.0.2.1"));
}

class ResolverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(testing::TempDir dir, testing::TempDir::Create());
    dir_.emplace(std::move(dir));
    ASSERT_OK_AND_ASSIGN(server_, DnsServer::Start());
    WriteHosts("127.0.0.1 localhost\n192.0.2.50 listed.test\n");
    WriteResolvConf("nameserver 127.0.0.1\noptions timeout:2 attempts:1\n");
  }

  void WriteHosts(const std::string& text) {
    std::ofstream(dir_->Path("hosts")) << text;
  }
  void WriteResolvConf(const std::string& text) {
    std::ofstream(dir_->Path("resolv.conf")) << text;
  }

  ResolverOptions Options() const {
    ResolverOptions options;
    options.hosts_path = dir_->Path("hosts");
    options.resolv_conf_path = dir_->Path("resolv.conf");
    options.dns_port = static_cast<uint16_t>(server_->port());
    options.deadline = absl::Now() + absl::Seconds(20);
    options.routable = [](const sockaddr_storage&) { return true; };
    return options;
  }

  absl::StatusOr<std::vector<std::string>> Resolve(const std::string& host) {
    return Resolve(host, Options());
  }
  absl::StatusOr<std::vector<std::string>> Resolve(
      const std::string& host, const ResolverOptions& options) {
    absl::StatusOr<std::vector<sockaddr_storage>> resolved =
        ResolveHost(host, options);
    if (!resolved.ok()) return resolved.status();
    return Texts(*resolved);
  }

  static DnsEntry Answer(std::vector<std::string> a,
                         std::vector<std::string> aaaa = {}) {
    DnsEntry entry;
    entry.a = std::move(a);
    entry.aaaa = std::move(aaaa);
    return entry;
  }

  std::optional<testing::TempDir> dir_;
  std::unique_ptr<DnsServer> server_;
};

TEST_F(ResolverTest, LiteralsAndHostsFileNeedNoDns) {
  EXPECT_THAT(Resolve("127.1"), IsOkAndHolds(ElementsAre("127.0.0.1")));
  EXPECT_THAT(Resolve("[::1]"), IsOkAndHolds(ElementsAre("::1")));
  EXPECT_THAT(Resolve("listed.test"), IsOkAndHolds(ElementsAre("192.0.2.50")));
  EXPECT_THAT(Resolve("LISTED.test."),
              IsOkAndHolds(ElementsAre("192.0.2.50")));
  EXPECT_EQ(server_->udp_queries(), 0);
}

TEST_F(ResolverTest, HostsFileComesBeforeDns) {
  server_->Set("listed.test", Answer({"192.0.2.99"}));
  EXPECT_THAT(Resolve("listed.test"), IsOkAndHolds(ElementsAre("192.0.2.50")));
  EXPECT_EQ(server_->udp_queries(), 0);
}

TEST_F(ResolverTest, AsksAAndAaaaOverUdp) {
  server_->Set("web.test", Answer({"192.0.2.1", "192.0.2.2"}, {"2001:db8::1"}));
  EXPECT_THAT(Resolve("web.test"),
              IsOkAndHolds(ElementsAre("2001:db8::1", "192.0.2.1",
                                       "192.0.2.2")));
  EXPECT_THAT(server_->log(),
              AllOf(SizeIs(2), Contains("web.test/A"),
                    Contains("web.test/AAAA")));
  EXPECT_EQ(server_->tcp_queries(), 0);
  // Without an IPv6 route, IPv4 first.
  ResolverOptions options = Options();
  options.routable = [](const sockaddr_storage& a) {
    return a.ss_family == AF_INET;
  };
  EXPECT_THAT(Resolve("web.test", options),
              IsOkAndHolds(ElementsAre("192.0.2.1", "192.0.2.2",
                                       "2001:db8::1")));
}

TEST_F(ResolverTest, OneFamilyIsEnough) {
  server_->Set("v4.test", Answer({"192.0.2.4"}));
  server_->Set("v6.test", Answer({}, {"2001:db8::6"}));
  EXPECT_THAT(Resolve("v4.test"), IsOkAndHolds(ElementsAre("192.0.2.4")));
  EXPECT_THAT(Resolve("v6.test"), IsOkAndHolds(ElementsAre("2001:db8::6")));
}

TEST_F(ResolverTest, FollowsCnames) {
  DnsEntry entry = Answer({"192.0.2.7"});
  entry.cname = "edge.cdn.test";
  server_->Set("alias.test", entry);
  EXPECT_THAT(Resolve("alias.test"), IsOkAndHolds(ElementsAre("192.0.2.7")));
}

TEST_F(ResolverTest, TruncatedAnswerIsFetchedOverTcp) {
  std::vector<std::string> many;
  for (int i = 1; i <= 40; ++i) many.push_back(absl::StrCat("192.0.2.", i));
  DnsEntry entry = Answer(many);
  entry.behavior = DnsEntry::Behavior::kTruncate;
  server_->Set("big.test", entry);
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> addresses,
                       Resolve("big.test"));
  EXPECT_EQ(addresses, many);
  EXPECT_GE(server_->tcp_queries(), 1);
}

TEST_F(ResolverTest, SpoofedAnswersAreIgnored) {
  // Another source port, another id, another name, another type: each says
  // 6.6.6.6 before the server's own answer arrives.
  DnsEntry entry = Answer({"192.0.2.8"});
  entry.behavior = DnsEntry::Behavior::kSpoofFirst;
  server_->Set("bank.test", entry);
  EXPECT_THAT(Resolve("bank.test"), IsOkAndHolds(ElementsAre("192.0.2.8")));
  // And garbage that is no DNS message at all.
  entry.behavior = DnsEntry::Behavior::kGarbageFirst;
  server_->Set("garbage.test", entry);
  EXPECT_THAT(Resolve("garbage.test"), IsOkAndHolds(ElementsAre("192.0.2.8")));
}

TEST_F(ResolverTest, NxDomainAndNoDataNameTheHost) {
  DnsEntry gone;
  gone.behavior = DnsEntry::Behavior::kNxDomain;
  server_->Set("gone.test", gone);
  EXPECT_THAT(Resolve("gone.test"),
              StatusIs(absl::StatusCode::kNotFound,
                       AllOf(HasSubstr("gone.test"), HasSubstr("NXDOMAIN"),
                             HasSubstr("127.0.0.1"))));
  server_->Set("empty.test", DnsEntry{});
  EXPECT_THAT(Resolve("empty.test"),
              StatusIs(absl::StatusCode::kNotFound,
                       AllOf(HasSubstr("empty.test"),
                             HasSubstr("no A or AAAA record"))));
}

TEST_F(ResolverTest, SilentServerTimesOut) {
  DnsEntry silent;
  silent.behavior = DnsEntry::Behavior::kSilent;
  server_->Set("slow.test", silent);
  WriteResolvConf("nameserver 127.0.0.1\noptions timeout:1 attempts:2\n");
  EXPECT_THAT(Resolve("slow.test"),
              StatusIs(absl::StatusCode::kDeadlineExceeded,
                       AllOf(HasSubstr("slow.test"), HasSubstr("timed out"),
                             HasSubstr("127.0.0.1"))));
  // Asked twice (attempts), A and AAAA each time.
  EXPECT_EQ(server_->udp_queries(), 4);
  // The caller's deadline comes first.
  WriteResolvConf("nameserver 127.0.0.1\n");  // 5 s a try.
  ResolverOptions options = Options();
  options.deadline = absl::Now() + absl::Milliseconds(300);
  EXPECT_THAT(Resolve("slow.test", options),
              StatusIs(absl::StatusCode::kDeadlineExceeded,
                       HasSubstr("slow.test")));
}

TEST_F(ResolverTest, CancelledWhileWaiting) {
  DnsEntry silent;
  silent.behavior = DnsEntry::Behavior::kSilent;
  server_->Set("slow.test", silent);
  ResolverOptions options = Options();
  int calls = 0;
  options.cancelled = [&calls] { return ++calls > 2; };
  EXPECT_THAT(Resolve("slow.test", options),
              StatusIs(absl::StatusCode::kCancelled, HasSubstr("slow.test")));
}

TEST_F(ResolverTest, FailingServerIsPassedForTheNext) {
  // The second nameserver: another loopback address, the same port.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<DnsServer> second,
                       DnsServer::Start("127.0.0.2", server_->port()));
  WriteResolvConf(
      "nameserver 127.0.0.1\nnameserver 127.0.0.2\noptions timeout:2\n");
  DnsEntry failing;
  failing.behavior = DnsEntry::Behavior::kServFail;
  server_->Set("flaky.test", failing);
  second->Set("flaky.test", Answer({"192.0.2.33"}));
  EXPECT_THAT(Resolve("flaky.test"), IsOkAndHolds(ElementsAre("192.0.2.33")));
  // Both fail: both named, Unavailable.
  failing.behavior = DnsEntry::Behavior::kRefused;
  second->Set("flaky.test", failing);
  EXPECT_THAT(Resolve("flaky.test"),
              StatusIs(absl::StatusCode::kUnavailable,
                       AllOf(HasSubstr("flaky.test"),
                             HasSubstr("127.0.0.1: SERVFAIL"),
                             HasSubstr("127.0.0.2: REFUSED"))));
}

TEST_F(ResolverTest, NoServerListening) {
  const uint16_t port = static_cast<uint16_t>(server_->port());
  server_.reset();  // Nothing on that port now.
  ResolverOptions options;
  options.hosts_path = dir_->Path("hosts");
  options.resolv_conf_path = dir_->Path("resolv.conf");
  options.dns_port = port;
  options.deadline = absl::Now() + absl::Seconds(20);
  EXPECT_THAT(Resolve("web.test", options),
              StatusIs(absl::StatusCode::kUnavailable,
                       AllOf(HasSubstr("web.test"),
                             HasSubstr("connection refused"))));
  // resolv.conf names none: 127.0.0.1 is asked, and the error says so.
  WriteResolvConf("# nothing\n");
  EXPECT_THAT(Resolve("web.test", options),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("names no nameserver")));
  options.resolv_conf_path = dir_->Path("missing");
  EXPECT_THAT(Resolve("web.test", options),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("names no nameserver")));
}

TEST_F(ResolverTest, NoNameserverMeans127001) {
  WriteResolvConf("options timeout:2\n");
  server_->Set("web.test", Answer({"192.0.2.1"}));
  EXPECT_THAT(Resolve("web.test"), IsOkAndHolds(ElementsAre("192.0.2.1")));
}

TEST_F(ResolverTest, SearchListAndNdots) {
  WriteResolvConf(
      "nameserver 127.0.0.1\nsearch corp.test lab.test\n"
      "options timeout:2 ndots:1\n");
  server_->Set("intranet.lab.test", Answer({"192.0.2.20"}));
  server_->Set("www.example", Answer({"192.0.2.21"}));
  // No dot: the search list first, then the name as it is.
  EXPECT_THAT(Resolve("intranet"), IsOkAndHolds(ElementsAre("192.0.2.20")));
  const std::vector<std::string> log = server_->log();
  ASSERT_THAT(log, SizeIs(4));
  EXPECT_THAT(log[0], HasSubstr("intranet.corp.test/"));
  EXPECT_THAT(log[1], HasSubstr("intranet.corp.test/"));
  EXPECT_THAT(log[2], HasSubstr("intranet.lab.test/"));
  // Dots enough: the name first.
  EXPECT_THAT(Resolve("www.example"), IsOkAndHolds(ElementsAre("192.0.2.21")));
  // A trailing dot: only the name.
  EXPECT_THAT(Resolve("nothing.here."),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("NXDOMAIN")));
  EXPECT_THAT(server_->log().back(), HasSubstr("nothing.here/"));
  // Every candidate failing: the error says which names were asked.
  EXPECT_THAT(Resolve("nowhere"),
              StatusIs(absl::StatusCode::kNotFound,
                       AllOf(HasSubstr("nowhere.corp.test"),
                             HasSubstr("nowhere.lab.test"))));
}

TEST_F(ResolverTest, NotAName) {
  for (const char* host : {"a..b", "bad name", "x:y", "", ".", "a_b!"}) {
    EXPECT_THAT(Resolve(host), StatusIs(absl::StatusCode::kInvalidArgument))
        << host;
  }
  EXPECT_EQ(server_->udp_queries(), 0);
}

}  // namespace
}  // namespace cell

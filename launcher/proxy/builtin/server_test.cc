// The builtin engine's HTTP path over real sockets, without cells or curl:
// a listener on loopback served by BuiltinProxy, raw requests written to
// it, and the loopback test server as the upstream (its /head endpoint
// answers with the request head as it arrived).
#include "launcher/proxy/builtin/server.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/loopback.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "launcher/proxy/address_policy.h"
#include "launcher/proxy/filter.h"
#include "launcher/proxy/host_filter.h"
#include "testing/descriptor_fill.h"
#include "testing/http_server.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace cell {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

class BuiltinProxyHttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(server_, testing::HttpServer::Start());
    ASSERT_OK_AND_ASSIGN(auto listening, ListenOnLoopback(16));
    const int listener = listening.first;
    proxy_port_ = listening.second;
    ASSERT_OK_AND_ASSIGN(std::vector<FilterPattern> patterns,
                         ParseFilter(FilterText(), "filter"));
    ASSERT_OK_AND_ASSIGN(HostFilter filter,
                         HostFilter::Compile(patterns, "filter"));
    ASSERT_OK_AND_ASSIGN(temp_, testing::TempDir::Create());
    BuiltinProxyOptions options;
    options.audit_log = temp_->Path("audit.jsonl");
    ASSERT_OK_AND_ASSIGN(
        proxy_, BuiltinProxy::Create(listener, std::move(filter), options));
    // The launcher's event loop, reduced to the proxy.
    loop_ = std::thread([this] {
      while (!stop_) {
        pollfd event = {proxy_->fd(), POLLIN, 0};
        if (poll(&event, 1, 20) > 0) proxy_->HandleEvents();
      }
    });
  }
  // The filter the proxy applies: the server's literal address.
  virtual std::string FilterText() const { return "^127\\.0\\.0\\.1$\n"; }

  void TearDown() override {
    stop_ = true;
    if (loop_.joinable()) loop_.join();
    proxy_.reset();
  }

  // Sends `request` on a fresh connection; the whole answer.
  std::string Exchange(const std::string& request) {
    return ExchangeOn(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), request);
  }
  // The same on socket `fd`, made beforehand (and closed here).
  std::string ExchangeOn(int fd, const std::string& request) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<uint16_t>(proxy_port_));
    EXPECT_EQ(
        connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    EXPECT_EQ(send(fd, request.data(), request.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(request.size()));
    shutdown(fd, SHUT_WR);
    // An engine that never answers fails the test, not its timeout.
    const timeval limit = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
    std::string answer;
    char buffer[4096];
    ssize_t n;
    while ((n = read(fd, buffer, sizeof(buffer))) > 0) answer.append(buffer, n);
    close(fd);
    return answer;
  }

  std::string Url(const std::string& path) const {
    return absl::StrCat("http://127.0.0.1:", server_->port(), path);
  }

  std::unique_ptr<testing::HttpServer> server_;
  std::optional<testing::TempDir> temp_;  // Holds the audit log.
  std::unique_ptr<BuiltinProxy> proxy_;
  int proxy_port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread loop_;
};

TEST_F(BuiltinProxyHttpTest, HostIsRewrittenToTheAuthorityTheFilterJudged) {
  const std::string answer = Exchange(absl::StrCat(
      "GET ", Url("/head"), " HTTP/1.1\r\nHost: other.test\r\n\r\n"));
  EXPECT_THAT(answer, StartsWith("HTTP/1.1 200"));
  EXPECT_THAT(answer,
              HasSubstr(absl::StrCat("Host: 127.0.0.1:", server_->port())));
  EXPECT_THAT(answer, Not(HasSubstr("other.test")));
}

TEST_F(BuiltinProxyHttpTest, AmbiguousFramingIsRefusedBeforeAnyUpstream) {
  for (const std::string& request :
       {// A bare-LF head followed by a CRLF head.
        absl::StrCat("GET ", Url("/hello"), " HTTP/1.1\nHost: a\n\n", "GET ",
                     Url("/head"), " HTTP/1.1\r\n\r\n"),
        absl::StrCat("POST ", Url("/echo"),
                     " HTTP/1.1\r\nTransfer-Encoding: xchunked\r\n\r\n"
                     "0\r\n\r\n"),
        absl::StrCat("POST ", Url("/echo"),
                     " HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
        absl::StrCat("GET ", Url("/hello"),
                     " HTTP/1.1\r\nX-A: one\r\n two\r\n\r\n")}) {
    EXPECT_THAT(Exchange(request), StartsWith("HTTP/1.1 400")) << request;
  }
  EXPECT_EQ(server_->requests(), 0);
}

TEST_F(BuiltinProxyHttpTest, DeniedHostsAreNamedInTheStatusLine) {
  EXPECT_THAT(Exchange("CONNECT denied.test:443 HTTP/1.1\r\n\r\n"),
              StartsWith("HTTP/1.1 403 Forbidden by cell filter\r\n"));
  EXPECT_EQ(server_->requests(), 0);
}

// Text the cell chooses (here a 60 000-character host, which the filter
// denies) is capped in its audit record: one request cannot add more than
// a few KiB to the host's disk.
TEST_F(BuiltinProxyHttpTest, AuditRecordsAreCappedInSize) {
  const std::string host(60000, 'x');
  EXPECT_THAT(Exchange(absl::StrCat("GET http://", host, "/ HTTP/1.1\r\n\r\n")),
              StartsWith("HTTP/1.1 4"));
  // The record is written before the connection closes.
  const std::string log = testing::ReadHostFile(temp_->Path("audit.jsonl"));
  EXPECT_THAT(log, HasSubstr("xxxx..."));
  EXPECT_GT(log.size(), 1000u);
  EXPECT_LT(log.size(), 2000u);
}

// Out of descriptors, the engine can still take a connection (it holds a
// spare one for this) and answers 503 with the reason; with one descriptor
// free it takes the request and has none for the upstream: 503 again. The
// server never sees either, and afterwards a request goes through.
TEST_F(BuiltinProxyHttpTest, NoDescriptorLeftIsA503NotAnEnd) {
  const std::string request =
      absl::StrCat("GET ", Url("/hello"), " HTTP/1.1\r\n\r\n");
  const int first = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int second = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(first, 0);
  ASSERT_GE(second, 0);
  std::string no_connection, no_upstream;
  {
    testing::DescriptorFill fill;
    ASSERT_TRUE(fill.Full());
    no_connection = ExchangeOn(first, request);
    // ExchangeOn closed `first`: exactly one descriptor is free now.
    no_upstream = ExchangeOn(second, request);
  }
  EXPECT_THAT(no_connection, StartsWith("HTTP/1.1 503"));
  EXPECT_THAT(no_connection, HasSubstr("no descriptor for this connection"));
  EXPECT_THAT(no_upstream, StartsWith("HTTP/1.1 503"));
  EXPECT_THAT(no_upstream, HasSubstr("no descriptor"));
  EXPECT_EQ(server_->requests(), 0);
  EXPECT_THAT(Exchange(request), StartsWith("HTTP/1.1 200"));
}

// A filter that allows every name: the host as written passes, and what it
// stands for is still refused when it is the host's own loopback (or any
// special-use address) that no line names. Every spelling of loopback a
// resolver or the kernel accepts, tunnelled and plain.
class AllowAllFilterTest : public BuiltinProxyHttpTest {
 protected:
  std::string FilterText() const override { return ".*\n"; }
};

TEST_F(AllowAllFilterTest, NoSpellingOfLoopbackReachesIt) {
  char hostname[256] = {};
  ASSERT_EQ(gethostname(hostname, sizeof(hostname) - 1), 0);
  const std::string port = std::to_string(server_->port());
  // Each of these resolves to a loopback or unspecified address: refused.
  for (const std::string& host : std::vector<std::string>{
           "localhost", "127.0.0.1", "127.1", "0", "0.0.0.0", "2130706433",
           "0x7f000001", "017700000001", "[::ffff:127.0.0.1]", "[::1]",
           "[::]"}) {
    SCOPED_TRACE(host);
    EXPECT_THAT(Exchange(absl::StrCat("CONNECT ", host, ":", port,
                                      " HTTP/1.1\r\n\r\n")),
                StartsWith("HTTP/1.1 403 Forbidden by cell filter"));
    EXPECT_THAT(Exchange(absl::StrCat("GET http://", host, ":", port,
                                      "/hello HTTP/1.1\r\n\r\n")),
                StartsWith("HTTP/1.1 403 Forbidden by cell filter"));
  }
  // The host's own interface addresses (a service bound to 0.0.0.0 answers
  // on each): refused whatever range they are in.
  ifaddrs* list = nullptr;
  ASSERT_EQ(getifaddrs(&list), 0);
  int own = 0;
  for (const ifaddrs* entry = list; entry != nullptr; entry = entry->ifa_next) {
    if (entry->ifa_addr == nullptr || entry->ifa_addr->sa_family != AF_INET ||
        (entry->ifa_flags & IFF_LOOPBACK) != 0) {
      continue;
    }
    const std::string address = AddressText(*entry->ifa_addr);
    SCOPED_TRACE(address);
    EXPECT_THAT(Exchange(absl::StrCat("CONNECT ", address, ":", port,
                                      " HTTP/1.1\r\n\r\n")),
                StartsWith("HTTP/1.1 403 Forbidden by cell filter"));
    ++own;
  }
  freeifaddrs(list);
  EXPECT_GT(own, 0) << "no non-loopback IPv4 address to try";
  // These may not resolve at all here; they never reach the server.
  for (const std::string& host :
       std::vector<std::string>{"localhost.", std::string(hostname)}) {
    SCOPED_TRACE(host);
    EXPECT_THAT(Exchange(absl::StrCat("CONNECT ", host, ":", port,
                                      " HTTP/1.1\r\n\r\n")),
                Not(StartsWith("HTTP/1.1 200")));
  }
  EXPECT_EQ(server_->requests(), 0);
}

}  // namespace
}  // namespace cell

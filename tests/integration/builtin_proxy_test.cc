// Integration: the builtin proxy engine (`network.engine = "builtin"`) in
// real cells, as root and as uid 65534, against a loopback HTTP server on
// the host. Hosts `127.0.0.1` (allowed) and `localhost` (not) tell the
// filter's decisions apart; `127.0.0.2` is allowed but nothing listens.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "launcher/proxy/address_policy.h"
#include "launcher/proxy/filter.h"
#include "launcher/proxy/host_filter.h"
#include "nlohmann/json.hpp"
#include "testing/cell_fixture.h"
#include "testing/http_server.h"
#include "testing/status_matchers.h"

namespace cell::testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::Optional;
using ::testing::StartsWith;
using Json = nlohmann::json;

constexpr char kCurl[] = "curl -s --noproxy '' ";

class BuiltinProxyTest : public CellFixture {
 protected:
  void SetUp() override {
    CellFixture::SetUp();
    ASSERT_OK_AND_ASSIGN(server_, HttpServer::Start());
    std::ofstream(Path("filter")) << "# the host's loopback addresses\n"
                                     "^127\\.0\\.0\\.1$\n"
                                     "^127\\.0\\.0\\.2$\n";
    std::ofstream(Path("engine.json"))
        << R"({"version": 1, "network": {"engine": "builtin"}})";
    ASSERT_EQ(mkdir(Path("log").c_str(), 0755), 0);
    ASSERT_EQ(chown(Path("log").c_str(), uid(), gid()), 0);
  }

  std::string Url(const std::string& host, const std::string& path) const {
    return absl::StrCat("http://", host, ":", server_->port(), path);
  }

  // Proxy mode, the builtin engine, the test filter, logs in log/.
  std::vector<std::string> Flags() const {
    return {"--network=proxy", "--filter=filter", "--log-dir=log",
            "--spec=" + Path("engine.json")};
  }

  absl::StatusOr<SubprocessResult> Run(const std::string& script) {
    return RunCell(Flags(), {"sh", "-c", script});
  }

  // The final records (one per request), or with `begins` the `begin`
  // records an allowed request writes before it goes out.
  std::vector<Json> Audit(bool begins = false) const {
    std::vector<Json> records;
    const std::vector<std::string> lines = absl::StrSplit(
        ReadHostFile(Path("log/proxy-audit.jsonl")), '\n', absl::SkipEmpty());
    for (const std::string& line : lines) {
      Json record = Json::parse(line, nullptr, false);
      const bool begin =
          record.is_object() && record.value("event", "") == "begin";
      if (begin == begins) records.push_back(std::move(record));
    }
    return records;
  }

  std::unique_ptr<HttpServer> server_;
};

TEST_P(BuiltinProxyTest, AllowedHostGetsTheBodyFilteredHostGetsOur403) {
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult result,
      Run(absl::StrCat(kCurl, Url("127.0.0.1", "/hello"), "; ", kCurl, "-i ",
                       Url("localhost", "/hello"))));
  EXPECT_THAT(result.exit_code, Optional(0)) << result.stderr_text;
  EXPECT_THAT(result.stdout_text,
              AllOf(HasSubstr(kHelloBody),
                    HasSubstr("HTTP/1.1 403 Forbidden by cell filter\r\n"),
                    HasSubstr("X-Cell-Filter-Lines: 2"),
                    HasSubstr("blocked by cell filter: localhost")));
  EXPECT_EQ(server_->requests(), 1) << "the filtered request reached the host";
}

TEST_P(BuiltinProxyTest, ConnectTunnelsAreFilteredByHostToo) {
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult result,
      Run(absl::StrCat(kCurl, "-p ", Url("127.0.0.1", "/hello"), "; ", kCurl,
                       "-p -o /dev/null -w '%{http_connect}\\n' ",
                       Url("localhost", "/hello"), "; true")));
  EXPECT_THAT(result.exit_code, Optional(0)) << result.stderr_text;
  EXPECT_EQ(result.stdout_text, absl::StrCat(kHelloBody, "403\n"));
  EXPECT_EQ(server_->requests(), 1);
}

// The reason for a denied tunnel is in the 403's status line, where the
// clients that show one put it in their message: wget, Python (pip) and
// the verbose modes of curl and git. (curl's and git's one-line errors
// hold only the code, "CONNECT tunnel failed, response 403".)
TEST_P(BuiltinProxyTest, ClientsShowWhyATunnelWasDenied) {
  const std::string url = "https://denied.test/x.git";
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult result,
      Run(absl::StrCat(
          "echo curl: $(curl -sSv ", url, " 2>&1 | grep 'HTTP/1.1 403'); ",
          "echo git: $(GIT_CURL_VERBOSE=1 git ls-remote ", url,
          " 2>&1 | grep 'HTTP/1.1 403'); ", "echo wget: $(wget -O /dev/null ",
          url, " 2>&1 | grep 'tunneling failed'); ",
          "echo python: $(python3 -c 'import urllib.request as r; "
          "r.urlopen(\"",
          url, "\")' 2>&1 | grep 'Tunnel connection'); ")));
  EXPECT_THAT(result.exit_code, Optional(0)) << result.stderr_text;
  const std::vector<std::string> lines =
      absl::StrSplit(result.stdout_text, '\n', absl::SkipEmpty());
  const std::vector<std::string> clients = {
      "curl: ", "git: ", "wget: ", "python: "};
  ASSERT_EQ(lines.size(), clients.size()) << result.stdout_text;
  for (size_t i = 0; i < clients.size(); ++i) {
    EXPECT_THAT(lines[i], AllOf(StartsWith(clients[i]),
                                HasSubstr("Forbidden by cell filter")));
  }
  EXPECT_EQ(server_->requests(), 0);
}

// A kept-alive client connection: each request is judged on its own host.
TEST_P(BuiltinProxyTest, EveryRequestOnOneConnectionIsFilteredAlone) {
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult result,
      Run(absl::StrCat(
          kCurl, "-w '%{http_code} %{num_connects}\\n' -o /dev/null ",
          Url("127.0.0.1", "/hello"), " ", Url("127.0.0.1", "/hello"),
          " -o /dev/null ", Url("localhost", "/hello"), " -o /dev/null")));
  EXPECT_THAT(result.exit_code, Optional(0)) << result.stderr_text;
  // The second request reused the connection (0 new connects).
  EXPECT_EQ(result.stdout_text, "200 1\n200 0\n403 0\n");
  EXPECT_EQ(server_->requests(), 2);
}

TEST_P(BuiltinProxyTest, RequestsAreRewrittenForTheOrigin) {
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult result,
      Run(absl::StrCat(kCurl,
                       "-H 'Proxy-Authorization: Basic c2VjcmV0' "
                       "-H 'Connection: X-Hop' -H 'X-Hop: 1' "
                       "-H 'X-Kept: yes' ",
                       Url("127.0.0.1", "/head?q=1"))));
  EXPECT_THAT(result.exit_code, Optional(0)) << result.stderr_text;
  // Origin-form target, end-to-end headers kept, hop-by-hop ones gone.
  EXPECT_THAT(
      result.stdout_text,
      AllOf(HasSubstr("GET /head?q=1 HTTP/1.1\r\n"), HasSubstr("X-Kept: yes"),
            HasSubstr("Connection: close"), Not(HasSubstr("Proxy-")),
            Not(HasSubstr("X-Hop")), Not(HasSubstr("http://"))));
}

TEST_P(BuiltinProxyTest, BodiesBothWaysAndChunkedFraming) {
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult result,
      Run(absl::StrCat(
          kCurl, "--data-binary 'fixed length body' ",
          Url("127.0.0.1", "/echo"), "; echo; ", kCurl,
          "-H 'Transfer-Encoding: chunked' --data-binary 'chunked body' ",
          Url("127.0.0.1", "/echo"), "; echo; ", kCurl,
          Url("127.0.0.1", "/chunked"), " ", Url("127.0.0.1", "/hello"))));
  EXPECT_THAT(result.exit_code, Optional(0)) << result.stderr_text;
  EXPECT_THAT(result.stdout_text, HasSubstr("fixed length body\n"));
  // The chunked request body arrives still chunked, complete.
  EXPECT_THAT(result.stdout_text, HasSubstr("c\r\nchunked body\r\n0\r\n\r\n"));
  EXPECT_THAT(result.stdout_text,
              HasSubstr(absl::StrCat("hello world", kHelloBody)));
}

TEST_P(BuiltinProxyTest, LargeBodyArrivesIntactPlainAndTunneled) {
  constexpr size_t kSize = 256u << 20;
  WritePatternFile(Path("wt/expected"), kSize);
  for (const char* tunnel : {"", "-p "}) {
    ASSERT_OK_AND_ASSIGN(
        SubprocessResult result,
        Run(absl::StrCat(kCurl, tunnel,
                         Url("127.0.0.1", absl::StrCat("/bytes/", kSize)),
                         " | cmp - expected && echo identical")));
    EXPECT_EQ(result.stdout_text, "identical\n")
        << tunnel << result.stderr_text;
  }
}

// A client that hangs up mid-transfer costs that connection only: the
// launcher must not die of SIGPIPE (it did, before it ignored the signal).
TEST_P(BuiltinProxyTest, ClientHangingUpMidTransferLeavesTheCellRunning) {
  for (const char* engine : {"builtin", "tinyproxy"}) {
    std::ofstream(Path("engine.json")) << absl::StrCat(
        R"({"version": 1, "network": {"engine": ")", engine, R"("}})");
    ASSERT_OK_AND_ASSIGN(SubprocessResult result,
                         Run(absl::StrCat("for t in '' '-p'; do ", kCurl, "$t ",
                                          Url("127.0.0.1", "/zeros/1000000000"),
                                          " | head -c 10 | wc -c; done; ",
                                          kCurl, Url("127.0.0.1", "/hello"))));
    EXPECT_THAT(result.exit_code, Optional(0))
        << engine << ": " << result.stderr_text;
    EXPECT_EQ(result.stdout_text, absl::StrCat("10\n10\n", kHelloBody))
        << engine;
  }
}

TEST_P(BuiltinProxyTest, TwoHundredConcurrentRequestsAllSucceed) {
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult result,
      Run(absl::StrCat("for i in $(seq 200); do (", kCurl,
                       Url("127.0.0.1", "/hello"),
                       " > out.$i) & done; wait; cat out.* | sort | uniq -c")));
  EXPECT_THAT(result.exit_code, Optional(0)) << result.stderr_text;
  EXPECT_THAT(result.stdout_text, HasSubstr("200 hello from the host"));
  EXPECT_EQ(server_->requests(), 200);
}

TEST_P(BuiltinProxyTest, AuditLogHasOneLinePerRequest) {
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult result,
      Run(absl::StrCat(kCurl, "-o /dev/null ", Url("127.0.0.1", "/bytes/1000"),
                       "; ", kCurl, "-o /dev/null ", Url("localhost", "/x"),
                       "; ", kCurl, "-p -o /dev/null ",
                       Url("127.0.0.1", "/hello"), "; true")));
  EXPECT_THAT(result.exit_code, Optional(0)) << result.stderr_text;
  const std::vector<Json> audit = Audit();
  ASSERT_EQ(audit.size(), 3u) << ReadHostFile(Path("log/proxy-audit.jsonl"));
  for (const Json& record : audit) {
    for (const char* field :
         {"time", "method", "host", "port", "decision", "filterLine", "status",
          "bytesUp", "bytesDown", "durationMs"}) {
      EXPECT_TRUE(record.contains(field)) << field << " " << record.dump();
    }
  }
  // The two allowed requests each wrote a begin record first, with the
  // number of its final record; the denied one went nowhere and has none.
  const std::vector<Json> begins = Audit(/*begins=*/true);
  ASSERT_EQ(begins.size(), 2u);
  EXPECT_EQ(begins[0]["request"], audit[0]["request"]);
  EXPECT_EQ(begins[1]["request"], audit[2]["request"]);
  EXPECT_EQ(begins[1]["method"], "CONNECT");
  EXPECT_EQ(audit[0]["method"], "GET");
  EXPECT_EQ(audit[0]["decision"], "allow");
  EXPECT_EQ(audit[0]["filterLine"], 2);  // The file's second line.
  EXPECT_EQ(audit[0]["status"], 200);
  EXPECT_GT(audit[0]["bytesDown"].get<int>(), 1000);
  EXPECT_EQ(audit[1]["decision"], "deny");
  EXPECT_EQ(audit[1]["host"], "localhost");
  EXPECT_TRUE(audit[1]["filterLine"].is_null());
  EXPECT_EQ(audit[1]["status"], 403);
  EXPECT_EQ(audit[2]["method"], "CONNECT");
  EXPECT_EQ(audit[2]["port"], server_->port());
  EXPECT_GT(audit[2]["bytesDown"].get<int>(), 20);

  // `cell log` summarises the same file.
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult summary,
      RunSubprocess(CellArgv({"log", Path("log/proxy-audit.jsonl")}),
                    Options()));
  EXPECT_THAT(summary.exit_code, Optional(0)) << summary.stderr_text;
  EXPECT_THAT(summary.stdout_text,
              AllOf(HasSubstr("3 requests: 2 allowed, 1 denied, 0 errors"),
                    HasSubstr("127.0.0.1"),
                    HasSubstr("denied hosts:\n         1  localhost\n")));
}

TEST_P(BuiltinProxyTest, UnreachableUpstreamIs502NamingIt) {
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult result,
      Run(absl::StrCat(kCurl, "-i http://127.0.0.2:9/nothing-listens")));
  EXPECT_THAT(result.stdout_text,
              AllOf(HasSubstr("502 Bad Gateway"),
                    HasSubstr("cannot connect to 127.0.0.2:9: ECONNREFUSED")));
}

TEST_P(BuiltinProxyTest, NoProxyProcessAndNothingLeftAfterExit) {
  const std::string status = Path("tmp/status.jsonl");
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult result,
      RunCell({"--network=proxy", "--filter=filter", "--log-dir=log",
               "--spec=" + Path("engine.json"),
               absl::StrCat("--status-file=", status)},
              {"sh", "-c", absl::StrCat(kCurl, Url("127.0.0.1", "/hello"))}));
  EXPECT_THAT(result.exit_code, Optional(0)) << result.stderr_text;
  std::vector<Json> events = ReadEvents(status);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0]["engine"], "builtin");
  EXPECT_FALSE(events[0].contains("proxyPid"));
  EXPECT_THAT(JobDirs(), IsEmpty());
}

TEST_P(BuiltinProxyTest, FilterLinesRe2ReadsDifferentlyFailBeforeLaunch) {
  std::ofstream(Path("filter")) << "^127\\.0\\.0\\.1$\n\\bgithub\\.com\n";
  ASSERT_OK_AND_ASSIGN(SubprocessResult result, Run("echo ran"));
  EXPECT_THAT(result.exit_code, Optional(125));
  EXPECT_THAT(result.stderr_text,
              AllOf(HasSubstr("field `tinyproxyFilter`"), HasSubstr("filter:2"),
                    HasSubstr("GNU regex extension")));
  EXPECT_EQ(result.stdout_text, "");
}

// Differential, end to end: the same generated filters and CONNECT requests
// through real tinyproxy and through the builtin engine give the same
// allow/deny decisions. Every host is a loopback address (or localhost), so
// nothing leaves the machine even when allowed.
// Whether `filter` allows loopback `host` and one of the lines that allow it
// names its address itself (what the builtin engine also asks).
bool NamedLiterally(const std::string& filter, const std::string& host) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  if (inet_pton(AF_INET, host.c_str(), &address.sin_addr) != 1) return false;
  absl::StatusOr<std::vector<FilterPattern>> patterns =
      ParseFilter(filter, "filter");
  if (!patterns.ok()) return false;
  absl::StatusOr<HostFilter> compiled = HostFilter::Compile(*patterns, "f");
  if (!compiled.ok()) return false;
  for (const std::string& line : compiled->MatchingPatterns(host)) {
    if (LineNamesAddress(line, reinterpret_cast<const sockaddr&>(address))) {
      return true;
    }
  }
  return false;
}

TEST_P(BuiltinProxyTest, TinyproxyAndBuiltinDecideTheSame) {
  std::mt19937 random(42);
  auto number = [&random](int max) {
    return std::uniform_int_distribution<int>(0, max)(random);
  };
  std::vector<std::string> hosts = {"localhost", "LOCALHOST", "127.0.0.1"};
  while (hosts.size() < 40) {
    hosts.push_back(absl::StrCat("127.", number(2) * 10 + number(2), ".",
                                 number(12), ".", number(12)));
  }
  const std::vector<std::string> atoms = {
      "127",   "\\.", ".",     "[0-9]", "[0-9]+", "1",     "2",     "0",
      "(1|2)", "1?",  "[12]*", "local", "host",   "LOCAL", "[a-z]+"};
  for (int round = 0; round < 3; ++round) {
    std::string filter;
    for (int line = 0; line < 4; ++line) {
      if (number(1) == 0) filter += "^";
      for (int a = number(3); a >= 0; --a)
        filter += atoms[number(atoms.size() - 1)];
      if (number(2) == 0) filter += "$";
      filter += "\n";
    }
    std::ofstream(Path("filter")) << filter;
    std::string script;
    for (const std::string& host : hosts) {
      absl::StrAppend(&script, kCurl, "--max-time 10 -p -o /dev/null -w '",
                      host, " %{http_connect}\\n' http://", host, ":",
                      server_->port(), "/hello; ");
    }
    // tinyproxy's decisions (its status), the builtin engine's filter
    // decisions (its audit log: a matching line, or none) and its answers.
    // Every host here is loopback: the builtin engine then also needs a
    // matching line that names the address itself, which tinyproxy cannot
    // check (SECURITY.md).
    std::string decisions[2];
    std::string expected_answers, answers;
    for (int engine = 0; engine < 2; ++engine) {
      std::ofstream(Path("engine.json"))
          << absl::StrCat(R"({"version": 1, "network": {"engine": ")",
                          engine == 0 ? "tinyproxy" : "builtin", R"("}})");
      unlink(Path("log/proxy-audit.jsonl").c_str());
      ASSERT_OK_AND_ASSIGN(SubprocessResult result, Run(script + "true"));
      ASSERT_THAT(result.exit_code, Optional(0)) << result.stderr_text;
      const std::vector<std::string> lines =
          absl::StrSplit(result.stdout_text, '\n', absl::SkipEmpty());
      if (engine == 0) {
        for (const std::string& line : lines) {
          const bool denied = absl::EndsWith(line, " 403");
          absl::StrAppend(&decisions[0], line.substr(0, line.find(' ')),
                          denied ? " deny\n" : " allow\n");
        }
        continue;
      }
      for (const Json& record : Audit()) {
        absl::StrAppend(&decisions[1], record.value("host", ""),
                        record.value("filterLine", Json()).is_null()
                            ? " deny\n"
                            : " allow\n");
      }
      for (const std::string& line : lines) {
        absl::StrAppend(&answers, line, "\n");
        const std::string host = line.substr(0, line.find(' '));
        absl::StrAppend(&expected_answers, host,
                        NamedLiterally(filter, host) ? " 200\n" : " 403\n");
      }
    }
    EXPECT_EQ(decisions[0], decisions[1]) << "filter:\n" << filter;
    EXPECT_EQ(answers, expected_answers) << "filter:\n" << filter;
    EXPECT_EQ(std::count(decisions[1].begin(), decisions[1].end(), '\n'),
              static_cast<long>(hosts.size()));
  }
}

INSTANTIATE_TEST_SUITE_P(Users, BuiltinProxyTest,
                         ::testing::Values(TestUser::kRoot, TestUser::kNobody),
                         TestUserName);

}  // namespace
}  // namespace cell::testing

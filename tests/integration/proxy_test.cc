// Integration: a cell's only way out is the proxy. Real tinyproxy, the
// launcher's relay, and a loopback HTTP server on the host as the only peer;
// as root and as uid 65534. Hosts `127.0.0.1` (allowed by the filter) and
// `localhost` (not) tell the filter's decisions apart.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/cell_fixture.h"
#include "testing/http_server.h"
#include "testing/status_matchers.h"

namespace cell::testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Optional;

class ProxyTest : public CellFixture {
 protected:
  void SetUp() override {
    CellFixture::SetUp();
    ASSERT_OK_AND_ASSIGN(server_, HttpServer::Start());
    std::ofstream(Path("filter")) << "# only the host's numeric address\n"
                                     "^127\\.0\\.0\\.1$\n";
  }

  std::string Url(const std::string& host, const std::string& path) const {
    return absl::StrCat("http://", host, ":", server_->port(), path);
  }

  // Proxy mode with the test filter; curl is told to ignore no_proxy
  // (which lists 127.0.0.1 and localhost) so that it uses the proxy.
  std::vector<std::string> ProxyFlags() const {
    return {"--network=proxy", "--engine=tinyproxy", "--filter=filter"};
  }

  std::unique_ptr<HttpServer> server_;
};

constexpr char kCurl[] = "curl -s --noproxy '' ";

bool WaitForFile(const std::string& path) {
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  struct stat info;
  while (stat(path.c_str(), &info) != 0) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return true;
}

TEST_P(ProxyTest, AllowedHostGetsTheBodyFilteredHostGets403) {
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult result,
      RunCell(ProxyFlags(),
              {"sh", "-c",
               absl::StrCat(kCurl, Url("127.0.0.1", "/hello"), "; ", kCurl,
                            "-o /dev/null -w '%{http_code}\\n' ",
                            Url("localhost", "/hello"))}));
  EXPECT_THAT(result.exit_code, Optional(0)) << result.stderr_text;
  EXPECT_EQ(result.stdout_text, absl::StrCat(kHelloBody, "403\n"));
  EXPECT_EQ(server_->requests(), 1) << "the filtered request reached the host";
}

TEST_P(ProxyTest, ConnectTunnelsAreFilteredByHostToo) {
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult result,
      RunCell(ProxyFlags(),
              {"sh", "-c",
               absl::StrCat(kCurl, "-p ", Url("127.0.0.1", "/hello"), "; ",
                            kCurl, "-p -o /dev/null -w '%{http_connect}\\n' ",
                            Url("localhost", "/hello"), "; true")}));
  EXPECT_THAT(result.exit_code, Optional(0)) << result.stderr_text;
  EXPECT_EQ(result.stdout_text, absl::StrCat(kHelloBody, "403\n"));
}

TEST_P(ProxyTest, DirectConnectionsHaveNoWayOut) {
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult result,
      RunCell(ProxyFlags(),
              {"sh", "-c",
               absl::StrCat("curl -s --noproxy '*' --max-time 10 ",
                            Url("127.0.0.1", "/hello"),
                            "; echo exit=$?; tail -n +2 /proc/net/route | "
                            "wc -l")}));
  EXPECT_THAT(result.exit_code, Optional(0)) << result.stderr_text;
  // 7: could not connect (the cell's own loopback has no server there).
  EXPECT_EQ(result.stdout_text, "exit=7\n0\n");
  EXPECT_EQ(server_->requests(), 0);
}

TEST_P(ProxyTest, ProxyEnvironmentPointsAtTheCellPort) {
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult result,
      RunCell(ProxyFlags(), {"sh", "-c", "env | grep -i _proxy= | sort"}));
  EXPECT_THAT(result.exit_code, Optional(0)) << result.stderr_text;
  EXPECT_EQ(result.stdout_text,
            "HTTPS_PROXY=http://127.0.0.1:3128\n"
            "HTTP_PROXY=http://127.0.0.1:3128\n"
            "NO_PROXY=localhost,127.0.0.1,::1\n"
            "http_proxy=http://127.0.0.1:3128\n"
            "https_proxy=http://127.0.0.1:3128\n"
            "no_proxy=localhost,127.0.0.1,::1\n");
}

TEST_P(ProxyTest, SpecPortAndDefaultAllowAll) {
  std::ofstream(Path("spec.json")) << R"({"version": 1, "worktreePath": "wt",
             "network": {"mode": "proxy", "port": 8080}})";
  ASSERT_OK_AND_ASSIGN(SubprocessResult result,
                       RunCell({"--spec=spec.json", "--network=proxy"},
                               {"sh", "-c",
                                absl::StrCat("echo $http_proxy; ", kCurl,
                                             "-w '%{http_code}\\n' ",
                                             Url("localhost", "/hello"))}));
  EXPECT_THAT(result.exit_code, Optional(0)) << result.stderr_text;
  // Allow-all allows every host, and no address of the host's own: a name
  // that is loopback is refused without a filter line naming the address.
  EXPECT_THAT(result.stdout_text,
              ::testing::StartsWith("http://127.0.0.1:8080\nblocked by cell "
                                    "filter: localhost is "));
  EXPECT_THAT(result.stdout_text, HasSubstr("(loopback)"));
  EXPECT_THAT(result.stdout_text, ::testing::EndsWith("403\n"));
  EXPECT_EQ(server_->requests(), 0);
}

TEST_P(ProxyTest, TwoHundredConcurrentRequestsAllSucceed) {
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult result,
      RunCell(ProxyFlags(), {"sh", "-c",
                             absl::StrCat("seq 200 | xargs -P 100 -I{} ", kCurl,
                                          "-o /dev/null -w '%{http_code}\\n' ",
                                          Url("127.0.0.1", "/hello?{}"),
                                          " | sort | uniq -c")}));
  EXPECT_THAT(result.exit_code, Optional(0)) << result.stderr_text;
  EXPECT_THAT(result.stdout_text, HasSubstr("200 200"));
  EXPECT_EQ(server_->requests(), 200);
}

TEST_P(ProxyTest, LargeBodyArrivesIntact) {
  constexpr size_t kSize = 256u << 20;
  WritePatternFile(Path("wt/expected"), kSize);
  for (const char* tunnel : {"", "-p "}) {
    ASSERT_OK_AND_ASSIGN(
        SubprocessResult result,
        RunCell(ProxyFlags(),
                {"sh", "-c",
                 absl::StrCat(kCurl, tunnel,
                              Url("127.0.0.1", absl::StrCat("/bytes/", kSize)),
                              " | cmp - expected && echo identical")}));
    EXPECT_THAT(result.exit_code, Optional(0))
        << tunnel << result.stderr_text << result.stdout_text;
    EXPECT_EQ(result.stdout_text, "identical\n") << tunnel;
  }
}

TEST_P(ProxyTest, NothingIsLeftAfterExit) {
  nlohmann::json started;
  ASSERT_OK_AND_ASSIGN(
      Subprocess cell,
      StartCellAndWait(
          ProxyFlags(),
          {"sh", "-c", absl::StrCat(kCurl, Url("127.0.0.1", "/hello"))},
          &started));
  ASSERT_OK_AND_ASSIGN(SubprocessResult result, cell.Wait());
  EXPECT_THAT(result.exit_code, Optional(0)) << result.stderr_text;
  EXPECT_EQ(started["proxyPort"], 3128);
  ASSERT_TRUE(started["proxyPid"].is_number_integer());
  EXPECT_TRUE(WaitForProcessGone(started["proxyPid"].get<pid_t>(), 0))
      << "tinyproxy outlived the cell";
  EXPECT_THAT(JobDirs(), IsEmpty());
}

TEST_P(ProxyTest, KillingTheProxyGivesErrorsNotAHang) {
  nlohmann::json started;
  ASSERT_OK_AND_ASSIGN(
      Subprocess cell,
      StartCellAndWait(
          ProxyFlags(),
          {"sh", "-c",
           absl::StrCat(kCurl, "-o /dev/null ", Url("127.0.0.1", "/hello"),
                        " && touch first; while [ ! -e go ]; do sleep 0.01; "
                        "done; ",
                        kCurl, "--max-time 20 ", Url("127.0.0.1", "/hello"),
                        "; echo second=$?")},
          &started));
  ASSERT_TRUE(WaitForFile(Path("wt/first")));
  const pid_t proxy = started["proxyPid"].get<pid_t>();
  ASSERT_EQ(kill(proxy, SIGKILL), 0);
  std::ofstream(Path("wt/go")) << "";
  const absl::Time begin = absl::Now();
  ASSERT_OK_AND_ASSIGN(SubprocessResult result, cell.Wait());
  EXPECT_LT(absl::Now() - begin, absl::Seconds(10)) << "the request hung";
  EXPECT_THAT(result.exit_code, Optional(0)) << result.stderr_text;
  // 52: empty reply, 56: receive failure, 7: could not connect.
  EXPECT_THAT(result.stdout_text,
              ::testing::AnyOf("second=52\n", "second=56\n", "second=7\n"));
  EXPECT_THAT(JobDirs(), IsEmpty());
}

TEST_P(ProxyTest, KillingTheProxyMidTransferCutsOnlyTheTransfer) {
  nlohmann::json started;
  ASSERT_OK_AND_ASSIGN(
      Subprocess cell,
      StartCellAndWait(
          ProxyFlags(),
          {"sh", "-c",
           absl::StrCat(kCurl, "--limit-rate 4M -o part ",
                        Url("127.0.0.1", absl::StrCat("/bytes/", 1u << 30)),
                        "; echo transfer=$?; echo after")},
          &started));
  // Kill tinyproxy once the body is flowing.
  struct stat part;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (stat(Path("wt/part").c_str(), &part) != 0 ||
         part.st_size < (1 << 20)) {
    ASSERT_LT(absl::Now(), deadline) << "the transfer never started";
    absl::SleepFor(absl::Milliseconds(10));
  }
  const pid_t proxy = started["proxyPid"].get<pid_t>();
  ASSERT_EQ(kill(proxy, SIGKILL), 0);
  const absl::Time begin = absl::Now();
  ASSERT_OK_AND_ASSIGN(SubprocessResult result, cell.Wait());
  EXPECT_LT(absl::Now() - begin, absl::Seconds(10)) << "the transfer hung";
  // The command goes on after the cut: 18 partial file, 56 receive failure.
  EXPECT_THAT(result.exit_code, Optional(0)) << result.stderr_text;
  EXPECT_THAT(result.stdout_text,
              ::testing::AnyOf("transfer=18\nafter\n", "transfer=56\nafter\n"));
  ASSERT_EQ(stat(Path("wt/part").c_str(), &part), 0);
  EXPECT_LT(part.st_size, 1 << 30);
  EXPECT_TRUE(WaitForProcessGone(proxy, 5));
  EXPECT_THAT(JobDirs(), IsEmpty());
}

// Any process whose command line mentions `needle` (e.g. this test's
// $TMPDIR, where each run's tinyproxy config lives).
std::vector<int> ProcessesMentioning(const std::string& needle) {
  std::vector<int> found;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream cmdline(entry.path() / "cmdline");
    std::string text((std::istreambuf_iterator<char>(cmdline)),
                     std::istreambuf_iterator<char>());
    if (text.find(needle) != std::string::npos)
      found.push_back(std::stoi(name));
  }
  return found;
}

TEST_P(ProxyTest, CommandThatCannotStartStillStopsTheProxy) {
  ASSERT_OK_AND_ASSIGN(SubprocessResult result,
                       RunCell(ProxyFlags(), {"no-such-command"}));
  EXPECT_THAT(result.exit_code, Optional(127)) << result.stderr_text;
  EXPECT_THAT(ProcessesMentioning(CellTmpDir()), IsEmpty())
      << "a tinyproxy of this test is still running";
  EXPECT_THAT(JobDirs(), IsEmpty());
}

TEST_P(ProxyTest, BadFiltersFailBeforeLaunch) {
  std::ofstream(Path("bad-filter")) << "^ok$\n(unclosed\n";
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult result,
      RunCell({"--network=proxy", "--filter=bad-filter"}, {"touch", "ran"}));
  EXPECT_THAT(result.exit_code, Optional(125));
  EXPECT_THAT(result.stderr_text, AllOf(HasSubstr("tinyproxyFilter"),
                                        HasSubstr(Path("bad-filter") + ":2:"),
                                        HasSubstr("(unclosed")));
  struct stat info;
  EXPECT_NE(stat(Path("wt/ran").c_str(), &info), 0);
  EXPECT_THAT(JobDirs(), IsEmpty());
}

TEST_P(ProxyTest, MissingTinyproxyIsAClearError) {
  SubprocessOptions options = Options();
  options.env->push_back("CELL_TINYPROXY=/nonexistent/tinyproxy");
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult result,
      RunSubprocess(
          RunArgv({"--network=proxy", "--engine=tinyproxy"}, {"true"}),
          options));
  EXPECT_THAT(result.exit_code, Optional(125));
  EXPECT_THAT(result.stderr_text, HasSubstr("CELL_TINYPROXY"));
  EXPECT_THAT(JobDirs(), IsEmpty());
}

TEST_P(ProxyTest, LogsGoToTheLogDir) {
  ASSERT_EQ(mkdir(Path("logs").c_str(), 0755), 0);
  ASSERT_EQ(chown(Path("logs").c_str(), uid(), gid()), 0);
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult result,
      RunCell({"--network=proxy", "--engine=tinyproxy", "--filter=filter",
               "--log-dir=logs"},
              {"sh", "-c",
               absl::StrCat(kCurl, "-o /dev/null ", Url("localhost", "/x"),
                            "; ls /home/cell/log")}));
  EXPECT_THAT(result.exit_code, Optional(0)) << result.stderr_text;
  EXPECT_EQ(result.stdout_text, "tinyproxy.log\n");
  std::ifstream log(Path("logs/tinyproxy.log"));
  std::stringstream content;
  content << log.rdbuf();
  EXPECT_THAT(content.str(), HasSubstr("localhost"));
}

TEST_P(ProxyTest, KilledLauncherTakesTheProxyAlong) {
  nlohmann::json started;
  ASSERT_OK_AND_ASSIGN(
      Subprocess cell,
      StartCellAndWait(ProxyFlags(), {"sleep", "60"}, &started));
  const pid_t proxy = started["proxyPid"].get<pid_t>();
  ASSERT_EQ(kill(cell.pid(), SIGKILL), 0);
  ASSERT_OK_AND_ASSIGN(SubprocessResult result, cell.Wait());
  EXPECT_THAT(result.signal, Optional(SIGKILL));
  EXPECT_TRUE(WaitForProcessGone(proxy, 10)) << "orphaned tinyproxy " << proxy;
  EXPECT_TRUE(WaitForProcessGone(started["pid"].get<pid_t>(), 10));
}

TEST_P(ProxyTest, IdleLauncherDoesNotSpin) {
  nlohmann::json started;
  ASSERT_OK_AND_ASSIGN(
      Subprocess cell,
      StartCellAndWait(
          ProxyFlags(),
          {"sh", "-c",
           absl::StrCat(kCurl, "-o /dev/null ", Url("127.0.0.1", "/hello"),
                        "; sleep 1.5")},
          &started));
  // The launcher itself, or setpriv which exec'd it: same pid. Its CPU time
  // (utime + stime, in clock ticks) over 0.8 s while the command sleeps;
  // start-up is left out, as it costs more under sanitizers.
  auto cpu_ticks = [&cell]() -> long {
    std::ifstream stat(absl::StrCat("/proc/", cell.pid(), "/stat"));
    std::string content;
    std::getline(stat, content);
    const std::vector<std::string> fields =
        absl::StrSplit(content.substr(content.rfind(')') + 2), ' ');
    if (fields.size() <= 13) return -1;
    return std::stol(fields[11]) + std::stol(fields[12]);
  };
  absl::SleepFor(absl::Milliseconds(500));
  const long before = cpu_ticks();
  absl::SleepFor(absl::Milliseconds(800));
  const long after = cpu_ticks();
  ASSERT_GE(before, 0);
  ASSERT_GE(after, before);
  const long ticks = after - before;
  ASSERT_OK_AND_ASSIGN(SubprocessResult result, cell.Wait());
  EXPECT_THAT(result.exit_code, Optional(0)) << result.stderr_text;
  // Clock ticks are 1/100 s: a busy loop would burn ~80.
  EXPECT_LT(ticks, 8) << "launcher used " << ticks << " ticks while idle";
}

TEST_P(ProxyTest, ProxyThatFailsToStartIsQuoted) {
  std::ofstream(Path("fake-tinyproxy"))
      << "#!/bin/sh\necho 'fake proxy: cannot read config' >&2\nexit 1\n";
  ASSERT_EQ(chmod(Path("fake-tinyproxy").c_str(), 0755), 0);
  SubprocessOptions options = Options();
  options.env->push_back(
      absl::StrCat("CELL_TINYPROXY=", Path("fake-tinyproxy")));
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult result,
      RunSubprocess(
          RunArgv({"--network=proxy", "--engine=tinyproxy"}, {"touch", "ran"}),
          options));
  EXPECT_THAT(result.exit_code, Optional(125));
  EXPECT_THAT(result.stderr_text,
              AllOf(HasSubstr("tinyproxy failed to start"),
                    HasSubstr("fake proxy: cannot read config")));
  EXPECT_EQ(
      std::count(result.stderr_text.begin(), result.stderr_text.end(), '\n'),
      1);
  struct stat info;
  EXPECT_NE(stat(Path("wt/ran").c_str(), &info), 0);
  EXPECT_THAT(JobDirs(), IsEmpty());
}

INSTANTIATE_TEST_SUITE_P(Users, ProxyTest,
                         ::testing::Values(TestUser::kRoot, TestUser::kNobody),
                         TestUserName);

}  // namespace
}  // namespace cell::testing

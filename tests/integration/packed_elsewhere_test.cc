// A packed cell on "another machine": its launcher's builtin proxy still
// resolves names, with no glibc NSS to lean on. The packed cell runs in a
// mount namespace (helpers/elsewhere) whose /etc holds only hosts,
// resolv.conf, passwd and group (no nsswitch.conf), with the host's
// library directories covered by empty mounts (no libc.so.6, no
// libnss_*.so). Inside the cell the static probe asks the proxy for names
// that only that /etc/hosts knows, and for names that only a DNS server
// knows, which the test runs on a loopback address at port 53 and which
// that resolv.conf names. The upstream is the test's loopback HTTP server.
//
// Loopback is a special-use address: the engine connects to it only when a
// filter line that allows the host names the address exactly
// (launcher/proxy/address_policy.h). The line `127.0.0.1` does both for
// "127-0-0-1.hosts.test" (a filter line is an unanchored regex, and its
// dots match the dashes); "web.*.test" are allowed by lines that name no
// address, so their 403 shows the resolved address, and the policy, too.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "testing/cell_fixture.h"
#include "testing/dns_server.h"
#include "testing/http_server.h"
#include "testing/runfiles.h"
#include "testing/status_matchers.h"

namespace cell::testing {
namespace {

using ::testing::AllOf;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Optional;
using Json = nlohmann::json;

// The host's library directories, covered inside (tmpfs over a symlink
// covers its target; a missing one is skipped).
const std::vector<std::string> kLibraryDirs = {
    "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu",
    "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
    "/lib64", "/usr/lib64", "/usr/local/lib"};

// Whether the ELF executable at `path` names a program interpreter
// (PT_INTERP): dynamically linked.
bool IsDynamic(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string elf((std::istreambuf_iterator<char>(in)),
                  std::istreambuf_iterator<char>());
  if (elf.size() < 64 || elf.compare(0, 4, "\x7f" "ELF") != 0) return false;
  uint64_t phoff = 0;
  uint16_t phentsize = 0, phnum = 0;
  std::memcpy(&phoff, elf.data() + 32, sizeof(phoff));
  std::memcpy(&phentsize, elf.data() + 54, sizeof(phentsize));
  std::memcpy(&phnum, elf.data() + 56, sizeof(phnum));
  for (uint16_t i = 0; i < phnum; ++i) {
    const uint64_t at = phoff + static_cast<uint64_t>(i) * phentsize;
    if (at + 4 > elf.size()) break;
    uint32_t type = 0;
    std::memcpy(&type, elf.data() + at, sizeof(type));
    if (type == 3) return true;  // PT_INTERP
  }
  return false;
}

class PackedElsewhereTest : public CellFixture {
 protected:
  void SetUp() override {
    CellFixture::SetUp();
    // --config=asan links the launcher dynamically (launcher/BUILD.bazel),
    // so this target is tagged static_only and test.sh runs it in the
    // plain build only; anywhere else a dynamic cell is a failure.
    ASSERT_FALSE(IsDynamic(cell_))
        << "this build's cell is dynamically linked: run this test in a "
           "plain build (it is tagged static_only)";
    InstallProbe();
    ASSERT_OK_AND_ASSIGN(helper_,
                         RunfilePath("tests/integration/helpers/elsewhere"));
    ASSERT_OK_AND_ASSIGN(http_, HttpServer::Start());
    // A DNS server at port 53 (resolv.conf has no port) on a loopback
    // address of its own, so that no resolver of the host is in the way.
    std::mt19937 random(std::random_device{}());
    for (int attempt = 0; attempt < 5 && dns_ == nullptr; ++attempt) {
      const std::string address =
          absl::StrCat("127.53.", random() % 250 + 1, ".", random() % 250 + 1);
      absl::StatusOr<std::unique_ptr<DnsServer>> dns =
          DnsServer::Start(address, 53);
      if (dns.ok()) dns_ = *std::move(dns);
    }
    ASSERT_NE(dns_, nullptr) << "no loopback address with port 53 free";
    DnsEntry loopback;
    loopback.a = {"127.0.0.1"};
    dns_->Set("127-0-0-1.dns.test", loopback);
    dns_->Set("web.dns.test", loopback);
    DnsEntry gone;
    gone.behavior = DnsEntry::Behavior::kNxDomain;
    dns_->Set("nx.dns.test", gone);

    // The other machine's /etc: nothing but these four files.
    for (const char* dir : {"etc", "bin", "elsewhere", "log"}) {
      ASSERT_EQ(mkdir(Path(dir).c_str(), 0755), 0) << dir;
    }
    for (const char* dir : {"bin", "elsewhere", "log"}) {
      ASSERT_EQ(chown(Path(dir).c_str(), uid(), gid()), 0) << dir;
    }
    std::ofstream(Path("etc/hosts"))
        << "# the other machine's hosts file\n"
           "127.0.0.1 127-0-0-1.hosts.test\n"
           "127.0.0.1 web.hosts.test\n";
    std::ofstream(Path("etc/resolv.conf"))
        << "nameserver " << dns_->address() << "\noptions timeout:2\n";
    std::ofstream(Path("etc/passwd")) << ReadHostFile("/etc/passwd");
    std::ofstream(Path("etc/group")) << ReadHostFile("/etc/group");
    std::ofstream(Path("filter")) << "127.0.0.1\n"
                                     "^web\\.hosts\\.test$\n"
                                     "^web\\.dns\\.test$\n"
                                     "^nx\\.dns\\.test$\n";
  }

  std::string Target(const std::string& host) const {
    return absl::StrCat(host, ":", http_->port());
  }

  // Packs a cell whose command is the probe asking the proxy for `hosts`.
  void PackProbe(const std::vector<std::string>& hosts) {
    Json command = {"/run/cell/probes/cell-probe", "net"};
    for (const std::string& host : hosts) {
      command.push_back(absl::StrCat("--get=", Target(host)));
    }
    const Json spec = {
        {"version", 1},
        {"command", command},
        {"worktreePath", Path("wt")},
        {"nixStore", Path("store")},
        {"nixDaemonSocket", Path("daemon")},
        {"network", {{"mode", "proxy"}, {"engine", "builtin"}}},
        {"tinyproxyFilter", Path("filter")},
        {"logDir", Path("log")},
        {"mounts", Json::array({{{"type", "ro-bind"},
                                 {"src", Path("probes")},
                                 {"dst", "/run/cell/probes"}}})}};
    std::ofstream(Path("bin/spec.json")) << spec.dump(2);
    ASSERT_OK_AND_ASSIGN(
        SubprocessResult packed,
        RunSubprocess(CellArgv({"pack", "--spec=" + Path("bin/spec.json"),
                                "--output=" + Path("bin/packed")}),
                      Options()));
    ASSERT_THAT(packed.exit_code, Optional(0)) << packed.stderr_text;
    ASSERT_EQ(unlink(Path("bin/spec.json").c_str()), 0);
  }

  // `command` on the other machine, as the test user; `binds` (SRC:DST)
  // mounted over the covered library directories.
  absl::StatusOr<SubprocessResult> RunElsewhere(
      const std::vector<std::string>& command,
      const std::vector<std::string>& binds = {}) {
    std::vector<std::string> argv = {helper_, "--etc=" + Path("etc"),
                                     "--cwd=" + Path("elsewhere")};
    for (const std::string& dir : kLibraryDirs) {
      argv.push_back("--hide=" + dir);
    }
    for (const std::string& bind : binds) argv.push_back("--bind=" + bind);
    if (uid() != 0) {
      argv.push_back(absl::StrCat("--uid=", uid()));
      argv.push_back(absl::StrCat("--gid=", gid()));
    }
    argv.push_back("--");
    argv.insert(argv.end(), command.begin(), command.end());
    return RunSubprocess(argv, Options());
  }

  // The probe's `get` facts by target.
  static std::map<std::string, Json> Gets(const std::string& output) {
    std::map<std::string, Json> gets;
    for (absl::string_view line :
         absl::StrSplit(output, '\n', absl::SkipEmpty())) {
      const Json record = Json::parse(line, nullptr, false);
      if (!record.is_object() || record.value("probe", "") != "net") continue;
      for (const Json& get : record["facts"]["get"]) {
        gets[get.value("target", "")] = get;
      }
    }
    return gets;
  }

  std::string helper_;
  std::unique_ptr<HttpServer> http_;
  std::unique_ptr<DnsServer> dns_;
};

// The stage is what it claims: a dynamically linked program cannot even
// start there (its loader and libc are gone).
TEST_P(PackedElsewhereTest, NoDynamicProgramRunsThere) {
  ASSERT_OK_AND_ASSIGN(SubprocessResult run, RunElsewhere({"/bin/true"}));
  EXPECT_THAT(run.exit_code, Optional(2)) << run.stderr_text;
  EXPECT_THAT(run.stderr_text, HasSubstr("elsewhere: exec /bin/true"));
}

TEST_P(PackedElsewhereTest, ProxyResolvesThroughHostsAndDnsWithoutNss) {
  PackProbe({"127-0-0-1.hosts.test", "web.hosts.test", "127-0-0-1.dns.test",
             "web.dns.test", "nx.dns.test"});
  ASSERT_OK_AND_ASSIGN(SubprocessResult run,
                       RunElsewhere({Path("bin/packed")}));
  ASSERT_THAT(run.exit_code, Optional(0)) << run.stderr_text;
  std::map<std::string, Json> gets = Gets(run.stdout_text);
  // Reached: the test server's own 404 (the probe asks for /cell-canary).
  for (const char* host : {"127-0-0-1.hosts.test", "127-0-0-1.dns.test"}) {
    const Json& get = gets[Target(host)];
    EXPECT_EQ(get.value("status", 0), 404) << host << ": " << get.dump();
    EXPECT_EQ(get.value("body", ""), "not found\n") << host;
  }
  // Resolved to loopback, which no line allowing them names.
  for (const char* host : {"web.hosts.test", "web.dns.test"}) {
    const Json& get = gets[Target(host)];
    EXPECT_EQ(get.value("status", 0), 403) << host << ": " << get.dump();
    EXPECT_THAT(get.value("body", ""),
                AllOf(HasSubstr(absl::StrCat(host, " is 127.0.0.1 (loopback)")),
                      HasSubstr("which no filter line names")));
  }
  // No such name: the DNS server said so, and the 502 says who.
  const Json& nx = gets[Target("nx.dns.test")];
  EXPECT_EQ(nx.value("status", 0), 502) << nx.dump();
  EXPECT_THAT(nx.value("body", ""),
              AllOf(HasSubstr("nx.dns.test"), HasSubstr("NXDOMAIN"),
                    HasSubstr(dns_->address())));
  EXPECT_EQ(http_->requests(), 2);
  // Names in that /etc/hosts never reached DNS; the others did.
  const std::vector<std::string> log = dns_->log();
  EXPECT_THAT(log, AllOf(Contains("127-0-0-1.dns.test/A"),
                         Contains("web.dns.test/A"),
                         Contains(HasSubstr("nx.dns.test/"))));
  for (const std::string& query : log) {
    EXPECT_THAT(query, Not(HasSubstr("hosts.test"))) << "asked DNS for it";
  }
  // The audit log names each request and its outcome.
  const std::vector<Json> audit = ReadAuditLog(Path("log/proxy-audit.jsonl"));
  int allowed = 0;
  for (const Json& record : audit) {
    if (record.value("event", "") == "begin") continue;
    if (record.value("status", 0) == 404) ++allowed;
  }
  EXPECT_EQ(allowed, 2) << ReadHostFile(Path("log/proxy-audit.jsonl"));
}

// That machine has an NSS hosts module of its own, first in its
// nsswitch.conf ("hosts: cellprobe files dns"), in its library directory
// with the libc it needs. A static getaddrinfo dlopens such a module (of
// whatever glibc that machine has) into the launcher and believes what it
// says; the control shows this one is loaded and answers 192.0.2.66. The
// launcher's resolver reads /etc/hosts and asks DNS itself: the module is
// never loaded, and the names resolve as that /etc/hosts says.
TEST_P(PackedElsewhereTest, ThatMachinesNssModulesNeverRunInTheLauncher) {
  std::string libc, loader;
  for (const char* path :
       {"/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib/x86_64-linux-gnu/libc.so.6",
        "/lib/aarch64-linux-gnu/libc.so.6"}) {
    if (libc.empty() && access(path, R_OK) == 0) libc = path;
  }
  for (const char* path :
       {"/lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
        "/lib/ld-linux-aarch64.so.1"}) {
    if (loader.empty() && access(path, R_OK) == 0) loader = path;
  }
  ASSERT_FALSE(libc.empty() || loader.empty())
      << "no libc.so.6 or dynamic loader where glibc keeps them";
  const std::string dir = libc.substr(0, libc.rfind('/'));
  // That machine's library directory: the module, libc and the loader.
  ASSERT_EQ(mkdir(Path("lib").c_str(), 0755), 0);
  ASSERT_OK_AND_ASSIGN(
      std::string module,
      RunfilePath("tests/integration/helpers/libnss_cellprobe.so.2"));
  for (const auto& [from, name] : std::vector<std::pair<std::string, std::string>>{
           {module, "libnss_cellprobe.so.2"},
           {libc, "libc.so.6"},
           {loader, loader.substr(loader.rfind('/') + 1)}}) {
    std::ifstream in(from, std::ios::binary);
    std::ofstream out(Path("lib/" + name), std::ios::binary);
    out << in.rdbuf();
    out.close();
    ASSERT_EQ(chmod(Path("lib/" + name).c_str(), 0755), 0) << name;
  }
  const std::vector<std::string> binds = {
      absl::StrCat(Path("lib"), ":", dir),
      absl::StrCat(Path("lib"), ":/usr", dir.substr(dir.rfind("/lib/")))};
  std::ofstream(Path("etc/nsswitch.conf")) << "hosts: cellprobe files dns\n";
  ASSERT_EQ(mkdir(Path("etc/nss-marker").c_str(), 0755), 0);
  ASSERT_EQ(chmod(Path("etc/nss-marker").c_str(), 01777), 0);

  // The control: glibc's static getaddrinfo runs that machine's module.
  // (Copied: the runfiles under /root are out of uid 65534's reach.)
  ASSERT_OK_AND_ASSIGN(std::string built,
                       RunfilePath("tests/integration/helpers/uses_getaddrinfo"));
  const std::string control = Path("bin/uses_getaddrinfo");
  {
    std::ifstream in(built, std::ios::binary);
    std::ofstream out(control, std::ios::binary);
    out << in.rdbuf();
  }
  ASSERT_EQ(chmod(control.c_str(), 0755), 0);
  ASSERT_OK_AND_ASSIGN(SubprocessResult resolved,
                       RunElsewhere({control, "web.hosts.test"}, binds));
  EXPECT_EQ(resolved.stdout_text, "192.0.2.66\n") << resolved.stderr_text;
  EXPECT_EQ(ReadHostFile(Path("etc/nss-marker/loaded")), "loaded\n");
  ASSERT_EQ(unlink(Path("etc/nss-marker/loaded").c_str()), 0);

  PackProbe({"127-0-0-1.hosts.test", "web.hosts.test"});
  ASSERT_OK_AND_ASSIGN(SubprocessResult run,
                       RunElsewhere({Path("bin/packed")}, binds));
  ASSERT_THAT(run.exit_code, Optional(0)) << run.stderr_text;
  std::map<std::string, Json> gets = Gets(run.stdout_text);
  const Json& reached = gets[Target("127-0-0-1.hosts.test")];
  EXPECT_EQ(reached.value("status", 0), 404) << reached.dump();
  const Json& refused = gets[Target("web.hosts.test")];
  EXPECT_EQ(refused.value("status", 0), 403) << refused.dump();
  EXPECT_THAT(refused.value("body", ""),
              HasSubstr("web.hosts.test is 127.0.0.1 (loopback)"));
  EXPECT_EQ(http_->requests(), 1);
  EXPECT_EQ(access(Path("etc/nss-marker/loaded").c_str(), F_OK), -1)
      << "the launcher loaded that machine's NSS module";
}

INSTANTIATE_TEST_SUITE_P(Users, PackedElsewhereTest,
                         ::testing::Values(TestUser::kRoot, TestUser::kNobody),
                         TestUserName);

}  // namespace
}  // namespace cell::testing

// Integration: cell-probe `all` inside real cells (a real nix daemon on a
// private store, real tinyproxy, a loopback server), as root and as uid
// 65534. The documented cell first, then each setting flipped: the facts
// that depend on it must flip with it.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "probes/host.h"
#include "testing/cell_fixture.h"
#include "testing/http_server.h"
#include "testing/nix_daemon.h"
#include "testing/runfiles.h"
#include "testing/status_matchers.h"

namespace cell::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Optional;
using Facts = nlohmann::json;

std::string HostFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream content;
  content << in.rdbuf();
  std::string text = content.str();
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

class ProbeTest : public CellFixture {
 protected:
  void SetUp() override {
    CellFixture::SetUp();
    ASSERT_OK_AND_ASSIGN(daemon_, NixDaemon::Start(dir_->path()));
    ASSERT_OK_AND_ASSIGN(server_, HttpServer::Start());
    InstallProbe();
    if (HasFatalFailure()) return;
    std::ofstream(Path("filter")) << "^127\\.0\\.0\\.1$\n";
    // A host process of the cell's user, for host-reach.
    ASSERT_OK_AND_ASSIGN(
        Subprocess process,
        Subprocess::Start({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534",
                           "--clear-groups", "--", "sleep", "60"}));
    sleeper_.emplace(std::move(process));
  }

  // Runs `cell-probe all` in a cell with `flags` (default: proxy mode with
  // the filter); returns probe name -> facts.
  std::map<std::string, Facts> Probe(std::vector<std::string> flags = {}) {
    flags.insert(flags.begin(), {"--network=proxy", "--filter=filter",
                                 absl::StrCat("--ro-bind=", Path("probes"),
                                              ":/run/cell/probes")});
    for (const std::string& flag : UntrustedUserFlags()) {
      flags.insert(flags.begin(), flag);
    }
    absl::StatusOr<SubprocessResult> result =
        RunCell(flags, {"/run/cell/probes/cell-probe", "all",
                        absl::StrCat("--connect=127.0.0.1:", server_->port()),
                        absl::StrCat("--host-pid=", sleeper_->pid())});
    std::map<std::string, Facts> facts;
    EXPECT_TRUE(result.ok()) << result.status();
    if (!result.ok()) return facts;
    EXPECT_THAT(result->exit_code, Optional(0)) << result->stderr_text;
    const std::vector<std::string> lines =
        absl::StrSplit(result->stdout_text, '\n', absl::SkipEmpty());
    for (const std::string& line : lines) {
      const Facts parsed = Facts::parse(line, nullptr, false);
      EXPECT_FALSE(parsed.is_discarded()) << line;
      if (!parsed.is_discarded()) facts[parsed["probe"]] = parsed["facts"];
    }
    EXPECT_EQ(facts.size(), 16u) << result->stdout_text;
    return facts;
  }

  std::unique_ptr<NixDaemon> daemon_;
  std::unique_ptr<HttpServer> server_;
  std::optional<Subprocess> sleeper_;
};

TEST_P(ProbeTest, DocumentedCellShowsEveryDocumentedProperty) {
  std::map<std::string, Facts> f = Probe();
  const auto host = probes::HostNamespaceInodes();

  // Host PID 1 visible, host PID and IPC namespaces shared; own user,
  // mount and network namespaces.
  EXPECT_EQ(f["pid"]["pid1Visible"], true);
  EXPECT_EQ(f["pid"]["pid1Comm"], HostFile("/proc/1/comm"));
  EXPECT_EQ(f["ns"]["pid"], host.at("pid"));
  EXPECT_EQ(f["ns"]["ipc"], host.at("ipc"));
  for (const char* kind : {"user", "mnt", "net"}) {
    EXPECT_NE(f["ns"][kind], host.at(kind)) << kind;
  }
  // Only lo, up; no routes; a direct connect has no way out; the proxy
  // works and applies the filter.
  EXPECT_EQ(f["net"]["interfaces"],
            Facts::parse(R"({"lo": {"loopback": true, "up": true}})"));
  EXPECT_EQ(f["net"]["ipv4"]["count"], 0);
  EXPECT_EQ(f["net"]["ipv6"]["default"], false);
  EXPECT_EQ(f["net"]["direct"]["connected"], false);
  EXPECT_THAT(f["net"]["direct"]["error"].get<std::string>(),
              HasSubstr("ENETUNREACH"));
  EXPECT_EQ(f["net"]["proxyEnv"]["http_proxy"], "http://127.0.0.1:3128");
  EXPECT_EQ(f["net"]["connect"][0]["status"], 200);
  // The store is read-only and readable; nix is configured and the daemon
  // answers the worker handshake.
  EXPECT_EQ(f["store"]["mount"]["readOnly"], true);
  EXPECT_EQ(f["store"]["readable"], true);
  EXPECT_THAT(f["store"]["writeError"].get<std::string>(), HasSubstr("EROFS"));
  EXPECT_EQ(f["nix"]["NIX_REMOTE"], "unix:///run/nix/socket");
  EXPECT_EQ(f["nix"]["NIX_CONFIG"],
            "experimental-features = nix-command flakes\nsubstitute = true");
  EXPECT_EQ(f["nix"]["daemon"]["handshake"], true);
  EXPECT_THAT(f["nix"]["daemon"]["protocolVersion"].get<std::string>(),
              ::testing::StartsWith("1."));
  // Identity ids, full capabilities that work.
  // A root launcher runs it as nobody: the daemon trusts host root.
  EXPECT_EQ(f["identity"]["uid"], cell_uid());
  EXPECT_EQ(f["identity"]["gid"], cell_uid());
  EXPECT_EQ(f["identity"]["uidMap"],
            Facts::array({{cell_uid(), cell_uid(), 1}}));
  const int all_caps = std::stoi(HostFile("/proc/sys/kernel/cap_last_cap")) + 1;
  EXPECT_EQ(f["caps"]["CapEff"]["count"], all_caps);
  EXPECT_EQ(f["caps"]["CapAmb"]["count"], all_caps);
  EXPECT_EQ(f["caps"]["mountInNewNamespace"]["ok"], true);
  EXPECT_EQ(f["caps"]["setLoopbackFlags"]["ok"], true);
  // Only explicit binds; the worktree and /tmp are writable.
  for (const auto& [path, visible] : f["mounts"]["hostPathsVisible"].items()) {
    EXPECT_EQ(visible, false) << path;
  }
  EXPECT_EQ(f["fs"]["cwd"], "/home/cell/worktree");
  EXPECT_EQ(f["fs"]["worktree"]["writable"], true);
  EXPECT_EQ(f["fs"]["tmp"]["writable"], true);
  EXPECT_EQ(f["env"]["variables"]["HOME"], "/home/cell");
  // No terminal on stdio: a session of its own, no controlling terminal.
  EXPECT_EQ(f["terminal"]["sessionLeader"], true);
  EXPECT_THAT(f["terminal"]["devTty"].get<std::string>(), HasSubstr("ENXIO"));
  // The unsafe part, reported honestly: a same-uid host process can be
  // signalled and host command lines are readable.
  EXPECT_EQ(f["host-reach"]["target"]["visible"], true);
  EXPECT_EQ(f["host-reach"]["target"]["signal0"], "ok");
  EXPECT_GT(f["host-reach"]["readableCmdlines"], 0);
  EXPECT_TRUE(f["host-reach"]["target"]["ptrace"].is_string());
}

// Attacker round 5: a mode-000 directory of the cell's own user (which it
// can chmod open) hid a host socket and a credential from the walk, and a
// registry token, a vault token and an unusual ssh key name were not
// credential-looking.
TEST_P(ProbeTest, TheWalkOwnsUpToWhatItCannotEnterAndKnowsMoreCredentials) {
  for (const char* dir : {"wt/hidden", "wt/.ssh"}) {
    ASSERT_EQ(mkdir(Path(dir).c_str(), 0755), 0);
  }
  for (const char* file : {"wt/.npmrc", "wt/.vault-token", "wt/.ssh/id_work",
                           "wt/.ssh/id_work.pub", "wt/hidden/.netrc"}) {
    std::ofstream(Path(file)) << "x\n";
  }
  for (const char* path : {"wt/hidden", "wt/hidden/.netrc", "wt/.ssh"}) {
    ASSERT_EQ(chown(Path(path).c_str(), cell_uid(), cell_uid()), 0);
  }
  ASSERT_EQ(chmod(Path("wt/hidden").c_str(), 0), 0);
  // Without capabilities: with them the walk enters it anyway.
  const auto facts = Probe({"--capabilities=none"});
  const Facts& reach = facts.at("reach");
  EXPECT_THAT(reach["unlistable"].dump(),
              HasSubstr("/home/cell/worktree/hidden"));
  const std::string secrets = reach["secretFiles"].dump();
  for (const char* name :
       {"/home/cell/worktree/.npmrc", "/home/cell/worktree/.vault-token",
        "/home/cell/worktree/.ssh/id_work\""}) {
    EXPECT_THAT(secrets, HasSubstr(name)) << secrets;
  }
  EXPECT_THAT(secrets, Not(HasSubstr("id_work.pub")));
  chmod(Path("wt/hidden").c_str(), 0755);  // For the test's cleanup.
}

TEST_P(ProbeTest, PidNamespaceFlipsThePidFacts) {
  std::map<std::string, Facts> f = Probe({"--pid-namespace"});
  EXPECT_EQ(f["pid"]["pid1Comm"], "cell");
  EXPECT_LE(f["pid"]["visibleProcesses"], 3);
  EXPECT_NE(f["ns"]["pid"], probes::HostNamespaceInodes().at("pid"));
  EXPECT_EQ(f["host-reach"]["target"]["visible"], false);
  EXPECT_THAT(f["host-reach"]["target"]["signal0"].get<std::string>(),
              HasSubstr("ESRCH"));
  // The init holds the locked mounts: the command is PID 2, cannot remount
  // the store read-write, and keeps its other capabilities.
  EXPECT_EQ(f["pid"]["pid"], 2);
  EXPECT_THAT(f["store"]["remountWritable"].get<std::string>(),
              HasSubstr("EPERM"));
  EXPECT_EQ(f["caps"]["setLoopbackFlags"]["ok"], true);
  EXPECT_EQ(f["caps"]["mountInNewNamespace"]["ok"], true);
}

TEST_P(ProbeTest, IpcNamespaceFlipsTheIpcInode) {
  std::map<std::string, Facts> f = Probe({"--ipc-namespace"});
  EXPECT_NE(f["ns"]["ipc"], probes::HostNamespaceInodes().at("ipc"));
  EXPECT_EQ(f["ns"]["pid"], probes::HostNamespaceInodes().at("pid"));
}

TEST_P(ProbeTest, CapabilitiesNoneFlipsTheCapsFacts) {
  std::map<std::string, Facts> f = Probe({"--capabilities=none"});
  EXPECT_EQ(f["caps"]["CapEff"]["count"], 0);
  EXPECT_EQ(f["caps"]["CapBnd"]["count"], 0);
  EXPECT_EQ(f["caps"]["noNewPrivs"], true);
  EXPECT_EQ(f["caps"]["mountInNewNamespace"]["ok"], false);
  EXPECT_EQ(f["caps"]["setLoopbackFlags"]["ok"], false);
  EXPECT_THAT(f["caps"]["setLoopbackFlags"]["error"].get<std::string>(),
              HasSubstr("EPERM"));
  // No lock needed without CAP_SYS_ADMIN, and none given: still no remount.
  EXPECT_THAT(f["store"]["remountWritable"].get<std::string>(),
              HasSubstr("EPERM"));
}

TEST_P(ProbeTest, SeccompFlipsTheSeccompFacts) {
  std::map<std::string, Facts> off = Probe();
  EXPECT_EQ(off["seccomp"]["mode"], 0);
  EXPECT_EQ(off["seccomp"]["attempts"]["unshareUser"], "ok");
  EXPECT_EQ(off["seccomp"]["attempts"]["keyctl"], "ok");
  // With every capability the mount test works; under the filter, which
  // denies unshare, it cannot, while other capabilities still do.
  EXPECT_EQ(off["caps"]["mountInNewNamespace"]["ok"], true);
  std::map<std::string, Facts> on = Probe({"--seccomp"});
  EXPECT_EQ(on["seccomp"]["mode"], 2);
  EXPECT_EQ(on["seccomp"]["filters"], 1);
  for (const char* attempt : {"unshareUser", "ptraceTraceme", "keyctl", "bpf",
                              "ioUringSetup", "tiocsti"}) {
    EXPECT_THAT(on["seccomp"]["attempts"][attempt].get<std::string>(),
                HasSubstr("EPERM"))
        << attempt;
  }
  EXPECT_EQ(on["caps"]["mountInNewNamespace"]["ok"], false);
  EXPECT_EQ(on["caps"]["setLoopbackFlags"]["ok"], true);
}

// The escape catalogue of SECURITY.md, row by row: what an agent in the
// documented (unsafe) cell can and cannot do to the host, then the same
// attempts in a hardened cell. Each EXPECT names its row.
TEST_P(ProbeTest, EscapeCatalogueOfTheDocumentedCell) {
  std::map<std::string, Facts> f = Probe();
  const Facts& reach = f["host-reach"];
  // Possible: see, signal (so kill) same-uid host processes, the launcher
  // (the command's parent, which also runs the builtin proxy) included.
  EXPECT_EQ(reach["target"]["signal0"], "ok") << "signal host processes";
  EXPECT_GT(reach["readableCmdlines"], 0) << "read host cmdlines";
  EXPECT_GT(reach["parent"]["pid"], 1) << "the launcher is visible";
  if (GetParam() == TestUser::kRoot) {
    // A root launcher running the cell as another user (--host-user):
    // the cell may not signal it.
    EXPECT_THAT(reach["parent"]["signal0"].get<std::string>(),
                HasSubstr("EPERM"))
        << "signal the launcher";
  } else {
    EXPECT_EQ(reach["parent"]["signal0"], "ok") << "signal the launcher";
  }
  // Blocked by the user namespace: ptrace and /proc/PID/{root,cwd} of host
  // processes need CAP_SYS_PTRACE in the host's user namespace.
  for (const char* route : {"ptrace", "procRoot", "procCwd"}) {
    EXPECT_THAT(reach["target"][route].get<std::string>(), HasSubstr("EACCES"))
        << route;
  }
  // Host loopback services: only through the proxy, as the filter allows
  // (the test's filter allows 127.0.0.1).
  EXPECT_EQ(f["net"]["connect"][0]["status"], 200) << "host loopback via proxy";
  EXPECT_EQ(f["net"]["direct"]["connected"], false) << "direct connect";
  // Bypassing the proxy: no route in the cell's namespace, nor in a new one.
  EXPECT_THAT(f["net"]["bypass"]["rawSocket"].get<std::string>(),
              HasSubstr("ENETUNREACH"));
  EXPECT_THAT(f["net"]["bypass"]["newNetNamespace"].get<std::string>(),
              HasSubstr("ENETUNREACH"));
  EXPECT_THAT(f["store"]["writeError"].get<std::string>(), HasSubstr("EROFS"))
      << "write to the store";
  // Nor remounted read-write, with every capability: the cell's mounts are
  // a locked copy.
  EXPECT_THAT(f["store"]["remountWritable"].get<std::string>(),
              HasSubstr("EPERM"))
      << "remount the store read-write";
  // Possible: new namespaces and keyrings (no seccomp filter).
  EXPECT_EQ(f["seccomp"]["attempts"]["unshareUser"], "ok");
  EXPECT_EQ(f["seccomp"]["attempts"]["keyctl"], "ok");
}

TEST_P(ProbeTest, EscapeCatalogueOfAHardenedCell) {
  std::ofstream(Path("filter")) << "^example\\.org$\n";
  std::map<std::string, Facts> f = Probe({"--pid-namespace", "--ipc-namespace",
                                          "--capabilities=none", "--seccomp"});
  const Facts& reach = f["host-reach"];
  EXPECT_EQ(reach["target"]["visible"], false);
  EXPECT_THAT(reach["target"]["signal0"].get<std::string>(),
              HasSubstr("ESRCH"));
  EXPECT_THAT(reach["target"]["procRoot"].get<std::string>(),
              HasSubstr("ENOENT"));
  // The only other process is the cell's init, the command's parent.
  EXPECT_EQ(reach["parent"]["pid"], 1);
  EXPECT_LE(reach["readableCmdlines"], 1);
  EXPECT_EQ(f["net"]["connect"][0]["status"], 403) << "host loopback via proxy";
  for (const char* route : {"rawSocket", "newNetNamespace"}) {
    EXPECT_THAT(f["net"]["bypass"][route].get<std::string>(),
                HasSubstr("EPERM"))
        << route;
  }
  for (const char* route : {"unshareUser", "ptraceTraceme", "keyctl", "bpf"}) {
    EXPECT_THAT(f["seccomp"]["attempts"][route].get<std::string>(),
                HasSubstr("EPERM"))
        << route;
  }
  EXPECT_THAT(f["store"]["remountWritable"].get<std::string>(),
              HasSubstr("EPERM"))
      << "remount the store read-write";
}

// Possible by design while the daemon socket is bound: adding store paths
// through the host's daemon (content-addressed: it cannot change an
// existing path). `nix: false` removes it.
TEST_P(ProbeTest, EscapeCatalogueStoreWritesGoThroughTheDaemon) {
  std::ofstream(Path("wt/payload")) << "written from a cell\n";
  // The test daemon's store dir is not /nix/store, so the client inside
  // cannot name the result and fails after the daemon has added it; what
  // counts is the new path in the host's store.
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult added,
      RunCell(UntrustedUserFlags(),
              {"nix-store", "--add", "/home/cell/worktree/payload"}));
  EXPECT_THAT(added.stderr_text, HasSubstr("-payload")) << added.stderr_text;
  std::vector<std::string> written;
  for (const std::filesystem::directory_entry& entry :
       std::filesystem::directory_iterator(Path("store"))) {
    if (absl::EndsWith(entry.path().string(), "-payload")) {
      written.push_back(HostFile(entry.path().string()));
    }
  }
  EXPECT_THAT(written, ::testing::ElementsAre("written from a cell"));
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult refused,
      RunCell({"--no-nix"}, {"sh", "-c", "test -e /run/nix/socket"}));
  EXPECT_THAT(refused.exit_code, Optional(1));
}

TEST_P(ProbeTest, NetworkNoneFlipsTheProxyFacts) {
  std::map<std::string, Facts> f = Probe({"--network=none"});
  EXPECT_EQ(f["net"]["proxyEnv"]["http_proxy"], nullptr);
  EXPECT_EQ(f["net"]["connect"][0]["error"],
            "no proxy in the environment (http_proxy, https_proxy)");
  EXPECT_EQ(f["net"]["ipv4"]["count"], 0);
}

TEST_P(ProbeTest, FilteredConnectIsSeenAsForbidden) {
  std::ofstream(Path("filter")) << "^example\\.invalid$\n";
  std::map<std::string, Facts> f = Probe();
  EXPECT_EQ(f["net"]["connect"][0]["status"], 403);
}

TEST_P(ProbeTest, NoNixFlipsTheStoreAndNixFacts) {
  std::map<std::string, Facts> f = Probe({"--no-nix"});
  EXPECT_EQ(f["store"]["readable"], false);
  EXPECT_EQ(f["store"]["mount"], nullptr);
  EXPECT_EQ(f["nix"]["NIX_REMOTE"], nullptr);
  EXPECT_EQ(f["nix"]["daemon"]["connected"], false);
}

INSTANTIATE_TEST_SUITE_P(Users, ProbeTest,
                         ::testing::Values(TestUser::kRoot, TestUser::kNobody),
                         TestUserName);

}  // namespace
}  // namespace cell::testing

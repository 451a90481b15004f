// End-to-end: the built cell-verify judging foreign sandboxes through
// --sandbox: Debian's real bubblewrap, the original jail's pipeline
// (tests/bench/seed_cell.sh: bwrap, tinyproxy, socat), a plain shell, and
// our own cell started by hand, whose verdicts must match those cell-verify
// gives it through its spec. Verdicts are checked against what each
// sandbox's documentation says it does.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/subprocess.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "testing/runfiles.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace cell::testing {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Optional;
using ::testing::SizeIs;
using Json = nlohmann::json;

// bubblewrap as agent projects commonly run it: every namespace, the
// host's /usr and /etc read-only, the project read-write; no
// --new-session (bwrap's manual: without it the sandbox can use TIOCSTI
// on the caller's terminal, CVE-2017-5226).
constexpr char kTypicalBwrap[] =
    "bwrap --unshare-all --die-with-parent --ro-bind /usr /usr "
    "--symlink usr/lib /lib --symlink usr/lib64 /lib64 --symlink usr/bin /bin "
    "--ro-bind /etc /etc --proc /proc --dev /dev --tmpfs /tmp "
    "--ro-bind {probes} {probes} --bind {worktree} {worktree} --chdir "
    "{worktree} --";

class SandboxVerifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(verify_, RunfilePath("policy/cell-verify"));
    ASSERT_OK_AND_ASSIGN(cell_, RunfilePath("launcher/cell"));
    ASSERT_OK_AND_ASSIGN(seed_, RunfilePath("tests/bench/seed_cell.sh"));
    ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create());
    dir_.emplace(std::move(dir));
    // What the comparison needs is installed by setup.sh: its absence is a
    // failure here, never a skip.
    for (const char* tool :
         {"/usr/bin/bwrap", "/usr/bin/tinyproxy", "/usr/bin/socat"}) {
      ASSERT_EQ(access(tool, X_OK), 0) << tool << " is missing: ./setup.sh";
    }
  }

  absl::StatusOr<SubprocessResult> Verify(std::vector<std::string> args) {
    args.insert(args.begin(), verify_);
    SubprocessOptions options;
    options.cwd = dir_->path();
    options.timeout = absl::Minutes(3);
    return RunSubprocess(args, options);
  }

  // The JSON report's results: property -> the result object.
  static std::map<std::string, Json> Results(const std::string& json) {
    std::map<std::string, Json> results;
    const Json report = Json::parse(json, nullptr, /*allow_exceptions=*/false);
    if (!report.is_object() || !report.contains("results")) return results;
    for (const Json& result : report["results"]) {
      results[result["property"]] = result;
    }
    return results;
  }

  static std::string Outcome(const std::map<std::string, Json>& results,
                             const std::string& property) {
    const auto it = results.find(property);
    return it == results.end() ? "absent"
                               : it->second.value("outcome", "no outcome");
  }

  std::string verify_;
  std::string cell_;
  std::string seed_;
  std::optional<TempDir> dir_;
};

TEST_F(SandboxVerifyTest, TypicalBubblewrapFailsTerminalAndDescriptors) {
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult run,
      Verify({absl::StrCat("--sandbox=", kTypicalBwrap), "--format=json"}));
  EXPECT_THAT(run.exit_code, Optional(1)) << run.stderr_text;
  const Json report = Json::parse(run.stdout_text, nullptr, false);
  ASSERT_TRUE(report.is_object()) << run.stdout_text << run.stderr_text;
  EXPECT_EQ(report["sandbox"], kTypicalBwrap);
  EXPECT_EQ(report["spec"], nullptr);
  EXPECT_EQ(report["policy"], "agent-strict");  // The default for sandboxes.
  std::map<std::string, Json> results = Results(run.stdout_text);
  // What bwrap's manual promises: every namespace, no network at all.
  for (const char* property :
       {"namespaces", "pid-namespace", "ipc-namespace", "no-routes",
        "worktree-writable", "mount-flags", "cleanup", "bind-sources"}) {
    EXPECT_EQ(Outcome(results, property), "pass") << property;
  }
  // Without --new-session: the caller's terminal, CVE-2017-5226.
  EXPECT_EQ(Outcome(results, "terminal"), "fail");
  EXPECT_THAT(results.at("terminal")["observed"].get<std::string>(),
              HasSubstr("the command shares its launcher's session"));
  // bwrap passes on what its caller leaves open (here the directory
  // cell-verify hands it), as its manual warns.
  EXPECT_EQ(Outcome(results, "descriptors"), "fail");
  EXPECT_THAT(results.at("descriptors")["observed"].get<std::string>(),
              HasSubstr("/tmp/cell-verify."));
  // Not asked for: no seccomp filter, all capabilities in its namespace,
  // /etc/shadow visible, the project's git hooks writable.
  for (const char* property :
       {"seccomp", "capabilities", "only-explicit-binds", "control-files"}) {
    EXPECT_EQ(Outcome(results, property), "fail") << property;
  }
  // No proxy in the environment: judged as a cell without network.
  EXPECT_EQ(Outcome(results, "proxy"), "absent");
  // A spec-only property is never a pass for a sandbox without a spec.
  for (const char* property : {"filter-policy", "mount-policy", "env-policy",
                               "isolation-policy", "nix-policy"}) {
    EXPECT_EQ(Outcome(results, property), "off") << property;
    EXPECT_EQ(results.at(property)["observed"],
              "not judged: a foreign sandbox has no spec");
  }
}

// --new-session, and the terminal kept from its stdin: the terminal
// property passes, so the failure above is the flag's and not the
// verifier's. bwrap does not close what it inherits: the caller (a bash
// here: dash cannot close descriptors above 9) does.
TEST_F(SandboxVerifyTest, BubblewrapWithNewSessionKeepsTheTerminal) {
  const std::string bwrap = absl::StrCat(
      "bash -c 'for fd in /proc/self/fd/*; do n=${fd##*/}; [ \"$n\" -gt 2 ] && "
      "eval \"exec "
      "$n<&-\"; done; exec bwrap --new-session --unshare-all "
      "--die-with-parent --ro-bind /usr /usr --symlink usr/lib /lib "
      "--symlink usr/lib64 /lib64 --symlink usr/bin /bin --proc /proc --dev "
      "/dev --tmpfs /tmp --ro-bind {probes} {probes} --bind {worktree} "
      "{worktree} --chdir {worktree} -- \"$@\" </dev/null' bash");
  ASSERT_OK_AND_ASSIGN(SubprocessResult run,
                       Verify({"--sandbox=" + bwrap, "--format=json"}));
  std::map<std::string, Json> results = Results(run.stdout_text);
  ASSERT_FALSE(results.empty()) << run.stderr_text;
  EXPECT_EQ(Outcome(results, "terminal"), "pass") << results["terminal"].dump();
  EXPECT_EQ(Outcome(results, "descriptors"), "pass")
      << results["descriptors"].dump();
  EXPECT_EQ(Outcome(results, "only-explicit-binds"), "pass")
      << results["only-explicit-binds"].dump();
}

// The original unsafe-cell (bwrap + tinyproxy + socat): it shares the
// host's PID namespace and binds the host's /proc (its README's "unsafe"),
// and its filter '.*' lets the proxy reach the host's loopback.
TEST_F(SandboxVerifyTest, TheOriginalJailSharesTheHostPidNamespace) {
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult run,
      Verify(
          {absl::StrCat("--sandbox=", seed_, " --ro-bind={probes} {worktree}"),
           "--sandbox-worktree=/home/cell/worktree", "--format=json"}));
  EXPECT_THAT(run.exit_code, Optional(1)) << run.stderr_text;
  std::map<std::string, Json> results = Results(run.stdout_text);
  EXPECT_EQ(Outcome(results, "pid-namespace"), "fail");
  EXPECT_THAT(results["pid-namespace"]["observed"].get<std::string>(),
              HasSubstr("the host's"));
  EXPECT_EQ(Outcome(results, "no-routes"), "pass");
  EXPECT_EQ(Outcome(results, "worktree-writable"), "pass");
  // Its proxy is judged (http_proxy is set inside), and lets the canary
  // through on the host's loopback under every spelling.
  EXPECT_EQ(Outcome(results, "proxy"), "fail");
  EXPECT_EQ(Outcome(results, "proxy-hostile"), "fail");
  // The proxy's socket is bound in; socat and tinyproxy are stopped by its
  // own cleanup.
  EXPECT_EQ(Outcome(results, "sockets"), "fail");
  EXPECT_EQ(Outcome(results, "cleanup"), "pass");

  // With the filter it claims ('.*'), its proxy does as that filter says.
  std::ofstream(dir_->Path("all")) << ".*\n";
  ASSERT_OK_AND_ASSIGN(
      run, Verify({absl::StrCat("--sandbox=", seed_,
                                " --ro-bind={probes} {worktree}"),
                   "--sandbox-worktree=/home/cell/worktree",
                   "--filter=" + dir_->Path("all"), "--format=json"}));
  std::map<std::string, Json> claimed = Results(run.stdout_text);
  EXPECT_EQ(Outcome(claimed, "proxy"), "pass") << claimed["proxy"].dump();
}

// Our own cell through the sandbox door: the hardened cell started by hand
// gets the verdicts cell-verify gives it through its spec.
TEST_F(SandboxVerifyTest, ACellThroughTheSandboxDoorGetsItsSpecsVerdicts) {
  ASSERT_EQ(mkdir(dir_->Path("wt").c_str(), 0755), 0);
  ASSERT_EQ(chown(dir_->Path("wt").c_str(), 65534, 65534), 0);
  std::ofstream(dir_->Path("filter")) << "^github\\.com$\n";
  const std::string spec = dir_->Path("spec.json");
  // Absolute paths: the sandbox starts in the worktree.
  std::ofstream(spec) << absl::StrCat(
      R"({"version": 1, "worktreePath": ")", dir_->Path("wt"),
      R"(", "tinyproxyFilter": ")", dir_->Path("filter"), R"(",
      "nix": false, "hostUser": "nobody",
      "protect": ["@defaults"],
      "isolation": {"pidNamespace": true, "ipcNamespace": true,
                    "capabilities": "none", "seccomp": true,
                    "readOnlyRoot": true},
      "mounts": [{"type": "ro-bind", "src": "/usr"},
                 {"type": "ro-bind", "src": "/lib"},
                 {"type": "ro-bind", "src": "/lib64"},
                 {"type": "ro-bind", "src": "/bin"}]})");
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult by_spec,
      Verify({"--spec=" + spec, "--profile=agent-strict", "--format=json"}));
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult by_hand,
      Verify({absl::StrCat("--sandbox=", cell_, " run --spec=", spec,
                           " --ro-bind={probes}:{probes} --"),
              "--worktree=" + dir_->Path("wt"),
              "--sandbox-worktree=/home/cell/worktree", "--format=json"}));
  const std::map<std::string, Json> spec_results = Results(by_spec.stdout_text);
  const std::map<std::string, Json> hand_results = Results(by_hand.stdout_text);
  ASSERT_FALSE(hand_results.empty()) << by_hand.stderr_text;
  int compared = 0;
  for (const auto& [property, result] : spec_results) {
    if (result["outcome"] == "off" || hand_results.count(property) == 0 ||
        hand_results.at(property)["outcome"] == "off") {
      continue;
    }
    ++compared;
    EXPECT_EQ(hand_results.at(property)["outcome"], result["outcome"])
        << property << " by hand: " << hand_results.at(property).dump()
        << "\nby spec: " << result.dump();
  }
  EXPECT_GE(compared, 25);
  EXPECT_THAT(by_hand.exit_code, Optional(0)) << by_hand.stdout_text;
}

// Found in review: a way out that no proxy variable names. A permissive
// tinyproxy on the host, bridged into bwrap's empty network namespace by
// socat on a port nobody mentions: the probe asks every listener.
TEST_F(SandboxVerifyTest, AHiddenBridgeToAHostProxyIsAWayOut) {
  const int port = 20000 + getpid() % 20000;
  std::ofstream(dir_->Path("tinyproxy.conf"))
      << "Port " << port << "\nListen 127.0.0.1\nLogLevel Critical\n";
  ASSERT_OK_AND_ASSIGN(Subprocess proxy,
                       Subprocess::Start({"/usr/bin/tinyproxy", "-d", "-c",
                                          dir_->Path("tinyproxy.conf")}));
  const std::string socket = dir_->Path("bridge.sock");
  ASSERT_OK_AND_ASSIGN(
      Subprocess bridge,
      Subprocess::Start({"/usr/bin/socat", "UNIX-LISTEN:" + socket + ",fork",
                         absl::StrCat("TCP:127.0.0.1:", port)}));
  for (int i = 0; i < 500 && access(socket.c_str(), F_OK) != 0; ++i) {
    usleep(10000);
  }
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult run,
      Verify({absl::StrCat(
                  "--sandbox=bwrap --unshare-all --die-with-parent "
                  "--new-session --ro-bind / / --dev /dev --tmpfs /tmp --bind ",
                  dir_->path(), " ", dir_->path(),
                  " --ro-bind {probes} {probes} --bind {worktree} {worktree} "
                  "--chdir {worktree} -- sh -c 'socat "
                  "TCP-LISTEN:3999,bind=127.0.0.1,fork,reuseaddr UNIX-CONNECT:",
                  socket, " & sleep 0.5; exec \"$@\"' sh"),
              "--format=json"}));
  std::map<std::string, Json> results = Results(run.stdout_text);
  ASSERT_FALSE(results.empty()) << run.stderr_text;
  EXPECT_EQ(Outcome(results, "proxy"), "absent");  // No proxy variable.
  EXPECT_EQ(Outcome(results, "no-routes"), "fail");
  EXPECT_THAT(results["no-routes"]["observed"].get<std::string>(),
              HasSubstr("3999 (http)"));
}

// No isolation at all, and a daemon left behind (in a session of its own,
// so the terminal's hangup does not end it): namespaces fail, and cleanup
// names the leftover, which cell-verify kills.
TEST_F(SandboxVerifyTest, WhatASandboxLeavesBehindFailsCleanupAndIsKilled) {
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult run,
      Verify({"--sandbox=sh -c 'setsid sleep 317 & exec \"$@\"' sh",
              "--profile=documented", "--format=json"}));
  EXPECT_THAT(run.exit_code, Optional(1));
  std::map<std::string, Json> results = Results(run.stdout_text);
  EXPECT_EQ(Outcome(results, "namespaces"), "fail");
  EXPECT_EQ(Outcome(results, "no-routes"), "fail");
  EXPECT_EQ(Outcome(results, "cleanup"), "fail");
  EXPECT_THAT(results["cleanup"]["observed"].get<std::string>(),
              HasSubstr(" sleep"));
  ASSERT_OK_AND_ASSIGN(SubprocessResult left,
                       RunSubprocess({"pgrep", "-f", "sleep 317"}));
  EXPECT_THAT(left.exit_code, Optional(1)) << left.stdout_text;
}

// Found in review: a stopped cell-verify left its work directory (and,
// with it, whatever the run had started). SIGTERM mid-run: it kills the
// sandbox, removes the directory and dies of the signal.
TEST_F(SandboxVerifyTest, AStoppedRunLeavesNothingBehind) {
  const std::string marker = dir_->Path("probe-path");
  ASSERT_OK_AND_ASSIGN(
      Subprocess verify,
      Subprocess::Start(
          {verify_, absl::StrCat("--sandbox=sh -c 'echo \"$1\" > ", marker,
                                 "; exec sleep 313' sh")}));
  std::string probe;
  for (int i = 0; i < 1000 && probe.empty(); ++i) {
    std::ifstream in(marker);
    std::getline(in, probe);
    if (probe.empty()) usleep(10000);
  }
  ASSERT_THAT(probe, HasSubstr("/tmp/cell-verify."));
  const std::string work = probe.substr(0, probe.find("/probes/"));
  ASSERT_EQ(access(work.c_str(), F_OK), 0);
  ASSERT_EQ(kill(verify.pid(), SIGTERM), 0);
  ASSERT_OK_AND_ASSIGN(SubprocessResult stopped, verify.Wait());
  EXPECT_THAT(stopped.signal, Optional(SIGTERM)) << stopped.stderr_text;
  EXPECT_NE(access(work.c_str(), F_OK), 0) << work << " left behind";
  ASSERT_OK_AND_ASSIGN(SubprocessResult left,
                       RunSubprocess({"pgrep", "-f", "sleep 313"}));
  EXPECT_THAT(left.exit_code, Optional(1)) << left.stdout_text;
}

TEST_F(SandboxVerifyTest, ASandboxThatCannotRunTheProbeSaysWhyInOneLine) {
  // No bind of {probes}: bwrap cannot find the probe.
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult run,
      Verify({"--sandbox=bwrap --unshare-all --ro-bind /usr /usr --symlink "
              "usr/lib64 /lib64 --"}));
  EXPECT_THAT(run.exit_code, Optional(2));
  EXPECT_EQ(run.stdout_text, "");
  const std::vector<std::string> lines =
      absl::StrSplit(run.stderr_text, '\n', absl::SkipEmpty());
  ASSERT_THAT(lines, SizeIs(2)) << run.stderr_text;  // Progress, then why.
  EXPECT_THAT(lines[1], HasSubstr("the sandbox did not run the probe"));
  EXPECT_THAT(lines[1], HasSubstr("No such file or directory"));
  EXPECT_THAT(lines[1], HasSubstr("--ro-bind {probes} {probes}"));
}

TEST_F(SandboxVerifyTest, UsageErrorsNameTheFlag) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--sandbox=bwrap --", "--spec=x.json"}, "not both"},
      {{"--filter=f", "--spec=x.json"}, "--filter is for --sandbox"},
      {{"--sandbox=bwrap {probe} --"}, "unknown placeholder {probe}"},
      {{"--sandbox=bwrap -- | cat"}, "'|' at column 10 is shell syntax"},
      {{"--sandbox=no-such-sandbox-here --"},
       "cannot run 'no-such-sandbox-here'"},
      {{"--sandbox=bwrap --", "--static-only"}, "--static-only and --cell"},
      {{"--sandbox=bwrap --", "--sandbox-worktree=rel"}, "absolute path"},
      {{"--sandbox=bwrap --", "--worktree=/nonexistent/wt"},
       "--worktree=/nonexistent/wt: not a directory"},
  };
  // Found in review: a worktree named to run a command in a sandbox that
  // takes a shell string.
  const std::string injected = dir_->Path("wt;touch INJECTED;#");
  ASSERT_EQ(mkdir(injected.c_str(), 0755), 0);
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult run,
      Verify({"--worktree=" + injected,
              "--sandbox=sh -c 'cd {worktree} && exec {command}'"}));
  EXPECT_THAT(run.exit_code, Optional(2));
  EXPECT_THAT(run.stderr_text, HasSubstr("characters a shell would read"));
  EXPECT_NE(access(dir_->Path("INJECTED").c_str(), F_OK), 0);
  EXPECT_NE(access((injected + "/INJECTED").c_str(), F_OK), 0);
  for (const auto& [args, message] : cases) {
    ASSERT_OK_AND_ASSIGN(SubprocessResult run, Verify(args));
    EXPECT_THAT(run.exit_code, Optional(2)) << args[0];
    EXPECT_THAT(run.stderr_text, HasSubstr(message)) << args[0];
  }
}

}  // namespace
}  // namespace cell::testing

// Integration: the escape routes of issue 16, each attempted for real from
// inside a documented and a hardened cell, as root and as uid 65534. Each
// test fails on a launcher without the matching fix.
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/subprocess.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "testing/cell_fixture.h"
#include "testing/http_server.h"
#include "testing/nix_daemon.h"
#include "testing/runfiles.h"
#include "testing/status_matchers.h"

namespace cell::testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::Optional;

// The hardened cell of SECURITY.md.
const std::vector<std::string> kHardened = {
    "--pid-namespace", "--ipc-namespace", "--capabilities=none", "--seccomp",
    "--read-only-root"};

class EscapeTest : public CellFixture {
 protected:
  void SetUp() override {
    CellFixture::SetUp();
    InstallProbe();
  }

  // `cell-probe NAME` in a cell with `flags`: the probe's facts.
  nlohmann::json ProbeFacts(std::vector<std::string> flags,
                            const std::string& name) {
    flags.push_back(
        absl::StrCat("--ro-bind=", Path("probes"), ":/run/cell/probes"));
    absl::StatusOr<SubprocessResult> result =
        RunCell(flags, {"/run/cell/probes/cell-probe", name});
    EXPECT_TRUE(result.ok()) << result.status();
    if (!result.ok()) return nullptr;
    EXPECT_THAT(result->exit_code, Optional(0)) << result->stderr_text;
    const nlohmann::json line =
        nlohmann::json::parse(result->stdout_text, nullptr, false);
    EXPECT_FALSE(line.is_discarded()) << result->stdout_text;
    return line.is_discarded() ? nullptr : line["facts"];
  }

  // Both cells every route must be closed in.
  std::map<std::string, std::vector<std::string>> Cells() const {
    return {{"documented", {}}, {"hardened", kHardened}};
  }
};

bool HostHas(const std::string& path) {
  struct stat info;
  return lstat(path.c_str(), &info) == 0;
}

// Section 1: a root-launched cell is host uid 0, and the sysctl write check
// looks at that uid, not at capabilities. Opening for writing is the attack
// (core_pattern would make the host kernel run a worktree script as root);
// nothing is written.
TEST_P(EscapeTest, HostSysctlsCannotBeOpenedForWriting) {
  for (const auto& [name, flags] : Cells()) {
    const nlohmann::json facts = ProbeFacts(flags, "kernel");
    ASSERT_TRUE(facts.is_object()) << name;
    ASSERT_EQ(facts["writeOpen"].size(), 6u) << facts.dump();
    for (const auto& [path, outcome] : facts["writeOpen"].items()) {
      EXPECT_NE(outcome, "ok") << name << " cell: " << path;
      if (HostHas(path) && uid() == 0) {
        // Refused by the read-only mount: for host root the file modes
        // would allow it.
        EXPECT_THAT(outcome.get<std::string>(), HasSubstr("EROFS"))
            << name << " cell: " << path;
      }
    }
  }
}

TEST_P(EscapeTest, KernelMemoryKeysAndLogsShowNothing) {
  for (const auto& [name, flags] : Cells()) {
    const nlohmann::json facts = ProbeFacts(flags, "kernel");
    ASSERT_TRUE(facts.is_object()) << name;
    for (const auto& [path, outcome] : facts["read"].items()) {
      // Masked: an empty file (0 bytes), or absent where the kernel has
      // no such file; never a byte of the host's.
      if (outcome.is_number()) {
        EXPECT_EQ(outcome, 0) << name << " cell: " << path;
      } else {
        EXPECT_FALSE(HostHas(path))
            << name << " cell: " << path << ": " << outcome;
      }
    }
    // The same with the tools an agent would use.
    ASSERT_OK_AND_ASSIGN(
        SubprocessResult result,
        RunCell(flags, {"/bin/sh", "-c",
                        "cat /proc/kcore /proc/timer_list /proc/keys "
                        "2>/dev/null | wc -c; ls -A /proc/acpi /proc/scsi "
                        "2>/dev/null | grep -v ':$' | grep -c . || true; "
                        "for f in /proc/keys /proc/kmsg /proc/timer_list; do "
                        "  [ -e $f ] && (echo x >> $f) 2>&1 | "
                        "    grep -o 'Read-only file system\\|Permission "
                        "denied'; done"}));
    // Masks are read-only too, the first and every later one: the
    // documented cell's capabilities would pass the file mode (0444), so
    // only the mount stops it (EROFS); without capabilities the mode does.
    const std::string denied =
        name == "documented" ? "Read-only file system" : "Permission denied";
    EXPECT_EQ(result.stdout_text,
              absl::StrCat("0\n0\n", denied, "\n", denied, "\n", denied, "\n"))
        << name << " cell";
  }
}

// Section 1: a root launcher can run the cell as an unprivileged host user
// (--host-user), for which the kernel's uid checks hold; only root may.
TEST_P(EscapeTest, RootLauncherRunsTheCellAsAnotherHostUser) {
  ASSERT_EQ(chown(Path("wt").c_str(), 65534, 65534), 0);
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult result,
      RunCell({"--host-user=nobody", "--no-nix"},
              {"/bin/sh", "-c",
               "id -u; id -g; cat /proc/self/uid_map /proc/self/setgroups; "
               "touch made; (exec 3>>/proc/sys/kernel/core_pattern) 2>&1 "
               "| grep -o 'Permission denied\\|Read-only file system'"}));
  if (GetParam() != TestUser::kRoot) {
    EXPECT_THAT(result.exit_code, Optional(125));
    EXPECT_THAT(result.stderr_text,
                HasSubstr("field `hostUser`: only a launcher running as root"));
    return;
  }
  EXPECT_THAT(result.exit_code, Optional(0)) << result.stderr_text;
  EXPECT_THAT(result.stdout_text,
              ::testing::MatchesRegex("65534\n65534\n +65534 +65534 +1\n"
                                      "deny\n(Permission denied|Read-only "
                                      "file system)\n"));
  struct stat made;
  ASSERT_EQ(stat(Path("wt/made").c_str(), &made), 0);
  EXPECT_EQ(made.st_uid, 65534u);
}

// Section 3: the Nix daemon trusts host root, and a trusted user may build
// with the sandbox off as root on the host. A cell that would be trusted
// is refused; one run as another user is not trusted: its restricted
// settings are ignored (the daemon logs each client and whether it
// trusts it).
TEST_P(EscapeTest, NixDaemonNeverTrustsACell) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<NixDaemon> daemon,
                       NixDaemon::Start(Path("nix")));
  const std::vector<std::string> nix = {
      absl::StrCat("--nix-store=", daemon->store_dir()),
      absl::StrCat("--nix-daemon-socket=", daemon->socket_dir())};
  const std::vector<std::string> attack = {
      "nix-store", "--option", "sandbox",
      "false",     "--option", "build-users-group",
      "",          "--add",    "/home/cell/worktree/payload"};
  if (GetParam() == TestUser::kRoot) {
    ASSERT_OK_AND_ASSIGN(SubprocessResult trusted, RunCell(nix, attack));
    EXPECT_THAT(trusted.exit_code, Optional(125));
    EXPECT_THAT(trusted.stderr_text,
                AllOf(HasSubstr("field `hostUser`"), HasSubstr("trusts"),
                      HasSubstr("--host-user=NAME")));
  }
  std::vector<std::string> flags = UntrustedUserFlags();
  flags.insert(flags.end(), nix.begin(), nix.end());
  std::ofstream(Path("wt/payload")) << "from a cell\n";
  ASSERT_OK_AND_ASSIGN(SubprocessResult untrusted, RunCell(flags, attack));
  // The daemon logs "accepted connection from pid N, user NAME" and
  // " (trusted)" after it for a trusted client; the cell is nobody.
  std::string log;
  for (int i = 0; i < 100; ++i) {
    log = daemon->LogText();
    if (log.find("user nobody") != std::string::npos) break;
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_THAT(log, HasSubstr("user nobody\n"));
  EXPECT_THAT(log, Not(HasSubstr("user nobody (trusted)")));
}

// Section 3, daemon-side egress: fixed-output derivations are fetched by
// the daemon on the host, past the cell's proxy and filter. A filter that
// denies host loopback (the cell's own request gets 403) does not stop a
// derivation from fetching from it: it is documented, and cell-verify
// reports it (nix-policy).
TEST_P(EscapeTest, NixDaemonFetchesPastTheFilterAndIsReported) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<NixDaemon> daemon,
                       NixDaemon::Start(Path("nix")));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<HttpServer> server, HttpServer::Start());
  std::ofstream(Path("filter")) << "^example\\.org$\n";
  const std::string url =
      absl::StrCat("http://127.0.0.1:", server->port(), "/hello");
  std::ofstream(Path("wt/fetch.nix")) << absl::StrCat(
      R"(derivation { name = "hello"; builder = "builtin:fetchurl";
           system = "builtin"; url = ")",
      url, R"("; outputHashMode = "flat"; outputHashAlgo = "sha256";
           outputHash =
             "e4a985feba6c291b0de2319ce53b41e44d6a1413c535c586a649e896ac623743";
         })");
  std::vector<std::string> flags = UntrustedUserFlags();
  flags.insert(flags.end(),
               {"--network=proxy", "--filter=filter",
                absl::StrCat("--nix-store=", daemon->store_dir()),
                absl::StrCat("--nix-daemon-socket=", daemon->socket_dir())});
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult result,
      RunCell(
          flags,
          {"/bin/sh", "-c",
           absl::StrCat(
               "curl -s --noproxy '' -o /dev/null -w 'proxy %{http_code}\\n' ",
               url, "; NIX_STORE_DIR=", daemon->store_dir(),
               " nix-build fetch.nix --no-out-link >/dev/null "
               "2>&1; echo built $?")}));
  // The cell's own request is denied; the daemon's is not.
  EXPECT_EQ(result.stdout_text, "proxy 403\nbuilt 0\n") << result.stderr_text;
  EXPECT_EQ(server->requests(), 1);
}

// Section 5: the files that control the next launch, and what the user's
// tools run after the cell exits, lie in the worktree the agent may write.
// From inside, the agent tries to rewrite each (and to create the missing
// ones); every attempt must fail, and nothing may be left behind.
TEST_P(EscapeTest, ControlFilesAndProtectedPathsStayReadOnly) {
  ASSERT_EQ(mkdir(Path("wt/logs").c_str(), 0755), 0);
  ASSERT_EQ(chown(Path("wt/logs").c_str(), uid(), gid()), 0);
  std::ofstream(Path("wt/filter")) << "^example\\.org$\n";
  ASSERT_EQ(mkdir(Path("wt/.git").c_str(), 0755), 0);
  ASSERT_EQ(mkdir(Path("wt/.git/hooks").c_str(), 0755), 0);
  ASSERT_EQ(chown(Path("wt/.git/hooks").c_str(), uid(), gid()), 0);
  const std::string spec = Path("wt/agent.json");
  std::ofstream(spec) << absl::StrCat(
      R"({"version": 1, "worktreePath": ")", Path("wt"),
      R"(", "tinyproxyFilter": ")", Path("wt/filter"), R"(", "logDir": ")",
      Path("wt/logs"), R"(", "protect": ["@defaults"]})");
  // The launcher run from the worktree, as a packed cell would be.
  ASSERT_EQ(link(cell_.c_str(), Path("wt/agent-cell").c_str()), 0);
  const std::string before = ReadHostFile(spec);
  std::vector<std::string> argv = {Path("wt/agent-cell"), "run",
                                   absl::StrCat("--spec=", spec)};
  for (const std::string& flag : BaseFlags()) {
    if (flag.rfind("--worktree", 0) != 0) argv.push_back(flag);
  }
  argv.push_back("--network=proxy");
  const std::string attempts =
      "for f in agent.json filter agent-cell .git/hooks/pre-commit "
      ".git/config .git/commondir .git/config.worktree .envrc .mcp.json "
      ".gitmodules .gitconfig .bashrc .zshenv; do "
      "  (echo evil >> $f) 2>/dev/null && echo \"wrote $f\"; done; "
      "for d in .vscode .claude .codex .idea .cursor .husky .devcontainer "
      ".git/worktrees .git/modules; do "
      "  mkdir $d 2>/dev/null && echo \"made $d\"; "
      "  (echo evil > $d/settings.json) 2>/dev/null && echo \"wrote $d\"; "
      "done; "
      "mv logs logs.old 2>/dev/null && echo moved logs; "
      "rm -f agent-cell 2>/dev/null; test -e agent-cell || echo removed cell; "
      "echo done";
  argv.insert(argv.end(), {"--", "/bin/sh", "-c", attempts});
  ASSERT_OK_AND_ASSIGN(SubprocessResult result,
                       RunSubprocess(AsTestUser(argv), Options()));
  EXPECT_THAT(result.exit_code, Optional(0)) << result.stderr_text;
  EXPECT_EQ(result.stdout_text, "done\n");
  EXPECT_EQ(ReadHostFile(spec), before);
  EXPECT_EQ(ReadHostFile(Path("wt/filter")), "^example\\.org$\n");
  // A spec in a subdirectory: the directory cannot be renamed away and
  // replaced with a rewritten copy.
  ASSERT_EQ(mkdir(Path("wt/conf").c_str(), 0755), 0);
  ASSERT_EQ(chown(Path("wt/conf").c_str(), uid(), gid()), 0);
  const std::string nested = Path("wt/conf/agent.json");
  std::ofstream(nested) << absl::StrCat(R"({"version": 1, "worktreePath": ")",
                                        Path("wt"), R"("})");
  std::vector<std::string> swap = {cell_, "run",
                                   absl::StrCat("--spec=", nested)};
  for (const std::string& flag : BaseFlags()) {
    if (flag.rfind("--worktree", 0) != 0) swap.push_back(flag);
  }
  swap.insert(swap.end(),
              {"--", "/bin/sh", "-c",
               "mv conf conf.old 2>/dev/null && echo moved; "
               "rm -rf conf 2>/dev/null; test -d conf && echo kept"});
  ASSERT_OK_AND_ASSIGN(SubprocessResult swapped,
                       RunSubprocess(AsTestUser(swap), Options()));
  EXPECT_EQ(swapped.stdout_text, "kept\n") << swapped.stderr_text;
  // The placeholders for what did not exist are gone again.
  for (const char* name :
       {".envrc", ".mcp.json", ".gitmodules", ".gitconfig", ".bashrc",
        ".zshenv", ".vscode", ".claude", ".codex", ".idea", ".cursor", ".husky",
        ".devcontainer", ".git/config", ".git/commondir",
        ".git/config.worktree", ".git/worktrees", ".git/modules",
        ".git/hooks/pre-commit"}) {
    EXPECT_FALSE(HostHas(Path(absl::StrCat("wt/", name)))) << name;
  }
  EXPECT_TRUE(HostHas(Path("wt/.git/hooks")));
}

// Protection holds through every read-write view of the worktree, here a
// bind of the directory holding it.
TEST_P(EscapeTest, ProtectedPathsAreReadOnlyInEveryView) {
  ASSERT_EQ(mkdir(Path("outer").c_str(), 0755), 0);
  ASSERT_EQ(mkdir(Path("outer/proj").c_str(), 0755), 0);
  for (const char* dir : {"outer", "outer/proj"}) {
    ASSERT_EQ(chown(Path(dir).c_str(), uid(), gid()), 0);
  }
  std::ofstream(Path("outer/proj/.envrc")) << "export SAFE=1\n";
  ASSERT_EQ(chown(Path("outer/proj/.envrc").c_str(), uid(), gid()), 0);
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult result,
      RunCell({absl::StrCat("--worktree=", Path("outer/proj")),
               absl::StrCat("--bind=", Path("outer"), ":/mnt/outer"),
               "--protect=@defaults"},
              {"/bin/sh", "-c",
               "cd /mnt/outer/proj; (echo evil >> .envrc) 2>/dev/null && "
               "echo wrote .envrc; mkdir .git 2>/dev/null && echo made .git; "
               "(echo evil > .gitconfig) 2>/dev/null && echo wrote .gitconfig; "
               "cd /mnt/outer && mv proj proj.old 2>/dev/null && echo moved; "
               "echo done"}));
  EXPECT_EQ(result.stdout_text, "done\n") << result.stderr_text;
  EXPECT_EQ(ReadHostFile(Path("outer/proj/.envrc")), "export SAFE=1\n");
  EXPECT_FALSE(HostHas(Path("outer/proj/.git")));
}

// Attacker round 5: `@defaults` protected .git/hooks and .husky, but a
// repository whose config says `core.hooksPath = .githooks`, or includes a
// config file from the worktree, or whose hook is a symlink to a script in
// the worktree (a common setup), let the cell write what the user's next
// host `git commit` runs.
TEST_P(EscapeTest, WhatGitRunsFromTheWorktreeStaysReadOnly) {
  for (const char* dir :
       {"wt/.git", "wt/.git/hooks", "wt/.githooks", "wt/scripts"}) {
    ASSERT_EQ(mkdir(Path(dir).c_str(), 0755), 0);
    ASSERT_EQ(chown(Path(dir).c_str(), uid(), gid()), 0);
  }
  std::ofstream(Path("wt/.git/config"))
      << "[core]\n\thooksPath = .githooks\n[include]\n\tpath = ../team.cfg\n";
  std::ofstream(Path("wt/scripts/pre-commit.sh")) << "#!/bin/sh\n";
  ASSERT_EQ(chown(Path("wt/scripts/pre-commit.sh").c_str(), uid(), gid()), 0);
  ASSERT_EQ(symlink("../../scripts/pre-commit.sh",
                    Path("wt/.git/hooks/pre-commit").c_str()),
            0);
  for (const auto& [name, flags] : Cells()) {
    std::vector<std::string> with = flags;
    with.push_back("--protect=@defaults");
    ASSERT_OK_AND_ASSIGN(
        SubprocessResult result,
        RunCell(with, {"/bin/sh", "-c",
                       "for f in .githooks/pre-commit scripts/pre-commit.sh "
                       "team.cfg; do (echo evil >> $f) 2>/dev/null && "
                       "echo wrote $f; done; echo done"}));
    EXPECT_EQ(result.stdout_text, "done\n") << name << result.stderr_text;
  }
  EXPECT_FALSE(HostHas(Path("wt/.githooks/pre-commit")));
  EXPECT_FALSE(HostHas(Path("wt/team.cfg")));
  EXPECT_EQ(ReadHostFile(Path("wt/scripts/pre-commit.sh")), "#!/bin/sh\n");
}

// Attacker round 6: the user's own `git status` on the host ran what a
// cell planted in three more places git reads: the worktree's root as a
// bare repository (after the cell broke .git/HEAD), a git directory in the
// worktree that a `.git` file names, and a submodule's `.git` file
// rewritten to name a git directory the cell made. And git itself failed
// inside a cell with `@defaults` (an empty `commondir` placeholder).
TEST_P(EscapeTest, GitOnTheHostRunsNothingTheCellWrote) {
  auto git = [this](const std::string& dir, std::vector<std::string> args) {
    args.insert(args.begin(),
                {"git", "-C", Path(dir), "-c", "user.name=t", "-c",
                 "user.email=t@t", "-c", "protocol.file.allow=always", "-c",
                 "safe.directory=*", "-c", "init.defaultBranch=main"});
    absl::StatusOr<SubprocessResult> result = RunSubprocess(args, Options());
    EXPECT_TRUE(result.ok() && result->exit_code == 0)
        << absl::StrJoin(args, " ") << ": "
        << (result.ok() ? result->stderr_text : result.status().ToString());
  };
  // wt: a repository with a submodule; wt/.gitstore: the git directory of
  // a second worktree, wt2, which names it.
  ASSERT_EQ(mkdir(Path("origin").c_str(), 0755), 0);
  git("origin", {"init", "-q"});
  git("origin", {"commit", "-q", "--allow-empty", "-m", "o"});
  git("wt", {"init", "-q"});
  git("wt", {"submodule", "add", "-q", Path("origin"), "sub"});
  git("wt", {"commit", "-q", "-m", "w"});
  // A linked worktree of the user's inside the worktree (attacker round 7).
  git("wt", {"worktree", "add", "-q", Path("wt/.worktrees/feat")});
  ASSERT_EQ(mkdir(Path("wt2").c_str(), 0755), 0);
  git("wt2", {"init", "-q",
              absl::StrCat("--separate-git-dir=", Path("wt2/.gitstore"))});
  ASSERT_TRUE(RunSubprocess({"chown", "-R", absl::StrCat(uid(), ":", gid()),
                             Path("wt"), Path("wt2")},
                            Options())
                  .ok());
  const std::string fsmonitor = absl::StrCat("[core]\n\tfsmonitor = \"touch ",
                                             Path("planted"), "; false\"\n");
  for (const auto& [name, flags] : Cells()) {
    std::vector<std::string> with = flags;
    with.push_back("--protect=@defaults");
    ASSERT_OK_AND_ASSIGN(
        SubprocessResult result,
        RunCell(
            with,
            {"/bin/sh", "-c",
             absl::StrCat(
                 "git status --porcelain >/dev/null && echo git works; "
                 "echo 'not a ref' > .git/HEAD; "
                 "(printf 'ref: refs/heads/main\\n' > HEAD) 2>/dev/null "
                 "&& echo wrote HEAD; mkdir -p objects refs/heads; "
                 "printf '",
                 fsmonitor,
                 "' > config; (printf 'gitdir: ../.subgit\\n' > "
                 "sub/.git) 2>/dev/null && echo rewrote sub/.git; "
                 "(printf 'gitdir: /tmp\\n' > .worktrees/feat/.git) "
                 "2>/dev/null && echo rewrote the linked worktree; "
                 "printf 'ref: refs/heads/main\\n' > .git/HEAD; echo done")}));
    EXPECT_EQ(result.stdout_text, "git works\ndone\n")
        << name << result.stderr_text;
    with.push_back(absl::StrCat("--worktree=", Path("wt2")));
    ASSERT_OK_AND_ASSIGN(
        SubprocessResult second,
        RunCell(with,
                {"/bin/sh", "-c",
                 absl::StrCat("(printf '", fsmonitor,
                              "' >> .gitstore/config) 2>/dev/null && echo "
                              "wrote .gitstore/config; echo done")}));
    EXPECT_EQ(second.stdout_text, "done\n") << name << second.stderr_text;
  }
  // What the user runs next, on the host.
  git("wt", {"status", "--porcelain"});
  git("wt2", {"status", "--porcelain"});
  EXPECT_FALSE(HostHas(Path("planted")));
  EXPECT_FALSE(HostHas(Path("wt/HEAD")));
}

// A second name for a file that controls a launch (a hard link the agent
// made while it could write beside it) is refused, not trusted.
TEST_P(EscapeTest, HardLinkedSpecIsRefused) {
  const std::string spec = Path("wt/agent.json");
  std::ofstream(spec) << absl::StrCat(R"({"version": 1, "worktreePath": ")",
                                      Path("wt"), R"("})");
  ASSERT_EQ(link(spec.c_str(), Path("wt/alias").c_str()), 0);
  std::vector<std::string> argv = {cell_, "run", absl::StrCat("--spec=", spec)};
  for (const std::string& flag : BaseFlags()) {
    if (flag.rfind("--worktree", 0) != 0) argv.push_back(flag);
  }
  argv.insert(argv.end(), {"--", "/bin/true"});
  ASSERT_OK_AND_ASSIGN(SubprocessResult result,
                       RunSubprocess(AsTestUser(argv), Options()));
  EXPECT_THAT(result.exit_code, Optional(125));
  EXPECT_THAT(result.stderr_text, HasSubstr("hard links"));
}

// tinyproxy runs on the host: one the agent put on the launcher's PATH
// inside the worktree is never started.
TEST_P(EscapeTest, TinyproxyFromTheWorktreeIsRefused) {
  ASSERT_EQ(mkdir(Path("wt/bin").c_str(), 0755), 0);
  std::ofstream(Path("wt/bin/tinyproxy"))
      << "#!/bin/sh\necho ran > " << Path("hijacked") << "\n";
  ASSERT_EQ(chmod(Path("wt/bin/tinyproxy").c_str(), 0755), 0);
  SubprocessOptions options = Options();
  for (std::string& entry : *options.env) {
    if (entry.rfind("PATH=", 0) == 0) {
      entry = absl::StrCat("PATH=", Path("wt/bin"), ":/usr/bin:/bin");
    }
  }
  std::vector<std::string> argv =
      RunArgv({"--network=proxy", "--engine=tinyproxy"}, {"/bin/true"});
  ASSERT_OK_AND_ASSIGN(SubprocessResult result, RunSubprocess(argv, options));
  EXPECT_THAT(result.exit_code, Optional(125));
  EXPECT_THAT(result.stderr_text, HasSubstr("read-write bind"));
  EXPECT_FALSE(HostHas(Path("hijacked")));
}

// Issue 17: the proxy's audit log is the host's record of what the cell
// reached. The agent may read it, never change it: truncating it or
// appending a forged request from inside fails, and every record carries
// the run's id from the status file.
TEST_P(EscapeTest, TheAuditLogCannotBeRewrittenFromInside) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<HttpServer> server, HttpServer::Start());
  ASSERT_EQ(mkdir(Path("logs").c_str(), 0755), 0);
  ASSERT_EQ(chown(Path("logs").c_str(), uid(), gid()), 0);
  std::ofstream(Path("filter")) << "^127\\.0\\.0\\.1$\n";
  const std::string url =
      absl::StrCat("http://127.0.0.1:", server->port(), "/hello");
  nlohmann::json started;
  ASSERT_OK_AND_ASSIGN(
      Subprocess cell,
      StartCellAndWait(
          {"--network=proxy", "--filter=filter", "--log-dir=logs"},
          {"/bin/sh", "-c",
           absl::StrCat("curl -s --noproxy '' -o /dev/null ", url,
                        "; log=/home/cell/log/proxy-audit.jsonl; "
                        "(: > $log) 2>/dev/null && echo truncated; "
                        "(echo '{\"host\":\"forged\",\"decision\":\"allow\"}' "
                        ">> $log) 2>/dev/null && echo appended; "
                        "rm -f $log 2>/dev/null; test -e $log && echo kept")},
          &started));
  ASSERT_OK_AND_ASSIGN(SubprocessResult result, cell.Wait());
  EXPECT_EQ(result.stdout_text, "kept\n") << result.stderr_text;
  const std::string log = ReadHostFile(Path("logs/proxy-audit.jsonl"));
  EXPECT_THAT(log, HasSubstr("\"host\":\"127.0.0.1\""));
  EXPECT_THAT(log, Not(HasSubstr("forged")));
  ASSERT_TRUE(started.contains("runId")) << started.dump();
  EXPECT_THAT(
      log, HasSubstr(absl::StrCat("\"run\":\"",
                                  started["runId"].get<std::string>(), "\"")));
}

// Section 4: the agent owns directories the next launch mounts or reads
// (here the worktree holds a bind source, logDir and the filter). From
// inside a first cell it swaps each for a symlink to a host directory it
// wants; the next launch must refuse, naming the field, and show nothing of
// the target.
TEST_P(EscapeTest, SymlinksPlantedForTheNextLaunchAreRefused) {
  ASSERT_EQ(mkdir(Path("secret").c_str(), 0755), 0);
  std::ofstream(Path("secret/marker")) << "SECRET\n";
  std::ofstream(Path("secret/filter")) << ".*\n";
  const std::vector<std::string> spec_paths = {
      absl::StrCat("--bind=", Path("wt/data"), ":/data"),
      absl::StrCat("--log-dir=", Path("wt/logs")),
      absl::StrCat("--filter=", Path("wt/filter"))};
  ASSERT_EQ(mkdir(Path("wt/data").c_str(), 0755), 0);
  ASSERT_EQ(chown(Path("wt/data").c_str(), uid(), gid()), 0);
  // The first cell: everything as it should be; the agent plants links.
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult planted,
      RunCell({spec_paths[0]},
              {"/bin/sh", "-c",
               absl::StrCat("echo good > data/marker && "
                            "mv data data.old && ln -s ",
                            Path("secret"), " data && ln -s ", Path("secret"),
                            " logs && ln -s ", Path("secret/filter"),
                            " filter && echo planted")}));
  ASSERT_EQ(planted.stdout_text, "planted\n") << planted.stderr_text;
  for (const auto& [flags, field] :
       std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{spec_paths[0]}, "mounts[4].src"},  // After the base flags'.
           // The link was planted under another spec's writable bind: a
           // root-run cell's links are root's, and still not followed.
           {{absl::StrCat("--worktree=", Path("wt/data"))}, "worktreePath"},
           {{spec_paths[1]}, "logDir"},
           {{"--network=proxy", spec_paths[2]}, "tinyproxyFilter"}}) {
    ASSERT_OK_AND_ASSIGN(
        SubprocessResult result,
        RunCell(flags, {"/bin/sh", "-c",
                        "cat /data/marker /home/cell/log/marker 2>&1"}));
    EXPECT_THAT(result.exit_code, Optional(125)) << field;
    EXPECT_THAT(result.stderr_text, HasSubstr(absl::StrCat("`", field, "`")));
    EXPECT_THAT(result.stderr_text, HasSubstr("symlink"));
    EXPECT_THAT(result.stdout_text, Not(HasSubstr("SECRET")));
  }
}

// A --status-file the next launch writes, where the agent can plant a
// link (or a hard link) to a file it wants truncated: refused, the file
// untouched.
TEST_P(EscapeTest, StatusFileLinksAreRefused) {
  std::ofstream(Path("victim")) << "precious\n";
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult planted,
      RunCell({}, {"/bin/sh", "-c",
                   absl::StrCat("ln -s ", Path("victim"), " status.json")}));
  ASSERT_THAT(planted.exit_code, Optional(0)) << planted.stderr_text;
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult result,
      RunCell({absl::StrCat("--status-file=", Path("wt/status.json"))},
              {"/bin/true"}));
  EXPECT_THAT(result.exit_code, Optional(125));
  EXPECT_THAT(result.stderr_text, HasSubstr("--status-file"));
  EXPECT_EQ(ReadHostFile(Path("victim")), "precious\n");
}

// A --status-file inside the worktree, which tools read to learn how the
// run ended: the agent replaces it with a forged `exited` line and exits
// 42. The file is bound read-only inside, so the host's copy keeps the
// launcher's lines, 42 included.
TEST_P(EscapeTest, TheStatusFileCannotBeForgedFromInside) {
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult result,
      RunCell({absl::StrCat("--status-file=", Path("wt/status.jsonl"))},
              {"/bin/sh", "-c",
               "rm -f status.jsonl 2>/dev/null || echo kept; "
               "(echo '{\"event\":\"exited\",\"exitCode\":0}' "
               "> status.jsonl) 2>/dev/null || echo unwritable; exit 42"}));
  EXPECT_THAT(result.exit_code, Optional(42)) << result.stderr_text;
  EXPECT_EQ(result.stdout_text, "kept\nunwritable\n");
  EXPECT_THAT(ExitedCode(Path("wt/status.jsonl")), Optional(42));
}

// The agent fills the disk that holds the audit log (here: the launcher's
// file-size limit, which the launcher used to die of, leaving $JD), then
// makes requests. None goes out unrecorded: while a record cannot be
// written requests get 503, the log keeps whole lines, the launcher ends
// as always.
TEST_P(EscapeTest, AnUnwritableAuditLogRefusesRequests) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<HttpServer> server, HttpServer::Start());
  ASSERT_EQ(mkdir(Path("logs").c_str(), 0755), 0);
  ASSERT_EQ(chown(Path("logs").c_str(), uid(), gid()), 0);
  std::ofstream(Path("filter")) << "^127\\.0\\.0\\.1$\n";
  const std::string url =
      absl::StrCat("http://127.0.0.1:", server->port(), "/hello");
  // Denied requests until the log is full (a record is about 200 bytes),
  // then ordinary ones.
  const std::string script = absl::StrCat(
      "for i in $(seq 60); do curl -s --noproxy '' -o /dev/null "
      "http://denied.test/; done; ",
      "for i in 1 2 3; do curl -s --noproxy '' -o /dev/null -w "
      "'%{http_code}\\n' ",
      url, "; done");
  std::vector<std::string> argv =
      RunArgv({"--network=proxy", "--filter=filter", "--log-dir=logs",
               absl::StrCat("--status-file=", Path("tmp/status.jsonl"))},
              {"/bin/sh", "-c", script});
  argv.insert(argv.begin(), {"/usr/bin/prlimit", "--fsize=8000"});
  ASSERT_OK_AND_ASSIGN(SubprocessResult result, RunSubprocess(argv, Options()));
  EXPECT_THAT(result.exit_code, Optional(0)) << result.stderr_text;
  EXPECT_THAT(result.stdout_text, HasSubstr("503"));
  EXPECT_EQ(server->requests(), 0) << "a request went out unrecorded";
  EXPECT_LE(ReadHostFile(Path("logs/proxy-audit.jsonl")).size(), 8000u);
  ReadAuditLog(Path("logs/proxy-audit.jsonl"));  // Whole JSON lines only.
  EXPECT_TRUE(ExitedCode(Path("tmp/status.jsonl")).has_value());
  EXPECT_THAT(JobDirs(), IsEmpty());
}

// The same with 20 requests at once, started while the log still had
// room: each must have its record before it goes out, so the origin never
// sees more requests than the log has `begin` records.
TEST_P(EscapeTest, ConcurrentRequestsOnAFillingLogAreAllRecorded) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<HttpServer> server, HttpServer::Start());
  ASSERT_EQ(mkdir(Path("logs").c_str(), 0755), 0);
  ASSERT_EQ(chown(Path("logs").c_str(), uid(), gid()), 0);
  std::ofstream(Path("filter")) << "^127\\.0\\.0\\.1$\n";
  const std::string script = absl::StrCat(
      "seq 20 | xargs -P 20 -I{} curl -s -p --noproxy '' -o /dev/null "
      "http://127.0.0.1:",
      server->port(), "/hello; true");
  std::vector<std::string> argv =
      RunArgv({"--network=proxy", "--filter=filter", "--log-dir=logs"},
              {"/bin/sh", "-c", script});
  argv.insert(argv.begin(), {"/usr/bin/prlimit", "--fsize=2000"});
  ASSERT_OK_AND_ASSIGN(SubprocessResult result, RunSubprocess(argv, Options()));
  EXPECT_THAT(result.exit_code, Optional(0)) << result.stderr_text;
  int begins = 0;
  for (const nlohmann::json& record :
       ReadAuditLog(Path("logs/proxy-audit.jsonl"))) {
    if (record.value("event", "") == "begin") ++begins;
  }
  EXPECT_GT(server->requests(), 0);
  EXPECT_LE(server->requests(), begins)
      << ReadHostFile(Path("logs/proxy-audit.jsonl"));
  EXPECT_LT(begins, 20) << "the limit never bit: the test proves nothing";
}

// The same swap raced: a process of the agent's user (as one left behind
// by an earlier cell would) exchanges the bind source and a symlink to a
// host directory as fast as it can while 40 cells start. A launch may fail;
// none may ever show the symlink's target.
TEST_P(EscapeTest, RacingSwapperNeverRedirectsABind) {
  ASSERT_EQ(mkdir(Path("secret").c_str(), 0755), 0);
  std::ofstream(Path("secret/marker")) << "SECRET\n";
  ASSERT_EQ(mkdir(Path("wt/data").c_str(), 0755), 0);
  std::ofstream(Path("wt/data/marker")) << "good\n";
  ASSERT_EQ(chown(Path("wt/data").c_str(), uid(), gid()), 0);
  ASSERT_EQ(symlink(Path("secret").c_str(), Path("wt/swap").c_str()), 0);
  ASSERT_EQ(lchown(Path("wt/swap").c_str(), uid(), gid()), 0);
  const pid_t swapper = fork();
  ASSERT_GE(swapper, 0);
  if (swapper == 0) {
    if (setresgid(gid(), gid(), gid()) != 0 ||
        setresuid(uid(), uid(), uid()) != 0) {
      _exit(1);
    }
    const std::string data = Path("wt/data");
    const std::string swap = Path("wt/swap");
    while (true) {
      syscall(SYS_renameat2, AT_FDCWD, data.c_str(), AT_FDCWD, swap.c_str(),
              RENAME_EXCHANGE);
    }
  }
  int shown = 0;
  int refused = 0;
  for (int i = 0; i < 40; ++i) {
    ASSERT_OK_AND_ASSIGN(
        SubprocessResult result,
        RunCell({absl::StrCat("--bind=", Path("wt/data"), ":/data")},
                {"/bin/cat", "/data/marker"}));
    EXPECT_THAT(result.stdout_text, Not(HasSubstr("SECRET"))) << i;
    if (result.stdout_text == "good\n") ++shown;
    if (result.exit_code == 125) ++refused;
  }
  kill(swapper, SIGKILL);
  waitpid(swapper, nullptr, 0);
  // Both outcomes happen (else the race did not run).
  std::cerr << shown << " launches bound the directory, " << refused
            << " were refused\n";
  EXPECT_EQ(shown + refused, 40);
  EXPECT_GT(refused, 0);
}

// Issue 19's review: binds that bring the host's kernel interfaces or
// terminals in. A host-root cell with /proc/sys bound writes
// kernel.core_pattern (host-root code execution); /dev/pts bound, or any
// directory bind that carries it (a read-only bind of "/"), reaches the
// caller's terminal. Sources under /proc and /sys, /dev itself and its
// directories, terminals, memory and block devices are refused; every
// directory bind is nodev, so a device node it carries cannot be opened.
TEST_P(EscapeTest, KernelInterfacesAndTerminalsCannotBeBoundIn) {
  const int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  ASSERT_GE(master, 0);
  ASSERT_EQ(unlockpt(master), 0);
  const std::string pty = ptsname(master);
  for (const std::string& source :
       {std::string("/proc/sys"), std::string("/proc"), std::string("/sys"),
        std::string("/sys/kernel"), std::string("/dev"),
        std::string("/dev/pts"), pty, std::string("/dev/mem"),
        std::string("/dev/kmsg"), std::string("/dev/console"),
        std::string("/dev/userfaultfd"), std::string("/dev/vcsa1")}) {
    if (!HostHas(source)) continue;
    for (const char* kind : {"--ro-bind=", "--bind="}) {
      ASSERT_OK_AND_ASSIGN(
          SubprocessResult result,
          RunCell({absl::StrCat(kind, source, ":/mnt/x")},
                  {"/bin/sh", "-c",
                   "(exec 3>>/mnt/x/kernel/core_pattern) 2>/dev/null && "
                   "echo opened; echo ran"}));
      EXPECT_NE(result.exit_code, std::optional<int>(0))
          << kind << source << ": " << result.stdout_text;
      EXPECT_THAT(result.stdout_text, Not(HasSubstr("opened")));
      EXPECT_THAT(result.stderr_text,
                  AllOf(HasSubstr("mounts["), HasSubstr(source)))
          << kind << source;
    }
  }
  // Nor as the worktree.
  for (const char* worktree : {"/proc/sys", "/sys/kernel", "/proc"}) {
    ASSERT_OK_AND_ASSIGN(
        SubprocessResult result,
        RunCell({absl::StrCat("--worktree=", worktree)},
                {"/bin/sh", "-c",
                 "(exec 3>>kernel/core_pattern) 2>/dev/null && echo opened; "
                 "echo ran"}));
    EXPECT_NE(result.exit_code, std::optional<int>(0)) << worktree;
    EXPECT_THAT(result.stdout_text, Not(HasSubstr("opened"))) << worktree;
    EXPECT_THAT(result.stderr_text, HasSubstr("worktreePath")) << worktree;
  }
  // The host's root, read-only: allowed, but the terminal it carries
  // cannot be opened.
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult result,
      RunCell({"--ro-bind=/:/host"},
              {"/bin/sh", "-c",
               absl::StrCat("(exec 3<>/host", pty,
                            ") 2>/dev/null && echo opened; echo ran")}));
  close(master);
  EXPECT_EQ(result.stdout_text, "ran\n") << result.stderr_text;
}

// A directory that holds a mount of the host's proc (a chroot's): the bind
// is recursive, so without more the cell would get the host's /proc
// read-write beneath it. Masked: nothing is there inside.
TEST_P(EscapeTest, AChrootsProcDoesNotComeAlong) {
  for (const char* dir : {"chroot", "chroot/proc"}) {
    ASSERT_EQ(mkdir(Path(dir).c_str(), 0755), 0);
  }
  ASSERT_EQ(mount("proc", Path("chroot/proc").c_str(), "proc", 0, nullptr), 0);
  absl::StatusOr<SubprocessResult> result = RunCell(
      {absl::StrCat("--bind=", Path("chroot"), ":/mnt/chroot")},
      {"/bin/sh", "-c",
       "(exec 3>>/mnt/chroot/proc/sys/kernel/core_pattern) 2>/dev/null && "
       "echo opened; ls /mnt/chroot/proc | wc -l"});
  umount2(Path("chroot/proc").c_str(), MNT_DETACH);
  ASSERT_OK(result.status());
  EXPECT_THAT(result->exit_code, Optional(0)) << result->stderr_text;
  EXPECT_EQ(result->stdout_text, "0\n") << result->stderr_text;
}

// The last line of defence, by itself: with the masks switched off (a test
// fault, standing in for a bind source swapped after the spec was checked,
// the race an attacker ran), the launch is refused before the pivot
// because a kernel file system would be visible inside.
TEST_P(EscapeTest, AKernelMountTheMasksMissStopsTheLaunch) {
  // A shallow one, and one whose path is longer than PATH_MAX (reached by
  // changing directory one component at a time).
  const std::string component(250, 'd');
  ASSERT_EQ(mkdir(Path("chroot").c_str(), 0755), 0);
  // Into the deep directory one component at a time (its path is longer
  // than any one system call takes), making it on the way.
  auto enter_deep = [&](bool make) {
    ASSERT_EQ(chdir(Path("chroot").c_str()), 0);
    for (int i = 0; i < 20; ++i) {
      if (make) {
        ASSERT_EQ(mkdir(component.c_str(), 0755), 0);
      }
      ASSERT_EQ(chdir(component.c_str()), 0);
    }
  };
  enter_deep(true);
  ASSERT_EQ(mkdir("proc", 0755), 0);
  ASSERT_EQ(mount("proc", "proc", "proc", 0, nullptr), 0);
  ASSERT_EQ(chdir("/"), 0);
  ASSERT_EQ(mkdir(Path("chroot/proc").c_str(), 0755), 0);
  ASSERT_EQ(mount("proc", Path("chroot/proc").c_str(), "proc", 0, nullptr), 0);
  // The fault build, copied where the test user can run it, in place of
  // the fixture's copy of the shipped one.
  ASSERT_OK_AND_ASSIGN(const std::string built,
                       RunfilePath("launcher/cell_with_faults"));
  const std::string faulty = Path("cell-with-faults");
  {
    std::ifstream in(built, std::ios::binary);
    std::ofstream out(faulty, std::ios::binary);
    out << in.rdbuf();
  }
  ASSERT_EQ(chmod(faulty.c_str(), 0755), 0);
  const std::string cell = Path("cell");
  // As the launcher's user, and (for root) as another host user: the
  // check must hold when the child has switched to it.
  std::vector<std::vector<std::string>> variants = {{}};
  if (!UntrustedUserFlags().empty()) variants.push_back(UntrustedUserFlags());
  for (std::vector<std::string> flags : variants) {
    flags.push_back(absl::StrCat("--ro-bind=", Path("chroot"), ":/mnt/chroot"));
    std::vector<std::string> argv =
        RunArgv(flags, {"/bin/sh", "-c", "echo ran"});
    std::replace(argv.begin(), argv.end(), cell, faulty);
    SubprocessOptions options = Options();
    options.env->push_back("CELL_TEST_FAULTS=no-kernel-masks");
    absl::StatusOr<SubprocessResult> result = RunSubprocess(argv, options);
    ASSERT_OK(result.status());
    EXPECT_THAT(result->exit_code, Optional(125))
        << flags.front() << ": " << result->stdout_text;
    EXPECT_EQ(result->stdout_text, "");
    EXPECT_THAT(result->stderr_text,
                HasSubstr("a file system of the host's kernel"));
  }
  // Only the deep one: the shallow one unmounted, the check still refuses.
  umount2(Path("chroot/proc").c_str(), MNT_DETACH);
  std::vector<std::string> argv =
      RunArgv({absl::StrCat("--ro-bind=", Path("chroot"), ":/mnt/chroot")},
              {"/bin/sh", "-c", "echo ran"});
  std::replace(argv.begin(), argv.end(), cell, faulty);
  SubprocessOptions options = Options();
  options.env->push_back("CELL_TEST_FAULTS=no-kernel-masks");
  absl::StatusOr<SubprocessResult> deep_only = RunSubprocess(argv, options);
  enter_deep(false);
  umount2("proc", MNT_DETACH);
  ASSERT_EQ(chdir("/"), 0);
  ASSERT_OK(deep_only.status());
  EXPECT_THAT(deep_only->exit_code, Optional(125)) << deep_only->stdout_text;
}

// The audit log through a second, read-write view of logDir: a bind of a
// directory holding it shows it read-only; logDir itself bound read-write
// (as a mount, or as the worktree) is refused.
TEST_P(EscapeTest, TheAuditLogIsReadOnlyInEveryView) {
  for (const char* dir : {"outer", "outer/logs"}) {
    ASSERT_EQ(mkdir(Path(dir).c_str(), 0755), 0);
    ASSERT_EQ(chown(Path(dir).c_str(), uid(), gid()), 0);
  }
  std::ofstream(Path("outer/logs/proxy-audit.jsonl"))
      << "{\"host\":\"real\"}\n";
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult result,
      RunCell({"--log-dir=outer/logs",
               absl::StrCat("--bind=", Path("outer"), ":/mnt/outer")},
              {"/bin/sh", "-c",
               "(: > /mnt/outer/logs/proxy-audit.jsonl) 2>/dev/null && "
               "echo truncated; (ln -s /etc/shadow /mnt/outer/logs/evil) "
               "2>/dev/null && echo planted; echo ran"}));
  EXPECT_EQ(result.stdout_text, "ran\n") << result.stderr_text;
  EXPECT_EQ(ReadHostFile(Path("outer/logs/proxy-audit.jsonl")),
            "{\"host\":\"real\"}\n");
  for (const std::vector<std::string>& flags :
       {std::vector<std::string>{
            "--log-dir=outer/logs",
            absl::StrCat("--bind=", Path("outer/logs"), ":/mnt/logs")},
        std::vector<std::string>{"--log-dir=wt"}}) {
    ASSERT_OK_AND_ASSIGN(SubprocessResult refused,
                         RunCell(flags, {"/bin/true"}));
    EXPECT_NE(refused.exit_code, std::optional<int>(0)) << flags.back();
    EXPECT_THAT(refused.stderr_text,
                AllOf(HasSubstr("logDir"), HasSubstr("read-write")))
        << flags.back();
  }
}

// A file bind of a protected path or a control file is a read-write view
// of it too: read-only there.
TEST_P(EscapeTest, FileBindsOfProtectedAndControlFilesStayReadOnly) {
  std::ofstream(Path("wt/.envrc")) << "export SAFE=1\n";
  ASSERT_EQ(chown(Path("wt/.envrc").c_str(), uid(), gid()), 0);
  std::ofstream(Path("filter")) << "^example\\.com$\n";
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult result,
      RunCell({"--protect=@defaults", "--filter=filter",
               absl::StrCat("--bind=", Path("wt/.envrc"), ":/mnt/envrc"),
               absl::StrCat("--bind=", Path("filter"), ":/mnt/filter")},
              {"/bin/sh", "-c",
               "(echo evil >> /mnt/envrc) 2>/dev/null && echo envrc; "
               "(echo '.*' >> /mnt/filter) 2>/dev/null && echo filter; "
               "echo ran"}));
  EXPECT_EQ(result.stdout_text, "ran\n") << result.stderr_text;
  EXPECT_EQ(ReadHostFile(Path("wt/.envrc")), "export SAFE=1\n");
  EXPECT_EQ(ReadHostFile(Path("filter")), "^example\\.com$\n");
}

// The worktree reached through a host bind mount (another name for the
// same directory): the filter and spec under the other name are still
// read-only inside.
TEST_P(EscapeTest, ControlFilesBehindAHostBindMountStayReadOnly) {
  ASSERT_EQ(mkdir(Path("real").c_str(), 0755), 0);
  ASSERT_EQ(chown(Path("real").c_str(), uid(), gid()), 0);
  std::ofstream(Path("real/filter")) << "^example\\.com$\n";
  ASSERT_EQ(mkdir(Path("alias").c_str(), 0755), 0);
  ASSERT_EQ(mount(Path("real").c_str(), Path("alias").c_str(), nullptr, MS_BIND,
                  nullptr),
            0);
  absl::StatusOr<SubprocessResult> result =
      RunCell({absl::StrCat("--worktree=", Path("alias")),
               absl::StrCat("--filter=", Path("real/filter"))},
              {"/bin/sh", "-c",
               "(echo '.*' >> filter) 2>/dev/null && echo filter; echo ran"});
  umount2(Path("alias").c_str(), MNT_DETACH);
  ASSERT_OK(result.status());
  EXPECT_EQ(result->stdout_text, "ran\n") << result->stderr_text;
  EXPECT_EQ(ReadHostFile(Path("real/filter")), "^example\\.com$\n");
}

INSTANTIATE_TEST_SUITE_P(Users, EscapeTest,
                         ::testing::Values(TestUser::kRoot, TestUser::kNobody),
                         TestUserName);

}  // namespace
}  // namespace cell::testing

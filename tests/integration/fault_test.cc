// Faults and hostile input, end to end: real cells from the built `cell`
// binary, as root and as uid 65534. Whatever goes wrong must end in a clear
// one-line error or the command's own status, never a crash, a half-built
// jail, or anything left behind ($JD, processes).
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
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

class FaultTest : public CellFixture {
 protected:
  // `cell run` with `flags` must refuse to start: exit 125, one line that
  // contains `message`, no new $JD left.
  void ExpectRefused(const std::vector<std::string>& flags,
                     const std::string& message) {
    const std::vector<std::string> before = JobDirs();
    ASSERT_OK_AND_ASSIGN(SubprocessResult result,
                         RunCell(flags, {"sh", "-c", "echo RAN"}));
    EXPECT_THAT(result.exit_code, Optional(125)) << result.stderr_text;
    EXPECT_THAT(result.stderr_text,
                AllOf(HasSubstr(message), Not(HasSubstr("\n\n"))));
    EXPECT_THAT(result.stdout_text, Not(HasSubstr("RAN")));
    EXPECT_EQ(JobDirs(), before);
  }

  // `cell check-spec` on `text` must exit 2 with `message`.
  void ExpectSpecRefused(const std::string& text, const std::string& message) {
    std::ofstream(Path("hostile.json"), std::ios::binary) << text;
    ASSERT_OK_AND_ASSIGN(
        SubprocessResult result,
        RunSubprocess(CellArgv({"check-spec", "--spec=hostile.json"}),
                      Options()));
    EXPECT_THAT(result.exit_code, Optional(2)) << result.stderr_text;
    EXPECT_THAT(result.stderr_text, HasSubstr(message));
  }
};

TEST_P(FaultTest, ReadWriteBindsOfRunDirectoriesAreRefused) {
  // $TMPDIR holds every $JD: binding it read-write, or anything above it,
  // would let the cell rewrite the proxy's state and audit log.
  ExpectRefused({absl::StrCat("--bind=", CellTmpDir(), ":/t")},
                "private run directories");
  ExpectRefused({absl::StrCat("--bind=", Path(""), ":/t")},
                "private run directories");
  // Another cell's $JD (here a left-over one) by name.
  ASSERT_EQ(mkdir(Path("tmp/cell-jd.other").c_str(), 0700), 0);
  ASSERT_EQ(chown(Path("tmp/cell-jd.other").c_str(), uid(), gid()), 0);
  ExpectRefused({"--bind=tmp/cell-jd.other:/t"}, "point TMPDIR at");
  ASSERT_EQ(mkdir(Path("tmp/cell-jd.other/root").c_str(), 0700), 0);
  ASSERT_EQ(chown(Path("tmp/cell-jd.other/root").c_str(), uid(), gid()), 0);
  ExpectRefused({"--bind=tmp/cell-jd.other/root:/t"}, "point TMPDIR at");
  ASSERT_EQ(rmdir(Path("tmp/cell-jd.other/root").c_str()), 0);
  ASSERT_EQ(rmdir(Path("tmp/cell-jd.other").c_str()), 0);
  // Read-only, or a sibling of $TMPDIR, is fine.
  for (const std::string& flag :
       {absl::StrCat("--ro-bind=", CellTmpDir(), ":/t"),
        std::string("--bind=store:/t")}) {
    ASSERT_OK_AND_ASSIGN(SubprocessResult allowed, RunCell({flag}, {"true"}));
    EXPECT_THAT(allowed.exit_code, Optional(0)) << allowed.stderr_text;
  }
}

TEST_P(FaultTest, HostileFiltersAreRefused) {
  ASSERT_EQ(mkfifo(Path("fifo").c_str(), 0644), 0);
  // A FIFO would block the launcher forever on open; /dev/zero never ends.
  ExpectRefused({"--network=proxy", "--filter=fifo"}, "not a regular file");
  ExpectRefused({"--network=proxy", "--filter=/dev/zero"},
                "not a regular file");
  std::ofstream(Path("nested")) << "(((a{0,100}){0,100}){0,100}){0,100}\n";
  ExpectRefused({"--network=proxy", "--filter=nested"}, "nested repetitions");
  // check-spec says so too, before anything runs.
  ASSERT_OK_AND_ASSIGN(SubprocessResult check,
                       RunSubprocess(CellArgv({"check-spec", "--worktree=wt",
                                               "--no-nix", "--filter=nested"}),
                                     Options()));
  EXPECT_THAT(check.exit_code, Optional(2));
  EXPECT_THAT(check.stderr_text, HasSubstr("nested repetitions"));
}

TEST_P(FaultTest, HostileSpecsAreRefused) {
  ExpectSpecRefused(std::string(100 << 20, ' '), "the limit is");
  ExpectSpecRefused(std::string(100000, '['), "nesting deeper than");
  ExpectSpecRefused(
      R"({"version":1,"worktreePath":"wt\u0000/x","command":["true"]})",
      "NUL byte");
  ExpectSpecRefused("{\"version\":1,\"worktreePath\":\"wt\xff\"}", "UTF-8");
  ASSERT_EQ(symlink("/", Path("root-link").c_str()), 0);
  ExpectRefused({"--worktree=root-link"}, "is a symlink");
  ExpectRefused({"--worktree=/"}, "host's root");
  ExpectRefused({"--bind=store:/home/cell/../../etc"}, "contains `..`");
}

TEST_P(FaultTest, WorktreeRemovedBeforeLaunch) {
  ASSERT_EQ(rmdir(Path("wt").c_str()), 0);
  ExpectRefused({}, "wt");
}

TEST_P(FaultTest, TooFewFileDescriptorsIsAClearError) {
  for (const char* limit : {"--nofile=8", "--nofile=12"}) {
    std::vector<std::string> argv = {"prlimit", limit};
    for (const std::string& arg : RunArgv({}, {"true"})) argv.push_back(arg);
    ASSERT_OK_AND_ASSIGN(SubprocessResult result,
                         RunSubprocess(argv, Options()));
    EXPECT_THAT(result.exit_code, Optional(125)) << limit;
    EXPECT_THAT(result.stderr_text, HasSubstr("EMFILE")) << limit;
    EXPECT_THAT(JobDirs(), IsEmpty()) << limit;
  }
}

TEST_P(FaultTest, FullTmpdirIsAClearError) {
  // A 1-page tmpfs, filled up, as $TMPDIR (mounted by the test, which runs
  // as root, for either user).
  ASSERT_EQ(mount("tmpfs", CellTmpDir().c_str(), "tmpfs", 0,
                  "size=4k,nr_inodes=2,mode=1777"),
            0);
  std::ofstream(absl::StrCat(CellTmpDir(), "/fill")) << std::string(8192, 'x');
  ASSERT_OK_AND_ASSIGN(SubprocessResult result, RunCell({}, {"true"}));
  umount2(CellTmpDir().c_str(), MNT_DETACH);
  EXPECT_THAT(result.exit_code, Optional(125));
  EXPECT_THAT(result.stderr_text, HasSubstr("set TMPDIR"));
}

TEST_P(FaultTest, DaemonGoneWhileRunningIsTheClientsErrorOnly) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<NixDaemon> daemon,
                       NixDaemon::Start(Path("nix")));
  const std::string socket = daemon->socket_dir() + "/socket";
  nlohmann::json started;
  std::vector<std::string> flags = UntrustedUserFlags();
  flags.push_back(absl::StrCat("--nix-store=", daemon->store_dir()));
  flags.push_back(absl::StrCat("--nix-daemon-socket=", daemon->socket_dir()));
  ASSERT_OK_AND_ASSIGN(
      Subprocess cell,
      StartCellAndWait(
          flags,
          {"sh", "-c",
           "nix store ping --store \"$NIX_REMOTE\" >/dev/null 2>&1 "
           "&& echo first=ok; touch ready; "
           "while [ ! -e go ]; do sleep 0.01; done; "
           "nix store ping --store \"$NIX_REMOTE\" 2>err; echo second=$?; "
           "test -e /run/nix/socket || echo socket-gone"},
          &started));
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (access(Path("wt/ready").c_str(), F_OK) != 0) {
    ASSERT_LT(absl::Now(), deadline) << "the first ping never finished";
    absl::SleepFor(absl::Milliseconds(10));
  }
  // The daemon stops and its socket goes, as on a host upgrade.
  daemon.reset();
  unlink(socket.c_str());
  std::ofstream(Path("wt/go")) << "";
  ASSERT_OK_AND_ASSIGN(SubprocessResult result, cell.Wait());
  EXPECT_THAT(result.exit_code, Optional(0)) << result.stderr_text;
  EXPECT_THAT(result.stdout_text,
              AllOf(HasSubstr("first=ok\n"), HasSubstr("second=1\n"),
                    HasSubstr("socket-gone\n")));
  std::ifstream err(Path("wt/err"));
  const std::string message((std::istreambuf_iterator<char>(err)),
                            std::istreambuf_iterator<char>());
  EXPECT_THAT(message, HasSubstr("/run/nix/socket")) << message;
  EXPECT_THAT(JobDirs(), IsEmpty());
}

TEST_P(FaultTest, ClosedStdioStillRunsTheCommand) {
  std::vector<std::string> argv = {"sh", "-c", "exec \"$@\" <&- >&- 2>&-",
                                   "sh"};
  for (const std::string& arg :
       RunArgv({}, {"sh", "-c", "echo lost; touch ran; exit 3"})) {
    argv.push_back(arg);
  }
  ASSERT_OK_AND_ASSIGN(SubprocessResult result, RunSubprocess(argv, Options()));
  EXPECT_THAT(result.exit_code, Optional(3));
  EXPECT_EQ(access(Path("wt/ran").c_str(), F_OK), 0);
  EXPECT_THAT(JobDirs(), IsEmpty());
}

TEST_P(FaultTest, ProcessTreeDiesWithAPidNamespaceOnly) {
  // The command leaves a daemon behind and exits. Without a PID namespace
  // (the documented unsafe default, SECURITY.md) the daemon outlives the
  // cell; with one, the kernel kills it with the namespace's init.
  for (const bool pid_namespace : {false, true}) {
    std::vector<std::string> flags;
    if (pid_namespace) flags.push_back("--pid-namespace");
    ASSERT_OK_AND_ASSIGN(
        SubprocessResult result,
        RunCell(flags, {"sh", "-c",
                        "setsid sleep 300 </dev/null >/dev/null 2>&1 & "
                        "exit 0"}));
    EXPECT_THAT(result.exit_code, Optional(0)) << result.stderr_text;
    ASSERT_OK_AND_ASSIGN(
        SubprocessResult pgrep,
        RunSubprocess({"pgrep", "-x", "-f", "sleep 300"}, Options()));
    if (pid_namespace) {
      EXPECT_THAT(pgrep.stdout_text, IsEmpty()) << "it outlived the cell";
    } else {
      EXPECT_THAT(pgrep.stdout_text, Not(IsEmpty()))
          << "the documented cell no longer leaves it: update SECURITY.md";
      RunSubprocess({"pkill", "-x", "-f", "sleep 300"}, Options())
          .IgnoreError();
    }
  }
}

// The cell uses up its user's process limit, then makes a proxy request.
// A launcher of the same user has no thread left for it: the request gets
// 503 and an audit line, and the launcher goes on (it used to die of an
// uncaught std::system_error, leaving $JD and no `exited` line). A root
// launcher (the cell run as nobody) is not limited and serves it.
TEST_P(FaultTest, TheProcessLimitNeverEndsTheLauncher) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<HttpServer> server, HttpServer::Start());
  ASSERT_EQ(mkdir(Path("logs").c_str(), 0755), 0);
  ASSERT_EQ(chown(Path("logs").c_str(), uid(), gid()), 0);
  // The server is on host loopback: a line naming the address.
  std::ofstream(Path("loopback-filter")) << "^127\\.0\\.0\\.1$\n";
  std::vector<std::string> flags = UntrustedUserFlags();
  // A PID namespace ends the sleepers with the command.
  flags.insert(flags.end(),
               {"--no-nix", "--network=proxy", "--log-dir=logs",
                "--pid-namespace", "--filter=loopback-filter",
                absl::StrCat("--status-file=", Path("tmp/status.jsonl"))});
  const std::string url =
      absl::StrCat("http://127.0.0.1:", server->port(), "/hello");
  // Fill the limit, free one slot, ask through the proxy in it.
  InstallHelper("fill_process_limit");
  std::vector<std::string> argv = RunArgv(
      flags, {"./fill_process_limit", "/usr/bin/curl", "-s", "--noproxy", "",
              "-o", "/dev/null", "-w", "status %{http_code}\n", url});
  // The launcher and the cell under one limit of the cell's user: room for
  // the launcher's own start and the cell's first processes.
  argv.insert(argv.begin(), {"/usr/bin/prlimit", "--nproc=100:100"});
  ASSERT_OK_AND_ASSIGN(SubprocessResult result, RunSubprocess(argv, Options()));
  EXPECT_THAT(result.exit_code, Optional(0)) << result.stderr_text;
  const std::string expected =
      GetParam() == TestUser::kRoot ? "status 200\n" : "status 503\n";
  EXPECT_THAT(result.stdout_text, HasSubstr(expected))
      << ReadHostFile(Path("logs/proxy-audit.jsonl"));
  EXPECT_THAT(result.stderr_text, HasSubstr("forked "));
  // The launcher finished its job: `exited`, $JD gone, nothing left.
  EXPECT_TRUE(ExitedCode(Path("tmp/status.jsonl")).has_value());
  EXPECT_THAT(JobDirs(), IsEmpty());
  if (GetParam() != TestUser::kRoot) {
    EXPECT_THAT(ReadHostFile(Path("logs/proxy-audit.jsonl")),
                HasSubstr("\"status\":503"));
  }
}

// The launcher with few descriptors (what a cell holding many tunnels
// leads to): connections beyond them get 503 and an audit line, and none
// ends the launcher. Afterwards a request still works, and the run ends as
// always: `exited`, $JD removed, an audit log of whole records.
TEST_P(FaultTest, RunningOutOfDescriptorsNeverEndsTheLauncher) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<HttpServer> server, HttpServer::Start());
  ASSERT_EQ(mkdir(Path("logs").c_str(), 0755), 0);
  ASSERT_EQ(chown(Path("logs").c_str(), uid(), gid()), 0);
  std::ofstream(Path("loopback-filter")) << "^127\\.0\\.0\\.1$\n";
  std::vector<std::string> flags = UntrustedUserFlags();
  flags.insert(flags.end(),
               {"--no-nix", "--network=proxy", "--log-dir=logs",
                "--filter=loopback-filter",
                absl::StrCat("--status-file=", Path("tmp/status.jsonl"))});
  const std::string base = absl::StrCat("http://127.0.0.1:", server->port());
  // 24 slow tunnels at once (each holds a client socket, an upstream socket
  // and two pipes in the launcher), then one quick request.
  const std::string script = absl::StrCat(
      "seq 24 | xargs -P 24 -I{} curl -s -p --noproxy '' --max-time 3 "
      "--limit-rate 200k -o /dev/null -w '%{http_connect}\\n' ",
      base,
      "/zeros/100000000 | sort | uniq -c >&2; "
      "curl -s -p --noproxy '' --max-time 10 -w '\\nfinal %{http_code}\\n' ",
      base, "/hello");
  std::vector<std::string> argv = RunArgv(flags, {"/bin/sh", "-c", script});
  argv.insert(argv.begin(), {"/usr/bin/prlimit", "--nofile=48:48"});
  ASSERT_OK_AND_ASSIGN(SubprocessResult result, RunSubprocess(argv, Options()));
  EXPECT_THAT(result.exit_code, Optional(0)) << result.stderr_text;
  EXPECT_THAT(result.stdout_text,
              AllOf(HasSubstr(kHelloBody), HasSubstr("final 200")))
      << result.stderr_text;
  EXPECT_TRUE(ExitedCode(Path("tmp/status.jsonl")).has_value());
  EXPECT_THAT(JobDirs(), IsEmpty());
  EXPECT_THAT(ReadAuditLog(Path("logs/proxy-audit.jsonl")), Not(IsEmpty()));
  EXPECT_THAT(result.stderr_text, HasSubstr(" 503"));
  EXPECT_THAT(ReadHostFile(Path("logs/proxy-audit.jsonl")),
              AllOf(HasSubstr("\"status\":503"), HasSubstr("no descriptor")));
}

// A process in the cell ptrace-attaches the command and never waits for
// it (the kernel then hides the command's exit from its parent): the
// launcher must still see the command end, write `exited` with its
// status, and remove $JD, while the tracer lives on (without a PID
// namespace; with one it dies with the init). Attaching the cell's init
// (to stop it, or to make it exit with a forged status) is refused.
TEST_P(FaultTest, ATracerCannotHoldTheLauncher) {
  InstallHelper("ptrace_hold");
  // The command seized in the host's PID namespace and in its own; the
  // cell's init attached (which would stop it, or let the command make it
  // exit with any status): refused, the init is sealed.
  struct Case {
    bool pid_namespace;
    std::string mode;
    int exit_code;  // 7: the command's own; 4: the helper could not attach.
  };
  const std::vector<Case> cases = {{false, "command", 7},
                                   {true, "command", 7},
                                   {true, "init-detach", 4},
                                   {true, "init-hold", 4}};
  for (const Case& c : cases) {
    SCOPED_TRACE(
        absl::StrCat(c.pid_namespace ? "PID namespace, " : "", c.mode));
    std::vector<std::string> flags = UntrustedUserFlags();
    flags.insert(flags.end(),
                 {"--no-nix", "--network=none",
                  absl::StrCat("--status-file=", Path("tmp/status.jsonl"))});
    if (c.pid_namespace) flags.push_back("--pid-namespace");
    SubprocessOptions options = Options();
    // Held, the launcher would wait as long as the tracer: a minute.
    options.timeout = absl::Seconds(20);
    ASSERT_OK_AND_ASSIGN(
        SubprocessResult result,
        RunSubprocess(RunArgv(flags, {"./ptrace_hold", c.mode}), options));
    EXPECT_THAT(result.exit_code, Optional(c.exit_code)) << result.stderr_text;
    if (c.exit_code == 4) {
      EXPECT_THAT(result.stderr_text, HasSubstr("Operation not permitted"));
    } else {
      EXPECT_THAT(result.stdout_text, HasSubstr("tracer "));
    }
    EXPECT_THAT(ExitedCode(Path("tmp/status.jsonl")), Optional(c.exit_code));
    EXPECT_THAT(JobDirs(), IsEmpty());
    int tracer = 0;
    if (!c.pid_namespace &&
        sscanf(result.stdout_text.c_str(), "tracer %d", &tracer) == 1 &&
        tracer > 0) {
      kill(tracer, SIGKILL);  // A documented cell's leftover.
    }
  }
}

// The same tracer, after holding 60 idle connections to the proxy of a
// launcher limited to 64 descriptors: the launcher has none left to read
// the command's status with when it needs it, so it opened what it needs
// beforehand. The command's own 7, not 125.
TEST_P(FaultTest, ATracerAndNoDescriptorsStillGiveTheRealStatus) {
  InstallHelper("ptrace_hold");
  std::vector<std::string> flags = UntrustedUserFlags();
  flags.insert(flags.end(), {"--no-nix", "--network=proxy"});
  std::vector<std::string> argv =
      RunArgv(flags, {"./ptrace_hold", "command", "60"});
  argv.insert(argv.begin(), {"/usr/bin/prlimit", "--nofile=64:64"});
  SubprocessOptions options = Options();
  options.timeout = absl::Seconds(20);
  ASSERT_OK_AND_ASSIGN(SubprocessResult result, RunSubprocess(argv, options));
  EXPECT_THAT(result.exit_code, Optional(7)) << result.stderr_text;
  int tracer = 0;
  if (sscanf(result.stdout_text.c_str(), "tracer %d", &tracer) == 1 &&
      tracer > 0) {
    kill(tracer, SIGKILL);
  }
  EXPECT_THAT(JobDirs(), IsEmpty());
}

// A command that stopped itself keeps SIGTERM pending: the launcher (and
// the init) send SIGCONT after it, so `kill` of the launcher ends the run
// as it ends a running one: the command dies of the signal, `exited`, no
// $JD.
TEST_P(FaultTest, AStoppedCommandStillEndsOnSigterm) {
  for (const bool pid_namespace : {false, true}) {
    SCOPED_TRACE(pid_namespace ? "PID namespace" : "host PID namespace");
    std::vector<std::string> flags = {
        absl::StrCat("--status-file=", Path("tmp/status.jsonl"))};
    if (pid_namespace) flags.push_back("--pid-namespace");
    nlohmann::json started;
    ASSERT_OK_AND_ASSIGN(
        Subprocess cell,
        StartCellAndWait(flags, {"sh", "-c", "kill -STOP $$; exit 5"},
                         &started));
    absl::SleepFor(absl::Milliseconds(200));  // Stopped by now.
    kill(cell.pid(), SIGTERM);
    ASSERT_OK_AND_ASSIGN(SubprocessResult result, cell.Wait());
    // The command died of the SIGTERM the launcher got: after its cleanup
    // the launcher dies of it too, as shells do; the status file says
    // 128+N.
    EXPECT_THAT(result.signal, Optional(SIGTERM)) << result.stderr_text;
    EXPECT_THAT(ExitedCode(Path("tmp/status.jsonl")), Optional(128 + SIGTERM));
    EXPECT_THAT(JobDirs(), IsEmpty());
  }
}

// A caller that ignores SIGCHLD (the disposition survives exec) would
// have the kernel reap the child behind the launcher's back, and every
// command would read as exit 0.
TEST_P(FaultTest, AnIgnoredSigchldDoesNotHideTheStatus) {
  std::vector<std::string> argv = RunArgv({}, {"sh", "-c", "exit 7"});
  argv.insert(argv.begin(), {"/usr/bin/env", "--ignore-signal=CHLD"});
  ASSERT_OK_AND_ASSIGN(SubprocessResult result, RunSubprocess(argv, Options()));
  EXPECT_THAT(result.exit_code, Optional(7)) << result.stderr_text;
}

TEST_P(FaultTest, FiftyConcurrentCellsWithTheirOwnProxies) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<HttpServer> server, HttpServer::Start());
  const std::string url =
      absl::StrCat("http://127.0.0.1:", server->port(), "/hello");
  // The server is on host loopback: a line naming the address lets the
  // builtin engine connect to it.
  std::ofstream(Path("loopback-filter")) << "^127\\.0\\.0\\.1$\n";
  std::vector<Subprocess> cells;
  for (int i = 0; i < 50; ++i) {
    // Alternate engines: 25 tinyproxy processes and 25 builtin engines.
    ASSERT_OK_AND_ASSIGN(
        Subprocess cell,
        StartCell({"--network=proxy", "--filter=loopback-filter",
                   i % 2 == 0 ? "--engine=builtin" : "--engine=tinyproxy"},
                  {"curl", "-sf", "--noproxy", "", url}));
    cells.push_back(std::move(cell));
  }
  int ok = 0;
  for (Subprocess& cell : cells) {
    ASSERT_OK_AND_ASSIGN(SubprocessResult result, cell.Wait());
    EXPECT_THAT(result.exit_code, Optional(0)) << result.stderr_text;
    if (result.stdout_text == kHelloBody) ++ok;
  }
  EXPECT_EQ(ok, 50);
  EXPECT_EQ(server->requests(), 50);
  EXPECT_THAT(JobDirs(), IsEmpty());
  ASSERT_OK_AND_ASSIGN(SubprocessResult pgrep,
                       RunSubprocess({"pgrep", "-f", CellTmpDir()}, Options()));
  EXPECT_THAT(pgrep.stdout_text, IsEmpty()) << "a proxy outlived its cell";
}

INSTANTIATE_TEST_SUITE_P(Users, FaultTest,
                         ::testing::Values(TestUser::kRoot, TestUser::kNobody),
                         TestUserName);

}  // namespace
}  // namespace cell::testing

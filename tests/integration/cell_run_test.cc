// Integration: real cells from the built `cell` binary, as root and as an
// unprivileged user, checked from inside with ordinary commands.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/loopback.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/cell_fixture.h"
#include "testing/status_matchers.h"

namespace cell::testing {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::Optional;
using ::testing::UnorderedElementsAreArray;

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(absl::StripTrailingAsciiWhitespace(text), '\n',
                        absl::SkipEmpty());
}

// Every capability this kernel knows, as /proc/PID/status prints it.
std::string FullCapabilityMask() {
  const int last = std::stoi(ReadHostFile("/proc/sys/kernel/cap_last_cap"));
  const unsigned long long mask = (1ULL << (last + 1)) - 1;
  char text[32];
  std::snprintf(text, sizeof(text), "%016llx", mask);
  return text;
}

class CellRunTest : public CellFixture {};

#define ASSERT_RUN(result, flags, ...) \
  ASSERT_OK_AND_ASSIGN(SubprocessResult result, RunCell(flags, __VA_ARGS__))

TEST_P(CellRunTest, IdentityIsMappedOneToOne) {
  ASSERT_RUN(result, {}, {"sh", "-c", "id -u; id -g; cat /proc/self/uid_map"});
  EXPECT_THAT(result.exit_code, Optional(0)) << result.stderr_text;
  const std::vector<std::string> lines = Lines(result.stdout_text);
  ASSERT_EQ(lines.size(), 3) << result.stdout_text;
  EXPECT_EQ(lines[0], std::to_string(uid()));
  EXPECT_EQ(lines[1], std::to_string(gid()));
  EXPECT_THAT(lines[2], HasSubstr(absl::StrCat(uid(), " ")));
  EXPECT_EQ(std::vector<std::string>(
                absl::StrSplit(lines[2], ' ', absl::SkipEmpty())),
            (std::vector<std::string>{std::to_string(uid()),
                                      std::to_string(uid()), "1"}));
}

TEST_P(CellRunTest, FullCapabilitiesThatWork) {
  ASSERT_RUN(result, {},
             {"sh", "-c",
              "grep CapEff /proc/self/status; "
              "mount -t tmpfs none /tmp && touch /tmp/x && echo mounted"});
  EXPECT_THAT(result.exit_code, Optional(0)) << result.stderr_text;
  EXPECT_THAT(result.stdout_text,
              AllOf(HasSubstr(FullCapabilityMask()), HasSubstr("mounted")));
}

TEST_P(CellRunTest, CapabilitiesNoneDropsThem) {
  ASSERT_RUN(result, {"--capabilities=none"},
             {"sh", "-c",
              "grep -E 'Cap(Eff|Bnd|Amb)' /proc/self/status; "
              "grep NoNewPrivs /proc/self/status; "
              "mount -t tmpfs none /tmp 2>/dev/null && echo mounted || "
              "echo refused"});
  EXPECT_THAT(result.exit_code, Optional(0)) << result.stderr_text;
  EXPECT_THAT(result.stdout_text,
              AllOf(HasSubstr("CapEff:\t0000000000000000"),
                    HasSubstr("CapBnd:\t0000000000000000"),
                    HasSubstr("NoNewPrivs:\t1"), Not(HasSubstr("mounted"))));
}

TEST_P(CellRunTest, HostPidNamespaceIsSharedByDefault) {
  const std::string host_pid1 = ReadHostFile("/proc/1/comm");
  ASSERT_FALSE(host_pid1.empty());
  const std::string host_ipc = ReadHostFile("/proc/self/ns/ipc");
  char link[256] = {};
  ASSERT_GT(readlink("/proc/self/ns/ipc", link, sizeof(link) - 1), 0);
  ASSERT_RUN(result, {},
             {"sh", "-c", "cat /proc/1/comm; readlink /proc/self/ns/ipc"});
  EXPECT_THAT(result.exit_code, Optional(0)) << result.stderr_text;
  EXPECT_EQ(result.stdout_text, absl::StrCat(host_pid1, link, "\n"));
}

TEST_P(CellRunTest, PidAndIpcNamespacesOnRequest) {
  char link[256] = {};
  ASSERT_GT(readlink("/proc/self/ns/ipc", link, sizeof(link) - 1), 0);
  ASSERT_RUN(result, {"--pid-namespace", "--ipc-namespace"},
             {"sh", "-c",
              "echo $$; cat /proc/1/comm; ls /proc | grep -c '^[0-9]'; "
              "readlink /proc/self/ns/ipc"});
  EXPECT_THAT(result.exit_code, Optional(0)) << result.stderr_text;
  const std::vector<std::string> lines = Lines(result.stdout_text);
  ASSERT_EQ(lines.size(), 4) << result.stdout_text;
  EXPECT_EQ(lines[0], "2");           // The command, under the cell's init.
  EXPECT_EQ(lines[1], "cell");        // PID 1 is the cell's init.
  EXPECT_LE(std::stoi(lines[2]), 5);  // init, sh, ls, grep.
  EXPECT_NE(lines[3], link);
}

TEST_P(CellRunTest, OnlyLoopbackAndNoRoutes) {
  // A service on the host's loopback must not be reachable from inside.
  ASSERT_OK_AND_ASSIGN(auto listening, ListenOnLoopback(4));
  const auto [listener, port] = listening;
  ASSERT_RUN(result, {},
             {"bash", "-c",
              absl::StrCat("tail -n +3 /proc/net/dev | cut -d: -f1; "
                           "echo routes; tail -n +2 /proc/net/route; "
                           "cat /proc/net/ipv6_route; echo end; "
                           "(exec 3<>/dev/tcp/127.0.0.1/",
                           port, ") 2>&1 || echo refused")});
  close(listener);
  EXPECT_THAT(result.exit_code, Optional(0)) << result.stderr_text;
  std::vector<std::string> lines = Lines(result.stdout_text);
  for (std::string& line : lines)
    line = std::string(absl::StripAsciiWhitespace(line));
  ASSERT_GE(lines.size(), 4) << result.stdout_text;
  EXPECT_EQ(lines[0], "lo");
  EXPECT_EQ(lines[1], "routes");
  // IPv6 loopback routes are kernel-local; no IPv4 route at all.
  size_t i = 2;
  while (i < lines.size() && lines[i] != "end") {
    EXPECT_THAT(lines[i], HasSubstr(" lo")) << "route not via lo: " << lines[i];
    ++i;
  }
  EXPECT_THAT(result.stdout_text, HasSubstr("refused"));
}

TEST_P(CellRunTest, StoreIsReadOnlyAndDaemonSocketIsThere) {
  ASSERT_RUN(result, {},
             {"sh", "-c",
              "cat /nix/store/hello; touch /nix/store/new 2>&1; "
              "test -S /run/nix/socket && echo socket; "
              "rm /run/nix/socket 2>&1; test -S /run/nix/socket && echo kept"});
  EXPECT_THAT(result.exit_code, Optional(0)) << result.stderr_text;
  EXPECT_THAT(
      result.stdout_text,
      AllOf(HasSubstr("from the store"), HasSubstr("Read-only file system"),
            HasSubstr("socket"), HasSubstr("kept")));
  struct stat info;
  EXPECT_NE(stat(Path("store/new").c_str(), &info), 0);
}

TEST_P(CellRunTest, ReadOnlyBindIsReadOnlyAllTheWayDown) {
  // The host's root brings its submounts along (/proc, /dev, /dev/shm, the
  // worktree's file system, ...); every one of them must be read-only.
  ASSERT_RUN(result, {"--ro-bind=/:/host"},
             {"sh", "-c",
              absl::StrCat("touch /host", Path("wt"), "/x 2>&1; ",
                           "cut -d' ' -f5,6 /proc/self/mountinfo | "
                           "grep '^/host' | cut -d' ' -f2 | cut -c1-2 | "
                           "sort | uniq -c")});
  EXPECT_THAT(result.exit_code, Optional(0)) << result.stderr_text;
  EXPECT_THAT(result.stdout_text, HasSubstr("Read-only file system"));
  EXPECT_THAT(result.stdout_text, Not(HasSubstr("rw")));
  EXPECT_THAT(result.stdout_text, ::testing::ContainsRegex("[0-9]+ ro"));
  struct stat info;
  EXPECT_NE(stat(Path("wt/x").c_str(), &info), 0);
}

TEST_P(CellRunTest, WorktreeIsTheWritableCwd) {
  ASSERT_RUN(result, {},
             {"sh", "-c", "pwd; echo written > out.txt; mkdir -p d/e"});
  EXPECT_THAT(result.exit_code, Optional(0)) << result.stderr_text;
  EXPECT_EQ(result.stdout_text, "/home/cell/worktree\n");
  EXPECT_EQ(ReadHostFile(Path("wt/out.txt")), "written\n");
  struct stat info;
  ASSERT_EQ(stat(Path("wt/d/e").c_str(), &info), 0);
  EXPECT_EQ(info.st_uid, uid());
}

TEST_P(CellRunTest, OnlyExplicitBindsAreVisible) {
  ASSERT_RUN(result, {},
             {"sh", "-c",
              "ls /; ls /home /etc; for p in /etc/shadow /root /var "
              "/home/cell/.. /sys /run/docker.sock; do test -e $p && echo "
              "visible $p; done; true"});
  EXPECT_THAT(result.exit_code, Optional(0)) << result.stderr_text;
  EXPECT_EQ(result.stdout_text,
            "bin\ndev\netc\nhome\nlib\nlib64\nnix\nproc\nrun\ntmp\nusr\n"
            "/etc:\ngroup\nhosts\npasswd\n\n/home:\ncell\n"
            "visible /home/cell/..\n");
}

TEST_P(CellRunTest, EnvironmentIsExactlyAsSpecified) {
  ASSERT_RUN(result, {"--env=EXTRA=1", "--env=TERM=dumb"}, {"/usr/bin/env"});
  EXPECT_THAT(result.exit_code, Optional(0)) << result.stderr_text;
  const std::string user = uid() == 0 ? "root" : "nobody";
  EXPECT_THAT(
      Lines(result.stdout_text),
      UnorderedElementsAreArray(std::vector<std::string>{
          "HOME=/home/cell", absl::StrCat("USER=", user), "PATH=/usr/bin:/bin",
          "NIX_CONFIG=experimental-features = nix-command flakes",
          "substitute = true", "NIX_REMOTE=unix:///run/nix/socket",
          "NIX_PATH=/home/cell/.nix-defexpr/channels", "EXTRA=1",
          "TERM=dumb"}));
}

TEST_P(CellRunTest, NoNixMeansNoStoreNoSocketNoVariables) {
  ASSERT_RUN(result, {"--no-nix"},
             {"sh", "-c", "ls /; env | grep -c NIX_; true"});
  EXPECT_THAT(result.exit_code, Optional(0)) << result.stderr_text;
  EXPECT_EQ(result.stdout_text,
            "bin\ndev\netc\nhome\nlib\nlib64\nproc\ntmp\nusr\n0\n");
}

TEST_P(CellRunTest, ExitStatusRules) {
  ASSERT_RUN(ok, {}, {"true"});
  EXPECT_THAT(ok.exit_code, Optional(0));
  ASSERT_RUN(three, {}, {"sh", "-c", "exit 3"});
  EXPECT_THAT(three.exit_code, Optional(3));
  ASSERT_RUN(signalled, {}, {"sh", "-c", "kill -USR1 $$"});
  EXPECT_THAT(signalled.exit_code, Optional(128 + SIGUSR1));
  ASSERT_RUN(missing, {}, {"no-such-command"});
  EXPECT_THAT(missing.exit_code, Optional(127));
  EXPECT_THAT(missing.stderr_text,
              AllOf(HasSubstr("'no-such-command' not found"),
                    HasSubstr("PATH=/usr/bin:/bin")));
  ASSERT_RUN(not_executable, {}, {"/etc/passwd"});
  EXPECT_THAT(not_executable.exit_code, Optional(126));
  EXPECT_THAT(not_executable.stderr_text, HasSubstr("EACCES"));
  ASSERT_RUN(bad_mount, {"--ro-bind=/nonexistent-path"}, {"true"});
  EXPECT_THAT(bad_mount.exit_code, Optional(125));
  EXPECT_THAT(bad_mount.stderr_text, AllOf(HasSubstr("mounts[4].src"),
                                           HasSubstr("/nonexistent-path")));
  EXPECT_EQ(std::count(bad_mount.stderr_text.begin(),
                       bad_mount.stderr_text.end(), '\n'),
            1);
  EXPECT_THAT(JobDirs(), IsEmpty());
}

// A command that exists inside the cell but whose interpreter does not
// fails as exec does (ENOENT, 127), and the launcher names what is missing
// instead of "not found": a real executable of the host copied into the
// worktree, in a cell with no /lib64, and scripts whose #! line names what
// the cell lacks.
TEST_P(CellRunTest, MissingInterpreterIsNamed) {
#if !defined(__x86_64__)
  GTEST_SKIP() << "expects the x86-64 ELF interpreter's path";
#endif
  constexpr char kLdSo[] = "/lib64/ld-linux-x86-64.so.2";
  if (access(kLdSo, X_OK) != 0) GTEST_SKIP() << "no " << kLdSo << " here";
  {
    std::ifstream in("/usr/bin/true", std::ios::binary);
    std::ofstream out(Path("wt/true-copy"), std::ios::binary);
    out << in.rdbuf();
  }
  ASSERT_EQ(chmod(Path("wt/true-copy").c_str(), 0755), 0);
  const std::vector<std::string> bare = {"run", "--worktree=wt", "--no-nix",
                                         "--network=none"};
  auto run = [&](std::vector<std::string> flags,
                 const std::vector<std::string>& command) {
    flags.insert(flags.begin(), bare.begin(), bare.end());
    flags.push_back("--");
    flags.insert(flags.end(), command.begin(), command.end());
    return RunSubprocess(CellArgv(flags), Options());
  };
  const std::string bind_hint =
      "; bind it (e.g. --ro-bind=/lib64, or the spec's `mounts`), or give "
      "the cell the host's userland with --preset=host\n";

  // Nothing bound: the copy is there, its ELF interpreter is not.
  ASSERT_OK_AND_ASSIGN(SubprocessResult copy, run({}, {"./true-copy"}));
  EXPECT_THAT(copy.exit_code, Optional(127));
  EXPECT_EQ(copy.stderr_text,
            absl::StrCat("cell: command './true-copy' exists inside the cell "
                         "but its ELF interpreter ",
                         kLdSo, " does not", bind_hint));

  // Found through PATH in a bound /usr, without /lib64.
  ASSERT_OK_AND_ASSIGN(SubprocessResult on_path,
                       run({"--ro-bind=/usr"}, {"true"}));
  EXPECT_THAT(on_path.exit_code, Optional(127));
  EXPECT_EQ(on_path.stderr_text,
            absl::StrCat("cell: command '/usr/bin/true' exists inside the "
                         "cell but its ELF interpreter ",
                         kLdSo, " does not", bind_hint));

  // A script whose interpreter is the copy: the missing file is named,
  // and what names it.
  std::ofstream(Path("wt/via-copy")) << "#!/home/cell/worktree/true-copy\n";
  ASSERT_EQ(chmod(Path("wt/via-copy").c_str(), 0755), 0);
  ASSERT_OK_AND_ASSIGN(SubprocessResult nested, run({}, {"./via-copy"}));
  EXPECT_THAT(nested.exit_code, Optional(127));
  EXPECT_EQ(nested.stderr_text,
            absl::StrCat("cell: command './via-copy' exists inside the cell "
                         "but the ELF interpreter ",
                         kLdSo,
                         " of its interpreter /home/cell/worktree/true-copy "
                         "does not",
                         bind_hint));

  // /lib64 bound but not /lib, where its loader links to (Debian's
  // layout): the link is there, its target is not.
  char target[256] = {};
  if (readlink(kLdSo, target, sizeof(target) - 1) > 0 &&
      absl::StartsWith(target, "/lib/")) {
    ASSERT_OK_AND_ASSIGN(SubprocessResult dangling,
                         run({"--ro-bind=/lib64"}, {"./true-copy"}));
    EXPECT_THAT(dangling.exit_code, Optional(127));
    EXPECT_EQ(dangling.stderr_text,
              absl::StrCat("cell: command './true-copy' exists inside the "
                           "cell but its ELF interpreter ",
                           kLdSo, " does not (a symlink to ", target,
                           ", which is missing inside the cell); bind its "
                           "target (e.g. --ro-bind=/lib, or the spec's "
                           "`mounts`), or give the cell the host's userland "
                           "with --preset=host\n"));
  }
}

TEST_P(CellRunTest, MissingScriptInterpreterIsNamed) {
  std::ofstream(Path("wt/script")) << "#!/nonexistent/interp -x\necho hi\n";
  std::ofstream(Path("wt/dos")) << "#!/bin/sh\r\necho hi\r\n";
  std::ofstream(Path("wt/env-script"))
      << "#!/usr/bin/env no-such-interpreter\n";
  for (const char* name : {"wt/script", "wt/dos", "wt/env-script"}) {
    ASSERT_EQ(chmod(Path(name).c_str(), 0755), 0);
  }
  ASSERT_RUN(script, {}, {"./script"});
  EXPECT_THAT(script.exit_code, Optional(127));
  EXPECT_EQ(script.stderr_text,
            "cell: command './script' exists inside the cell but its "
            "interpreter /nonexistent/interp (from its #! line) does not; "
            "bind it with --ro-bind or the spec's `mounts`, or correct the "
            "#! line\n");
  // DOS line endings: the carriage return shown, and the cause said.
  ASSERT_RUN(dos, {}, {"./dos"});
  EXPECT_THAT(dos.exit_code, Optional(127));
  EXPECT_EQ(dos.stderr_text,
            "cell: command './dos' exists inside the cell but its "
            "interpreter /bin/sh\\x0d (from its #! line) does not; its #! "
            "line ends in a carriage return (DOS line endings): convert the "
            "file, e.g. with dos2unix\n");
  // env exists and runs: its own message is the only one.
  ASSERT_RUN(env, {}, {"./env-script"});
  EXPECT_THAT(env.exit_code, Optional(127));
  EXPECT_THAT(env.stderr_text, HasSubstr("no-such-interpreter"));
  EXPECT_THAT(env.stderr_text, Not(HasSubstr("cell:")));
  // A command that is nowhere is still "not found", with the PATH.
  ASSERT_RUN(missing, {}, {"./no-such-file"});
  EXPECT_THAT(missing.exit_code, Optional(127));
  EXPECT_EQ(missing.stderr_text,
            "cell: command './no-such-file' not found inside the cell\n");
}

TEST_P(CellRunTest, StatusFileReportsStartAndExit) {
  const std::string status = Path("tmp/status.jsonl");
  ASSERT_RUN(result, {absl::StrCat("--status-file=", status)},
             {"sh", "-c", "exit 7"});
  EXPECT_THAT(result.exit_code, Optional(7));
  const std::vector<nlohmann::json> events = ReadEvents(status);
  ASSERT_EQ(events.size(), 2);
  EXPECT_EQ(events[0]["event"], "started");
  EXPECT_TRUE(events[0]["pid"].is_number_integer());
  EXPECT_EQ(events[0]["proxyPort"], nullptr);
  const std::string jd = events[0]["jd"];
  EXPECT_THAT(jd, HasSubstr(CellTmpDir() + "/cell-jd."));
  EXPECT_EQ(events[1],
            (nlohmann::json{
                {"event", "exited"}, {"exitCode", 7}, {"signal", nullptr}}));
  struct stat info;
  EXPECT_NE(stat(jd.c_str(), &info), 0) << jd << " left behind";
}

TEST_P(CellRunTest, SignalsAreForwardedAndJdRemoved) {
  for (const int signal_number : {SIGTERM, SIGINT, SIGHUP}) {
    nlohmann::json started;
    ASSERT_OK_AND_ASSIGN(
        Subprocess cell,
        StartCellAndWait({},
                         {"sh", "-c",
                          absl::StrCat("trap 'exit 42' ", signal_number,
                                       "; touch ready; while :; do sleep "
                                       "0.02; done")},
                         &started));
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    struct stat info;
    while (stat(Path("wt/ready").c_str(), &info) != 0 &&
           absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(5));
    }
    ASSERT_EQ(kill(cell.pid(), signal_number), 0);
    ASSERT_OK_AND_ASSIGN(SubprocessResult result, cell.Wait());
    EXPECT_THAT(result.exit_code, Optional(42))
        << "signal " << signal_number << ": " << result.stderr_text;
    EXPECT_THAT(JobDirs(), IsEmpty());
    unlink(Path("wt/ready").c_str());
  }
}

TEST_P(CellRunTest, KilledCommandStillCleansUp) {
  nlohmann::json started;
  ASSERT_OK_AND_ASSIGN(Subprocess cell,
                       StartCellAndWait({}, {"sleep", "60"}, &started));
  ASSERT_EQ(kill(started["pid"].get<pid_t>(), SIGKILL), 0);
  ASSERT_OK_AND_ASSIGN(SubprocessResult result, cell.Wait());
  EXPECT_THAT(result.exit_code, Optional(128 + SIGKILL));
  EXPECT_THAT(JobDirs(), IsEmpty());
}

TEST_P(CellRunTest, KilledLauncherTakesTheCommandAlongAndIsSweptLater) {
  nlohmann::json started;
  ASSERT_OK_AND_ASSIGN(Subprocess cell,
                       StartCellAndWait({}, {"sleep", "60"}, &started));
  const pid_t command = started["pid"].get<pid_t>();
  ASSERT_EQ(kill(cell.pid(), SIGKILL), 0);
  ASSERT_OK_AND_ASSIGN(SubprocessResult result, cell.Wait());
  EXPECT_THAT(result.signal, Optional(SIGKILL));
  EXPECT_TRUE(WaitForProcessGone(command, 10))
      << "orphaned command " << command;
  // The killed launcher could not remove its $JD; the next launch does.
  EXPECT_THAT(JobDirs(), ElementsAre(::testing::StartsWith("cell-jd.")));
  ASSERT_RUN(next, {}, {"true"});
  EXPECT_THAT(next.exit_code, Optional(0));
  EXPECT_THAT(JobDirs(), IsEmpty());
}

TEST_P(CellRunTest, SymlinkInWorktreeCannotRedirectAMount) {
  // An agent planted wt/escape -> the host's /tmp dir of this test; a spec
  // mount beneath it must fail instead of creating anything on the host.
  ASSERT_EQ(symlink(Path("tmp").c_str(), Path("wt/escape").c_str()), 0);
  ASSERT_RUN(result, {"--ro-bind=/usr:/home/cell/worktree/escape/planted"},
             {"true"});
  EXPECT_THAT(result.exit_code, Optional(125));
  EXPECT_THAT(result.stderr_text, HasSubstr("never follow symlinks"));
  struct stat info;
  EXPECT_NE(lstat(Path("tmp/planted").c_str(), &info), 0);
}

TEST_P(CellRunTest, InheritedDescriptorsDoNotReachTheCell) {
  // A directory fd the caller leaked to the launcher would let the command
  // openat() its way out of the mount namespace.
  const int leaked = open("/etc", O_RDONLY | O_DIRECTORY);  // No O_CLOEXEC.
  ASSERT_GE(leaked, 3);
  for (const char* isolation : {"--ipc-namespace", "--pid-namespace"}) {
    ASSERT_RUN(result, {isolation},
               {"sh", "-c",
                absl::StrCat("ls /proc/self/fd; ls /proc/$PPID/fd /proc/1/fd "
                             ">/dev/null 2>&1; ls /proc/self/fd/",
                             leaked, "/ 2>&1 | head -1")});
    EXPECT_THAT(result.exit_code, Optional(0)) << result.stderr_text;
    // 0-2, and 3: ls's own directory.
    EXPECT_THAT(result.stdout_text, ::testing::StartsWith("0\n1\n2\n3\nls: "));
    EXPECT_THAT(result.stdout_text, HasSubstr("No such file or directory"))
        << isolation;
  }
  // The init is sealed (non-dumpable, out of the command's ptrace reach):
  // the command cannot follow its descriptors.
  ASSERT_RUN(init, {"--pid-namespace"},
             {"sh", "-c", "readlink /proc/1/fd/0 || echo sealed"});
  EXPECT_EQ(init.stdout_text, "sealed\n");
  close(leaked);
}

// A launcher whose own /proc has a file already masked (a podman
// container's /proc/keys is a bind of /dev/null): the plan masks it, and
// so does the mask of that kernel submount of the /proc bind. Masking the
// mask made the empty file a mount point the launcher could not remove:
// "cannot mount the cell's root file system: EBUSY".
TEST_P(CellRunTest, APathMaskedTwiceStillLaunches) {
  std::vector<std::string> argv = {
      "/usr/bin/unshare",
      "-m",
      "/bin/sh",
      "-c",
      "mount --bind /dev/null /proc/keys && exec \"$@\"",
      "sh"};
  for (const std::string& word :
       RunArgv({}, {"/bin/sh", "-c", "echo hi; wc -c < /proc/keys"})) {
    argv.push_back(word);
  }
  ASSERT_OK_AND_ASSIGN(SubprocessResult run, RunSubprocess(argv, Options()));
  EXPECT_THAT(run.exit_code, Optional(0)) << run.stderr_text;
  EXPECT_EQ(run.stdout_text, "hi\n0\n");
}

// No user namespace to be had (user.max_user_namespaces at 0, here in a
// user namespace of the test's own, as a container's limit would be): the
// launcher names the sysctl, not a generic guess.
TEST_P(CellRunTest, NoUserNamespacesLeftNamesTheSysctl) {
  std::vector<std::string> args = {
      "/usr/bin/unshare",
      "-U",
      "-r",
      "/bin/sh",
      "-c",
      "echo 0 > /proc/sys/user/max_user_namespaces && exec \"$@\"",
      "sh",
      cell_,
      "run",
      "--worktree=wt",
      "--no-nix",
      "--network=none",
      "--",
      "true"};
  ASSERT_OK_AND_ASSIGN(SubprocessResult run,
                       RunSubprocess(AsTestUser(args), Options()));
  EXPECT_THAT(run.exit_code, Optional(125));
  EXPECT_THAT(run.stderr_text,
              HasSubstr("(clone): ENOSPC (No space left on device); "
                        "user.max_user_namespaces is 0 here"));
}

INSTANTIATE_TEST_SUITE_P(Users, CellRunTest,
                         ::testing::Values(TestUser::kRoot, TestUser::kNobody),
                         TestUserName);

}  // namespace
}  // namespace cell::testing

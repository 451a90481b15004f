// Integration: the cell's terminal (issue 16, section 2), on a real pty of
// the test's own, as root and as uid 65534. The cell must never be able to
// push input into the caller's terminal, and interactive use must work as
// at a plain terminal: prompts, a full-screen editor, Ctrl-C, Ctrl-Z and
// job control, resizing, tty(1), the exit status, and the caller's
// terminal settings restored however the cell ends.
#include <signal.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/cell_fixture.h"
#include "testing/pty_session.h"
#include "testing/runfiles.h"
#include "testing/shell_line.h"
#include "testing/status_matchers.h"

namespace cell::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::vector<std::string> kHardened = {
    "--pid-namespace", "--ipc-namespace", "--capabilities=none", "--seccomp",
    "--read-only-root"};


class TerminalTest : public CellFixture {
 protected:
  void SetUp() override {
    CellFixture::SetUp();
    // The attack helper, in the worktree the cell runs in.
    InstallHelper("tiocsti_attack");
  }

  // The environment a person's shell would give the launcher.
  std::vector<std::string> Env() const {
    std::vector<std::string> env = *Options().env;
    env.erase(std::remove_if(env.begin(), env.end(),
                             [](const std::string& entry) {
                               return entry.rfind("TERM=", 0) == 0;
                             }),
              env.end());
    env.push_back("TERM=xterm");
    env.push_back("HOME=/root");
    return env;
  }

  // `script` in bash on a fresh 24x80 pty of the test's own.
  absl::StatusOr<PtySession> Shell(const std::string& script) {
    return PtySession::Start(
        {"/bin/bash", "--norc", "--noprofile", "-c", script}, Env(),
        dir_->path(), 24, 80);
  }

  // The cell itself on a fresh 24x80 pty, as a person would start it.
  absl::StatusOr<PtySession> Cell(const std::vector<std::string>& flags,
                                  const std::vector<std::string>& command) {
    return PtySession::Start(RunArgv(flags, command), Env(), dir_->path(), 24,
                             80);
  }
};

// The attack: TIOCSTI into fd 0 and into /dev/tty from inside, with the
// caller's terminal on stdio, with stdin from /dev/null, and with no
// terminal on stdio at all. After the cells exit, the caller's shell reads
// a line: anything pushed into its terminal would arrive there and run.
TEST_P(TerminalTest, InjectedInputNeverReachesTheCallersShell) {
  std::string script;
  for (const std::vector<std::string>& flags :
       {std::vector<std::string>{}, kHardened}) {
    const std::string cell = ShellLine(RunArgv(flags, {"./tiocsti_attack"}));
    absl::StrAppend(&script, cell, "; ", cell, " </dev/null; ", cell,
                    " </dev/null >/dev/null 2>&1; ");
  }
  absl::StrAppend(&script, "read -t 1 line; echo \"GOT:[$line]\"");
  ASSERT_OK_AND_ASSIGN(PtySession shell, Shell(script));
  const int status = shell.Wait(absl::Seconds(60));
  ASSERT_TRUE(WIFEXITED(status)) << shell.output();
  EXPECT_THAT(shell.output(), HasSubstr("GOT:[]")) << shell.output();
  EXPECT_THAT(shell.output(), Not(HasSubstr("GOT:[echo CELL-INJECTED")));
  // The documented cell tried for real (its own pty took the bytes); the
  // hardened one was stopped by seccomp.
  EXPECT_THAT(shell.output(), HasSubstr("fd 0: pushed 19 of 19 bytes"));
  EXPECT_THAT(shell.output(),
              HasSubstr("fd 0: pushed 0 of 19 bytes; Operation not permitted"));
}

// No terminal on stdio: a new session, no controlling terminal, no tty.
TEST_P(TerminalTest, WithoutATerminalTheCommandLeadsANewSession) {
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult result,
      RunCell({}, {"/bin/sh", "-c",
                   "set -- $(cat /proc/$$/stat); [ \"$1\" = \"$6\" ] && "
                   "echo leader; tty; (echo >/dev/tty) 2>/dev/null || "
                   "echo no-dev-tty"}));
  EXPECT_EQ(result.stdout_text, "leader\nnot a tty\nno-dev-tty\n")
      << result.stderr_text;
}

TEST_P(TerminalTest, InteractiveShellWorksAsAtAPlainTerminal) {
  for (const std::vector<std::string>& flags :
       {std::vector<std::string>{"--env=PS1=cell$ "},
        std::vector<std::string>{"--env=PS1=cell$ ", "--pid-namespace",
                                 "--capabilities=none", "--seccomp"}}) {
    SCOPED_TRACE(absl::StrJoin(flags, " "));
    ASSERT_OK_AND_ASSIGN(PtySession cell, Cell(flags, {"/bin/bash", "--norc",
                                                       "--noprofile", "-i"}));
    const absl::Duration wait = absl::Seconds(10);
    ASSERT_TRUE(cell.WaitFor("cell$ ", wait)) << cell.output();
    // tty(1) names the cell's own pty; the size is the caller's.
    cell.Send("tty; stty size\r");
    ASSERT_TRUE(cell.WaitFor("/dev/pts/0\r\n24 80\r\n", wait)) << cell.output();
    // A resize reaches the cell (SIGWINCH to the launcher, then the pty).
    cell.Resize(30, 100);
    bool resized = false;
    for (int i = 0; i < 50 && !resized; ++i) {
      cell.Send("stty size\r");
      resized = cell.WaitFor("30 100\r\n", absl::Milliseconds(200));
    }
    EXPECT_TRUE(resized) << cell.output();
    // Ctrl-C interrupts the foreground job, not the cell.
    cell.Send("sleep 100\r");
    absl::SleepFor(absl::Milliseconds(300));
    cell.Send("\x03");
    cell.Send("echo M$((40+2))K\r");
    EXPECT_TRUE(cell.WaitFor("M42K", wait)) << cell.output();
    // Ctrl-Z stops it; job control takes it from there: `jobs` lists it,
    // `fg` resumes it in the foreground, Ctrl-C ends it.
    cell.Send("sleep 100\r");
    absl::SleepFor(absl::Milliseconds(300));
    cell.Send("\x1a");
    EXPECT_TRUE(cell.WaitFor("Stopped", wait)) << cell.output();
    cell.Send("jobs; echo J$((2+3))K\r");
    EXPECT_TRUE(cell.WaitFor("Stopped", wait)) << cell.output();
    EXPECT_TRUE(cell.WaitFor("J5K", wait)) << cell.output();
    cell.Send("fg\r");
    EXPECT_TRUE(cell.WaitFor("sleep 100", wait)) << cell.output();
    absl::SleepFor(absl::Milliseconds(300));
    cell.Send("\x03");
    cell.Send("jobs | wc -l; echo F$((3+4))G\r");
    EXPECT_TRUE(cell.WaitFor("0\r\nF7G", wait)) << cell.output();
    // The exit status comes through.
    cell.Send("exit 7\r");
    const int status = cell.Wait(wait);
    ASSERT_TRUE(WIFEXITED(status)) << cell.output();
    EXPECT_EQ(WEXITSTATUS(status), 7);
  }
}

TEST_P(TerminalTest, FullScreenEditorWorks) {
  // vi is a link through /etc/alternatives, which a cell does not have.
  char vi[PATH_MAX];
  ASSERT_NE(realpath("/usr/bin/vi", vi), nullptr);
  ASSERT_OK_AND_ASSIGN(PtySession cell,
                       Cell({}, {vi, "-u", "NONE", "-N", "-n", "note.txt"}));
  if (!cell.WaitFor("note.txt", absl::Seconds(10))) {
    const int status = cell.Wait(absl::Seconds(1));
    FAIL() << cell.output() << " status " << status;
  }
  cell.Send("ihello from vi\x1b:wq\r");
  const int status = cell.Wait(absl::Seconds(10));
  ASSERT_TRUE(WIFEXITED(status)) << cell.output();
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(ReadHostFile(Path("wt/note.txt")), "hello from vi\n");
}

// The caller's terminal settings (raw while the cell runs) come back
// however the cell ends: a normal exit, the command killed, the launcher
// sent SIGTERM.
TEST_P(TerminalTest, CallersTerminalIsRestoredOnEveryExit) {
  const std::string status_file = Path("tmp/status.jsonl");
  for (const auto& [how, expected] : std::vector<std::pair<std::string, int>>{
           {"exit", 3}, {"kill", 137}, {"sleep", 143}}) {
    SCOPED_TRACE(how);
    unlink(status_file.c_str());
    // $0 of the inner sh chooses how the cell ends.
    const std::string line = ShellLine(
        RunArgv({absl::StrCat("--status-file=", status_file)},
                {"/bin/sh", "-c",
                 "case \"$0\" in kill) kill -9 $$;; sleep) exec sleep 100;; "
                 "esac; exit 3",
                 how}));
    ASSERT_OK_AND_ASSIGN(
        PtySession shell,
        Shell(absl::StrCat("stty -g; ", line, "; echo STATUS=$?; stty -g")));
    if (how == "sleep") {
      std::optional<nlohmann::json> started =
          WaitForEvent(status_file, "started");
      ASSERT_TRUE(started.has_value());
      // The command's parent is the launcher (no PID namespace here).
      const std::string stat = ReadHostFile(
          absl::StrCat("/proc/", (*started)["pid"].get<int>(), "/stat"));
      std::istringstream fields(stat.substr(stat.rfind(')') + 2));
      std::string state;
      pid_t launcher = 0;
      fields >> state >> launcher;
      ASSERT_GT(launcher, 1);
      ASSERT_EQ(kill(launcher, SIGTERM), 0);
    }
    const int status = shell.Wait(absl::Seconds(30));
    ASSERT_TRUE(WIFEXITED(status)) << shell.output();
    EXPECT_THAT(shell.output(), HasSubstr(absl::StrCat("STATUS=", expected)));
    // Two `stty -g` lines, before and after: the same settings.
    std::vector<std::string> settings;
    std::istringstream lines(shell.output());
    for (std::string text; std::getline(lines, text);) {
      if (!text.empty() && text.back() == '\r') text.pop_back();
      if (std::count(text.begin(), text.end(), ':') > 20) {
        settings.push_back(text);
      }
    }
    ASSERT_EQ(settings.size(), 2u) << shell.output();
    EXPECT_EQ(settings[0], settings[1]);
  }
}

// One Ctrl-C stops a shell loop of cells, as it stops a loop of any
// command: the command dies of SIGINT, and so, after its cleanup, does the
// launcher (it used to exit 130, which a shell takes for a command that
// handled the key: one Ctrl-C per iteration). At a terminal the key reaches
// the launcher as a byte (raw mode); without one, as the signal to the
// process group.
TEST_P(TerminalTest, OneCtrlCStopsAShellLoop) {
  // The launcher itself, without the fixture's user switch: the loop's
  // shell below runs as the test's user already.
  std::vector<std::string> argv = {cell_, "run"};
  for (const std::string& flag : BaseFlags()) argv.push_back(flag);
  for (const char* word :
       {"--", "/bin/sh", "-c", "echo ready$((40+2)); exec sleep 37"}) {
    argv.push_back(word);
  }
  const std::string cell = ShellLine(argv);
  const std::string loop = absl::StrCat("for i in 1 2 3; do ", cell,
                                        "; echo \"after $i\"; done; echo done");
  // The loop's shell is the launcher's user, as at a desk (a terminal
  // signals the whole foreground job; the launcher can only pass the key's
  // signal on to processes of its own user).
  ASSERT_OK_AND_ASSIGN(
      PtySession shell,
      PtySession::Start(
          AsTestUser({"/bin/bash", "--norc", "--noprofile", "-c", loop}), Env(),
          dir_->path(), 24, 80));
  ASSERT_TRUE(shell.WaitFor("ready42", absl::Seconds(20))) << shell.output();
  shell.Send("\x03");
  const int status = shell.Wait(absl::Seconds(20));
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGINT)
      << "status " << status << "\n"
      << shell.output();
  EXPECT_EQ(shell.output().find("after 1"), std::string::npos)
      << shell.output();

  // No terminal: SIGINT to the loop's process group, as a Ctrl-C at the
  // terminal a script was started from sends it.
  ASSERT_OK_AND_ASSIGN(
      Subprocess script,
      Subprocess::Start(
          AsTestUser({"/usr/bin/setsid", "/bin/bash", "-c", loop}), Options()));
  for (int i = 0; i < 2000; ++i) {
    ASSERT_OK_AND_ASSIGN(SubprocessResult found,
                         RunSubprocess({"pgrep", "-f", "sleep 37"}, Options()));
    if (found.exit_code == 0) break;
    usleep(10000);
  }
  // setsid forks when it leads a group already; the loop's group is the
  // one of the bash it runs.
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult bash,
      RunSubprocess({"pgrep", "-o", "-f", "for i in 1 2 3"}, Options()));
  const pid_t group = getpgid(std::atoi(bash.stdout_text.c_str()));
  ASSERT_GT(group, 1) << bash.stdout_text;
  ASSERT_EQ(kill(-group, SIGINT), 0);
  ASSERT_OK_AND_ASSIGN(SubprocessResult stopped, script.Wait());
  EXPECT_EQ(stopped.stdout_text.find("after 1"), std::string::npos)
      << stopped.stdout_text;
  EXPECT_EQ(stopped.stdout_text.find("done"), std::string::npos)
      << stopped.stdout_text;
}

INSTANTIATE_TEST_SUITE_P(Users, TerminalTest,
                         ::testing::Values(TestUser::kRoot, TestUser::kNobody),
                         TestUserName);

}  // namespace
}  // namespace cell::testing

// Integration: a cell driven through Debian's real tmux, as a person (or an
// agent's harness) uses it: `cell run ... -- bash -i` typed into a tmux
// pane's shell, keys sent with `tmux send-keys`, the screen read back with
// `tmux capture-pane`. terminal_test checks the same paths on a pty of the
// test's own; here the terminal is tmux's, the caller's shell is an
// interactive bash with job control, and the window is resized by tmux.
// As root and as uid 65534 (the tmux server, its shells and the launchers
// all run as the test user).
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/subprocess.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/cell_fixture.h"
#include "testing/shell_line.h"
#include "testing/status_matchers.h"

namespace cell::testing {
namespace {

constexpr char kTmux[] = "/usr/bin/tmux";
// The main pane: window 0 of the one session.
constexpr char kPane[] = "t:0";
// The pane's own shell (outside the cell) shows this prompt (PS1 "[outer]> "
// comes from tmux's environment, so it is never typed).
constexpr char kOuterPrompt[] = "[outer]>";
// The cell's bash gets PS1 "[cell\101]> ", which it shows as "[cellA]> ":
// the typed command line holds the one, never the other.
constexpr char kCellPs1[] = "[cell\\101]> ";
constexpr char kCellPrompt[] = "[cellA]>";
const absl::Duration kWait = absl::Seconds(20);


// The lines of a captured pane, trailing blanks dropped.
std::vector<std::string> Lines(const std::string& screen) {
  std::vector<std::string> lines = absl::StrSplit(screen, '\n');
  for (std::string& line : lines) absl::StripTrailingAsciiWhitespace(&line);
  return lines;
}

// How often `text` occurs in `screen`.
int Count(const std::string& screen, const std::string& text) {
  int count = 0;
  for (size_t at = screen.find(text); at != std::string::npos;
       at = screen.find(text, at + text.size())) {
    ++count;
  }
  return count;
}

// The last line with something on it, without leading blanks (a terminal
// left raw prints a staircase): the prompt, when the shell waits.
std::string LastLine(const std::string& screen) {
  const std::vector<std::string> lines = Lines(screen);
  for (auto line = lines.rbegin(); line != lines.rend(); ++line) {
    if (!line->empty()) {
      return std::string(absl::StripLeadingAsciiWhitespace(*line));
    }
  }
  return "";
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The argv of a process (empty once it is gone).
std::vector<std::string> Cmdline(pid_t pid) {
  const std::string text = ReadFile(absl::StrCat("/proc/", pid, "/cmdline"));
  std::vector<std::string> argv = absl::StrSplit(text, '\0');
  if (!argv.empty() && argv.back().empty()) argv.pop_back();
  return argv;
}

// The state letter of /proc/PID/stat (R, S, T, ...), or 0 once it is gone.
char ProcessState(pid_t pid) {
  const std::string stat = ReadFile(absl::StrCat("/proc/", pid, "/stat"));
  const size_t paren = stat.rfind(')');
  return paren == std::string::npos || paren + 2 >= stat.size()
             ? 0
             : stat[paren + 2];
}

std::vector<pid_t> Children(pid_t pid) {
  std::vector<pid_t> children;
  std::error_code error;
  for (const auto& task : std::filesystem::directory_iterator(
           absl::StrCat("/proc/", pid, "/task"), error)) {
    std::istringstream in(ReadFile(task.path().string() + "/children"));
    for (pid_t child; in >> child;) children.push_back(child);
  }
  return children;
}

std::vector<pid_t> Descendants(pid_t pid) {
  std::vector<pid_t> all;
  for (pid_t child : Children(pid)) {
    all.push_back(child);
    for (pid_t below : Descendants(child)) all.push_back(below);
  }
  return all;
}

class TmuxTest : public CellFixture {
 protected:
  void SetUp() override {
    CellFixture::SetUp();
    if (HasFatalFailure()) return;
    // The server's socket, in a directory of the test user's own.
    ASSERT_EQ(mkdir(Path("tmux").c_str(), 0700), 0);
    ASSERT_EQ(chown(Path("tmux").c_str(), uid(), gid()), 0);
    socket_ = Path("tmux/socket");
    // What a person's tmux would have (the fixture's TMPDIR for the $JDs),
    // and no shell history written anywhere.
    env_ = *Options().env;
    env_.erase(std::remove_if(env_.begin(), env_.end(),
                              [](const std::string& entry) {
                                return absl::StartsWith(entry, "TERM=");
                              }),
               env_.end());
    for (const char* entry : {"TERM=xterm", "HISTFILE="}) {
      env_.push_back(entry);
    }
    env_.push_back(absl::StrCat("HOME=", Path("tmux")));
    // A private server, not a daemon: the test's child, which dies with
    // the test however the test ends (even by SIGKILL, on a timeout).
    SubprocessOptions options = TmuxOptions();
    ASSERT_OK_AND_ASSIGN(
        Subprocess server,
        Subprocess::Start(
            AsTestUser({"/usr/bin/setpriv", "--pdeathsig=KILL", "--", kTmux,
                        "-D", "-S", socket_, "-f", "/dev/null"}),
            options));
    server_.emplace(std::move(server));
    // No status line: the pane is the whole fixed-size window.
    const absl::Time deadline = absl::Now() + kWait;
    while (Tmux({"set-option", "-g", "status", "off"}).exit_code != 0) {
      ASSERT_LT(absl::Now(), deadline) << "the tmux server did not start";
      absl::SleepFor(absl::Milliseconds(10));
    }
    // A pane whose program ended stays, so its screen and status can be read.
    ASSERT_TRUE(TmuxOk({"set-option", "-g", "remain-on-exit", "on"}));
    ASSERT_TRUE(TmuxOk({"set-option", "-g", "history-limit", "10000"}));
    ASSERT_TRUE(
        TmuxOk({"new-session", "-d", "-s", "t", "-n", "main", "-x", "80", "-y",
                "24", "-c", dir_->path(), "-e", "PS1=[outer]> ", "--",
                "/bin/bash", "--norc", "--noprofile", "-i"}));
    ASSERT_TRUE(WaitForPrompt(kOuterPrompt));
    pane_pid_ =
        std::atoi(Tmux({"display-message", "-p", "-t", kPane, "#{pane_pid}"})
                      .stdout_text.c_str());
    ASSERT_GT(pane_pid_, 1);
  }

  void TearDown() override {
    if (!server_.has_value()) return;
    if (HasFailure()) {
      for (const std::string& pane : Panes()) {
        std::printf("---- tmux pane %s ----\n%s\n---- end of pane %s ----\n",
                    pane.c_str(), Capture(pane).c_str(), pane.c_str());
      }
    }
    // Every process in the panes: kill-server hangs their terminals up,
    // and launchers clean up before the test's directory goes.
    std::vector<pid_t> left;
    const std::vector<std::string> panes = absl::StrSplit(
        Tmux({"list-panes", "-a", "-F", "#{pane_pid}"}).stdout_text, '\n',
        absl::SkipEmpty());
    for (const std::string& pid : panes) {
      left.push_back(std::atoi(pid.c_str()));
      for (pid_t below : Descendants(left.back())) left.push_back(below);
    }
    Tmux({"kill-server"});
    server_.reset();  // SIGKILL if it is still there, and reaped.
    for (pid_t pid : left) {
      if (pid > 1 && !WaitForProcessGone(pid, 10)) kill(pid, SIGKILL);
    }
  }

  SubprocessOptions TmuxOptions() const {
    SubprocessOptions options = Options();
    options.env = env_;
    options.timeout = absl::Seconds(10);
    return options;
  }

  // `tmux -S SOCKET ARGS...` as the test user.
  SubprocessResult Tmux(const std::vector<std::string>& args) const {
    std::vector<std::string> argv = {kTmux, "-S", socket_};
    argv.insert(argv.end(), args.begin(), args.end());
    absl::StatusOr<SubprocessResult> result =
        RunSubprocess(AsTestUser(argv), TmuxOptions());
    if (!result.ok()) {
      SubprocessResult failed;
      failed.exit_code = -1;
      failed.stderr_text = std::string(result.status().message());
      return failed;
    }
    return *std::move(result);
  }
  bool TmuxOk(const std::vector<std::string>& args) const {
    const SubprocessResult result = Tmux(args);
    EXPECT_EQ(result.exit_code, 0)
        << "tmux " << absl::StrJoin(args, " ") << ": " << result.stderr_text;
    return result.exit_code == 0;
  }

  std::vector<std::string> Panes() const {
    return absl::StrSplit(Tmux({"list-panes", "-a", "-F",
                                "#{session_name}:#{window_name}.#{pane_index}"})
                              .stdout_text,
                          '\n', absl::SkipEmpty());
  }

  // The pane's screen and history, wrapped lines joined.
  std::string Capture(const std::string& target = kPane) const {
    return Tmux({"capture-pane", "-p", "-J", "-S", "-", "-t", target})
        .stdout_text;
  }

  // Types `text` as it is, then Enter.
  void TypeLine(const std::string& text, const std::string& target = kPane) {
    TmuxOk({"send-keys", "-t", target, "-l", "--", text});
    TmuxOk({"send-keys", "-t", target, "Enter"});
  }
  // Presses a key by tmux's name for it (C-c, C-z).
  void Press(const std::string& key, const std::string& target = kPane) {
    TmuxOk({"send-keys", "-t", target, key});
  }

  // Polls the pane until `done` holds of its capture, or kWait passes.
  bool WaitForScreen(const std::function<bool(const std::string&)>& done,
                     const std::string& target = kPane) const {
    const absl::Time deadline = absl::Now() + kWait;
    for (;;) {
      if (done(Capture(target))) return true;
      if (absl::Now() >= deadline) return false;
      absl::SleepFor(absl::Milliseconds(20));
    }
  }
  // Until `prompt` waits at the bottom, after `after` (if given) showed:
  // the output of the command just typed, so that an old prompt does not
  // count. Each such output is typed in another spelling ($((6*7)) for 42,
  // $? for 3): the typed command line never contains it.
  bool WaitForPrompt(const std::string& prompt, const std::string& after = "",
                     const std::string& target = kPane) const {
    return WaitForScreen(
        [&](const std::string& screen) {
          return LastLine(screen) == prompt &&
                 (after.empty() || absl::StrContains(screen, after));
        },
        target);
  }

  // Polls until a process below the main pane's shell has exactly `argv`;
  // its pid, or 0.
  pid_t WaitForProcess(const std::vector<std::string>& argv) const {
    const absl::Time deadline = absl::Now() + kWait;
    do {
      for (pid_t pid : Descendants(pane_pid_)) {
        if (Cmdline(pid) == argv) return pid;
      }
      absl::SleepFor(absl::Milliseconds(10));
    } while (absl::Now() < deadline);
    return 0;
  }

  // Polls until `pid` is in `state` (or gone: 0).
  bool WaitForState(pid_t pid, const std::function<bool(char)>& state) const {
    const absl::Time deadline = absl::Now() + kWait;
    for (;;) {
      if (state(ProcessState(pid))) return true;
      if (absl::Now() >= deadline) return false;
      absl::SleepFor(absl::Milliseconds(10));
    }
  }

  // argv of `cell run` over the fixture's worktree running `command`, as
  // the pane's shell runs it (already the test user's), with the cell's
  // bash prompt set.
  std::vector<std::string> CellCommand(
      const std::vector<std::string>& command) const {
    std::vector<std::string> argv = {cell_, "run"};
    for (const std::string& flag : BaseFlags()) argv.push_back(flag);
    argv.push_back(absl::StrCat("--env=PS1=", kCellPs1));
    argv.push_back("--env=HISTFILE=");
    argv.push_back("--");
    argv.insert(argv.end(), command.begin(), command.end());
    return argv;
  }
  std::string CellLine(const std::vector<std::string>& command) const {
    return ShellLine(CellCommand(command));
  }
  // An interactive bash in a cell.
  static std::vector<std::string> Bash() {
    return {"/bin/bash", "--norc", "--noprofile", "-i"};
  }

  // Types `before CELL bash after` into the pane's shell; true once the
  // cell's prompt waits.
  bool StartCellShell(const std::string& before = "",
                      const std::string& after = "") {
    TypeLine(absl::StrCat(before, CellLine(Bash()), after));
    return WaitForPrompt(kCellPrompt);
  }

  std::string socket_;
  std::vector<std::string> env_;
  std::optional<Subprocess> server_;
  pid_t pane_pid_ = 0;
};

TEST_P(TmuxTest, TypedCommandsRunAndThePromptComesBack) {
  ASSERT_TRUE(StartCellShell());
  // Inside the cell: the file lands in the worktree, on the host.
  TypeLine("touch typed-file; echo typed-$((6*7))");
  ASSERT_TRUE(WaitForPrompt(kCellPrompt, "typed-42"));
  EXPECT_TRUE(std::filesystem::exists(Path("wt/typed-file")));
  TypeLine("echo again-$((6+1))");
  EXPECT_TRUE(WaitForPrompt(kCellPrompt, "again-7"));
}

TEST_P(TmuxTest, TtyIsAPtyInsideTheCell) {
  ASSERT_TRUE(StartCellShell());
  TypeLine("tty; echo tty-$((1+1))");
  ASSERT_TRUE(WaitForPrompt(kCellPrompt, "tty-2"));
  const std::vector<std::string> lines = Lines(Capture());
  auto tty = std::find(lines.begin(), lines.end(), "tty-2");
  ASSERT_NE(tty, lines.begin());
  --tty;
  ASSERT_TRUE(absl::StartsWith(*tty, "/dev/pts/")) << *tty;
  const std::string number = tty->substr(std::string("/dev/pts/").size());
  EXPECT_FALSE(number.empty());
  EXPECT_TRUE(std::all_of(number.begin(), number.end(), [](char c) {
    return std::isdigit(c);
  })) << *tty;
  EXPECT_FALSE(absl::StrContains(Capture(), "not a tty"));
}

TEST_P(TmuxTest, CtrlCStopsTheForegroundCommandNotTheShell) {
  ASSERT_TRUE(StartCellShell());
  TypeLine("sleep 1000");
  const pid_t sleep = WaitForProcess({"sleep", "1000"});
  ASSERT_GT(sleep, 0) << "sleep 1000 never ran";
  Press("C-c");
  EXPECT_TRUE(WaitForProcessGone(sleep, 10)) << "Ctrl-C left sleep running";
  ASSERT_TRUE(WaitForPrompt(kCellPrompt));
  // The cell's shell is still there and takes the next command.
  TypeLine("echo alive-$((2+3))");
  EXPECT_TRUE(WaitForPrompt(kCellPrompt, "alive-5"));
}

TEST_P(TmuxTest, CtrlZThenFgThenCtrlC) {
  ASSERT_TRUE(StartCellShell());
  TypeLine("sleep 1000");
  const pid_t sleep = WaitForProcess({"sleep", "1000"});
  ASSERT_GT(sleep, 0) << "sleep 1000 never ran";
  Press("C-z");
  ASSERT_TRUE(WaitForScreen([](const std::string& screen) {
    return absl::StrContains(screen, "Stopped") &&
           LastLine(screen) == kCellPrompt;
  })) << "no `Stopped` and prompt after Ctrl-Z";
  EXPECT_EQ(ProcessState(sleep), 'T');
  TypeLine("fg");
  EXPECT_TRUE(WaitForState(sleep, [](char state) { return state != 'T'; }))
      << "fg did not resume sleep";
  EXPECT_NE(ProcessState(sleep), 0) << "fg ended sleep";
  Press("C-c");
  EXPECT_TRUE(WaitForProcessGone(sleep, 10)) << "Ctrl-C after fg failed";
  TypeLine("echo jobs-$(jobs | wc -l)-left");
  EXPECT_TRUE(WaitForPrompt(kCellPrompt, "jobs-0-left"));
}

TEST_P(TmuxTest, ResizingTheWindowReachesTheCell) {
  ASSERT_TRUE(StartCellShell());
  TypeLine("stty size; echo size-$((1+1))");
  ASSERT_TRUE(WaitForPrompt(kCellPrompt, "size-2"));
  EXPECT_TRUE(absl::StrContains(Capture(), "24 80"));
  ASSERT_TRUE(TmuxOk({"resize-window", "-t", kPane, "-x", "100", "-y", "30"}));
  EXPECT_EQ(Tmux({"display-message", "-p", "-t", kPane,
                  "#{pane_width}x#{pane_height}"})
                .stdout_text,
            "100x30\n");
  // The launcher learns of it by SIGWINCH and passes it on: ask until the
  // cell sees it.
  bool resized = false;
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  for (int i = 0; !resized && absl::Now() < deadline; ++i) {
    const std::string done = absl::StrCat("resized-", i);
    TypeLine(absl::StrCat("stty size; echo resized-$((", i, "))"));
    ASSERT_TRUE(WaitForPrompt(kCellPrompt, done));
    resized = absl::StrContains(Capture(), "30 100");
  }
  EXPECT_TRUE(resized) << "the cell never saw 30 rows by 100 columns";
}

TEST_P(TmuxTest, ExitStatusComesOut) {
  // From the pane's shell.
  ASSERT_TRUE(StartCellShell("", "; echo \"status-$?\""));
  TypeLine("exit 3");
  EXPECT_TRUE(WaitForPrompt(kOuterPrompt, "status-3"));

  // The launcher as the window's own program: tmux reports its status.
  std::vector<std::string> window = {
      "new-window", "-d", "-t", "t:", "-n", "direct", "-c", dir_->path(), "--"};
  for (const std::string& word : CellCommand(Bash())) window.push_back(word);
  ASSERT_TRUE(TmuxOk(window));
  ASSERT_TRUE(WaitForPrompt(kCellPrompt, "", "t:direct"));
  TypeLine("exit 3", "t:direct");
  std::string dead;
  const absl::Time deadline = absl::Now() + kWait;
  while (absl::Now() < deadline) {
    dead = Tmux({"display-message", "-p", "-t", "t:direct",
                 "#{pane_dead} #{pane_dead_status}"})
               .stdout_text;
    if (dead != "0 \n" && dead != "1 \n") break;
    // Dead (its terminal closed) with no status: tmux has not reaped it.
    // Debian's tmux 3.3a misses the SIGCHLD of a pane's program now and
    // then (libutempter's own handler, tmux/tmux#311; measured here: half
    // of the launchers, 1 in 20 plain bash): the known workaround, a
    // SIGCHLD to the server.
    if (dead == "1 \n") kill(server_->pid(), SIGCHLD);
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_EQ(dead, "1 3\n");
}

// The pane's terminal settings (raw while a cell runs) are as before once
// the launcher is done: after the command exits, and after the launcher
// itself is killed. (On a kill -9 nothing of the launcher's runs: the
// interactive bash restores the terminal of a job that died of a signal,
// which is what a person in tmux gets.)
TEST_P(TmuxTest, TheTerminalsSettingsComeBack) {
  for (const std::string how : {"exit", "kill"}) {
    SCOPED_TRACE(how);
    const std::string before = Path(absl::StrCat("tmp/stty-before-", how));
    const std::string after = Path(absl::StrCat("tmp/stty-after-", how));
    ASSERT_TRUE(
        StartCellShell(absl::StrCat("stty -g >", ShellQuote(before), "; "),
                       absl::StrCat("; echo \"", how, "-status-$?\"; stty -g >",
                                    ShellQuote(after))));
    int expected = 0;
    if (how == "exit") {
      TypeLine("exit");
    } else {
      expected = 128 + SIGKILL;
      pid_t launcher = 0;
      for (pid_t child : Children(pane_pid_)) {
        const std::vector<std::string> argv = Cmdline(child);
        if (!argv.empty() && argv[0] == cell_) launcher = child;
      }
      ASSERT_GT(launcher, 0) << "no launcher under the pane's shell";
      const std::vector<pid_t> inside = Descendants(launcher);
      ASSERT_FALSE(inside.empty());
      ASSERT_EQ(kill(launcher, SIGKILL), 0);
      for (pid_t pid : inside) {
        EXPECT_TRUE(WaitForProcessGone(pid, 10))
            << pid << " outlived its launcher";
      }
    }
    ASSERT_TRUE(
        WaitForPrompt(kOuterPrompt, absl::StrCat(how, "-status-", expected)));
    const std::string settings = ReadFile(before);
    EXPECT_GT(std::count(settings.begin(), settings.end(), ':'), 20)
        << settings;
    EXPECT_EQ(ReadFile(after), settings);
  }
}

// One Ctrl-C stops a loop of cells typed at the pane's shell: the launcher
// dies of the SIGINT after its cleanup, so bash ends the loop (a launcher
// that exited 130 would take one Ctrl-C per iteration).
TEST_P(TmuxTest, OneCtrlCStopsAShellLoop) {
  TypeLine(absl::StrCat("for i in 1 2 3 4 5; do ", CellLine({"sleep", "1000"}),
                        "; echo next-$i; done; echo loop-done"));
  const pid_t sleep = WaitForProcess({"sleep", "1000"});
  ASSERT_GT(sleep, 0) << "sleep 1000 never ran";
  Press("C-c");
  // The prompt comes back, or the loop goes on (fail now, not at the
  // deadline).
  ASSERT_TRUE(WaitForScreen([](const std::string& screen) {
    return LastLine(screen) == kOuterPrompt ||
           absl::StrContains(screen, "next-1") ||
           absl::StrContains(screen, "next-2");
  })) << "neither the prompt nor the next iteration";
  EXPECT_TRUE(WaitForProcessGone(sleep, 10));
  const std::string screen = Capture();
  // The typed loop reads next-$i: next-N is only ever output. (A launcher
  // that exits 130 instead lets bash print next-1 and start cell 2.)
  for (const char* next : {"next-1", "next-2"}) {
    EXPECT_FALSE(absl::StrContains(screen, next)) << next;
  }
  // loop-done: only where it was typed.
  EXPECT_EQ(Count(screen, "loop-done"), 1);
  EXPECT_EQ(LastLine(screen), kOuterPrompt);
  // No second cell started: the pane's shell runs nothing.
  EXPECT_THAT(Children(pane_pid_), ::testing::IsEmpty());
}

INSTANTIATE_TEST_SUITE_P(Users, TmuxTest,
                         ::testing::Values(TestUser::kRoot, TestUser::kNobody),
                         TestUserName);

}  // namespace
}  // namespace cell::testing

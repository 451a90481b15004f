#include "base/subprocess.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <string>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace cell {
namespace {

using ::cell::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Optional;

TEST(RunSubprocessTest, CapturesOutputAndExitCode) {
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult result,
      RunSubprocess({"/bin/sh", "-c", "echo out; echo err >&2; exit 3"}));
  EXPECT_THAT(result.exit_code, Optional(3));
  EXPECT_FALSE(result.signal.has_value());
  EXPECT_EQ(result.stdout_text, "out\n");
  EXPECT_EQ(result.stderr_text, "err\n");
}

TEST(RunSubprocessTest, ReportsSignal) {
  ASSERT_OK_AND_ASSIGN(SubprocessResult result,
                       RunSubprocess({"/bin/sh", "-c", "kill -TERM $$"}));
  EXPECT_FALSE(result.exit_code.has_value());
  EXPECT_THAT(result.signal, Optional(SIGTERM));
}

TEST(RunSubprocessTest, FeedsStdinAndSetsEnvAndCwd) {
  SubprocessOptions options;
  options.stdin_text = std::string(200000, 'x');  // Larger than a pipe.
  options.env = {{"ONLY=this"}};
  options.cwd = "/";
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult result,
      RunSubprocess(
          {"/bin/sh", "-c", "wc -c; echo $ONLY; pwd; env | grep -c PATH; true"},
          options));
  EXPECT_THAT(result.exit_code, Optional(0));
  EXPECT_EQ(result.stdout_text, "200000\nthis\n/\n0\n");
}

// Under a pty, as a person's shell: a session of its own, with the pty as
// its controlling terminal (/dev/tty opens) and stdin; output still
// captured.
TEST(RunSubprocessTest, ControllingTerminal) {
  const int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  ASSERT_GE(master, 0);
  ASSERT_EQ(unlockpt(master), 0);
  const int slave = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
  ASSERT_GE(slave, 0);
  SubprocessOptions options;
  options.controlling_terminal = slave;
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult result,
      RunSubprocess({"/bin/sh", "-c",
                     "read -r pid comm state ppid pgrp sid rest </proc/$$/stat;"
                     " [ \"$sid\" = \"$$\" ] && echo leader;"
                     " test -t 0 && echo stdin-tty;"
                     " : </dev/tty && echo has-ctty"},
                    options));
  close(slave);
  close(master);
  EXPECT_THAT(result.exit_code, Optional(0)) << result.stderr_text;
  EXPECT_EQ(result.stdout_text, "leader\nstdin-tty\nhas-ctty\n");
}

TEST(RunSubprocessTest, MissingProgramIs127) {
  ASSERT_OK_AND_ASSIGN(SubprocessResult result,
                       RunSubprocess({"/nonexistent/program"}));
  EXPECT_THAT(result.exit_code, Optional(127));
}

TEST(RunSubprocessTest, TimeoutKills) {
  SubprocessOptions options;
  options.timeout = absl::Milliseconds(200);
  EXPECT_THAT(RunSubprocess({"/bin/sleep", "30"}, options),
              StatusIs(absl::StatusCode::kDeadlineExceeded,
                       HasSubstr("/bin/sleep 30")));
}

// A foreign sandbox may leave a process behind that holds its output open:
// with kProcessExits the wait ends at the exit, with what was written.
TEST(RunSubprocessTest, ReadUntilProcessExitsIgnoresWhatItLeftBehind) {
  SubprocessOptions options;
  options.timeout = absl::Seconds(20);
  options.read_until = SubprocessOptions::ReadUntil::kProcessExits;
  const absl::Time start = absl::Now();
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult result,
      RunSubprocess({"/bin/sh", "-c", "sleep 4 & echo out; exit 4"}, options));
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
  EXPECT_THAT(result.exit_code, Optional(4));
  EXPECT_EQ(result.stdout_text, "out\n");
  // By default the wait is for the outputs to close: here, the timeout.
  options.read_until = SubprocessOptions::ReadUntil::kOutputsClose;
  options.timeout = absl::Milliseconds(500);
  EXPECT_THAT(RunSubprocess({"/bin/sh", "-c", "sleep 4 & echo out"}, options),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
}

}  // namespace
}  // namespace cell

#include "launcher/jail/traced_exit.h"

#include <poll.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gtest/gtest.h"

namespace cell {
namespace {

// Waits until `pidfd` says its process exited.
bool AwaitExit(int pidfd) {
  pollfd event = {pidfd, POLLIN, 0};
  return poll(&event, 1, 10000) == 1;
}

TEST(TracedExitTest, AZombieGivesItsWaitStatus) {
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) _exit(7);
  const int pidfd = OpenPidfd(child);
  ASSERT_GE(pidfd, 0);
  ASSERT_TRUE(AwaitExit(pidfd));
  int status = 0;
  ASSERT_TRUE(ZombieWaitStatus(child, &status));
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 7);
  EXPECT_EQ(ExitCodeOf(status), 7);
  waitpid(child, nullptr, 0);
  close(pidfd);
}

TEST(TracedExitTest, ARunningProcessIsNoZombie) {
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    pause();
    _exit(0);
  }
  int status = 0;
  EXPECT_FALSE(ZombieWaitStatus(child, &status));
  kill(child, SIGKILL);
  waitpid(child, &status, 0);
  EXPECT_EQ(ExitCodeOf(status), 128 + SIGKILL);
}

// The case it exists for: a sibling seizes the child and never waits, so
// waitpid() here sees nothing; the pidfd and /proc still tell.
TEST(TracedExitTest, ATracedExitIsSeenThroughThePidfd) {
  int go[2];
  ASSERT_EQ(pipe(go), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    char byte;
    (void)!read(go[0], &byte, 1);
    _exit(9);
  }
  int seized[2];
  ASSERT_EQ(pipe(seized), 0);
  const pid_t tracer = fork();
  ASSERT_GE(tracer, 0);
  if (tracer == 0) {
    const char ok = ptrace(PTRACE_SEIZE, child, 0, 0) == 0 ? 1 : 0;
    (void)!write(seized[1], &ok, 1);
    pause();
    _exit(0);
  }
  char ok = 0;
  ASSERT_EQ(read(seized[0], &ok, 1), 1);
  ASSERT_EQ(ok, 1) << "PTRACE_SEIZE refused (kernel.yama.ptrace_scope?)";
  const int pidfd = OpenPidfd(child);
  ASSERT_GE(pidfd, 0);
  ASSERT_EQ(write(go[1], "x", 1), 1);
  ASSERT_TRUE(AwaitExit(pidfd));
  int status = 0;
  EXPECT_EQ(waitpid(child, &status, WNOHANG), 0) << "the tracer hides it";
  ASSERT_TRUE(ZombieWaitStatus(child, &status));
  EXPECT_EQ(ExitCodeOf(status), 9);
  kill(tracer, SIGKILL);
  waitpid(tracer, nullptr, 0);
  waitpid(child, nullptr, 0);
  close(pidfd);
}

}  // namespace
}  // namespace cell

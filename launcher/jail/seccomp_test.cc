#include "launcher/jail/seccomp.h"

#include <errno.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace cell {
namespace {

TEST(SeccompTest, ListsTheEscapeRoutes) {
  EXPECT_THAT(
      SeccompDeniedSyscalls(),
      ::testing::IsSupersetOf({"unshare", "setns", "ptrace", "keyctl", "bpf",
                               "open_by_handle_at", "io_uring_setup",
                               "io_uring_enter", "io_uring_register"}));
}

// Child side of the test below: each check is one exit code, so a failure
// names the syscall that was not denied (or was denied wrongly).
int CheckUnderFilter(const std::vector<sock_filter>& program) {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return 10;
  if (InstallSeccompFilter(program) != 0) return 11;
  if (unshare(CLONE_NEWUSER) == 0 || errno != EPERM) return 20;
  if (unshare(CLONE_NEWNS) == 0 || errno != EPERM) return 21;
  if (setns(0, 0) == 0 || errno != EPERM) return 22;
  if (ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) == 0 || errno != EPERM) {
    return 23;
  }
  if (syscall(SYS_keyctl, 0, 0, 0, 0, 0) == 0 || errno != EPERM) return 24;
  if (syscall(SYS_bpf, 0, nullptr, 0) == 0 || errno != EPERM) return 25;
  // clone with a namespace flag is denied; plain fork and threads work
  // (glibc falls back from clone3, which gets ENOSYS, to clone).
  if (syscall(SYS_clone, CLONE_NEWNET | SIGCHLD, 0, 0, 0, 0) >= 0 ||
      errno != EPERM) {
    return 26;
  }
  if (syscall(SYS_clone3, nullptr, 0) == 0 || errno != ENOSYS) return 27;
  // By the bad-arguments method: without the filter each would reach the
  // kernel and fail with EFAULT or EBADF, so EPERM means filtered.
  if (syscall(SYS_io_uring_setup, 1, nullptr) == 0 || errno != EPERM) {
    return 40;
  }
  if (syscall(SYS_io_uring_enter, -1, 0, 0, 0, nullptr, 0) == 0 ||
      errno != EPERM) {
    return 41;
  }
  if (syscall(SYS_io_uring_register, -1, 0, nullptr, 0) == 0 ||
      errno != EPERM) {
    return 42;
  }
  // Terminal injection, also with the upper 32 bits of the request set
  // (the kernel ignores them).
  char byte = 'x';
  for (const unsigned long request :
       {static_cast<unsigned long>(TIOCSTI), 0x100000000ul | TIOCSTI,
        static_cast<unsigned long>(TIOCLINUX),
        0xffffffff00000000ul | TIOCLINUX}) {
    if (syscall(SYS_ioctl, -1, request, &byte) == 0 || errno != EPERM) {
      return 43;
    }
  }
  // Other ioctls still reach the kernel.
  if (syscall(SYS_ioctl, -1, TIOCGWINSZ, nullptr) == 0 || errno != EBADF) {
    return 44;
  }
  const pid_t child = fork();
  if (child < 0) return 30;
  if (child == 0) _exit(7);
  int status = 0;
  if (waitpid(child, &status, 0) != child || !WIFEXITED(status) ||
      WEXITSTATUS(status) != 7) {
    return 31;
  }
  bool ran = false;
  std::thread([&ran] { ran = true; }).join();
  if (!ran) return 32;
  if (getpid() <= 0) return 33;
  return 0;
}

// How a forked child that installs the filter (or not) and runs `attempt`
// ends: its wait status.
int StatusOfChild(const std::vector<sock_filter>* program, void (*attempt)()) {
  const pid_t child = fork();
  if (child < 0) return -1;
  if (child == 0) {
    if (program != nullptr) {
      if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(10);
      if (InstallSeccompFilter(*program) != 0) _exit(11);
    }
    attempt();
    _exit(0);
  }
  int status = 0;
  if (waitpid(child, &status, 0) != child) return -1;
  return status;
}

// getpid through the i386 entry point (its number there is 20).
void GetpidThroughInt80() {
  long result = 20;
  asm volatile("int $0x80" : "+a"(result) : : "memory");
}

// getpid with the x32 bit set.
void GetpidThroughX32() { syscall(0x40000000 | SYS_getpid); }

TEST(SeccompTest, OtherAbisKillTheProcess) {
  ASSERT_OK_AND_ASSIGN(std::vector<sock_filter> program, BuildSeccompFilter());
  // Without the filter the i386 entry point works on this kernel (else the
  // check below would prove nothing).
  const int unfiltered = StatusOfChild(nullptr, GetpidThroughInt80);
  ASSERT_TRUE(WIFEXITED(unfiltered) && WEXITSTATUS(unfiltered) == 0)
      << "int 0x80 without a filter: status " << unfiltered
      << " (no IA32 emulation in this kernel?)";
  for (void (*attempt)() : {GetpidThroughInt80, GetpidThroughX32}) {
    const int status = StatusOfChild(&program, attempt);
    ASSERT_TRUE(WIFSIGNALED(status)) << "status " << status;
    EXPECT_EQ(WTERMSIG(status), SIGSYS);
  }
}

TEST(SeccompTest, DeniesEscapeRoutesAndAllowsTheRest) {
  ASSERT_OK_AND_ASSIGN(std::vector<sock_filter> program, BuildSeccompFilter());
  ASSERT_FALSE(program.empty());
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) _exit(CheckUnderFilter(program));
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << "signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0) << "see the code in CheckUnderFilter";
}

}  // namespace
}  // namespace cell

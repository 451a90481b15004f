#include "policy/probe_run.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/subprocess.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace cell::policy {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Optional;
using ::testing::SizeIs;

// What a sandbox leaves behind (a daemon that outlived it) comes back to
// the subreaper, and is named and killed.
TEST(KillLeftoverChildrenTest, NamesAndKillsWhatOutlivedTheRun) {
  ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0);
  SubprocessOptions options;
  options.read_until = SubprocessOptions::ReadUntil::kProcessExits;
  // The shell prints its orphan's pid and exits; the orphan comes to us.
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult result,
      RunSubprocess({"/bin/sh", "-c", "sleep 60 & echo $!"}, options));
  pid_t orphan = 0;
  ASSERT_TRUE(absl::SimpleAtoi(
      std::string(result.stdout_text.substr(0, result.stdout_text.find('\n'))),
      &orphan));
  ASSERT_EQ(kill(orphan, 0), 0);
  const std::vector<std::string> leftovers =
      KillLeftoverChildren(absl::Milliseconds(100));
  ASSERT_THAT(leftovers, SizeIs(1));
  EXPECT_EQ(leftovers[0], absl::StrCat(orphan, " sleep"));
  EXPECT_NE(kill(orphan, 0), 0);  // Killed and reaped.
  // A helper that dies within the grace period is not a leftover.
  ASSERT_OK_AND_ASSIGN(
      result, RunSubprocess({"/bin/sh", "-c", "sleep 0.2 & echo $!"}, options));
  EXPECT_THAT(KillLeftoverChildren(absl::Seconds(5)), IsEmpty());
}

// Found in review: a leftover's own child came back after the one pass and
// lived on; and a leader that exited alone, its thread still running, was
// taken for a zombie.
TEST(KillLeftoverChildrenTest,
     KillsWhatTheKilledLeaveAndLeadersWithLiveThreads) {
  ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0);
  SubprocessOptions options;
  options.read_until = SubprocessOptions::ReadUntil::kProcessExits;
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult chain,
      RunSubprocess(
          {"/bin/sh", "-c", "setsid sh -c 'sleep 61 & exec sleep 62' & echo"},
          options));
  const pid_t threaded = fork();
  ASSERT_GE(threaded, 0);
  if (threaded == 0) {
    std::thread([] { pause(); }).detach();
    syscall(SYS_exit, 0);  // The leader alone; the thread lives on.
  }
  absl::SleepFor(absl::Milliseconds(200));
  const std::vector<std::string> leftovers =
      KillLeftoverChildren(absl::Milliseconds(100));
  EXPECT_THAT(leftovers, Contains(HasSubstr(" sleep")).Times(2));
  EXPECT_THAT(leftovers, Contains(absl::StrCat(threaded, " probe_run_test")));
  EXPECT_NE(kill(threaded, 0), 0);
  ASSERT_OK_AND_ASSIGN(SubprocessResult left,
                       RunSubprocess({"pgrep", "-f", "sleep 6[12]"}));
  EXPECT_THAT(left.exit_code, Optional(1)) << left.stdout_text;
}

}  // namespace
}  // namespace cell::policy

#include "policy/probe_run.h"

#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "base/subprocess.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace cell::policy {
namespace {

using ::testing::ElementsAre;
using ::testing::EndsWith;
using ::testing::IsEmpty;
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

}  // namespace
}  // namespace cell::policy

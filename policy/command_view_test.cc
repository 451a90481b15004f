#include "policy/command_view.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cell::policy {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Optional;

// A child that holds an inherited descriptor of "/" (as a leaking launcher
// would leave it) and sleeps in /tmp: the host's view names both.
TEST(CommandViewTest, SeesInheritedDescriptorsCwdAndRoot) {
  const int leak = open("/", O_PATH | O_DIRECTORY);  // Not close-on-exec.
  ASSERT_GE(leak, 3);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (chdir("/tmp") != 0) _exit(1);
    execl("/bin/sleep", "sleep", "30", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(leak);
  // Until the exec has happened.
  std::vector<pid_t> found;
  for (int i = 0; i < 500 && found.empty(); ++i) {
    found = FindCommands(child, IdentityOf("/bin/sleep"));
    if (found.empty()) usleep(2000);
  }
  ASSERT_THAT(found, ElementsAre(child));
  const std::optional<CommandView> view = ViewCommand(child);
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  ASSERT_TRUE(view.has_value());
  EXPECT_THAT(view->descriptors,
              Contains(HasSubstr("fd " + std::to_string(leak) + " -> /")));
  EXPECT_THAT(view->cwd_ids, ElementsAre(IdentityOf("/tmp")));
  EXPECT_THAT(view->root_ids, ElementsAre(IdentityOf("/")));
  EXPECT_FALSE(ViewCommand(child).has_value());  // Reaped: gone.
}

// A foreign sandbox runs the command deeper down (firejail, srt): found
// among all descendants; and its cgroups read from the host.
TEST(CommandViewTest, FindsTheCommandAmongAllDescendants) {
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    execl("/bin/sh", "sh", "-c", "sh -c '/bin/sleep 30; true'; true",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  std::vector<pid_t> found;
  for (int i = 0; i < 1000 && found.empty(); ++i) {
    found = FindCommands(child, IdentityOf("/bin/sleep"));
    if (found.empty()) usleep(2000);
  }
  const std::optional<CommandView> view =
      found.empty() ? std::nullopt : ViewCommand(found[0]);
  for (const pid_t pid : found) kill(pid, SIGKILL);
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  ASSERT_THAT(found, ::testing::SizeIs(1));
  EXPECT_NE(found[0], child);
  EXPECT_THAT(Descendants(getpid()), ::testing::Contains(getpid()));
  EXPECT_THAT(NamespaceOf(getpid(), "mnt"), ::testing::StartsWith("mnt:["));
  EXPECT_EQ(NamespaceOf(999999999, "mnt"), "");
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(view->name, "sleep");
  std::ifstream in("/proc/self/cgroup");
  std::stringstream own;
  own << in.rdbuf();
  EXPECT_EQ(view->cgroups, ParseCgroups(own.str()));
  EXPECT_FALSE(view->cgroups.empty());
}

TEST(CommandViewTest, ParsesCgroupLines) {
  EXPECT_EQ(
      ParseCgroups("0::/user.slice\n4:memory:/m\n3:cpu,cpuacct:/c:d\n"
                   "junk\n"),
      (std::map<std::string, std::string>{
          {"", "/user.slice"}, {"memory", "/m"}, {"cpu,cpuacct", "/c:d"}}));
}

}  // namespace
}  // namespace cell::policy

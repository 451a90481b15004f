// Resource limits and the read-only root, end to end: real cells from the
// built `cell` binary, as root and as uid 65534. Rlimits and the read-only
// root work for anyone; a cgroup needs root here (the CI machines delegate
// no cgroup to other users), and without it the launcher must say so and
// start nothing.
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "testing/cell_fixture.h"
#include "testing/status_matchers.h"

namespace cell::testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::Optional;

constexpr char kProbe[] = "/run/cell/probes/cell-probe";

class LimitsTest : public CellFixture {
 protected:
  void SetUp() override {
    CellFixture::SetUp();
    InstallProbe();
  }

  // The limits probe's facts in a cell with `flags`.
  nlohmann::json LimitFacts(const std::vector<std::string>& flags,
                            const std::vector<std::string>& probe_flags) {
    std::vector<std::string> all = flags;
    all.push_back("--ro-bind=probes:/run/cell/probes");
    std::vector<std::string> command = {kProbe, "limits"};
    command.insert(command.end(), probe_flags.begin(), probe_flags.end());
    absl::StatusOr<SubprocessResult> result = RunCell(all, command);
    EXPECT_TRUE(result.ok()) << result.status();
    if (!result.ok()) return nullptr;
    EXPECT_THAT(result->exit_code, Optional(0)) << result->stderr_text;
    const nlohmann::json line =
        nlohmann::json::parse(result->stdout_text, nullptr, false);
    return line.is_object() ? line.value("facts", nlohmann::json()) : line;
  }
};

// A cgroup needs root here; uid 65534 gets the refusal.
using CgroupTest = LimitsTest;
using CgroupRefusedTest = LimitsTest;

constexpr const char* kCgroupFlags[] = {"--pids-max=16", "--memory-max=32M"};

TEST_P(LimitsTest, RlimitsAreSetForTheCommand) {
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult result,
      RunCell({"--rlimit=nofile=64", "--rlimit=fsize=1M", "--rlimit=core=0"},
              {"sh", "-c",
               "ulimit -n; ulimit -Hn; ulimit -c; "
               "head -c 2000000 /dev/zero > /tmp/big; echo wrote=$?; "
               "wc -c < /tmp/big"}));
  EXPECT_THAT(result.exit_code, Optional(0)) << result.stderr_text;
  const std::vector<std::string> lines =
      absl::StrSplit(result.stdout_text, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 5u) << result.stdout_text;
  EXPECT_EQ(lines[0], "64");
  EXPECT_EQ(lines[1], "64");
  EXPECT_EQ(lines[2], "0");
  // SIGXFSZ at the limit: the writer dies, the file stops at 1 MiB.
  EXPECT_EQ(lines[3], absl::StrCat("wrote=", 128 + SIGXFSZ));
  EXPECT_EQ(absl::StripAsciiWhitespace(lines[4]), "1048576");
  EXPECT_THAT(JobDirs(), IsEmpty());

  // The documented cell leaves them as the launcher's.
  rlimit files;
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &files), 0);
  const nlohmann::json facts = LimitFacts({}, {});
  EXPECT_EQ(facts["rlimits"]["nofile"]["hard"], files.rlim_max);
}

TEST_P(LimitsTest, BadRlimitsAreRefusedBeforeAnythingRuns) {
  rlimit files;
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &files), 0);
  for (const auto& [flag, message] :
       std::vector<std::pair<std::string, std::string>>{
           {absl::StrCat("--rlimit=nofile=", files.rlim_max + 1),
            "above the launcher's hard limit"},
           {"--rlimit=nofiles=5", "did you mean `nofile`?"},
           {"--rlimit=nofile=lots", "not a whole number"},
           {"--memory-max=1K", "below the minimum"},
           {"--pids-max=0", "below the minimum of 1"}}) {
    ASSERT_OK_AND_ASSIGN(SubprocessResult result,
                         RunCell({flag}, {"sh", "-c", "echo RAN"}));
    EXPECT_THAT(result.exit_code, Not(Optional(0))) << flag;
    EXPECT_THAT(result.stderr_text, HasSubstr(message)) << flag;
    EXPECT_THAT(result.stdout_text, Not(HasSubstr("RAN"))) << flag;
  }
  EXPECT_THAT(JobDirs(), IsEmpty());
}

TEST_P(LimitsTest, ReadOnlyRootKeepsItsMountsWritable) {
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult result,
      RunCell({"--read-only-root"},
              {"sh", "-c",
               "touch /x 2>/dev/null && echo root-writable; "
               "mkdir /etc/y 2>/dev/null && echo etc-writable; "
               "touch /tmp/a /home/cell/b /home/cell/worktree/c && echo ok"}));
  EXPECT_THAT(result.exit_code, Optional(0)) << result.stderr_text;
  EXPECT_EQ(result.stdout_text, "ok\n");
  // The fs probe shows it as a fact; the documented root is writable.
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult probe,
      RunCell({"--read-only-root", "--ro-bind=probes:/run/cell/probes"},
              {kProbe, "fs"}));
  EXPECT_THAT(probe.stdout_text,
              HasSubstr(R"("root":{"error":"EROFS: Read-only file system")"));
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult documented,
      RunCell({"--ro-bind=probes:/run/cell/probes"}, {kProbe, "fs"}));
  EXPECT_THAT(
      documented.stdout_text,
      HasSubstr(R"("root":{"path":"/","removed":true,"writable":true})"));
}

TEST_P(CgroupRefusedTest, WithoutDelegationTheLauncherSaysWhyAndRunsNothing) {
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult result,
      RunCell({kCgroupFlags[0], kCgroupFlags[1]}, {"sh", "-c", "echo RAN"}));
  EXPECT_THAT(result.exit_code, Optional(125));
  EXPECT_THAT(result.stderr_text,
              AllOf(HasSubstr("field `limits.memoryMax`"),
                    HasSubstr("not delegated to this user")));
  EXPECT_THAT(result.stdout_text, IsEmpty());
  EXPECT_THAT(JobDirs(), IsEmpty());
}

TEST_P(CgroupTest, BoundsTasksAndMemory) {
  const nlohmann::json facts = LimitFacts({kCgroupFlags[0], kCgroupFlags[1]},
                                          {"--fork-max=40", "--alloc-mib=96"});
  EXPECT_THAT(facts["cgroups"]["pids"].get<std::string>(), HasSubstr("/cell-"));
  EXPECT_THAT(facts["cgroups"]["memory"].get<std::string>(),
              HasSubstr("/cell-"));
  EXPECT_LT(facts["forkTest"]["started"].get<int>(), 16);
  EXPECT_THAT(facts["forkTest"]["error"].get<std::string>(),
              HasSubstr("EAGAIN"));
  EXPECT_LE(facts["memoryTest"]["touchedMiB"].get<int>(), 32);
  EXPECT_EQ(facts["memoryTest"]["signal"], SIGKILL);
  // Without limits, the same tests run to the end.
  const nlohmann::json unbounded =
      LimitFacts({}, {"--fork-max=40", "--alloc-mib=48"});
  EXPECT_EQ(unbounded["forkTest"]["started"], 40);
  EXPECT_EQ(unbounded["memoryTest"]["touchedMiB"], 48);
  EXPECT_THAT(unbounded["cgroups"]["pids"].get<std::string>(),
              Not(HasSubstr("cell-")));
}

TEST_P(CgroupTest, NothingTheCommandLeftOutlivesIt) {
  // A daemon that escaped its parent (setsid, reparented to the host's
  // init) dies with the cell's cgroup, and the cgroup is removed.
  const std::string events = Path("status.jsonl");
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult result,
      RunCell({"--pids-max=64", absl::StrCat("--status-file=", events)},
              {"sh", "-c",
               "setsid sleep 600 </dev/null >/dev/null 2>&1 & echo $!"}));
  EXPECT_THAT(result.exit_code, Optional(0)) << result.stderr_text;
  pid_t daemon = 0;
  ASSERT_TRUE(absl::SimpleAtoi(absl::StripAsciiWhitespace(result.stdout_text),
                               &daemon));
  EXPECT_TRUE(WaitForProcessGone(daemon, 5)) << "the daemon outlived its cell";
  const std::vector<nlohmann::json> lines = ReadEvents(events);
  ASSERT_FALSE(lines.empty());
  for (const nlohmann::json& dir : lines.front()["cgroups"]) {
    EXPECT_NE(access(dir.get<std::string>().c_str(), F_OK), 0) << dir;
  }
}

// A cell run as host root (no hostUser) owns its cgroup directory: it
// makes a child cgroup there (in a cgroup namespace, through its own mount
// of the pids hierarchy) and moves a daemon into it. The cleanup must end
// the daemon and remove the child cgroup too.
TEST_P(CgroupTest, AChildCgroupTheCellMadeDoesNotOutliveIt) {
  const std::string events = Path("status.jsonl");
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult result,
      RunCell({"--pids-max=64", absl::StrCat("--status-file=", events),
               "--ro-bind=/sbin"},
              {"sh", "-c",
               "unshare -C sh -c 'mkdir -p /tmp/cg && "
               "mount -t cgroup -o pids none /tmp/cg && mkdir /tmp/cg/esc && "
               "echo $$ > /tmp/cg/esc/cgroup.procs && echo $$ && "
               "exec setsid sleep 600 </dev/null >/dev/null 2>&1' & "
               "sleep 1; exit 4"}));
  EXPECT_THAT(result.exit_code, Optional(4)) << result.stderr_text;
  EXPECT_THAT(result.stderr_text, Not(HasSubstr("cannot remove cgroup")));
  pid_t daemon = 0;
  ASSERT_TRUE(
      absl::SimpleAtoi(absl::StripAsciiWhitespace(result.stdout_text), &daemon))
      << result.stdout_text << result.stderr_text;
  EXPECT_TRUE(WaitForProcessGone(daemon, 5)) << "the daemon outlived its cell";
  const std::vector<nlohmann::json> lines = ReadEvents(events);
  ASSERT_FALSE(lines.empty());
  for (const nlohmann::json& dir : lines.front()["cgroups"]) {
    EXPECT_NE(access(dir.get<std::string>().c_str(), F_OK), 0) << dir;
  }
}

// A cell run as host root with its capabilities mounts the cgroup v1
// freezer (where the launcher does not place it) and freezes a process of
// its own: the cell's init then never finishes dying. The launcher still
// ends the run with the command's status and an `exited` line, and says
// what it leaves (SECURITY.md); the test thaws and removes it.
TEST_P(CgroupTest, AFrozenProcessCannotHoldTheLauncher) {
  ASSERT_EQ(access("/sys/fs/cgroup/freezer", F_OK), 0)
      << "this test needs the cgroup v1 freezer at /sys/fs/cgroup/freezer";
  const std::string name = absl::StrCat("cell-test-frozen-", getpid());
  const std::string events = Path("status.jsonl");
  std::vector<std::string> argv = RunArgv(
      {"--pid-namespace", "--pids-max=64", "--ro-bind=/sbin",
       absl::StrCat("--status-file=", events)},
      {"sh", "-c",
       absl::StrCat(
           "mkdir -p /tmp/fz && unshare --cgroup --mount sh -c '"
           "mount -t cgroup -o freezer cgroup /tmp/fz && mkdir /tmp/fz/",
           name,
           " && { sleep 1000 </dev/null >/dev/null 2>&1 & pid=$!; sleep 0.3; "
           "echo $pid > "
           "/tmp/fz/",
           name, "/cgroup.procs; echo FROZEN > /tmp/fz/", name,
           "/freezer.state; }'; exit 4")});
  SubprocessOptions options = Options();
  options.timeout = absl::Seconds(30);
  absl::StatusOr<SubprocessResult> result = RunSubprocess(argv, options);
  // Thaw and remove what the cell froze, whatever happened.
  const std::string frozen = absl::StrCat("/sys/fs/cgroup/freezer/", name);
  std::ofstream(frozen + "/freezer.state") << "THAWED";
  std::ifstream procs(frozen + "/cgroup.procs");
  for (pid_t pid; procs >> pid;) kill(pid, SIGKILL);
  for (int i = 0; i < 100 && rmdir(frozen.c_str()) != 0; ++i) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_THAT(result->exit_code, Optional(4)) << result->stderr_text;
  EXPECT_THAT(result->stderr_text, HasSubstr("may be frozen"));
  EXPECT_THAT(ExitedCode(events), Optional(4));
  EXPECT_THAT(JobDirs(), IsEmpty());
  // The next launch sweeps the cell's pids cgroup, empty once thawed.
  ASSERT_OK_AND_ASSIGN(SubprocessResult next,
                       RunCell({"--pids-max=64"}, {"true"}));
  EXPECT_THAT(next.exit_code, Optional(0)) << next.stderr_text;
}

TEST_P(CgroupTest, KilledLauncherLeavesOneTheNextLaunchSweeps) {
  nlohmann::json started;
  ASSERT_OK_AND_ASSIGN(
      Subprocess cell,
      StartCellAndWait({"--pids-max=64"},
                       {"sh", "-c",
                        "setsid sleep 600 </dev/null >/dev/null 2>&1 & "
                        "exec sleep 600"},
                       &started));
  ASSERT_TRUE(started["cgroups"].is_array());
  const std::string dir = started["cgroups"][0].get<std::string>();
  ASSERT_EQ(kill(cell.pid(), SIGKILL), 0);
  ASSERT_OK_AND_ASSIGN(SubprocessResult killed, cell.Wait());
  EXPECT_THAT(killed.signal, Optional(SIGKILL));
  // The command died with the launcher; the setsid daemon did not, and
  // keeps the cgroup until the next launch with a cgroup sweeps it.
  EXPECT_EQ(access(dir.c_str(), F_OK), 0);
  ASSERT_OK_AND_ASSIGN(SubprocessResult next,
                       RunCell({"--pids-max=64"}, {"true"}));
  EXPECT_THAT(next.exit_code, Optional(0)) << next.stderr_text;
  EXPECT_NE(access(dir.c_str(), F_OK), 0) << "stale cgroup " << dir;
  EXPECT_THAT(JobDirs(), IsEmpty());
}

INSTANTIATE_TEST_SUITE_P(Users, LimitsTest,
                         ::testing::Values(TestUser::kRoot, TestUser::kNobody),
                         TestUserName);
INSTANTIATE_TEST_SUITE_P(Root, CgroupTest, ::testing::Values(TestUser::kRoot),
                         TestUserName);
INSTANTIATE_TEST_SUITE_P(Nobody, CgroupRefusedTest,
                         ::testing::Values(TestUser::kNobody), TestUserName);

}  // namespace
}  // namespace cell::testing

#include "probes/host.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace cell::probes {
namespace {

using ::testing::ElementsAre;

TEST(HostTest, NamespaceInodesOfThisProcess) {
  const auto inodes = HostNamespaceInodes();
  EXPECT_GE(inodes.size(), 7u);  // 8 with time namespaces (Linux 5.6).
  EXPECT_GT(inodes.at("pid"), 0u);
}

// Another process's view, read from outside: a fake /proc tree stands in.
TEST(HostTest, NamespacesAndNetworkOfAProcessDirectory) {
  EXPECT_EQ(NamespaceInodesOf("/proc/self"), HostNamespaceInodes());
  ASSERT_OK_AND_ASSIGN(::cell::testing::TempDir dir,
                       ::cell::testing::TempDir::Create());
  ASSERT_EQ(mkdir(dir.Path("net").c_str(), 0755), 0);
  std::ofstream(dir.Path("net/dev"))
      << "Inter-|   Receive\n face |bytes\n    lo: 0 0\n  veth0: 1 2\n";
  std::ofstream(dir.Path("net/route"))
      << "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\n"
         "veth0\t00000000\t0100630A\t0003\t0\t0\t0\t00000000\n";
  std::ofstream(dir.Path("net/ipv6_route")) << "";
  const NetworkView view = NetworkOf(dir.path());
  EXPECT_THAT(view.interfaces, ElementsAre("lo", "veth0"));
  EXPECT_EQ(view.ipv4_routes, 1u);
  EXPECT_TRUE(view.ipv4_default);
  EXPECT_FALSE(view.ipv6_default);
  EXPECT_TRUE(NamespaceInodesOf(dir.path()).empty());
}

TEST(HostTest, PathsAndJobDirs) {
  ASSERT_OK_AND_ASSIGN(::cell::testing::TempDir dir,
                       ::cell::testing::TempDir::Create());
  EXPECT_FALSE(PathGone(dir.path()));
  EXPECT_TRUE(PathGone(dir.Path("absent")));
  ASSERT_EQ(symlink("absent", dir.Path("dangling").c_str()), 0);
  EXPECT_FALSE(PathGone(dir.Path("dangling")));
  ASSERT_EQ(mkdir(dir.Path("cell-jd.abc").c_str(), 0700), 0);
  ASSERT_EQ(mkdir(dir.Path("other").c_str(), 0700), 0);
  EXPECT_THAT(JobDirsIn(dir.path()), ElementsAre("cell-jd.abc"));
}

TEST(HostTest, ProcessGoneCountsZombies) {
  EXPECT_FALSE(ProcessGone(getpid()));
  const pid_t child = fork();
  if (child == 0) _exit(0);
  // Not reaped yet: a zombie, which can no longer act.
  for (int i = 0; i < 200 && !ProcessGone(child); ++i) usleep(5000);
  EXPECT_TRUE(ProcessGone(child));
  waitpid(child, nullptr, 0);
  EXPECT_TRUE(ProcessGone(child));
}

}  // namespace
}  // namespace cell::probes

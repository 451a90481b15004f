#include "launcher/jail/cgroup.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cell {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;

// A hybrid host like the CI machines: memory and pids on v1 hierarchies,
// a unified hierarchy with nothing but hugetlb.
constexpr char kHybridMountinfo[] =
    "30 25 0:26 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "31 30 0:27 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "34 30 0:30 / /sys/fs/cgroup/memory rw,relatime shared:5 - cgroup cgroup "
    "rw,memory\n"
    "38 30 0:34 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "39 30 0:35 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup "
    "rw,xattr,name=systemd\n"
    "40 30 0:36 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
    "41 30 0:37 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup "
    "rw,cpu,cpuacct\n";
constexpr char kHybridSelf[] =
    "9:name=systemd:/\n"
    "8:pids:/\n"
    "4:memory:/process_api/abc\n"
    "1:cpu:/\n"
    "2:cpu,cpuacct:/x\n"
    "0::/\n";

TEST(ParseCgroupHierarchiesTest, HybridHostListsEveryHierarchyItIsIn) {
  const std::vector<CgroupHierarchy> hierarchies =
      ParseCgroupHierarchies(kHybridMountinfo, kHybridSelf);
  ASSERT_EQ(hierarchies.size(), 6u);
  EXPECT_EQ(hierarchies[0],
            (CgroupHierarchy{
                1, "/sys/fs/cgroup/cpu", {"cpu"}, "/sys/fs/cgroup/cpu"}));
  EXPECT_EQ(hierarchies[1],
            (CgroupHierarchy{1,
                             "/sys/fs/cgroup/memory",
                             {"memory"},
                             "/sys/fs/cgroup/memory/process_api/abc"}));
  EXPECT_EQ(hierarchies[2],
            (CgroupHierarchy{
                1, "/sys/fs/cgroup/pids", {"pids"}, "/sys/fs/cgroup/pids"}));
  EXPECT_THAT(hierarchies[3].controllers, IsEmpty());  // name=systemd
  EXPECT_EQ(hierarchies[4],
            (CgroupHierarchy{
                2, "/sys/fs/cgroup/unified", {}, "/sys/fs/cgroup/unified"}));
  EXPECT_EQ(hierarchies[5].own_dir, "/sys/fs/cgroup/cpu,cpuacct/x");
}

TEST(ParseCgroupHierarchiesTest, UnifiedHostWithANestedCgroup) {
  const std::vector<CgroupHierarchy> hierarchies = ParseCgroupHierarchies(
      "29 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 "
      "rw,nsdelegate,memory_recursiveprot\n"
      "50 29 0:26 / /mnt/again rw - cgroup2 cgroup2 rw\n",
      "0::/user.slice/user-1000.slice/session-2.scope\n");
  EXPECT_THAT(
      hierarchies,
      ElementsAre(CgroupHierarchy{
          2,
          "/sys/fs/cgroup",
          {},
          "/sys/fs/cgroup/user.slice/user-1000.slice/session-2.scope"}));
}

TEST(ParseCgroupHierarchiesTest, MountOfASubtreeMapsThePathIntoIt) {
  // A container's view: the mount's root is the container's cgroup.
  const std::vector<CgroupHierarchy> inside = ParseCgroupHierarchies(
      "29 23 0:26 /docker/abc /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
      "0::/docker/abc/job\n");
  ASSERT_EQ(inside.size(), 1u);
  EXPECT_EQ(inside[0].own_dir, "/sys/fs/cgroup/job");
  // A mount of some other subtree does not show this process's cgroup.
  EXPECT_THAT(ParseCgroupHierarchies(
                  "29 23 0:26 /other /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
                  "0::/docker/abc\n"),
              IsEmpty());
}

TEST(ParseCgroupHierarchiesTest, IgnoresOtherMountsAndGarbage) {
  EXPECT_THAT(ParseCgroupHierarchies("garbage\n\n1 2 3\n"
                                     "22 1 0:5 / /proc rw - proc proc rw\n"
                                     "x y z / /a - cgroup2\n",
                                     "0::/\n"),
              IsEmpty());
  EXPECT_THAT(ParseCgroupHierarchies(kHybridMountinfo, ""), IsEmpty());
}

TEST(CgroupLimitFilesTest, NamesTheFilesOfEachVersion) {
  EXPECT_THAT(CgroupLimitFiles(2, "memory", 64 << 20),
              ElementsAre(Pair("memory.max", "67108864"),
                          Pair("memory.swap.max", "0")));
  EXPECT_THAT(CgroupLimitFiles(1, "memory", 64 << 20),
              ElementsAre(Pair("memory.limit_in_bytes", "67108864"),
                          Pair("memory.memsw.limit_in_bytes", "67108864")));
  EXPECT_THAT(CgroupLimitFiles(2, "pids", 32),
              ElementsAre(Pair("pids.max", "32")));
  EXPECT_THAT(CgroupLimitFiles(1, "pids", 32),
              ElementsAre(Pair("pids.max", "32")));
}

TEST(CgroupNameTest, RoundTripsAndRefusesOtherNames) {
  const std::string name = CgroupName(4026531836u, 1234, 99);
  EXPECT_EQ(name, "cell-4026531836-1234-99");
  uint64_t pid_namespace = 0;
  pid_t launcher = 0;
  ASSERT_TRUE(ParseCgroupName(name, &pid_namespace, &launcher));
  EXPECT_EQ(pid_namespace, 4026531836u);
  EXPECT_EQ(launcher, 1234);
  ASSERT_TRUE(ParseCgroupName(name + "-launcher", &pid_namespace, &launcher));
  EXPECT_EQ(launcher, 1234);
  for (const char* other :
       {"cell-", "cell-1-2", "cell-1-2-", "cell-a-2-3", "cell-1-0-3",
        "cell-1--2-3", "system.slice", "cell-1-2-3-4", "xcell-1-2-3"}) {
    EXPECT_FALSE(ParseCgroupName(other, &pid_namespace, &launcher)) << other;
  }
}

}  // namespace
}  // namespace cell

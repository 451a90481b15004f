#include "base/mountinfo.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cell {
namespace {

TEST(ParseMountInfoTest, MountsWithEscapesAndOptionalFields) {
  const auto mounts = ParseMountInfo(
      "22 1 0:21 / / rw,relatime shared:1 - tmpfs tmpfs rw\n"
      "23 22 8:1 /nix/store /nix/store ro,nosuid,nodev master:2 - ext4 "
      "/dev/sda1 rw\n"
      "24 22 8:1 /a /home/cell/my\\040dir rw - ext4 /dev/sda1 rw\n"
      "garbage\n");
  ASSERT_EQ(mounts.size(), 3);
  EXPECT_EQ(mounts[0].mount_point, "/");
  EXPECT_FALSE(mounts[0].read_only);
  EXPECT_EQ(mounts[0].fs_type, "tmpfs");
  EXPECT_EQ(mounts[1].mount_point, "/nix/store");
  EXPECT_TRUE(mounts[1].read_only);
  EXPECT_EQ(mounts[1].fs_type, "ext4");
  EXPECT_EQ(mounts[1].source, "/dev/sda1");
  EXPECT_EQ(mounts[2].mount_point, "/home/cell/my dir");
  // Per-mount flags and propagation, for mount-flags.
  EXPECT_FALSE(mounts[0].nosuid);
  EXPECT_EQ(mounts[0].propagation, "shared:1");
  EXPECT_TRUE(mounts[1].nosuid);
  EXPECT_TRUE(mounts[1].nodev);
  EXPECT_EQ(mounts[1].propagation, "master:2");
  EXPECT_FALSE(mounts[2].nodev);
  EXPECT_EQ(mounts[2].propagation, "private");
  EXPECT_EQ(ParseMountInfo("1 0 0:1 / /x ro,nosuid shared:4 master:1 - a b "
                           "rw\n")[0]
                .propagation,
            "shared:4 master:1");
}

}  // namespace
}  // namespace cell

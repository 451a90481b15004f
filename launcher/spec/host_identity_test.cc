#include "launcher/spec/host_identity.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace cell {
namespace {

using ::cell::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kPasswd[] =
    "root:x:0:0:root:/root:/bin/bash\n"
    "alice:x:1000:1000:Alice:/home/alice:/bin/bash\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
constexpr char kGroup[] =
    "root:x:0:\n"
    "wheel:x:10:alice,bob\n"
    "alice:x:1000:\n"
    "docker:x:999:bob,alice\n"
    "nogroup:x:65534:\n";

TEST(HostIdentityTest, WithoutHostUserTheLauncherIsTheCell) {
  ASSERT_OK_AND_ASSIGN(
      HostIdentity identity,
      ResolveHostIdentity(std::nullopt, 1000, 1000, kPasswd, kGroup));
  EXPECT_EQ(identity.uid, 1000u);
  EXPECT_EQ(identity.user_name, "alice");
  EXPECT_FALSE(identity.switched);
  EXPECT_TRUE(identity.groups.empty());
}

TEST(HostIdentityTest, RootRunsTheCellAsTheNamedUser) {
  ASSERT_OK_AND_ASSIGN(HostIdentity alice,
                       ResolveHostIdentity("alice", 0, 0, kPasswd, kGroup));
  EXPECT_EQ(alice.uid, 1000u);
  EXPECT_EQ(alice.gid, 1000u);
  EXPECT_EQ(alice.group_name, "alice");
  EXPECT_TRUE(alice.switched);
  EXPECT_THAT(alice.groups, ElementsAre(1000u, 10u, 999u));
  ASSERT_OK_AND_ASSIGN(HostIdentity by_uid,
                       ResolveHostIdentity("65534", 0, 0, kPasswd, kGroup));
  EXPECT_EQ(by_uid.user_name, "nobody");
  EXPECT_EQ(by_uid.group_name, "nogroup");
  // A uid without an entry gets its own number as its group.
  ASSERT_OK_AND_ASSIGN(HostIdentity unnamed,
                       ResolveHostIdentity("4242", 0, 0, kPasswd, kGroup));
  EXPECT_EQ(unnamed.gid, 4242u);
  EXPECT_THAT(unnamed.groups, ElementsAre(4242u));
}

TEST(HostIdentityTest, ErrorsNameTheFieldAndTheFix) {
  EXPECT_THAT(ResolveHostIdentity("mallory", 0, 0, kPasswd, kGroup),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("field `hostUser`: no user 'mallory'")));
  EXPECT_THAT(ResolveHostIdentity("alice", 1000, 1000, kPasswd, kGroup),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("only a launcher running as root")));
}

TEST(HostIdentityTest, NixTrustFollowsTheDaemonsConfig) {
  HostIdentity root;
  EXPECT_TRUE(NixDaemonTrusts(root, "", kGroup));
  ASSERT_OK_AND_ASSIGN(HostIdentity alice,
                       ResolveHostIdentity("alice", 0, 0, kPasswd, kGroup));
  EXPECT_FALSE(NixDaemonTrusts(alice, "", kGroup));
  EXPECT_FALSE(NixDaemonTrusts(alice, "trusted-users = root bob\n", kGroup));
  EXPECT_TRUE(NixDaemonTrusts(alice, "trusted-users = root alice\n", kGroup));
  EXPECT_TRUE(NixDaemonTrusts(alice, "extra-trusted-users = @wheel", kGroup));
  EXPECT_TRUE(NixDaemonTrusts(alice, "trusted-users = *", kGroup));
  EXPECT_FALSE(NixDaemonTrusts(alice, "# trusted-users = alice", kGroup));
}

}  // namespace
}  // namespace cell

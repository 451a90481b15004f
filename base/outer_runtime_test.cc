#include "base/outer_runtime.h"

#include <errno.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cell {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

// /proc/self/mountinfo in a rootful podman 4.3 container with default
// security options (recorded on Debian 12): the OCI runtimes' masks.
constexpr char kPodmanMountinfo[] =
    "101 70 0:40 / / rw,relatime - overlay overlay rw\n"
    "102 101 0:41 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw\n"
    "103 101 0:43 / /sys ro,nosuid,nodev,noexec,relatime - sysfs sysfs ro\n"
    "104 103 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec - cgroup2 cgroup2 "
    "rw\n"
    "74 102 0:41 /bus /proc/bus ro,nosuid,nodev,noexec,relatime - proc proc "
    "rw\n"
    "75 102 0:41 /fs /proc/fs ro,nosuid,nodev,noexec,relatime - proc proc "
    "rw\n"
    "76 102 0:41 /irq /proc/irq ro,nosuid,nodev,noexec,relatime - proc proc "
    "rw\n"
    "77 102 0:41 /sys /proc/sys ro,nosuid,nodev,noexec,relatime - proc proc "
    "rw\n"
    "78 102 0:46 / /proc/acpi ro,relatime - tmpfs tmpfs ro\n"
    "79 102 0:42 /null /proc/keys rw,nosuid,noexec - tmpfs tmpfs rw\n"
    "80 102 0:42 /null /proc/timer_list rw,nosuid,noexec - tmpfs tmpfs rw\n";

constexpr char kPlainMountinfo[] =
    "22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n"
    "23 22 0:21 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw\n"
    "24 23 0:38 / /proc/sys/fs/binfmt_misc rw,relatime - autofs systemd-1 "
    "rw\n"
    "25 22 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec - cgroup2 cgroup2 "
    "rw\n";

RuntimeFacts Podman() {
  RuntimeFacts facts;
  facts.containerenv = "";
  facts.container_variable = "podman";
  facts.proc1_cgroup = "0::/libpod_parent/libpod-0123abcd\n";
  facts.mountinfo = kPodmanMountinfo;
  facts.status = "Name:\tcell\nSeccomp:\t2\nSeccomp_filters:\t1\n";
  facts.max_user_namespaces = 96365;
  return facts;
}

TEST(OuterRuntimeTest, PodmanItsMasksAndItsSeccompFilter) {
  const OuterRuntime runtime = DetectOuterRuntime(Podman());
  EXPECT_EQ(runtime.runtime, "podman");
  EXPECT_EQ(runtime.evidence, "/run/.containerenv");
  EXPECT_THAT(runtime.proc_overmounts,
              ElementsAre("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                          "/proc/acpi", "/proc/keys", "/proc/timer_list"));
  EXPECT_TRUE(runtime.seccomp_filter);
  EXPECT_TRUE(runtime.cgroup_read_only);
}

TEST(OuterRuntimeTest, AHostIsNoContainer) {
  RuntimeFacts facts;
  facts.proc1_cgroup = "0::/init.scope\n";
  facts.mountinfo = kPlainMountinfo;
  facts.status = "Seccomp:\t0\n";
  const OuterRuntime runtime = DetectOuterRuntime(facts);
  EXPECT_FALSE(runtime.in_container());
  // systemd's binfmt_misc automount is not a mask.
  EXPECT_THAT(runtime.proc_overmounts, IsEmpty());
  EXPECT_FALSE(runtime.seccomp_filter);
  EXPECT_FALSE(runtime.cgroup_read_only);
}

TEST(OuterRuntimeTest, EachRuntimeByWhatItLeaves) {
  RuntimeFacts docker;
  docker.dockerenv = true;
  EXPECT_EQ(DetectOuterRuntime(docker).runtime, "docker");
  RuntimeFacts docker_cgroup;
  docker_cgroup.proc1_cgroup = "0::/system.slice/docker-12ab.scope\n";
  EXPECT_EQ(DetectOuterRuntime(docker_cgroup).runtime, "docker");
  // A pod's container is also docker's or containerd's: the pod wins.
  RuntimeFacts pod;
  pod.dockerenv = true;
  pod.proc1_cgroup = "0::/kubepods/besteffort/pod12/abcd\n";
  EXPECT_EQ(DetectOuterRuntime(pod).runtime, "kubernetes");
  RuntimeFacts pod_variable;
  pod_variable.kubernetes_variable = true;
  EXPECT_EQ(DetectOuterRuntime(pod_variable).evidence,
            "$KUBERNETES_SERVICE_HOST");
  RuntimeFacts lxc;
  lxc.container_variable = "lxc";
  EXPECT_EQ(DetectOuterRuntime(lxc).runtime, "lxc");
  // Nothing but the masks: a container of an unknown kind.
  RuntimeFacts masked;
  masked.mountinfo = kPodmanMountinfo;
  EXPECT_EQ(DetectOuterRuntime(masked).runtime, "a container");
}

TEST(OuterRuntimeTest, ProcMountAdviceNamesEveryRuntimesSetting) {
  const std::string advice = ProcMountAdvice(DetectOuterRuntime(Podman()));
  EXPECT_THAT(
      advice,
      AllOf(HasSubstr("a podman container"),
            HasSubstr("/proc/bus, /proc/fs, /proc/irq, /proc/sys, ..."),
            HasSubstr("--security-opt unmask=/proc/*"),
            HasSubstr("--security-opt systempaths=unconfined"),
            HasSubstr("procMount: Unmasked"), HasSubstr("--pid-namespace")));
  EXPECT_THAT(advice, Not(HasSubstr("\n")));
  RuntimeFacts host;
  host.mountinfo = kPlainMountinfo;
  EXPECT_THAT(ProcMountAdvice(DetectOuterRuntime(host)),
              Not(HasSubstr("podman")));
}

TEST(OuterRuntimeTest, UserNamespaceAdviceNamesTheCauseFound) {
  const OuterRuntime podman = DetectOuterRuntime(Podman());
  EXPECT_THAT(
      UserNamespaceAdvice(podman, EPERM),
      AllOf(HasSubstr("seccomp filter may deny new user namespaces (the "
                      "podman container's profile"),
            HasSubstr("seccomp=PROFILE.json"), HasSubstr("seccompProfile"),
            Not(HasSubstr("max_user_namespaces"))));
  RuntimeFacts zero = Podman();
  zero.max_user_namespaces = 0;
  EXPECT_THAT(UserNamespaceAdvice(DetectOuterRuntime(zero), ENOSPC),
              HasSubstr("user.max_user_namespaces is 0"));
  RuntimeFacts ubuntu;
  ubuntu.apparmor_restrict_userns = 1;
  EXPECT_THAT(UserNamespaceAdvice(DetectOuterRuntime(ubuntu), EACCES),
              HasSubstr("AppArmor"));
  // Nothing found: every usual cause named.
  EXPECT_THAT(
      UserNamespaceAdvice(DetectOuterRuntime(RuntimeFacts()), EPERM),
      AllOf(HasSubstr("user.max_user_namespaces"), HasSubstr("seccomp")));
}

TEST(OuterRuntimeTest, TmpAndCgroupAdvice) {
  const OuterRuntime podman = DetectOuterRuntime(Podman());
  EXPECT_THAT(TmpAdvice(podman),
              AllOf(HasSubstr("TMPDIR"), HasSubstr("--tmpfs /tmp"),
                    HasSubstr("emptyDir")));
  EXPECT_THAT(TmpAdvice(OuterRuntime()),
              AllOf(HasSubstr("TMPDIR"), Not(HasSubstr("--tmpfs"))));
  EXPECT_THAT(CgroupAdvice(podman),
              AllOf(HasSubstr("read-only"), HasSubstr("--memory"),
                    HasSubstr("resources.limits")));
  EXPECT_EQ(CgroupAdvice(OuterRuntime()), "");
  EXPECT_THAT(IdMapAdvice(podman),
              AllOf(HasSubstr("CAP_SETFCAP"),
                    HasSubstr("--cap-add=SETUID,SETGID,SETFCAP"),
                    HasSubstr("capabilities.add")));
}

TEST(OuterRuntimeTest, DescriptionForTheReport) {
  const auto lines = DescribeOuterRuntime(DetectOuterRuntime(Podman()));
  ASSERT_GE(lines.size(), 4u);
  EXPECT_EQ(lines[0].first, "container");
  EXPECT_EQ(lines[0].second, "podman (/run/.containerenv)");
  EXPECT_THAT(lines[1].second, HasSubstr("/proc/keys"));
  EXPECT_THAT(lines[3].second, HasSubstr("user.max_user_namespaces=96365"));
}

TEST(OuterRuntimeTest, GatheringReadsThisMachine) {
  const RuntimeFacts facts = GatherRuntimeFacts();
  EXPECT_THAT(facts.mountinfo, HasSubstr(" /proc "));
  EXPECT_THAT(facts.status, HasSubstr("Seccomp:"));
}

}  // namespace
}  // namespace cell

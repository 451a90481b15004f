#include "launcher/spec/plan.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace cell {
namespace {

using ::cell::testing::StatusIs;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsSupersetOf;
using ::testing::Not;

CellSpec ResolvedSpec() {
  CellSpec spec;
  spec.worktree_path = "/host/wt";
  spec.nix_store = "/host/store";
  spec.nix_daemon_socket = "/host/daemon";
  spec.path = std::vector<std::string>{"/nix/store/x-nix/bin", "/usr/bin"};
  return spec;
}

HostFacts Host() {
  HostFacts host;
  host.uid = 1000;
  host.gid = 100;
  host.user_name = "alice";
  host.group_name = "users";
  host.term = "xterm";
  return host;
}

std::vector<std::string> Destinations(const CellPlan& plan) {
  std::vector<std::string> out;
  for (const MountOp& op : plan.mounts) out.push_back(op.dst);
  return out;
}

const MountOp* FindOp(const CellPlan& plan, const std::string& dst) {
  for (const MountOp& op : plan.mounts) {
    if (op.dst == dst) return &op;
  }
  return nullptr;
}

TEST(MakePlanTest, BaseMountsInOrder) {
  ASSERT_OK_AND_ASSIGN(CellPlan plan, MakePlan(ResolvedSpec(), {"ls"}, Host()));
  EXPECT_THAT(
      Destinations(plan),
      ElementsAre(
          "/nix/store", "/run/nix", "/home/cell", "/home/cell/worktree", "/tmp",
          "/proc", "/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus",
          "/proc/fs", "/proc/kcore", "/proc/keys", "/proc/kmsg",
          "/proc/timer_list", "/proc/sched_debug", "/proc/latency_stats",
          "/proc/acpi", "/proc/scsi", "/dev", "/dev/null", "/dev/zero",
          "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty", "/dev/pts",
          "/dev/ptmx", "/dev/shm", "/dev/fd", "/dev/stdin", "/dev/stdout",
          "/dev/stderr", "/etc/passwd", "/etc/group", "/etc/hosts"));
  EXPECT_EQ(*FindOp(plan, "/nix/store"),
            (MountOp{MountOpKind::kRoBind, "/host/store", "/nix/store"}));
  EXPECT_EQ(FindOp(plan, "/run/nix")->kind, MountOpKind::kRoBind);
  EXPECT_EQ(*FindOp(plan, "/home/cell/worktree"),
            (MountOp{MountOpKind::kBind, "/host/wt", "/home/cell/worktree"}));
  EXPECT_EQ(FindOp(plan, "/tmp")->mode, 01777);
  EXPECT_EQ(*FindOp(plan, "/proc"),
            (MountOp{MountOpKind::kBind, "/proc", "/proc"}));
  EXPECT_EQ(FindOp(plan, "/proc/sys")->kind, MountOpKind::kRoRebind);
  EXPECT_EQ(FindOp(plan, "/proc/kcore")->kind, MountOpKind::kMask);
  EXPECT_EQ(FindOp(plan, "/dev/ptmx")->src, "pts/ptmx");
  EXPECT_EQ(plan.cwd, "/home/cell/worktree");
  EXPECT_FALSE(plan.pid_namespace);
  EXPECT_FALSE(plan.ipc_namespace);
  EXPECT_TRUE(plan.keep_capabilities);
}

TEST(MakePlanTest, OptionalPartsFollowTheSpec) {
  CellSpec spec = ResolvedSpec();
  spec.nix = false;
  spec.log_dir = "/host/logs";
  spec.isolation.pid_namespace = true;
  spec.isolation.ipc_namespace = true;
  spec.isolation.capabilities = Capabilities::kNone;
  spec.mounts = {{MountType::kRoBind, "/usr", "/usr", true},
                 {MountType::kTmpfs, "", "/scratch"},
                 {MountType::kSymlink, "usr/lib", "/lib"}};
  ASSERT_OK_AND_ASSIGN(CellPlan plan, MakePlan(spec, {"ls"}, Host()));
  EXPECT_EQ(FindOp(plan, "/nix/store"), nullptr);
  EXPECT_EQ(FindOp(plan, "/run/nix"), nullptr);
  EXPECT_EQ(*FindOp(plan, "/home/cell/log"),
            (MountOp{MountOpKind::kRoBind, "/host/logs", "/home/cell/log"}));
  EXPECT_EQ(FindOp(plan, "/proc")->kind, MountOpKind::kProc);
  // A fresh /proc gets the same read-only paths and masks as the host's.
  EXPECT_EQ(FindOp(plan, "/proc/sysrq-trigger")->kind, MountOpKind::kRoRebind);
  EXPECT_EQ(FindOp(plan, "/proc/acpi")->kind, MountOpKind::kMask);
  EXPECT_TRUE(plan.pid_namespace);
  EXPECT_TRUE(plan.ipc_namespace);
  EXPECT_FALSE(plan.keep_capabilities);
  // Spec mounts come last, in order.
  const size_t n = plan.mounts.size();
  MountOp usr{MountOpKind::kRoBind, "/usr", "/usr"};
  usr.optional = true;
  EXPECT_EQ(plan.mounts[n - 3], usr);
  EXPECT_EQ(plan.mounts[n - 2],
            (MountOp{MountOpKind::kTmpfs, "", "/scratch", "", 01777}));
  EXPECT_EQ(plan.mounts[n - 1],
            (MountOp{MountOpKind::kSymlink, "usr/lib", "/lib"}));
}

TEST(MakePlanTest, EtcFilesNameTheCaller) {
  ASSERT_OK_AND_ASSIGN(CellPlan plan, MakePlan(ResolvedSpec(), {"ls"}, Host()));
  EXPECT_EQ(FindOp(plan, "/etc/passwd")->content,
            "root:x:0:0:root:/root:/bin/sh\n"
            "alice:x:1000:100::/home/cell:/bin/sh\n");
  EXPECT_EQ(FindOp(plan, "/etc/group")->content, "root:x:0:\nusers:x:100:\n");
  EXPECT_THAT(FindOp(plan, "/etc/hosts")->content,
              HasSubstr("127.0.0.1\tlocalhost"));

  HostFacts root;
  ASSERT_OK_AND_ASSIGN(CellPlan root_plan,
                       MakePlan(ResolvedSpec(), {"ls"}, root));
  EXPECT_EQ(FindOp(root_plan, "/etc/passwd")->content,
            "root:x:0:0:root:/home/cell:/bin/sh\n");
  EXPECT_EQ(FindOp(root_plan, "/etc/group")->content, "root:x:0:\n");

  HostFacts nameless = Host();
  nameless.user_name.clear();
  nameless.group_name.clear();
  ASSERT_OK_AND_ASSIGN(CellPlan nameless_plan,
                       MakePlan(ResolvedSpec(), {"ls"}, nameless));
  EXPECT_THAT(FindOp(nameless_plan, "/etc/passwd")->content,
              HasSubstr("cell:x:1000:100:"));
}

TEST(MakePlanTest, EnvironmentIsExactlyAsDocumented) {
  CellSpec spec = ResolvedSpec();
  spec.env = {{"EDITOR", "vi"}, {"TERM", "dumb"}};
  ASSERT_OK_AND_ASSIGN(CellPlan plan, MakePlan(spec, {"ls"}, Host()));
  EXPECT_THAT(
      plan.env,
      ElementsAre(
          "HOME=/home/cell", "USER=alice", "PATH=/nix/store/x-nix/bin:/usr/bin",
          "NIX_CONFIG=experimental-features = nix-command flakes\n"
          "substitute = true",
          "NIX_REMOTE=unix:///run/nix/socket",
          "NIX_PATH=/home/cell/.nix-defexpr/channels",
          "http_proxy=http://127.0.0.1:3128",
          "https_proxy=http://127.0.0.1:3128",
          "HTTP_PROXY=http://127.0.0.1:3128",
          "HTTPS_PROXY=http://127.0.0.1:3128",
          "no_proxy=localhost,127.0.0.1,::1",
          "NO_PROXY=localhost,127.0.0.1,::1", "EDITOR=vi", "TERM=dumb"));
}

TEST(MakePlanTest, NoNixAndNoProxyMeanNoSuchVariables) {
  CellSpec spec = ResolvedSpec();
  spec.nix = false;
  spec.network.mode = NetworkMode::kNone;
  HostFacts host = Host();
  host.term.reset();
  host.lang = "C.UTF-8";
  ASSERT_OK_AND_ASSIGN(CellPlan plan, MakePlan(spec, {"ls"}, host));
  EXPECT_THAT(plan.env, ElementsAre("HOME=/home/cell", "USER=alice",
                                    "PATH=/nix/store/x-nix/bin:/usr/bin",
                                    "LANG=C.UTF-8"));
}

TEST(MakePlanTest, ProxyPortFollowsTheSpec) {
  CellSpec spec = ResolvedSpec();
  spec.network.port = 8080;
  ASSERT_OK_AND_ASSIGN(CellPlan plan, MakePlan(spec, {"ls"}, Host()));
  EXPECT_THAT(plan.env, Contains("https_proxy=http://127.0.0.1:8080"));
  EXPECT_THAT(plan.env, Not(Contains("https_proxy=http://127.0.0.1:3128")));
}

TEST(MakePlanTest, ExecCandidatesFollowPath) {
  ASSERT_OK_AND_ASSIGN(CellPlan plan,
                       MakePlan(ResolvedSpec(), {"ls", "-l"}, Host()));
  EXPECT_THAT(plan.argv, ElementsAre("ls", "-l"));
  EXPECT_THAT(plan.exec_candidates,
              ElementsAre("/nix/store/x-nix/bin/ls", "/usr/bin/ls"));
  ASSERT_OK_AND_ASSIGN(CellPlan direct,
                       MakePlan(ResolvedSpec(), {"./run.sh"}, Host()));
  EXPECT_THAT(direct.exec_candidates, ElementsAre("./run.sh"));
}

TEST(MakePlanTest, NeedsACommandAndAResolvedSpec) {
  EXPECT_THAT(
      MakePlan(ResolvedSpec(), {}, Host()),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("`command`")));
  CellSpec unresolved = ResolvedSpec();
  unresolved.path.reset();
  EXPECT_THAT(MakePlan(unresolved, {"ls"}, Host()),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(DescribeMountOpTest, NamesSourceAndDestination) {
  EXPECT_EQ(DescribeMountOp({MountOpKind::kRoBind, "/a", "/b"}),
            "read-only bind /a at /b");
  EXPECT_EQ(DescribeMountOp({MountOpKind::kSymlink, "t", "/l"}),
            "symlink /l -> t");
}

// The ops as "DST", masks as "mask DST", in order.
std::vector<std::string> Order(const std::vector<MountOp>& mounts) {
  std::vector<std::string> order;
  for (const MountOp& op : mounts) {
    order.push_back(
        absl::StrCat(op.kind == MountOpKind::kMask ? "mask " : "", op.dst));
  }
  return order;
}

// A bind of a chroot whose proc, sys and dev/pts are the host's: each is
// masked after the bind, at its place under the destination, outer first.
TEST(MaskKernelSubmountsTest, KernelFileSystemsUnderABindSourceAreMasked) {
  const std::vector<MountEntry> host = ParseMountInfo(
      "20 1 0:5 / / rw - ext4 /dev/sda1 rw\n"
      "21 20 0:6 / /srv/chroot/proc rw - proc proc rw\n"
      "22 21 0:7 / /srv/chroot/proc/sys/fs/binfmt_misc rw - binfmt_misc x rw\n"
      "23 20 0:8 / /srv/chroot/dev/pts rw - devpts devpts rw\n"
      "24 20 0:9 / /srv/chroot/mnt/data rw - ext4 /dev/sdb rw\n"
      "25 20 0:10 / /srv/with\\040space/sys rw - sysfs sysfs rw\n"
      "26 20 0:11 / /proc rw - proc proc rw\n");
  ASSERT_EQ(host.size(), 7u);
  EXPECT_EQ(host[5].mount_point, "/srv/with space/sys");
  MountOp bind;
  bind.kind = MountOpKind::kBind;
  bind.src = "/srv/chroot";
  bind.dst = "/mnt/chroot";
  MountOp other;
  other.kind = MountOpKind::kRoBind;
  other.src = "/usr";
  other.dst = "/usr";
  std::vector<MountOp> mounts = {bind, other};
  MaskKernelSubmounts(host, &mounts);
  const std::vector<std::string> order = Order(mounts);
  EXPECT_THAT(order,
              ::testing::ElementsAre("/mnt/chroot", "mask /mnt/chroot/dev/pts",
                                     "mask /mnt/chroot/proc", "/usr"));
}

// A bind of a directory above the cell's root (a read-only bind of /, or
// of $TMPDIR) gets a mask where it would show that root again.
TEST(MaskNewRootInBindsTest, TheCellsRootIsHiddenInBindsAboveIt) {
  MountOp all;
  all.kind = MountOpKind::kRoBind;
  all.src = "/";
  all.dst = "/host";
  MountOp tmp;
  tmp.kind = MountOpKind::kRoBind;
  tmp.src = "/tmp";
  tmp.dst = "/t";
  MountOp other;
  other.kind = MountOpKind::kBind;
  other.src = "/srv";
  other.dst = "/srv";
  std::vector<MountOp> mounts = {all, tmp, other};
  MaskNewRootInBinds("/tmp/cell-jd.x/root", &mounts);
  const std::vector<std::string> order = Order(mounts);
  EXPECT_THAT(order,
              ::testing::ElementsAre("/host", "mask /host/tmp/cell-jd.x/root",
                                     "/t", "mask /t/cell-jd.x/root", "/srv"));
}

TEST(MakePlanTest, TlsRootsAreBoundAndNamedForEveryClient) {
  CellSpec spec = ResolvedSpec();
  spec.tls_roots = "/host/ca.pem";
  spec.env["CURL_CA_BUNDLE"] = "/mine.pem";  // The spec's own wins.
  ASSERT_OK_AND_ASSIGN(CellPlan plan, MakePlan(spec, {"curl"}, Host()));
  const MountOp* roots = FindOp(plan, "/etc/cell-tls-roots.pem");
  ASSERT_NE(roots, nullptr);
  EXPECT_EQ(roots->kind, MountOpKind::kRoBind);
  EXPECT_EQ(roots->src, "/host/ca.pem");
  EXPECT_THAT(plan.env,
              IsSupersetOf({"SSL_CERT_FILE=/etc/cell-tls-roots.pem",
                            "GIT_SSL_CAINFO=/etc/cell-tls-roots.pem",
                            "NIX_SSL_CERT_FILE=/etc/cell-tls-roots.pem",
                            "NODE_EXTRA_CA_CERTS=/etc/cell-tls-roots.pem",
                            "CURL_CA_BUNDLE=/mine.pem"}));
  EXPECT_THAT(plan.env,
              Not(Contains("CURL_CA_BUNDLE=/etc/cell-tls-roots.pem")));
}

TEST(MakePlanTest, APersistentHomeReplacesTheTmpfsBeforeTheWorktree) {
  CellSpec spec = ResolvedSpec();
  spec.mounts.push_back({MountType::kRoBind, "/usr", "/usr"});
  spec.mounts.push_back({MountType::kBind, "/host/cellhome", "/home/cell"});
  ASSERT_OK_AND_ASSIGN(CellPlan plan, MakePlan(spec, {"ls"}, Host()));
  const std::vector<std::string> dsts = Destinations(plan);
  EXPECT_EQ(std::count(dsts.begin(), dsts.end(), "/home/cell"), 1);
  const auto home = std::find(dsts.begin(), dsts.end(), "/home/cell");
  const auto worktree =
      std::find(dsts.begin(), dsts.end(), "/home/cell/worktree");
  ASSERT_NE(home, dsts.end());
  EXPECT_LT(home, worktree);
  const MountOp* op = FindOp(plan, "/home/cell");
  EXPECT_EQ(op->kind, MountOpKind::kBind);
  EXPECT_EQ(op->src, "/host/cellhome");
}

}  // namespace
}  // namespace cell

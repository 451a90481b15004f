#include "policy/host_checks.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace cell::policy {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

CellSpec SpecWith(const std::string& worktree) {
  CellSpec spec;
  spec.worktree_path = worktree;
  return spec;
}

TEST(WritableCellViewsTest, ThroughTheWorktreeAndReadWriteBindsByIdentity) {
  ASSERT_OK_AND_ASSIGN(testing::TempDir dir, testing::TempDir::Create());
  for (const char* sub : {"tree", "tree/x", "data", "ro", "treehouse"}) {
    ASSERT_EQ(mkdir(dir.Path(sub).c_str(), 0755), 0);
  }
  std::ofstream(dir.Path("tree/x/filter")) << "x\n";
  CellSpec spec = SpecWith(dir.Path("tree"));
  spec.mounts.push_back({MountType::kBind, dir.Path("tree/x"), "/mnt/x"});
  spec.mounts.push_back(
      {MountType::kBind, dir.Path("tree/x/filter"), "/mnt/filter"});
  spec.mounts.push_back({MountType::kRoBind, dir.Path("ro"), "/ro"});
  EXPECT_THAT(WritableCellViews(spec, dir.Path("tree/x/filter")),
              ElementsAre("/home/cell/worktree/x/filter", "/mnt/x/filter",
                          "/mnt/filter"));
  EXPECT_THAT(WritableCellViews(spec, dir.Path("ro/f")), IsEmpty());
  EXPECT_THAT(WritableCellViews(spec, dir.Path("treehouse/f")), IsEmpty());
}

TEST(ControlPathsTest, LogDirProtectAndControlFilesInEveryWritableView) {
  ASSERT_OK_AND_ASSIGN(testing::TempDir dir, testing::TempDir::Create());
  ASSERT_EQ(mkdir(dir.Path("tree").c_str(), 0755), 0);
  ASSERT_EQ(mkdir(dir.Path("logs").c_str(), 0755), 0);
  const std::string tree = dir.Path("tree");
  CellSpec spec = SpecWith(tree);
  spec.log_dir = dir.Path("logs");
  spec.protect = {".git/hooks/", ".envrc"};
  spec.mounts.push_back({MountType::kBind, dir.Path("logs"), "/mnt/logs"});
  const std::map<std::string, std::string> paths = ControlPaths(
      spec, {{tree + "/cell.json", "the spec"}, {"/etc/filter", "the filter"}});
  EXPECT_THAT(
      paths,
      UnorderedElementsAre(
          Pair("/home/cell/log", "logDir"),
          Pair("/mnt/logs", absl::StrCat("logDir (", dir.Path("logs"), ")")),
          Pair("/home/cell/worktree/.git/hooks",
               absl::StrCat("protect: .git/hooks/ (", tree, "/.git/hooks)")),
          Pair("/home/cell/worktree/.envrc",
               absl::StrCat("protect: .envrc (", tree, "/.envrc)")),
          Pair("/home/cell/worktree/cell.json",
               absl::StrCat("the spec (", tree, "/cell.json)"))));
}

TEST(HostPathProblemsTest, SourcesInsideAWritableBind) {
  ASSERT_OK_AND_ASSIGN(testing::TempDir dir, testing::TempDir::Create());
  ASSERT_EQ(mkdir(dir.Path("tree").c_str(), 0755), 0);
  ASSERT_EQ(mkdir(dir.Path("tree/tools").c_str(), 0755), 0);
  std::ofstream(dir.Path("tree/filter")) << "x\n";
  const std::string tree = dir.Path("tree");
  CellSpec spec = SpecWith(tree);
  spec.tinyproxy_filter = tree + "/filter";
  spec.mounts.push_back({MountType::kRoBind, tree + "/tools", "/opt/tools"});
  spec.mounts.push_back({MountType::kRoBind, "/usr", "/usr"});
  EXPECT_THAT(
      HostPathProblems(nlohmann::json::object(), spec),
      ElementsAre(HasSubstr(absl::StrCat(
                      "tinyproxyFilter: ", tree,
                      "/filter lies inside the writable bind of ", tree)),
                  HasSubstr("mounts[0].src: " + tree + "/tools")));
}

// A symlink a cell could have made (not root's, in /) on the way to a
// path the spec file names.
TEST(HostPathProblemsTest, SymlinkOnTheWayAsTheSpecWritesIt) {
  ASSERT_OK_AND_ASSIGN(testing::TempDir dir, testing::TempDir::Create());
  ASSERT_EQ(mkdir(dir.Path("real").c_str(), 0755), 0);
  ASSERT_EQ(symlink(dir.Path("real").c_str(), dir.Path("link").c_str()), 0);
  CellSpec spec = SpecWith(dir.Path("real"));
  const nlohmann::json raw = {
      {"worktreePath", dir.Path("link")},
      {"mounts", {{{"type", "ro-bind"}, {"src", dir.Path("real")}}}}};
  EXPECT_THAT(HostPathProblems(raw, spec),
              ElementsAre(AllOf(HasSubstr("worktreePath: "),
                                HasSubstr("is a symlink"))));
  EXPECT_THAT(HostPathProblems({{"worktreePath", dir.Path("real")}}, spec),
              IsEmpty());
}

}  // namespace
}  // namespace cell::policy

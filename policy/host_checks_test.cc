#include "policy/host_checks.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <string>

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

TEST(WritableCellViewTest, MapsThroughTheWorktreeAndReadWriteBindsOnly) {
  CellSpec spec = SpecWith("/w/tree");
  spec.mounts.push_back({MountType::kBind, "/data", "/mnt/data"});
  spec.mounts.push_back({MountType::kRoBind, "/ro", "/ro"});
  EXPECT_EQ(WritableCellView(spec, "/w/tree/cell.json"),
            "/home/cell/worktree/cell.json");
  EXPECT_EQ(WritableCellView(spec, "/data/x/filter"), "/mnt/data/x/filter");
  EXPECT_EQ(WritableCellView(spec, "/ro/filter"), "");
  EXPECT_EQ(WritableCellView(spec, "/w/treehouse/x"), "");
}

TEST(ControlPathsTest, LogDirProtectAndControlFilesInWritableBinds) {
  CellSpec spec = SpecWith("/w/tree");
  spec.log_dir = "/var/log/cell";
  spec.protect = {".git/hooks/", ".envrc"};
  const std::map<std::string, std::string> paths = ControlPaths(
      spec, {{"/w/tree/cell.json", "the spec"}, {"/etc/filter", "the filter"}});
  EXPECT_THAT(
      paths, UnorderedElementsAre(
                 Pair("/home/cell/log", "logDir"),
                 Pair("/home/cell/worktree/.git/hooks", "protect: .git/hooks/"),
                 Pair("/home/cell/worktree/.envrc", "protect: .envrc"),
                 Pair("/home/cell/worktree/cell.json",
                      "the spec (/w/tree/cell.json)")));
}

TEST(HostPathProblemsTest, SourcesInsideAWritableBind) {
  CellSpec spec = SpecWith("/w/tree");
  spec.tinyproxy_filter = "/w/tree/filter";
  spec.mounts.push_back({MountType::kRoBind, "/w/tree/tools", "/opt/tools"});
  spec.mounts.push_back({MountType::kRoBind, "/usr", "/usr"});
  EXPECT_THAT(HostPathProblems(nlohmann::json::object(), spec),
              ElementsAre(HasSubstr("tinyproxyFilter: /w/tree/filter lies "
                                    "inside the writable bind of /w/tree"),
                          HasSubstr("mounts[0].src: /w/tree/tools")));
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

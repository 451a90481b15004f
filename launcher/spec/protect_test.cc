#include "launcher/spec/protect.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace cell {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsSupersetOf;

MountOp Bind(std::string src, std::string dst) {
  MountOp op;
  op.kind = MountOpKind::kBind;
  op.src = std::move(src);
  op.dst = std::move(dst);
  return op;
}

MountOp ReadOnly(std::string src, std::string dst) {
  MountOp op = Bind(std::move(src), std::move(dst));
  op.kind = MountOpKind::kRoBind;
  return op;
}

TEST(ProtectViewsTest, EveryReadWriteViewOfAControlFile) {
  ASSERT_OK_AND_ASSIGN(testing::TempDir dir, testing::TempDir::Create());
  for (const char* sub : {"w", "w/sub", "w/logs", "other", "elsewhere"}) {
    ASSERT_EQ(mkdir(dir.Path(sub).c_str(), 0755), 0);
  }
  const std::string w = dir.Path("w");
  const std::vector<MountOp> mounts = {
      Bind(w, "/home/cell/worktree"), ReadOnly(w, "/ro"),
      Bind(w + "/sub", "/sub"), Bind(dir.Path("other"), "/other"),
      Bind(w + "/logs", "/mnt/logs")};
  EXPECT_THAT(ProtectViews(w + "/sub/spec.json", mounts),
              ElementsAre(ReadOnly(w + "/sub/spec.json",
                                   "/home/cell/worktree/sub/spec.json"),
                          ReadOnly(w + "/sub/spec.json", "/sub/spec.json")));
  // A read-write bind of the directory itself is a view of it too.
  EXPECT_THAT(ProtectViews(w + "/logs", mounts),
              ElementsAre(ReadOnly(w + "/logs", "/home/cell/worktree/logs"),
                          ReadOnly(w + "/logs", "/mnt/logs")));
  EXPECT_THAT(ProtectViews(dir.Path("elsewhere/cell"), mounts),
              ::testing::IsEmpty());
  // By identity: "other" under a second name (a symlink stands in for a
  // host bind mount here; both name the same directory).
  ASSERT_EQ(symlink(dir.Path("other").c_str(), dir.Path("alias").c_str()), 0);
  EXPECT_THAT(ProtectViews(dir.Path("other/filter"),
                           {Bind(dir.Path("alias"), "/home/cell/worktree")}),
              ElementsAre(ReadOnly(dir.Path("other/filter"),
                                   "/home/cell/worktree/filter")));
}

class ProtectOpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(testing::TempDir dir, testing::TempDir::Create());
    dir_.emplace(std::move(dir));
    spec_.worktree_path = dir_->Path("wt");
    ASSERT_EQ(mkdir(spec_.worktree_path.c_str(), 0755), 0);
  }
  std::string Wt(const std::string& rel) const {
    return dir_->Path("wt/" + rel);
  }
  std::optional<testing::TempDir> dir_;
  CellSpec spec_;
};

TEST_F(ProtectOpsTest, ExistingPathsAreBoundReadOnly) {
  ASSERT_EQ(mkdir(Wt(".git").c_str(), 0755), 0);
  ASSERT_EQ(mkdir(Wt(".git/hooks").c_str(), 0755), 0);
  std::ofstream(Wt(".envrc")) << "export X=1\n";
  spec_.protect = {".git/hooks/", ".envrc"};
  Placeholders placeholders;
  ASSERT_OK_AND_ASSIGN(std::vector<MountOp> ops,
                       ProtectOps(spec_, {}, {}, &placeholders));
  EXPECT_THAT(
      ops,
      ElementsAre(ReadOnly(Wt(".git/hooks"), "/home/cell/worktree/.git/hooks"),
                  ReadOnly(Wt(".envrc"), "/home/cell/worktree/.envrc")));
  EXPECT_EQ(placeholders.size(), 0u);
}

TEST_F(ProtectOpsTest, MissingPathsGetPlaceholdersRemovedAfterwards) {
  spec_.protect = {".git/config", ".vscode/", ".mcp.json"};
  {
    Placeholders placeholders;
    ASSERT_OK_AND_ASSIGN(std::vector<MountOp> ops,
                         ProtectOps(spec_, {}, {}, &placeholders));
    // Where the path first stops existing: `.git` itself.
    EXPECT_THAT(
        ops, ElementsAre(
                 ReadOnly(Wt(".git"), "/home/cell/worktree/.git"),
                 ReadOnly(Wt(".vscode"), "/home/cell/worktree/.vscode"),
                 ReadOnly(Wt(".mcp.json"), "/home/cell/worktree/.mcp.json")));
    struct stat info;
    ASSERT_EQ(stat(Wt(".git").c_str(), &info), 0);
    EXPECT_TRUE(S_ISDIR(info.st_mode));
    ASSERT_EQ(stat(Wt(".mcp.json").c_str(), &info), 0);
    EXPECT_TRUE(S_ISREG(info.st_mode));
  }
  for (const char* name : {".git", ".vscode", ".mcp.json"}) {
    EXPECT_NE(access(Wt(name).c_str(), F_OK), 0) << name;
  }
}

// One placeholder inside another (root may create in its own 0555
// directory): removed innermost first, so nothing is left.
TEST_F(ProtectOpsTest, NestedPlaceholdersAreAllRemoved) {
  spec_.protect = {".git/hooks/", ".git/config"};
  {
    Placeholders placeholders;
    ASSERT_OK(ProtectOps(spec_, {}, {}, &placeholders).status());
    ASSERT_EQ(placeholders.size(), 2u);  // .git, then .git/config in it.
  }
  EXPECT_NE(access(Wt(".git").c_str(), F_OK), 0);
}

// A protected file with a second name (a cell's hard link elsewhere in the
// worktree, writable there) is refused.
TEST_F(ProtectOpsTest, AHardLinkedProtectedFileIsRefused) {
  std::ofstream(Wt(".envrc")) << "export X=1\n";
  ASSERT_EQ(link(Wt(".envrc").c_str(), Wt("alias").c_str()), 0);
  spec_.protect = {".envrc"};
  Placeholders placeholders;
  EXPECT_THAT(ProtectOps(spec_, {}, {}, &placeholders).status().message(),
              HasSubstr("hard links"));
}

// Found by an attacker review (round 5): with `@defaults`, a hooks
// directory other than .git/hooks (core.hooksPath), a file the repo config
// includes, a hook that is a symlink into the worktree, or one hard-linked
// to a worktree file each let the cell plant code the next host `git
// commit` runs.
TEST_F(ProtectOpsTest, WhatGitsConfigNamesInTheWorktreeIsProtectedToo) {
  setenv("HOME", dir_->path().c_str(), 1);
  unsetenv("XDG_CONFIG_HOME");
  ASSERT_EQ(mkdir(Wt(".git").c_str(), 0755), 0);
  std::ofstream(Wt(".git/config"))
      << "[core]\n\thooksPath = .githooks\n[include]\n\tpath = ../extra.cfg\n";
  // The user's own global config names a directory in the worktree too.
  std::ofstream(dir_->Path(".gitconfig"))
      << "[includeIf \"gitdir:/\"]\n\tpath = " << Wt("team.cfg") << "\n";
  ASSERT_EQ(mkdir(Wt(".githooks").c_str(), 0755), 0);
  spec_.protect = {".git/config"};
  Placeholders placeholders;
  ASSERT_OK_AND_ASSIGN(std::vector<MountOp> ops,
                       ProtectOps(spec_, {}, {}, &placeholders));
  EXPECT_THAT(
      ops,
      IsSupersetOf({ReadOnly(Wt(".githooks"), "/home/cell/worktree/.githooks"),
                    ReadOnly(Wt("extra.cfg"), "/home/cell/worktree/extra.cfg"),
                    ReadOnly(Wt("team.cfg"), "/home/cell/worktree/team.cfg")}));
  // The missing include files get placeholders: the cell cannot create
  // them either.
  EXPECT_EQ(placeholders.size(), 2u);
}

TEST_F(ProtectOpsTest, ASymlinkedHooksTargetIsProtectedAndAHardLinkRefused) {
  setenv("HOME", dir_->path().c_str(), 1);
  ASSERT_EQ(mkdir(Wt(".git").c_str(), 0755), 0);
  ASSERT_EQ(mkdir(Wt(".git/hooks").c_str(), 0755), 0);
  ASSERT_EQ(mkdir(Wt("scripts").c_str(), 0755), 0);
  std::ofstream(Wt("scripts/pre-commit.sh")) << "#!/bin/sh\n";
  ASSERT_EQ(symlink("../../scripts/pre-commit.sh",
                    Wt(".git/hooks/pre-commit").c_str()),
            0);
  // Out of the worktree: nothing the cell can write, nothing to add.
  ASSERT_EQ(symlink("/bin/true", Wt(".git/hooks/post-commit").c_str()), 0);
  spec_.protect = {".git/hooks/"};
  {
    Placeholders placeholders;
    ASSERT_OK_AND_ASSIGN(std::vector<MountOp> ops,
                         ProtectOps(spec_, {}, {}, &placeholders));
    EXPECT_THAT(ops, ElementsAre(ReadOnly(Wt(".git/hooks"),
                                          "/home/cell/worktree/.git/hooks"),
                                 ReadOnly(Wt("scripts/pre-commit.sh"),
                                          "/home/cell/worktree/scripts/"
                                          "pre-commit.sh")));
  }
  ASSERT_EQ(link(Wt("scripts/pre-commit.sh").c_str(),
                 Wt(".git/hooks/pre-push").c_str()),
            0);
  Placeholders placeholders;
  EXPECT_THAT(ProtectOps(spec_, {}, {}, &placeholders).status().message(),
              AllOf(HasSubstr("pre-push"), HasSubstr("hard links")));
}

// Every read-write view of a protected path is covered, not only the
// worktree's.
TEST_F(ProtectOpsTest, EveryViewOfAProtectedPath) {
  std::ofstream(Wt(".envrc")) << "export X=1\n";
  spec_.protect = {".envrc"};
  const std::vector<MountOp> mounts = {
      Bind(spec_.worktree_path, "/home/cell/worktree"),
      Bind(dir_->path(), "/mnt/outer")};
  Placeholders placeholders;
  ASSERT_OK_AND_ASSIGN(std::vector<MountOp> ops,
                       ProtectOps(spec_, mounts, {}, &placeholders));
  // The worktree seen through the outer bind is pinned (it could be
  // renamed there), then both views are made read-only.
  MountOp pin;
  pin.kind = MountOpKind::kPin;
  pin.dst = "/mnt/outer/wt";
  EXPECT_THAT(
      ops,
      ElementsAre(pin, ReadOnly(Wt(".envrc"), "/home/cell/worktree/.envrc"),
                  ReadOnly(Wt(".envrc"), "/mnt/outer/wt/.envrc")));
}

TEST_F(ProtectOpsTest, APlaceholderTheUserFilledStays) {
  spec_.protect = {".envrc"};
  Placeholders placeholders;
  ASSERT_OK(ProtectOps(spec_, {}, {}, &placeholders).status());
  ASSERT_EQ(chmod(Wt(".envrc").c_str(), 0644), 0);
  std::ofstream(Wt(".envrc")) << "written by the host user\n";
  placeholders.RemoveAll();
  EXPECT_EQ(testing::ReadHostFile(Wt(".envrc")), "written by the host user\n");
}

// A control file below a directory of a writable bind: that directory is
// pinned first (renaming it away would swap the file), then the file made
// read-only.
TEST_F(ProtectOpsTest, DirectoriesOnTheWayArePinnedFirst) {
  const std::vector<MountOp> mounts = {
      Bind(spec_.worktree_path, "/home/cell/worktree")};
  Placeholders placeholders;
  ASSERT_OK_AND_ASSIGN(
      std::vector<MountOp> ops,
      ProtectOps(spec_, mounts, {Wt("conf/cell/agent.json")}, &placeholders));
  MountOp pin_conf;
  pin_conf.kind = MountOpKind::kPin;
  pin_conf.dst = "/home/cell/worktree/conf";
  MountOp pin_cell = pin_conf;
  pin_cell.dst = "/home/cell/worktree/conf/cell";
  EXPECT_THAT(ops, ElementsAre(pin_conf, pin_cell,
                               ReadOnly(Wt("conf/cell/agent.json"),
                                        "/home/cell/worktree/conf/cell/"
                                        "agent.json")));
}

TEST_F(ProtectOpsTest, ASymlinkOnTheWayIsRefused) {
  ASSERT_EQ(symlink("/etc", Wt(".git").c_str()), 0);
  spec_.protect = {".git/hooks/"};
  Placeholders placeholders;
  EXPECT_THAT(ProtectOps(spec_, {}, {}, &placeholders).status().message(),
              HasSubstr("field `protect[0]`"));
  EXPECT_EQ(placeholders.size(), 0u);
}

TEST_F(ProtectOpsTest, AGitFileIsProtectedItself) {
  std::ofstream(Wt(".git")) << "gitdir: /srv/repo.git/worktrees/wt\n";
  spec_.protect = {".git/hooks/", ".git/config"};
  Placeholders placeholders;
  ASSERT_OK_AND_ASSIGN(std::vector<MountOp> ops,
                       ProtectOps(spec_, {}, {}, &placeholders));
  EXPECT_THAT(ops,
              ElementsAre(ReadOnly(Wt(".git"), "/home/cell/worktree/.git"),
                          ReadOnly(Wt(".git"), "/home/cell/worktree/.git")));
}

}  // namespace
}  // namespace cell

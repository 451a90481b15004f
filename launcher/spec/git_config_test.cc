#include "launcher/spec/git_config.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cell {
namespace {

using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::IsEmpty;

auto Setting(const std::string& key, const std::string& value) {
  return ::testing::AllOf(Field(&GitPathSetting::key, key),
                          Field(&GitPathSetting::value, value));
}

TEST(GitPathSettingsTest, ReadsWhatGitReads) {
  EXPECT_THAT(GitPathSettings("[core]\n\trepositoryformatversion = 0\n"
                              "\tHooksPath = .githooks ; a comment\n"
                              "[include]\n  path = \"../shared config\"\n"
                              "[includeIf \"gitdir:~/work/\"]\n  path = x.inc\n"
                              "[remote \"origin\"]\n  path = not-a-setting\n"
                              "[CORE] hookspath=\"q\\\"uoted\"\n"),
              ElementsAre(Setting("core.hookspath", ".githooks"),
                          Setting("include.path", "../shared config"),
                          Setting("includeif.gitdir:~/work/.path", "x.inc"),
                          Setting("core.hookspath", "q\"uoted")));
  // One line, and the old [section.sub] form.
  EXPECT_THAT(GitPathSettings("[core] hooksPath = h\n[includeIf.a.b]\npath=p"),
              ElementsAre(Setting("core.hookspath", "h"),
                          Setting("includeif.a.b.path", "p")));
  EXPECT_THAT(GitPathSettings("hooksPath = x\n[core]\nbare\n"), IsEmpty());
  // .gitmodules: where each submodule's .git is.
  EXPECT_THAT(GitPathSettings("[submodule \"lib\"]\n\tpath = vendor/lib\n"
                              "\turl = ../lib\n"),
              ElementsAre(Setting("submodule.lib.path", "vendor/lib")));
}

TEST(GitPathProtectEntryTest, OnlyWhatLiesInTheWorktree) {
  const GitPathSetting hooks{"core.hookspath", ".githooks"};
  EXPECT_EQ(GitPathProtectEntry(hooks, "/w", "/w/.git", ""), ".githooks/");
  EXPECT_EQ(GitPathProtectEntry({"core.hookspath", "/w/./a/../h"}, "/w",
                                "/w/.git", ""),
            "h/");
  EXPECT_EQ(GitPathProtectEntry({"core.hookspath", "/etc/hooks"}, "/w",
                                "/w/.git", ""),
            "");
  EXPECT_EQ(
      GitPathProtectEntry({"core.hookspath", "../w2"}, "/w", "/w/.git", ""),
      "");
  EXPECT_EQ(
      GitPathProtectEntry({"core.hookspath", "~/w/h"}, "/w", "/w/.git", "/"),
      "h/");
  // Include paths are relative to the config file's directory.
  EXPECT_EQ(GitPathProtectEntry({"include.path", "../extra.cfg"}, "/w",
                                "/w/.git", ""),
            "extra.cfg");
  EXPECT_EQ(
      GitPathProtectEntry({"include.path", "extra.cfg"}, "/w", "/home/u", ""),
      "");
  EXPECT_EQ(
      GitPathProtectEntry({"include.path", "/w/../../x"}, "/w", "/w/.git", ""),
      "");
}

}  // namespace
}  // namespace cell

#include "policy/sandbox.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace cell::policy {
namespace {

using ::cell::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(SplitCommandLineTest, SplitsAsAShellWouldWithoutExpanding) {
  ASSERT_OK_AND_ASSIGN(
      std::vector<std::string> words,
      SplitCommandLine(
          "bwrap  --ro-bind '/a b' \"/c \\\"d\\\"\" x\\ y $HOME '' --"));
  EXPECT_THAT(words, ElementsAre("bwrap", "--ro-bind", "/a b", "/c \"d\"",
                                 "x y", "$HOME", "", "--"));
  ASSERT_OK_AND_ASSIGN(words, SplitCommandLine("a'b'\"c\"d\n\te\\\nf"));
  EXPECT_THAT(words, ElementsAre("abcd", "ef"));
}

TEST(SplitCommandLineTest, RefusesWhatOnlyAShellWouldMeanAndSaysWhere) {
  EXPECT_THAT(SplitCommandLine("bwrap --ro-bind / / -- true | cat"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("'|' at column 29 is shell syntax")));
  EXPECT_THAT(SplitCommandLine("a; b"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("';'")));
  EXPECT_THAT(SplitCommandLine("sh -c 'a"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("the ' at column 7 is never closed")));
  EXPECT_THAT(
      SplitCommandLine("a \"b"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("column 3")));
  EXPECT_THAT(
      SplitCommandLine("a \\"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("backslash")));
  EXPECT_THAT(SplitCommandLine(" \t"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("empty")));
  // Quoted, they are characters.
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> words,
                       SplitCommandLine("sh -c 'a | b; c &'"));
  EXPECT_THAT(words, ElementsAre("sh", "-c", "a | b; c &"));
}

TEST(ShellQuoteTest, QuotesOnlyWhatNeedsIt) {
  EXPECT_EQ(ShellQuote("/run/x/cell-probe"), "/run/x/cell-probe");
  EXPECT_EQ(ShellQuote("--get=127.0.0.1:80@zz.invalid"),
            "--get=127.0.0.1:80@zz.invalid");
  EXPECT_EQ(ShellQuote("a b"), "'a b'");
  EXPECT_EQ(ShellQuote("it's"), "'it'\\''s'");
  EXPECT_EQ(ShellQuote(""), "''");
  EXPECT_EQ(ShellQuote("$HOME"), "'$HOME'");
}

TEST(ExpandSandboxCommandTest, FillsPlaceholdersAndAppendsTheProbe) {
  const SandboxPlaces places = {"/tmp/v/probes", "/tmp/v/worktree"};
  const std::vector<std::string> probe = {"/tmp/v/probes/cell-probe", "all",
                                          "--get=h:1@a b"};
  ASSERT_OK_AND_ASSIGN(
      std::vector<std::string> argv,
      ExpandSandboxCommand({"bwrap", "--ro-bind", "{probes}", "{probes}",
                            "--chdir", "{worktree}/sub", "--"},
                           places, probe));
  EXPECT_THAT(
      argv, ElementsAre("bwrap", "--ro-bind", "/tmp/v/probes", "/tmp/v/probes",
                        "--chdir", "/tmp/v/worktree/sub", "--",
                        "/tmp/v/probes/cell-probe", "all", "--get=h:1@a b"));
  // A whole word: the probe's words there, nothing appended.
  ASSERT_OK_AND_ASSIGN(
      argv,
      ExpandSandboxCommand({"firejail", "{command}", "--x"}, places, probe));
  EXPECT_THAT(argv, ElementsAre("firejail", "/tmp/v/probes/cell-probe", "all",
                                "--get=h:1@a b", "--x"));
  // Inside a word: one string for a shell.
  ASSERT_OK_AND_ASSIGN(
      argv, ExpandSandboxCommand({"srt", "exec {command}"}, places, probe));
  EXPECT_THAT(argv, ElementsAre("srt",
                                "exec /tmp/v/probes/cell-probe all "
                                "'--get=h:1@a b'"));
}

TEST(ExpandSandboxCommandTest, RefusesUnknownOrRepeatedPlaceholders) {
  const SandboxPlaces places = {"/p", "/w"};
  EXPECT_THAT(ExpandSandboxCommand({"bwrap", "{probe}"}, places, {"x"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("unknown placeholder {probe}; expected "
                                 "{probes}, {worktree} or {command}")));
  EXPECT_THAT(
      ExpandSandboxCommand({"a", "{command}", "{command}"}, places, {"x"}),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("more than once")));
  // A shell's own braces are left alone.
  ASSERT_OK_AND_ASSIGN(
      std::vector<std::string> argv,
      ExpandSandboxCommand({"sh", "-c", "echo ${x} {a,b} {}; \"$@\"", "sh"},
                           places, {"x"}));
  EXPECT_THAT(argv,
              ElementsAre("sh", "-c", "echo ${x} {a,b} {}; \"$@\"", "sh", "x"));
}

TEST(SandboxReferenceTest, ExpectsWhatThePolicyRequires) {
  ASSERT_OK_AND_ASSIGN(Policy strict, BuiltinProfile("agent-strict"));
  const CellSpec reference = SandboxReference(strict, "/w");
  EXPECT_EQ(reference.worktree_path, "/w");
  EXPECT_TRUE(reference.isolation.pid_namespace);
  EXPECT_TRUE(reference.isolation.ipc_namespace);
  EXPECT_TRUE(reference.isolation.seccomp);
  EXPECT_TRUE(reference.isolation.read_only_root);
  EXPECT_EQ(reference.isolation.capabilities, Capabilities::kNone);
  EXPECT_EQ(reference.protect, DefaultProtectedPaths());
  EXPECT_FALSE(reference.nix);
  EXPECT_EQ(reference.network.mode, NetworkMode::kNone);
  EXPECT_TRUE(reference.mounts.empty());
  EXPECT_TRUE(reference.env.empty());

  // The documented profile requires nothing: a documented cell's defaults.
  ASSERT_OK_AND_ASSIGN(Policy documented, BuiltinProfile("documented"));
  const CellSpec plain = SandboxReference(documented, "/w");
  EXPECT_FALSE(plain.isolation.pid_namespace);
  EXPECT_FALSE(plain.isolation.seccomp);
  EXPECT_EQ(plain.isolation.capabilities, Capabilities::kAll);
  EXPECT_TRUE(plain.protect.empty());
}

}  // namespace
}  // namespace cell::policy

#include "launcher/cli/flags.h"

#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace cell {
namespace {

using ::cell::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using Json = nlohmann::json;

TEST(FlagsTest, EveryRowIsWholeAndNamedOnce) {
  std::set<std::string> names;
  for (const FlagDef& flag : Flags()) {
    SCOPED_TRACE(flag.name);
    EXPECT_TRUE(names.insert(flag.name).second) << "listed twice";
    EXPECT_STRNE(flag.help, "");
    EXPECT_NE(flag.subcommands, 0u);
    const bool sets_field = flag.kind != FlagKind::kSpecFile &&
                            flag.kind != FlagKind::kPackedFile &&
                            flag.kind != FlagKind::kStatusFile &&
                            flag.kind != FlagKind::kOutput &&
                            flag.kind != FlagKind::kUncheckedPaths &&
                            flag.kind != FlagKind::kDryRun;
    EXPECT_EQ(*flag.field != '\0', sets_field);
    EXPECT_EQ(*flag.choices != '\0',
              flag.kind == FlagKind::kChoice || flag.kind == FlagKind::kPreset);
  }
}

TEST(FlagsTest, UsageListsEveryFlagWithItsField) {
  const std::string usage = OverrideHelp() + OwnFlagHelp(Subcommand::kRun) +
                            OwnFlagHelp(Subcommand::kCheckSpec) +
                            OwnFlagHelp(Subcommand::kPack);
  for (const FlagDef& flag : Flags()) {
    EXPECT_THAT(usage, HasSubstr(std::string("--") + flag.name));
    if (*flag.field != '\0') {
      EXPECT_THAT(usage, HasSubstr(std::string("[") + flag.field + "]"));
    }
  }
  EXPECT_THAT(OwnFlagHelp(Subcommand::kPack), HasSubstr("--output=FILE"));
  EXPECT_THAT(OwnFlagHelp(Subcommand::kRun),
              ::testing::Not(HasSubstr("--output")));
  // Wrapped: no line wider than 80 columns.
  for (absl::string_view line : absl::StrSplit(usage, '\n')) {
    EXPECT_LE(line.size(), 80u) << line;
  }
}

TEST(FlagsTest, OverridesSetTheirSpecFields) {
  ASSERT_OK_AND_ASSIGN(
      Invocation invocation,
      ParseFlags({"--worktree=wt", "--no-nix", "--pid-namespace", "--network",
                  "none", "--memory-max=512M", "--pids-max=64",
                  "--rlimit=fsize=1K", "--rlimit=nofile=100", "--ro-bind=/usr",
                  "--bind=/a:/b", "--env=A=1=2", "--protect=@defaults",
                  "--status-file=s", "--", "echo", "--no-nix"},
                 Subcommand::kRun));
  Json spec = Json::object();
  ApplyOverrides(invocation, &spec);
  EXPECT_EQ(spec["worktreePath"], "wt");
  EXPECT_EQ(spec["nix"], false);
  EXPECT_EQ(spec["isolation"]["pidNamespace"], true);
  EXPECT_EQ(spec["network"]["mode"], "none");
  EXPECT_EQ(spec["limits"]["memoryMax"], 512u << 20);
  EXPECT_EQ(spec["limits"]["pidsMax"], 64);
  EXPECT_EQ(spec["limits"]["rlimits"]["fsize"], 1024);
  EXPECT_EQ(spec["limits"]["rlimits"]["nofile"], 100);
  EXPECT_EQ(spec["mounts"], Json::parse(R"([{"type":"ro-bind","src":"/usr"},
                            {"type":"bind","src":"/a","dst":"/b"}])"));
  EXPECT_EQ(spec["env"]["A"], "1=2");
  EXPECT_EQ(spec["protect"], Json::array({"@defaults"}));
  EXPECT_EQ(invocation.status_file, "s");
  EXPECT_EQ(invocation.command, (std::vector<std::string>{"echo", "--no-nix"}));
}

// --env=NAME passes this environment's value, as docker's -e NAME does.
TEST(FlagsTest, EnvNameAlonePassesTheValueHere) {
  ASSERT_EQ(setenv("CELL_TEST_PASSED_THROUGH", "from here", 1), 0);
  ASSERT_OK_AND_ASSIGN(
      Invocation invocation,
      ParseFlags({"--env=CELL_TEST_PASSED_THROUGH"}, Subcommand::kRun));
  Json spec = Json::object();
  ApplyOverrides(invocation, &spec);
  EXPECT_EQ(spec["env"]["CELL_TEST_PASSED_THROUGH"], "from here");
  unsetenv("CELL_TEST_PASSED_THROUGH");
}

TEST(FlagsTest, OwnOptionsBelongToTheirSubcommand) {
  ASSERT_OK_AND_ASSIGN(
      Invocation pack,
      ParseFlags({"--spec=a.json", "--output=cell", "--unchecked-paths"},
                 Subcommand::kPack));
  EXPECT_EQ(pack.spec_file, "a.json");
  EXPECT_EQ(pack.output, "cell");
  EXPECT_TRUE(pack.unchecked_paths);
  EXPECT_THAT(ParseFlags({"--output=x"}, Subcommand::kRun),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--output is an option of `cell pack` only")));
  EXPECT_THAT(ParseFlags({"--status-file=x"}, Subcommand::kCheckSpec),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("of `cell run` only")));
  EXPECT_THAT(ParseFlags({"--packed=x"}, Subcommand::kPack),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("`cell check-spec` only")));
}

TEST(FlagsTest, MistakesNameTheFlagAndTheFix) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--nope"}, "unknown flag --nope"},
      {{"--seccomp=yes"}, "--seccomp takes no value"},
      {{"--worktree"}, "--worktree needs a value"},
      {{"--network=open"}, "expected proxy or none"},
      {{"--engine=squid"}, "expected builtin or tinyproxy"},
      {{"--memory-max=lots"}, "suffixes K, M, G, T allowed"},
      {{"--pids-max=2K"}, "is not a whole number"},
      {{"--rlimit=nofile"}, "expected NAME=VALUE"},
      {{"--env=CELL_TEST_SURELY_UNSET"},
       "CELL_TEST_SURELY_UNSET is not set in this environment"},
      {{"--env==x"}, "expected NAME=VALUE"},
      {{"ls"}, "put the command after `--`"},
  };
  for (const auto& [args, message] : cases) {
    EXPECT_THAT(
        ParseFlags(args, Subcommand::kRun),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(message)))
        << args[0];
  }
  EXPECT_THAT(ParseFlags({"--", "ls"}, Subcommand::kCheckSpec),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("no command here")));
}

TEST(FlagsTest, MountsPresetsTlsRootsAndDryRun) {
  ASSERT_OK_AND_ASSIGN(
      Invocation invocation,
      ParseFlags({"--tmpfs=/scratch", "--dir=/opt/x",
                  "--symlink=/usr/bin/env:/opt/env", "--preset=host",
                  "--preset", "nix", "--tls-roots", "--dry-run", "--", "make"},
                 Subcommand::kRun));
  EXPECT_TRUE(invocation.dry_run);
  Json spec = Json::parse(R"({"presets": "host"})");
  ApplyOverrides(invocation, &spec);
  EXPECT_EQ(spec["mounts"], Json::parse(R"([
      {"type": "tmpfs", "dst": "/scratch"}, {"type": "dir", "dst": "/opt/x"},
      {"type": "symlink", "src": "/usr/bin/env", "dst": "/opt/env"}])"));
  // A spec's single name becomes a list the flags add to.
  EXPECT_EQ(spec["presets"], Json::parse(R"(["host", "host", "nix"])"));
  EXPECT_EQ(spec["tlsRoots"], "@host");
  // --tls-roots takes its file only after `=`: the next word is not eaten.
  ASSERT_OK_AND_ASSIGN(
      Invocation file,
      ParseFlags({"--tls-roots=/etc/my-ca.pem", "--tls-roots", "--", "x"},
                 Subcommand::kRun));
  Json again = Json::object();
  ApplyOverrides(file, &again);
  EXPECT_EQ(again["tlsRoots"], "@host");
  EXPECT_THAT(file.command, ::testing::ElementsAre("x"));
  for (const char* bad :
       {"--symlink=/x", "--symlink=:/x", "--symlink=/x:", "--tls-roots="}) {
    EXPECT_THAT(ParseFlags({bad}, Subcommand::kRun),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--")))
        << bad;
  }
  EXPECT_THAT(ParseFlags({"--dry-run"}, Subcommand::kCheckSpec),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("of `cell run` only")));
}

TEST(FlagsTest, MistypedFlagsGetTheNearestName) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--worktre=.", "did you mean --worktree?"},
      {"--pid-namespaces", "did you mean --pid-namespace?"},
      {"--presets=host", "did you mean --preset?"},
      {"--readonly-root", "did you mean --read-only-root?"},
      {"--tls", "did you mean --tls-roots?"},
  };
  for (const auto& [arg, message] : cases) {
    EXPECT_THAT(
        ParseFlags({arg}, Subcommand::kRun),
        StatusIs(absl::StatusCode::kInvalidArgument,
                 AllOf(HasSubstr(message), HasSubstr("see 'cell help run'"))))
        << arg;
  }
  // Nothing near: no guess.
  EXPECT_THAT(ParseFlags({"--banana"}, Subcommand::kRun),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       Not(HasSubstr("did you mean"))));
  // Only the subcommand's own flags are offered.
  EXPECT_THAT(
      ParseFlags({"--outpt=x"}, Subcommand::kRun),
      StatusIs(absl::StatusCode::kInvalidArgument, Not(HasSubstr("--output"))));
  EXPECT_EQ(NearestName("chek-spec", {"run", "check-spec", "pack"}),
            "check-spec");
  EXPECT_EQ(NearestName("x", {"run", "pack"}), "");
}

}  // namespace
}  // namespace cell

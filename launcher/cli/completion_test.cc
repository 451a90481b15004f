#include "launcher/cli/completion.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "launcher/cli/flags.h"

namespace cell {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

const CompletionCommand* FindCommand(
    const std::vector<CompletionCommand>& commands, const std::string& name) {
  for (const CompletionCommand& command : commands) {
    if (command.name == name) return &command;
  }
  return nullptr;
}

std::vector<std::string> FlagNames(const CompletionCommand& command) {
  std::vector<std::string> names;
  for (const CompletionFlag& flag : command.flags) names.push_back(flag.name);
  return names;
}

TEST(CompletionTest, EveryFlagOfTheTableIsInBothScripts) {
  const std::string bash = BashCompletion();
  const std::string zsh = ZshCompletion();
  for (const FlagDef& flag : Flags()) {
    const std::string name = absl::StrCat("--", flag.name);
    EXPECT_THAT(bash, HasSubstr(name)) << "bash script lacks " << name;
    EXPECT_THAT(zsh, HasSubstr(name)) << "zsh script lacks " << name;
  }
}

TEST(CompletionTest, EachSubcommandOffersExactlyItsOwnFlags) {
  const std::vector<CompletionCommand> commands = CellCommands();
  const std::pair<const char*, unsigned> kBits[] = {
      {"run", kForRun}, {"check-spec", kForCheckSpec}, {"pack", kForPack}};
  for (const auto& [name, bit] : kBits) {
    const CompletionCommand* command = FindCommand(commands, name);
    ASSERT_NE(command, nullptr) << name;
    std::vector<std::string> expected;
    for (const FlagDef& flag : Flags()) {
      if ((flag.subcommands & bit) != 0) expected.push_back(flag.name);
    }
    expected.push_back("help");
    EXPECT_EQ(FlagNames(*command), expected) << name;
  }
  const CompletionCommand* run = FindCommand(commands, "run");
  EXPECT_THAT(FlagNames(*run), Contains("status-file"));
  EXPECT_THAT(FlagNames(*run), Not(Contains("output")));
  EXPECT_EQ(run->operands, Operands::kCommand);
  const CompletionCommand* pack = FindCommand(commands, "pack");
  EXPECT_THAT(FlagNames(*pack), Contains("unchecked-paths"));
  EXPECT_THAT(FlagNames(*pack), Not(Contains("status-file")));
}

TEST(CompletionTest, OtherSubcommands) {
  const std::vector<CompletionCommand> commands = CellCommands();
  const CompletionCommand* log = FindCommand(commands, "log");
  ASSERT_NE(log, nullptr);
  EXPECT_THAT(FlagNames(*log), ElementsAre("top", "help"));
  EXPECT_EQ(log->operands, Operands::kFiles);
  const CompletionCommand* completion = FindCommand(commands, "completion");
  ASSERT_NE(completion, nullptr);
  EXPECT_THAT(completion->words, ElementsAre("bash", "zsh"));
  const CompletionCommand* help = FindCommand(commands, "help");
  ASSERT_NE(help, nullptr);
  EXPECT_THAT(help->words, Contains("run"));
  EXPECT_THAT(help->words, Contains("check-spec"));
}

TEST(CompletionTest, ValuesByKindAndName) {
  for (const FlagDef& def : Flags()) {
    const CompletionFlag flag = CompletionFlagOf(def);
    const std::string name = def.name;
    if (def.kind == FlagKind::kChoice) {
      EXPECT_EQ(flag.value, ValueKind::kChoice) << name;
      const std::vector<std::string> choices = absl::StrSplit(def.choices, '|');
      EXPECT_EQ(flag.choices, choices) << name;
    }
    if (std::string(def.value_name) == "DIR") {
      EXPECT_EQ(flag.value, ValueKind::kDirectory) << name;
    }
    if (std::string(def.value_name) == "FILE") {
      EXPECT_EQ(flag.value, ValueKind::kFile) << name;
    }
    if (def.kind == FlagKind::kSwitchOn || def.kind == FlagKind::kSwitchOff) {
      EXPECT_EQ(flag.value, ValueKind::kNone) << name;
    }
  }
  const auto of = [](const std::string& name) {
    for (const FlagDef& def : Flags()) {
      if (name == def.name) return CompletionFlagOf(def);
    }
    ADD_FAILURE() << "no flag --" << name;
    return CompletionFlag();
  };
  EXPECT_THAT(of("network").choices, ElementsAre("proxy", "none"));
  EXPECT_EQ(of("worktree").value, ValueKind::kDirectory);
  EXPECT_EQ(of("spec").value, ValueKind::kFile);
  EXPECT_EQ(of("ro-bind").value, ValueKind::kFile);
  EXPECT_TRUE(of("ro-bind").repeatable);
  EXPECT_FALSE(of("worktree").repeatable);
  EXPECT_EQ(of("host-user").value, ValueKind::kUser);
  EXPECT_EQ(of("env").value, ValueKind::kEnvName);
  EXPECT_EQ(of("rlimit").value, ValueKind::kRlimit);
  EXPECT_EQ(of("memory-max").value, ValueKind::kText);
  EXPECT_EQ(of("no-nix").value, ValueKind::kNone);
}

TEST(CompletionTest, BashOffersValueFlagsWithEqualsAndChoices) {
  const std::string bash = BashCompletion();
  EXPECT_THAT(bash, HasSubstr("--network= "));
  EXPECT_THAT(bash, HasSubstr("--no-nix "));
  EXPECT_THAT(bash, HasSubstr("--network) echo 'choice proxy none' ;;"));
  EXPECT_THAT(bash, HasSubstr("--worktree) echo 'dir' ;;"));
  EXPECT_THAT(bash, HasSubstr("--spec) echo 'file' ;;"));
  EXPECT_THAT(bash, HasSubstr("nofile="));
  EXPECT_THAT(bash, HasSubstr("complete -F _cell cell\n"));
  EXPECT_THAT(bash, HasSubstr("complete -F _cell_verify cell-verify\n"));
}

TEST(CompletionTest, ZshSpecs) {
  const std::string zsh = ZshCompletion();
  EXPECT_TRUE(absl::StartsWith(zsh, "#compdef cell cell-verify\n"));
  EXPECT_THAT(zsh, HasSubstr("'--network=["));
  EXPECT_THAT(zsh, HasSubstr(":(proxy none)'"));
  EXPECT_THAT(zsh, HasSubstr("'*--ro-bind=["));
  EXPECT_THAT(zsh, HasSubstr("'--worktree=[host dir bound read-write at "
                             "/home/cell/worktree, the cwd inside]"
                             ":directory:_files -/'"));
  EXPECT_THAT(zsh, HasSubstr("compdef _cell cell cell-verify"));
  // No description breaks out of its quotes or brackets.
  for (absl::string_view line : absl::StrSplit(zsh, '\n')) {
    if (!absl::StartsWith(absl::StripLeadingAsciiWhitespace(line), "'--") &&
        !absl::StartsWith(absl::StripLeadingAsciiWhitespace(line), "'*--")) {
      continue;
    }
    const absl::string_view spec = absl::StripAsciiWhitespace(line);
    EXPECT_TRUE(absl::EndsWith(spec, "' \\")) << line;
    // A quote inside is written '\'' (close, escaped quote, reopen).
    const std::string body =
        absl::StrReplaceAll(spec.substr(1, spec.size() - 4), {{"'\\''", ""}});
    EXPECT_THAT(body, Not(HasSubstr("'"))) << line;
  }
}

TEST(CompletionTest, CellVerifyFlags) {
  std::vector<std::string> names;
  for (const CompletionFlag& flag : CellVerifyFlags()) {
    names.push_back(flag.name);
  }
  EXPECT_THAT(names, Contains("spec"));
  EXPECT_THAT(names, Contains("sandbox"));
  EXPECT_THAT(names, Contains("help"));
  const std::string bash = BashCompletion();
  const std::string zsh = ZshCompletion();
  for (const std::string& name : names) {
    EXPECT_THAT(bash, HasSubstr("--" + name)) << name;
    EXPECT_THAT(zsh, HasSubstr("--" + name)) << name;
  }
  EXPECT_THAT(bash, HasSubstr("--format) echo 'choice text json junit' ;;"));
}

TEST(CompletionTest, OneLineHelpsAreShort) {
  for (const CompletionCommand& command : CellCommands()) {
    EXPECT_THAT(command.help, Not(IsEmpty())) << command.name;
  }
}

TEST(CompletionTest, UsageNamesBothShells) {
  EXPECT_THAT(CompletionUsage(), HasSubstr("cell completion bash|zsh"));
  EXPECT_EQ(Completion({}), 2);
  EXPECT_EQ(Completion({"fish"}), 2);
}

}  // namespace
}  // namespace cell

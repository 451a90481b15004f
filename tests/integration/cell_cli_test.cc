// End-to-end: the built `cell` binary driven as a user would, for what does
// not need a launch: help, usage errors, check-spec.
#include <sys/stat.h>

#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "base/subprocess.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "testing/runfiles.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace cell::testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Optional;

class CellCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(cell_, RunfilePath("launcher/cell"));
    ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create());
    dir_.emplace(std::move(dir));
    ASSERT_EQ(mkdir(dir_->Path("wt").c_str(), 0755), 0);
  }

  absl::StatusOr<SubprocessResult> Cell(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {cell_};
    argv.insert(argv.end(), args.begin(), args.end());
    SubprocessOptions options;
    options.cwd = dir_->path();
    return RunSubprocess(argv, options);
  }

  std::string WriteSpec(const std::string& text) {
    const std::string path = dir_->Path("spec.json");
    std::ofstream(path) << text;
    return path;
  }

  std::string cell_;
  std::optional<TempDir> dir_;
};

// One line on stderr, as docs/spec.md promises for every launch failure.
int Lines(const std::string& text) {
  return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

TEST_F(CellCliTest, HelpTeachesTheCommands) {
  for (const char* flag : {"--help", "-h", "help"}) {
    ASSERT_OK_AND_ASSIGN(SubprocessResult result, Cell({flag}));
    EXPECT_THAT(result.exit_code, Optional(0)) << flag;
    EXPECT_THAT(result.stdout_text,
                AllOf(HasSubstr("cell run"), HasSubstr("check-spec"),
                      HasSubstr("125")));
  }
  ASSERT_OK_AND_ASSIGN(SubprocessResult run_help, Cell({"run", "--help"}));
  EXPECT_THAT(run_help.exit_code, Optional(0));
  for (const char* flag :
       {"--worktree", "--filter", "--log-dir", "--nix-daemon-socket",
        "--nix-store", "--no-nix", "--network", "--ro-bind", "--bind", "--env",
        "--pid-namespace", "--ipc-namespace", "--capabilities", "--status-file",
        "Examples:"}) {
    EXPECT_THAT(run_help.stdout_text, HasSubstr(flag));
  }
  ASSERT_OK_AND_ASSIGN(SubprocessResult help_run, Cell({"help", "run"}));
  EXPECT_EQ(help_run.stdout_text, run_help.stdout_text);
}

TEST_F(CellCliTest, VersionSaysWhatAndHowItWasBuilt) {
  for (const char* flag : {"--version", "version"}) {
    ASSERT_OK_AND_ASSIGN(SubprocessResult result, Cell({flag}));
    EXPECT_THAT(result.exit_code, Optional(0)) << flag;
    EXPECT_THAT(result.stdout_text,
                MatchesRegex("cell [0-9]+\\.[0-9]+\\.[0-9]+\n"
                             "built with [^\n]+, C\\+\\+[0-9]+"
                             "[^\n]*\n"));
  }
}

TEST_F(CellCliTest, UsageErrors) {
  ASSERT_OK_AND_ASSIGN(SubprocessResult none, Cell({}));
  EXPECT_THAT(none.exit_code, Optional(2));
  EXPECT_THAT(none.stderr_text, HasSubstr("Usage:"));

  ASSERT_OK_AND_ASSIGN(SubprocessResult unknown, Cell({"lanch"}));
  EXPECT_THAT(unknown.exit_code, Optional(2));
  EXPECT_THAT(unknown.stderr_text, HasSubstr("unknown command 'lanch'"));

  ASSERT_OK_AND_ASSIGN(SubprocessResult flag, Cell({"run", "--worktre=."}));
  EXPECT_THAT(flag.exit_code, Optional(125));
  EXPECT_THAT(flag.stderr_text, HasSubstr("unknown flag --worktre"));
  EXPECT_EQ(Lines(flag.stderr_text), 1);

  ASSERT_OK_AND_ASSIGN(SubprocessResult stray, Cell({"run", "ls"}));
  EXPECT_THAT(stray.exit_code, Optional(125));
  EXPECT_THAT(stray.stderr_text, HasSubstr("after `--`"));

  ASSERT_OK_AND_ASSIGN(SubprocessResult network,
                       Cell({"run", "--worktree=wt", "--network=host"}));
  EXPECT_THAT(network.exit_code, Optional(125));
  EXPECT_THAT(network.stderr_text, HasSubstr("expected proxy or none"));

  // NAME alone takes this environment's value: one that is not set here
  // is named, with the fix.
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult env,
      Cell({"run", "--worktree=wt", "--env=CELL_TEST_SURELY_UNSET"}));
  EXPECT_THAT(env.exit_code, Optional(125));
  EXPECT_THAT(
      env.stderr_text,
      HasSubstr("CELL_TEST_SURELY_UNSET is not set in this "
                "environment; give --env=CELL_TEST_SURELY_UNSET=VALUE"));

  // Flags of one subcommand are refused by the others, naming the owner.
  ASSERT_OK_AND_ASSIGN(SubprocessResult output,
                       Cell({"run", "--worktree=wt", "--output=x"}));
  EXPECT_THAT(output.exit_code, Optional(125));
  EXPECT_THAT(output.stderr_text,
              HasSubstr("--output is an option of `cell pack` only"));
  ASSERT_OK_AND_ASSIGN(SubprocessResult status,
                       Cell({"check-spec", "--status-file=x"}));
  EXPECT_THAT(status.exit_code, Optional(2));
  EXPECT_THAT(status.stderr_text, HasSubstr("of `cell run` only"));
  ASSERT_OK_AND_ASSIGN(SubprocessResult both,
                       Cell({"check-spec", "--spec=a", "--packed=b"}));
  EXPECT_THAT(both.exit_code, Optional(2));
  EXPECT_THAT(both.stderr_text, HasSubstr("not both"));
}

TEST_F(CellCliTest, LogNeedsAFileAndNamesBadOnes) {
  ASSERT_OK_AND_ASSIGN(SubprocessResult none, Cell({"log"}));
  EXPECT_THAT(none.exit_code, Optional(2));
  EXPECT_THAT(none.stderr_text, HasSubstr("give the audit log"));
  ASSERT_OK_AND_ASSIGN(SubprocessResult missing, Cell({"log", "nope.jsonl"}));
  EXPECT_THAT(missing.exit_code, Optional(2));
  EXPECT_THAT(missing.stderr_text, HasSubstr("nope.jsonl"));
  ASSERT_OK_AND_ASSIGN(SubprocessResult top, Cell({"log", "--top=x", "f"}));
  EXPECT_THAT(top.exit_code, Optional(2));
  EXPECT_THAT(top.stderr_text, HasSubstr("--top=x"));
  ASSERT_OK_AND_ASSIGN(SubprocessResult help, Cell({"help", "log"}));
  EXPECT_THAT(help.stdout_text, HasSubstr("proxy-audit.jsonl"));
}

// `cell log` reads a log piece by piece, so a log of any size (a cell can
// make its log large) is summarised: lines longer than a piece (4 MiB) are
// one unreadable line each, with their numbers right, and the records
// around them count.
TEST_F(CellCliTest, LogReadsHugeLinesWithoutGivingUp) {
  {
    std::ofstream log(dir_->Path("audit.jsonl"));
    log << R"({"decision":"allow","host":"a.test","bytesUp":5})"
        << "\n"
        << std::string(9 << 20, 'x') << "\n"
        << R"({"decision":"deny","host":"b.test"})"
        << "\n"
        << std::string(5 << 20, 'y') << "\n"
        << R"({"decision":"allow","host":"a.test"})";
  }
  ASSERT_OK_AND_ASSIGN(SubprocessResult result, Cell({"log", "audit.jsonl"}));
  EXPECT_THAT(result.exit_code, Optional(0)) << result.stderr_text;
  EXPECT_THAT(result.stdout_text,
              AllOf(HasSubstr("3 requests: 2 allowed, 1 denied"),
                    HasSubstr("audit.jsonl: 2 lines are not audit records "
                              "(lines 2, 4); not counted"),
                    HasSubstr("5 bytes up")));
}

// `cell log` on crafted logs, end to end: the runs by id (records without
// one per file), unreadable lines by file and number, hosts sorted by
// count then name, and a host name's control characters escaped.
TEST_F(CellCliTest, LogSummarisesRunsHostsAndBadLines) {
  std::ofstream(dir_->Path("one.jsonl"))
      << R"({"run":"1111","request":1,"host":"b.test","decision":"deny"})"
      << "\n"
      << R"({"run":"1111","request":2,"host":"a.test","decision":"deny"})"
      << "\n"
      << "garbage\n"
      << R"({"run":"1111","request":3,"host":"c.test","decision":"allow","bytesUp":3})"
      << "\n"
      << R"({"run":"2222","request":1,"host":"c.test","decision":"allow","bytesDown":9})"
      << "\n"
      << R"({"run":"2222","request":2,"host":"c.test","decision":"deny"})"
      << "\n"
      << "{\"run\":\"2222\",\"request\":3,\"decision\":\"deny\","
         "\"host\":\"x\\u001b]0;owned\\u0007\\r.test\"}\n";
  std::ofstream(dir_->Path("two.jsonl"))
      << R"({"host":"b.test","decision":"deny"})"
      << "\n"
      << "[1]\n\n{\"decision\":\n"
      << R"({"run":"2222","request":4,"host":"c.test","decision":"allow"})";
  ASSERT_OK_AND_ASSIGN(SubprocessResult result,
                       Cell({"log", "one.jsonl", "two.jsonl"}));
  EXPECT_THAT(result.exit_code, Optional(0)) << result.stderr_text;
  EXPECT_EQ(result.stderr_text, "");
  EXPECT_EQ(result.stdout_text,
            "8 requests: 3 allowed, 5 denied, 0 errors; 3 bytes up, 9 bytes "
            "down\n"
            "one.jsonl: 1 line is not an audit record (line 3); not counted\n"
            "two.jsonl: 2 lines are not audit records (lines 2, 4); not "
            "counted\n"
            "\n"
            "3 runs:\n"
            "  requests   denied  run (file)\n"
            "         3        2  1111 (one.jsonl)\n"
            "         4        2  2222 (one.jsonl, two.jsonl)\n"
            "         1        1  no run id (two.jsonl)\n"
            "\n"
            "top hosts:\n"
            "  requests   denied     bytes up   bytes down  host\n"
            "         4        1            3            9  c.test\n"
            "         2        2            0            0  b.test\n"
            "         1        1            0            0  a.test\n"
            "         1        1            0            0  "
            "x\\x1b]0;owned\\x07\\x0d.test\n"
            "\n"
            "denied hosts:\n"
            "         2  b.test\n"
            "         1  a.test\n"
            "         1  c.test\n"
            "         1  x\\x1b]0;owned\\x07\\x0d.test\n");
  ASSERT_OK_AND_ASSIGN(SubprocessResult top,
                       Cell({"log", "--top=1", "one.jsonl", "two.jsonl"}));
  EXPECT_THAT(top.exit_code, Optional(0)) << top.stderr_text;
  EXPECT_THAT(top.stdout_text,
              AllOf(HasSubstr("  (2 runs before these; --top=N shows more)\n"
                              "         1        1  no run id (two.jsonl)\n"),
                    HasSubstr("  host\n         4        1            3"
                              "            9  c.test\n\ndenied hosts:\n"),
                    HasSubstr("denied hosts:\n         2  b.test\n         1"
                              "  a.test\n")));
  ASSERT_OK_AND_ASSIGN(SubprocessResult help, Cell({"log", "--help"}));
  EXPECT_THAT(help.stdout_text,
              AllOf(HasSubstr("no run id"), HasSubstr("then by name"),
                    HasSubstr("escaped")));
}

TEST_F(CellCliTest, PackHelpTeachesPackedCells) {
  ASSERT_OK_AND_ASSIGN(SubprocessResult help, Cell({"help", "pack"}));
  EXPECT_THAT(help.exit_code, Optional(0));
  EXPECT_THAT(help.stdout_text,
              AllOf(HasSubstr("--output=FILE"), HasSubstr("--unchecked-paths"),
                    HasSubstr("--cell-status-file"),
                    HasSubstr("check-spec --packed"), HasSubstr("Example:")));
  ASSERT_OK_AND_ASSIGN(SubprocessResult flag, Cell({"pack", "--help"}));
  EXPECT_EQ(flag.stdout_text, help.stdout_text);
}

TEST_F(CellCliTest, RunWithoutWorktreeOrCommandSaysWhatToSet) {
  ASSERT_OK_AND_ASSIGN(SubprocessResult no_worktree, Cell({"run", "--", "ls"}));
  EXPECT_THAT(no_worktree.exit_code, Optional(125));
  EXPECT_THAT(no_worktree.stderr_text,
              AllOf(HasSubstr("worktreePath"), HasSubstr("--worktree")));
  EXPECT_EQ(Lines(no_worktree.stderr_text), 1);

  ASSERT_OK_AND_ASSIGN(
      SubprocessResult no_command,
      Cell({"run", "--worktree=wt", "--no-nix", "--network=none"}));
  EXPECT_THAT(no_command.exit_code, Optional(125));
  EXPECT_THAT(no_command.stderr_text, HasSubstr("no command to run"));
}

TEST_F(CellCliTest, BadSpecFilesAreOneLineErrors) {
  ASSERT_OK_AND_ASSIGN(SubprocessResult missing,
                       Cell({"run", "--spec=absent.json", "--", "true"}));
  EXPECT_THAT(missing.exit_code, Optional(125));
  EXPECT_THAT(missing.stderr_text, HasSubstr("absent.json"));

  const std::string spec = WriteSpec("{\"version\": 1,\n \"worktreePath\": }");
  ASSERT_OK_AND_ASSIGN(SubprocessResult syntax,
                       Cell({"run", absl::StrCat("--spec=", spec)}));
  EXPECT_THAT(syntax.exit_code, Optional(125));
  EXPECT_THAT(syntax.stderr_text, HasSubstr(spec + ":2:"));
  EXPECT_EQ(Lines(syntax.stderr_text), 1);

  ASSERT_OK_AND_ASSIGN(SubprocessResult directory,
                       Cell({"check-spec", "--spec=wt"}));
  EXPECT_THAT(directory.exit_code, Optional(2));
  EXPECT_THAT(directory.stderr_text, HasSubstr("wt is not a regular file"));
}

TEST_F(CellCliTest, CheckSpecPrintsTheResolvedSpec) {
  const std::string spec = WriteSpec(R"({
    // A comment.
    "version": 1, "worktreePath": "wt", "nix": false,
    "command": ["make"], "env": {"A": "1"}
  })");
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult result,
      Cell({"check-spec", absl::StrCat("--spec=", spec), "--env=B=2",
            "--ro-bind=/usr", "--pid-namespace", "--network=none"}));
  EXPECT_THAT(result.exit_code, Optional(0)) << result.stderr_text;
  const nlohmann::json json = nlohmann::json::parse(result.stdout_text);
  EXPECT_EQ(json["worktreePath"], dir_->Path("wt"));
  EXPECT_EQ(json["command"], nlohmann::json({"make"}));
  EXPECT_EQ(json["env"], nlohmann::json({{"A", "1"}, {"B", "2"}}));
  EXPECT_EQ(json["mounts"][0]["dst"], "/usr");
  EXPECT_EQ(json["isolation"]["pidNamespace"], true);
  EXPECT_EQ(json["network"]["mode"], "none");
  EXPECT_EQ(json["path"], nlohmann::json({"/usr/bin", "/bin"}));
  EXPECT_EQ(json["tinyproxyFilter"], nullptr);

  const std::string bad = WriteSpec(R"({"version": 1, "worktreePath": "wt",
                                        "isolaton": {}})");
  ASSERT_OK_AND_ASSIGN(SubprocessResult error,
                       Cell({"check-spec", absl::StrCat("--spec=", bad)}));
  EXPECT_THAT(error.exit_code, Optional(2));
  EXPECT_THAT(error.stderr_text, AllOf(HasSubstr("field `isolaton`"),
                                       HasSubstr("did you mean `isolation`?")));
}

}  // namespace
}  // namespace cell::testing

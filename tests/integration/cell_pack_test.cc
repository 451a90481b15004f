// End-to-end: `cell pack` writes one executable that is a whole cell; it is
// run from other directories with no spec beside it, as root and as an
// unprivileged user.
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "testing/cell_fixture.h"
#include "testing/status_matchers.h"

namespace cell::testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::Optional;
using Json = nlohmann::json;

class CellPackTest : public CellFixture {
 protected:
  void SetUp() override {
    CellFixture::SetUp();
    for (const char* sub : {"bin", "elsewhere", "elsewhere/deeper"}) {
      ASSERT_EQ(mkdir(Path(sub).c_str(), 0755), 0);
      ASSERT_EQ(chown(Path(sub).c_str(), uid(), gid()), 0);
    }
  }

  // A spec over this test's store and daemon dir, with the host's /usr,
  // /bin, /lib, /lib64 so that /bin/sh works; host paths absolute.
  Json BaseSpec(const std::string& worktree) const {
    Json mounts = Json::array();
    for (const char* dir : {"/usr", "/bin", "/lib", "/lib64"}) {
      mounts.push_back({{"type", "ro-bind"}, {"src", dir}});
    }
    return {{"version", 1},
            {"command",
             {"/bin/sh", "-c", "echo \"$0 $*\" >> args.txt; pwd", "packed"}},
            {"worktreePath", worktree},
            {"nixStore", Path("store")},
            {"nixDaemonSocket", Path("daemon")},
            {"network", {{"mode", "none"}}},
            {"mounts", mounts}};
  }

  std::string WriteSpec(const Json& spec) {
    const std::string path = Path("bin/spec.json");
    std::ofstream(path) << spec.dump(2);
    chown(path.c_str(), uid(), gid());
    return path;
  }

  // `cell pack ARGS` as the test user, from the test directory.
  absl::StatusOr<SubprocessResult> Pack(const std::vector<std::string>& args) {
    std::vector<std::string> full = {"pack"};
    full.insert(full.end(), args.begin(), args.end());
    return RunSubprocess(CellArgv(full), Options());
  }

  // Runs the packed cell `cell` with `args` as the test user from `cwd`.
  absl::StatusOr<SubprocessResult> RunPacked(
      const std::string& cell, const std::vector<std::string>& args,
      const std::string& cwd) {
    std::vector<std::string> argv = {cell};
    argv.insert(argv.end(), args.begin(), args.end());
    SubprocessOptions options = Options();
    options.cwd = cwd;
    return RunSubprocess(AsTestUser(argv), options);
  }

  // Packs BaseSpec(worktree) to bin/mycell and removes the spec file.
  void PackBase(const std::string& worktree) {
    const std::string spec = WriteSpec(BaseSpec(worktree));
    ASSERT_OK_AND_ASSIGN(
        SubprocessResult packed,
        Pack({absl::StrCat("--spec=", spec), "--output=bin/mycell"}));
    ASSERT_THAT(packed.exit_code, Optional(0)) << packed.stderr_text;
    ASSERT_EQ(unlink(spec.c_str()), 0);
  }
};

TEST_P(CellPackTest, RunsFromAnotherDirectoryWithNoSpecAndAppendsArguments) {
  PackBase(Path("wt"));
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult run,
      RunPacked(Path("bin/mycell"), {"a", "b c", "--help-is-theirs"},
                Path("elsewhere/deeper")));
  EXPECT_THAT(run.exit_code, Optional(0)) << run.stderr_text;
  EXPECT_EQ(run.stdout_text, "/home/cell/worktree\n");
  EXPECT_EQ(ReadHostFile(Path("wt/args.txt")),
            "packed a b c --help-is-theirs\n");
  EXPECT_THAT(JobDirs(), IsEmpty());
}

TEST_P(CellPackTest, RelativeWorktreeIsTheDirectoryItRunsIn) {
  PackBase(".");
  for (const char* dir : {"elsewhere", "elsewhere/deeper"}) {
    ASSERT_OK_AND_ASSIGN(SubprocessResult run,
                         RunPacked(Path("bin/mycell"), {dir}, Path(dir)));
    EXPECT_THAT(run.exit_code, Optional(0)) << run.stderr_text;
    EXPECT_EQ(ReadHostFile(Path(absl::StrCat(dir, "/args.txt"))),
              absl::StrCat("packed ", dir, "\n"));
  }
}

TEST_P(CellPackTest, ExitStatusAndDoubleDashPassThrough) {
  Json spec = BaseSpec(Path("wt"));
  spec["command"] = {"/bin/sh", "-c", "echo \"$*\"; exit 7", "sh"};
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult packed,
      Pack({absl::StrCat("--spec=", WriteSpec(spec)), "--output=bin/seven"}));
  ASSERT_THAT(packed.exit_code, Optional(0)) << packed.stderr_text;
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult run,
      RunPacked(Path("bin/seven"), {"--", "--help", "--cell-help"},
                Path("elsewhere")));
  EXPECT_THAT(run.exit_code, Optional(7));
  EXPECT_EQ(run.stdout_text, "--help --cell-help\n");
}

TEST_P(CellPackTest, HelpSaysWhichSpecItCarriesAndRunsNothing) {
  const std::string spec = WriteSpec(BaseSpec(Path("wt")));
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult packed,
      Pack({absl::StrCat("--spec=", spec), "--output=bin/mycell"}));
  ASSERT_THAT(packed.exit_code, Optional(0)) << packed.stderr_text;
  EXPECT_THAT(packed.stderr_text, HasSubstr("bin/mycell --help"));
  for (const char* flag : {"--help", "--cell-help"}) {
    ASSERT_OK_AND_ASSIGN(SubprocessResult help,
                         RunPacked(Path("bin/mycell"), {flag}, Path("wt")));
    EXPECT_THAT(help.exit_code, Optional(0));
    EXPECT_THAT(help.stdout_text,
                AllOf(HasSubstr("This is a packed cell"),
                      HasSubstr(absl::StrCat("packed from ", spec)),
                      HasSubstr("/bin/sh -c"), HasSubstr("--cell-status-file"),
                      HasSubstr(Path("daemon"))));
  }
  EXPECT_FALSE(std::ifstream(Path("wt/args.txt")).good());
}

TEST_P(CellPackTest, CheckSpecPrintsTheEmbeddedSpecResolved) {
  const std::string spec = WriteSpec(BaseSpec(Path("wt")));
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult packed,
      Pack({absl::StrCat("--spec=", spec), "--output=bin/mycell"}));
  ASSERT_THAT(packed.exit_code, Optional(0)) << packed.stderr_text;
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult from_file,
      RunSubprocess(CellArgv({"check-spec", absl::StrCat("--spec=", spec)}),
                    Options()));
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult from_cell,
      RunSubprocess(CellArgv({"check-spec", "--packed=bin/mycell"}),
                    Options()));
  ASSERT_THAT(from_cell.exit_code, Optional(0)) << from_cell.stderr_text;
  EXPECT_EQ(Json::parse(from_cell.stdout_text),
            Json::parse(from_file.stdout_text));
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult plain,
      RunSubprocess(CellArgv({"check-spec", absl::StrCat("--packed=", cell_)}),
                    Options()));
  EXPECT_THAT(plain.exit_code, Optional(2));
  EXPECT_THAT(plain.stderr_text, HasSubstr("not a packed cell"));
}

TEST_P(CellPackTest, DamagedSpecFailsClearlyAndRunsNothing) {
  PackBase(Path("wt"));
  const std::string cell = Path("bin/mycell");
  std::string bytes = ReadHostFile(cell);
  // One byte of the embedded JSON, well before the 24-byte trailer.
  bytes[bytes.size() - 60] ^= 0x01;
  const std::string damaged = Path("bin/damaged");
  std::ofstream(damaged, std::ios::binary) << bytes;
  ASSERT_EQ(chmod(damaged.c_str(), 0755), 0);
  std::ofstream(Path("bin/truncated"), std::ios::binary)
      << bytes.substr(0, bytes.size() - 3);
  ASSERT_EQ(chmod(Path("bin/truncated").c_str(), 0755), 0);
  for (const std::string& bad : {damaged, Path("bin/truncated")}) {
    ASSERT_OK_AND_ASSIGN(SubprocessResult run,
                         RunPacked(bad, {"x"}, Path("elsewhere")));
    EXPECT_THAT(run.exit_code, Optional(125)) << bad;
    EXPECT_THAT(
        run.stderr_text,
        AllOf(HasSubstr(absl::StrCat("'", bad, "' is a damaged packed cell")),
              HasSubstr("cell pack")));
    EXPECT_EQ(std::count(run.stderr_text.begin(), run.stderr_text.end(), '\n'),
              1);
  }
  EXPECT_FALSE(std::ifstream(Path("wt/args.txt")).good());
  EXPECT_THAT(JobDirs(), IsEmpty());
}

TEST_P(CellPackTest, StatusFileOptionReportsTheRun) {
  PackBase(Path("wt"));
  const std::string status = Path("tmp/status.jsonl");
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult run,
      RunPacked(Path("bin/mycell"),
                {absl::StrCat("--cell-status-file=", status), "x"},
                Path("elsewhere")));
  EXPECT_THAT(run.exit_code, Optional(0)) << run.stderr_text;
  std::vector<Json> events = ReadEvents(status);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0]["event"], "started");
  EXPECT_EQ(events[1]["event"], "exited");
  EXPECT_EQ(ReadHostFile(Path("wt/args.txt")), "packed x\n");

  ASSERT_OK_AND_ASSIGN(
      SubprocessResult bad,
      RunPacked(Path("bin/mycell"), {"--cell-nope"}, Path("elsewhere")));
  EXPECT_THAT(bad.exit_code, Optional(125));
  EXPECT_THAT(bad.stderr_text, HasSubstr("unknown packed-cell option"));
}

TEST_P(CellPackTest, PackErrorsNameTheFieldAndTheFix) {
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult no_output,
      Pack({absl::StrCat("--spec=", WriteSpec(BaseSpec(Path("wt"))))}));
  EXPECT_THAT(no_output.exit_code, Optional(2));
  EXPECT_THAT(no_output.stderr_text, HasSubstr("--output=FILE is required"));

  Json typo = BaseSpec(Path("wt"));
  typo["worktreePth"] = "x";
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult unknown,
      Pack({absl::StrCat("--spec=", WriteSpec(typo)), "--output=bin/x"}));
  EXPECT_THAT(unknown.exit_code, Optional(2));
  EXPECT_THAT(unknown.stderr_text, HasSubstr("worktreePth"));

  const std::string missing = WriteSpec(BaseSpec(Path("no-such-worktree")));
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult absent,
      Pack({absl::StrCat("--spec=", missing), "--output=bin/x"}));
  EXPECT_THAT(absent.exit_code, Optional(2));
  EXPECT_THAT(absent.stderr_text,
              AllOf(HasSubstr("worktreePath"), HasSubstr("--unchecked-paths")));
  EXPECT_FALSE(std::ifstream(Path("bin/x")).good());

  // Deferred: packed now, and the run names the field.
  ASSERT_OK_AND_ASSIGN(SubprocessResult deferred,
                       Pack({absl::StrCat("--spec=", missing), "--output=bin/x",
                             "--unchecked-paths"}));
  ASSERT_THAT(deferred.exit_code, Optional(0)) << deferred.stderr_text;
  ASSERT_OK_AND_ASSIGN(SubprocessResult run,
                       RunPacked(Path("bin/x"), {}, Path("elsewhere")));
  EXPECT_THAT(run.exit_code, Optional(125));
  EXPECT_THAT(run.stderr_text,
              AllOf(HasSubstr("packed spec"), HasSubstr("worktreePath"),
                    HasSubstr("no-such-worktree")));

  ASSERT_OK_AND_ASSIGN(SubprocessResult onto_spec,
                       Pack({absl::StrCat("--spec=", missing),
                             absl::StrCat("--output=", missing)}));
  EXPECT_THAT(onto_spec.exit_code, Optional(2));
  EXPECT_THAT(onto_spec.stderr_text, HasSubstr("is the spec file itself"));
  EXPECT_THAT(ReadHostFile(missing), Not(IsEmpty()));
}

INSTANTIATE_TEST_SUITE_P(Users, CellPackTest,
                         ::testing::Values(TestUser::kRoot, TestUser::kNobody),
                         TestUserName);

}  // namespace
}  // namespace cell::testing

// End-to-end: the built cell-verify against real cells (real namespaces,
// tinyproxy, a nix daemon on a private store), driven as a CI job would.
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/subprocess.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "testing/nix_daemon.h"
#include "testing/runfiles.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace cell::testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Optional;
using Json = nlohmann::json;

class CellVerifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(verify_, RunfilePath("policy/cell-verify"));
    ASSERT_OK_AND_ASSIGN(cell_, RunfilePath("launcher/cell"));
    ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create());
    dir_.emplace(std::move(dir));
    ASSERT_EQ(mkdir(dir_->Path("wt").c_str(), 0755), 0);
    std::ofstream(dir_->Path("filter")) << "^github\\.com$\n";
  }

  // A spec with the host's /usr etc. bound so that ordinary tools work.
  std::string WriteSpec(const std::string& extra) {
    const std::string path = dir_->Path("spec.json");
    std::ofstream(path) << absl::StrCat(
        R"({"version": 1, "worktreePath": "wt", "tinyproxyFilter": "filter",
            "mounts": [{"type": "ro-bind", "src": "/usr"},
                       {"type": "ro-bind", "src": "/lib"},
                       {"type": "ro-bind", "src": "/lib64"},
                       {"type": "ro-bind", "src": "/bin"}])",
        extra, "}");
    return path;
  }

  absl::StatusOr<SubprocessResult> Verify(std::vector<std::string> args) {
    args.insert(args.begin(), verify_);
    SubprocessOptions options;
    options.cwd = dir_->path();
    return RunSubprocess(args, options);
  }

  // The report as JSON: property -> outcome.
  static std::map<std::string, std::string> Outcomes(const std::string& json) {
    std::map<std::string, std::string> outcomes;
    const Json report = Json::parse(json, nullptr, /*allow_exceptions=*/false);
    if (!report.is_object() || !report.contains("results")) return outcomes;
    for (const Json& result : report["results"]) {
      outcomes[result["property"]] = result["outcome"];
    }
    return outcomes;
  }

  std::string verify_;
  std::string cell_;
  std::optional<TempDir> dir_;
};

TEST_F(CellVerifyTest, DocumentedCellPassesEveryProperty) {
  const std::string spec = WriteSpec(R"(, "nix": false)");
  ASSERT_OK_AND_ASSIGN(SubprocessResult result,
                       Verify({"--spec=" + spec, "--format=json"}));
  EXPECT_THAT(result.exit_code, Optional(0))
      << result.stdout_text << result.stderr_text;
  const auto outcomes = Outcomes(result.stdout_text);
  EXPECT_EQ(outcomes.size(), 30u);
  for (const auto& [property, outcome] : outcomes) {
    // Launched by root without hostUser, the cell is host root: documented,
    // and a warning.
    const bool host_root = property == "host-identity" && getuid() == 0;
    EXPECT_EQ(outcome, host_root ? "warn" : "pass") << property;
  }
}

// The canaries' requests (CONNECTs and GETs to host loopback) are
// cell-verify's business, not the agent's: they must not land in the
// spec's audit log, which the operator reads with `cell log`.
TEST_F(CellVerifyTest, TheCanaryLeavesTheSpecsAuditLogAlone) {
  ASSERT_EQ(mkdir(dir_->Path("logs").c_str(), 0755), 0);
  const std::string spec = WriteSpec(R"(, "nix": false, "logDir": "logs")");
  ASSERT_OK_AND_ASSIGN(SubprocessResult result,
                       Verify({"--spec=" + spec, "--format=json"}));
  EXPECT_THAT(result.exit_code, Optional(0))
      << result.stdout_text << result.stderr_text;
  // Judged all the same: the cell ran with a private logDir bound alike.
  EXPECT_EQ(Outcomes(result.stdout_text).at("proxy-hostile"), "pass");
  EXPECT_EQ(Outcomes(result.stdout_text).at("control-files"), "pass");
  struct stat info;
  EXPECT_NE(stat(dir_->Path("logs/proxy-audit.jsonl").c_str(), &info), 0)
      << "cell-verify wrote into the spec's audit log";
  // A logDir inside the worktree keeps its own (its view there must be
  // the launcher's read-only one, which control-files checks).
  ASSERT_EQ(mkdir(dir_->Path("wt/logs").c_str(), 0755), 0);
  const std::string inside =
      WriteSpec(R"(, "nix": false, "logDir": "wt/logs")");
  ASSERT_OK_AND_ASSIGN(SubprocessResult in_worktree,
                       Verify({"--spec=" + inside, "--format=json"}));
  EXPECT_EQ(Outcomes(in_worktree.stdout_text).at("control-files"), "pass")
      << in_worktree.stdout_text;
}

// The same cell as another host user passes host-identity; as host root
// agent-strict fails it, naming the fix.
TEST_F(CellVerifyTest, HostRootIsCaughtAndAnotherUserPasses) {
  ASSERT_EQ(getuid(), 0u) << "only root can run a cell as host root";
  ASSERT_EQ(chown(dir_->Path("wt").c_str(), 65534, 65534), 0);
  const std::string root_spec = WriteSpec(R"(, "nix": false)");
  ASSERT_OK_AND_ASSIGN(SubprocessResult as_root,
                       Verify({"--spec=" + root_spec, "--format=json",
                               "--profile=agent-strict"}));
  EXPECT_EQ(Outcomes(as_root.stdout_text).at("host-identity"), "fail");
  EXPECT_THAT(as_root.stdout_text, HasSubstr("--host-user=NAME"));
  EXPECT_EQ(Outcomes(as_root.stdout_text).at("kernel-interfaces"), "pass");
  const std::string nobody_spec =
      WriteSpec(R"(, "nix": false, "hostUser": "nobody")");
  ASSERT_OK_AND_ASSIGN(SubprocessResult as_nobody,
                       Verify({"--spec=" + nobody_spec, "--format=json"}));
  EXPECT_EQ(Outcomes(as_nobody.stdout_text).at("host-identity"), "pass")
      << as_nobody.stdout_text << as_nobody.stderr_text;
  EXPECT_EQ(Outcomes(as_nobody.stdout_text).at("kernel-interfaces"), "pass");
}

TEST_F(CellVerifyTest, NixCellThroughARealDaemon) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<NixDaemon> daemon,
                       NixDaemon::Start(dir_->Path("nix")));
  // The daemon trusts host root: the root-run test cell runs as nobody.
  ASSERT_EQ(chown(dir_->Path("wt").c_str(), 65534, 65534), 0);
  const std::string spec = WriteSpec(absl::StrCat(
      R"(, "hostUser": "nobody", "nixStore": ")", daemon->store_dir(),
      R"(", "nixDaemonSocket": ")", daemon->socket_dir(), R"(")"));
  ASSERT_OK_AND_ASSIGN(SubprocessResult result,
                       Verify({"--spec=" + spec, "--format=json"}));
  EXPECT_THAT(result.exit_code, Optional(0))
      << result.stdout_text << result.stderr_text;
  const auto outcomes = Outcomes(result.stdout_text);
  EXPECT_EQ(outcomes.size(), 33u);
  EXPECT_EQ(outcomes.at("nix-daemon"), "pass");
  EXPECT_EQ(outcomes.at("nix-trust"), "pass");
  EXPECT_EQ(outcomes.at("store-read-only"), "pass");
  EXPECT_EQ(outcomes.at("nix-config"), "pass");
  // The daemon downloads past the cell's filter (escape_test shows it
  // for real): reported, a warning in the documented profile.
  EXPECT_EQ(outcomes.at("nix-policy"), "warn");
  EXPECT_THAT(result.stdout_text, HasSubstr("past its proxy and filter"));
}

TEST_F(CellVerifyTest, AgentStrictFailsTheUnsafeDefaultsAndNamesTheFix) {
  const std::string spec = WriteSpec(R"(, "nix": false)");
  ASSERT_OK_AND_ASSIGN(SubprocessResult result,
                       Verify({"--spec=" + spec, "--profile=agent-strict"}));
  EXPECT_THAT(result.exit_code, Optional(1));
  EXPECT_THAT(
      result.stdout_text,
      AllOf(HasSubstr("FAIL  isolation-policy"), HasSubstr("--pid-namespace"),
            HasSubstr("--ipc-namespace"), HasSubstr("--capabilities=none"),
            HasSubstr("--seccomp"), HasSubstr("--read-only-root"),
            HasSubstr("--host-user=NAME")));

  // Run by root (this test), the hardened cell runs as another user.
  ASSERT_EQ(chown(dir_->Path("wt").c_str(), 65534, 65534), 0);
  const std::string hardened = WriteSpec(
      R"(, "nix": false, "hostUser": "nobody", "protect": ["@defaults"],
           "isolation": {"pidNamespace": true,
           "ipcNamespace": true, "capabilities": "none", "seccomp": true,
           "readOnlyRoot": true})");
  ASSERT_OK_AND_ASSIGN(SubprocessResult strict,
                       Verify({"--spec=" + hardened, "--profile=agent-strict",
                               "--format=json"}));
  EXPECT_THAT(strict.exit_code, Optional(0)) << strict.stdout_text;
  EXPECT_EQ(Outcomes(strict.stdout_text).at("pid-namespace"), "pass");
  EXPECT_EQ(Outcomes(strict.stdout_text).at("seccomp"), "pass");
  EXPECT_EQ(Outcomes(strict.stdout_text).at("root-read-only"), "pass");
}

// examples/host-agent-cell.json says it passes agent-strict on a plain
// Linux host: used as shipped (its filter relative to the spec file), from
// a project directory, run as another user since this test is root.
TEST_F(CellVerifyTest, TheHostAgentExamplePassesAgentStrict) {
  ASSERT_EQ(mkdir(dir_->Path("examples").c_str(), 0755), 0);
  for (const char* name : {"host-agent-cell.json", "agent-filter.txt"}) {
    ASSERT_OK_AND_ASSIGN(std::string path,
                         RunfilePath(absl::StrCat("examples/", name)));
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    std::string content = text.str();
    if (absl::EndsWith(name, ".json")) {
      // As `--host-user=nobody` would: the launcher is root here.
      const size_t at = content.find("\"nix\": false,");
      ASSERT_NE(at, std::string::npos);
      content.insert(at, "\"hostUser\": \"nobody\", ");
    }
    std::ofstream(dir_->Path(absl::StrCat("examples/", name))) << content;
  }
  ASSERT_EQ(chown(dir_->Path("wt").c_str(), 65534, 65534), 0);
  SubprocessOptions options;
  options.cwd = dir_->Path("wt");
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult result,
      RunSubprocess({verify_, "--spec=../examples/host-agent-cell.json",
                     "--profile=agent-strict", "--format=json"},
                    options));
  EXPECT_THAT(result.exit_code, Optional(0))
      << result.stdout_text << result.stderr_text;
  const std::map<std::string, std::string> outcomes =
      Outcomes(result.stdout_text);
  for (const char* property :
       {"only-explicit-binds", "secrets", "filter-policy", "mount-policy",
        "worktree-writable", "control-files"}) {
    EXPECT_EQ(outcomes.count(property) ? outcomes.at(property) : "", "pass")
        << property;
  }
}

// Each example spec checks from any directory: its relative paths (the
// filter) are relative to the spec file, its worktree "." to where it runs.
TEST_F(CellVerifyTest, EveryExampleChecksFromAnyDirectory) {
  // Copies: the runfiles are links, which the launcher does not follow.
  ASSERT_EQ(mkdir(dir_->Path("examples").c_str(), 0755), 0);
  for (const char* name :
       {"agent-cell.json", "host-agent-cell.json", "default-cell.json",
        "default-cell-no-nix.json", "agent-filter.txt"}) {
    ASSERT_OK_AND_ASSIGN(std::string path,
                         RunfilePath(absl::StrCat("examples/", name)));
    std::ifstream in(path);
    std::ofstream(dir_->Path(absl::StrCat("examples/", name))) << in.rdbuf();
  }
  for (const char* name : {"agent-cell.json", "host-agent-cell.json",
                           "default-cell.json", "default-cell-no-nix.json"}) {
    const std::string spec = dir_->Path(absl::StrCat("examples/", name));
    SubprocessOptions options;
    options.cwd = dir_->Path("wt");
    // The Nix one needs a store here; --no-nix is the fix its comment names.
    ASSERT_OK_AND_ASSIGN(
        SubprocessResult checked,
        RunSubprocess({cell_, "check-spec", "--spec=" + spec, "--no-nix"},
                      options));
    EXPECT_THAT(checked.exit_code, Optional(0)) << name << checked.stderr_text;
    const Json resolved = Json::parse(checked.stdout_text, nullptr, false);
    ASSERT_TRUE(resolved.is_object()) << name;
    EXPECT_EQ(resolved["worktreePath"], dir_->Path("wt")) << name;
    if (resolved["tinyproxyFilter"].is_string()) {
      EXPECT_TRUE(absl::EndsWith(resolved["tinyproxyFilter"].get<std::string>(),
                                 "/examples/agent-filter.txt"))
          << name;
    }
  }
}

TEST_F(CellVerifyTest, LimitsAreProvedByTheirEffect) {
  // Root here: the CI machines have no cgroup delegation for other users.
  const std::string spec = WriteSpec(
      R"(, "nix": false, "isolation": {"readOnlyRoot": true},
           "limits": {"rlimits": {"nofile": 128, "core": 0},
                      "pidsMax": 24, "memoryMax": 67108864})");
  ASSERT_OK_AND_ASSIGN(SubprocessResult result,
                       Verify({"--spec=" + spec, "--format=json"}));
  EXPECT_THAT(result.exit_code, Optional(0))
      << result.stdout_text << result.stderr_text;
  const auto outcomes = Outcomes(result.stdout_text);
  for (const char* property : {"rlimits", "cgroup-limits", "root-read-only"}) {
    EXPECT_EQ(outcomes.at(property), "pass") << property;
  }
  EXPECT_THAT(result.stdout_text, AllOf(HasSubstr("of 32 forks started"),
                                        HasSubstr("MiB, then signal 9")));

  // A launcher that quietly raises one rlimit and drops the pids bound is
  // caught by both properties.
  const std::string liar = dir_->Path("lying-limits");
  std::ofstream(liar) << "#!/bin/sh\nreal=" << cell_ << "\n"
                      << "if [ \"$1\" = run ]; then shift; exec \"$real\" run "
                         "--rlimit=nofile=127 --pids-max=100000 \"$@\"; fi\n"
                      << "exec \"$real\" \"$@\"\n";
  ASSERT_EQ(chmod(liar.c_str(), 0755), 0);
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult caught,
      Verify({"--spec=" + spec, "--format=json", "--cell=" + liar}));
  EXPECT_THAT(caught.exit_code, Optional(1)) << caught.stdout_text;
  EXPECT_EQ(Outcomes(caught.stdout_text).at("rlimits"), "fail");
  EXPECT_EQ(Outcomes(caught.stdout_text).at("cgroup-limits"), "fail");
}

TEST_F(CellVerifyTest, CatchesALauncherThatDoesNotDoWhatTheSpecSays) {
  // A launcher that quietly binds the host's /root into every cell.
  const std::string liar = dir_->Path("lying-cell");
  std::ofstream(liar) << "#!/bin/sh\nreal=" << cell_ << "\n"
                      << "if [ \"$1\" = run ]; then shift; "
                         "exec \"$real\" run --ro-bind=/root:/root \"$@\"; fi\n"
                      << "exec \"$real\" \"$@\"\n";
  ASSERT_EQ(chmod(liar.c_str(), 0755), 0);
  const std::string spec = WriteSpec(R"(, "nix": false)");
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult result,
      Verify({"--spec=" + spec, "--cell=" + liar, "--format=json"}));
  EXPECT_THAT(result.exit_code, Optional(1)) << result.stderr_text;
  EXPECT_EQ(Outcomes(result.stdout_text).at("only-explicit-binds"), "fail");
}

TEST_F(CellVerifyTest, StaticOnlyJunitToAFile) {
  const std::string spec =
      WriteSpec(R"(, "nix": false, "env": {"GH_TOKEN": "x"})");
  const std::string out = dir_->Path("report.xml");
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult result,
      Verify({"--spec=" + spec, "--static-only", "--profile=agent-strict",
              "--format=junit", "--output=" + out}));
  EXPECT_THAT(result.exit_code, Optional(1));
  std::ifstream in(out);
  std::stringstream xml;
  xml << in.rdbuf();
  EXPECT_THAT(xml.str(), AllOf(HasSubstr("<testsuite name=\"cell-verify."
                                         "agent-strict\" tests=\"5\""),
                               HasSubstr("env.GH_TOKEN")));
  struct stat info;
  EXPECT_NE(stat(dir_->Path("wt/.cell-probe").c_str(), &info), 0);
}

// Cells deliberately broken in the ways an operator must hear about: each
// fails, naming the right property, in a full run (launch included).
TEST_F(CellVerifyTest, BrokenCellsFailNamingTheProperty) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<NixDaemon> daemon,
                       NixDaemon::Start(dir_->Path("nix")));
  ASSERT_EQ(chown(dir_->Path("wt").c_str(), 65534, 65534), 0);
  const std::string nix = absl::StrCat(
      R"(, "hostUser": "nobody", "nixStore": ")", daemon->store_dir(),
      R"(", "nixDaemonSocket": ")", daemon->socket_dir(), R"(")");
  std::ofstream(dir_->Path("deny-github.json"))
      << R"({"version": 1, "network": {"mustDeny": ["github.com"]}})";
  struct Case {
    std::string name;
    std::string extra;   // Spec fields.
    std::string policy;  // --policy / --profile flag.
    std::string property;
  };
  const std::vector<Case> cases = {
      {"a writable store bind",
       absl::StrCat(nix, R"(, "mounts": [{"type": "bind", "src": ")",
                    daemon->store_dir(), R"(", "dst": "/store-rw"}])"),
       "--profile=documented", "mount-policy"},
      {"a credential in the environment",
       absl::StrCat(nix, R"(, "env": {"AWS_SECRET_ACCESS_KEY": "x"})"),
       "--profile=agent-strict", "env-policy"},
      {"a filter that lets a mustDeny host through", nix,
       "--policy=" + dir_->Path("deny-github.json"), "filter-policy"},
      {"a spec that binds /etc",
       absl::StrCat(nix, R"(, "mounts": [{"type": "ro-bind", "src": "/etc",
                                         "dst": "/host-etc"}])"),
       "--profile=agent-strict", "mount-policy"},
  };
  for (const Case& c : cases) {
    // WriteSpec's own mounts come first; a case's mounts replace them, so
    // those cases list only what they add (the probe needs nothing bound).
    const std::string spec = dir_->Path("case.json");
    std::ofstream(spec) << absl::StrCat(
        R"({"version": 1, "worktreePath": "wt", "tinyproxyFilter": "filter")",
        c.extra, "}");
    ASSERT_OK_AND_ASSIGN(SubprocessResult result,
                         Verify({"--spec=" + spec, c.policy, "--format=json"}));
    EXPECT_THAT(result.exit_code, Optional(1))
        << c.name << ": " << result.stderr_text << result.stdout_text;
    EXPECT_EQ(Outcomes(result.stdout_text)[c.property], "fail") << c.name;
  }
  // Setting a variable the launcher forces is refused outright.
  const std::string forced = dir_->Path("forced.json");
  std::ofstream(forced) << R"({"version": 1, "worktreePath": "wt",
                              "env": {"NIX_REMOTE": "daemon"}})";
  ASSERT_OK_AND_ASSIGN(SubprocessResult refused, Verify({"--spec=" + forced}));
  EXPECT_THAT(refused.exit_code, Optional(2));
  EXPECT_THAT(refused.stderr_text, HasSubstr("env.NIX_REMOTE"));
}

TEST_F(CellVerifyTest, JunitReportIsValidXml) {
  const std::string spec = WriteSpec(R"(, "nix": false)");
  const std::string out = dir_->Path("report.xml");
  ASSERT_OK_AND_ASSIGN(SubprocessResult result,
                       Verify({"--spec=" + spec, "--format=junit",
                               "--output=" + out, "--profile=agent-strict"}));
  EXPECT_THAT(result.exit_code, Optional(1));
  ASSERT_OK_AND_ASSIGN(SubprocessResult lint,
                       RunSubprocess({"xmllint", "--noout", out}));
  EXPECT_THAT(lint.exit_code, Optional(0)) << lint.stderr_text;
  ASSERT_OK_AND_ASSIGN(SubprocessResult failures,
                       RunSubprocess({"xmllint", "--xpath",
                                      "string(//testsuite/@failures)", out}));
  // isolation-policy (the test filter is anchored and names one host), and
  // host-identity: launched by root without hostUser, the cell is host root.
  EXPECT_EQ(failures.stdout_text, "2\n");
}

TEST_F(CellVerifyTest, UsageAndSetupErrorsExitTwo) {
  ASSERT_OK_AND_ASSIGN(SubprocessResult no_spec, Verify({}));
  EXPECT_THAT(no_spec.exit_code, Optional(2));
  EXPECT_THAT(no_spec.stderr_text,
              HasSubstr("give --spec=FILE (a cell) or --sandbox=COMMAND"));
  const std::string spec = WriteSpec(R"(, "nix": false)");
  ASSERT_OK_AND_ASSIGN(SubprocessResult format,
                       Verify({"--spec=" + spec, "--format=xml"}));
  EXPECT_THAT(format.exit_code, Optional(2));
  ASSERT_OK_AND_ASSIGN(SubprocessResult profile,
                       Verify({"--spec=" + spec, "--profile=paranoid"}));
  EXPECT_THAT(profile.exit_code, Optional(2));
  EXPECT_THAT(profile.stderr_text, HasSubstr("documented or agent-strict"));
  std::ofstream(dir_->Path("bad.json"))
      << R"({"version": 1, "worktreePath": "nope"})";
  ASSERT_OK_AND_ASSIGN(SubprocessResult bad,
                       Verify({"--spec=" + dir_->Path("bad.json")}));
  EXPECT_THAT(bad.exit_code, Optional(2));
  EXPECT_THAT(bad.stderr_text, HasSubstr("worktreePath"));
  ASSERT_OK_AND_ASSIGN(SubprocessResult version, Verify({"--version"}));
  EXPECT_THAT(version.exit_code, Optional(0));
  EXPECT_THAT(version.stdout_text, HasSubstr("cell-verify 0."));
  EXPECT_THAT(version.stdout_text, HasSubstr("built with"));
  ASSERT_OK_AND_ASSIGN(SubprocessResult help, Verify({"--help"}));
  EXPECT_THAT(help.exit_code, Optional(0));
  EXPECT_THAT(help.stdout_text, HasSubstr("agent-strict"));
}

}  // namespace
}  // namespace cell::testing

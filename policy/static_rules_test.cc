#include "policy/static_rules.h"

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace cell::policy {
namespace {

using ::testing::AllOf;
using ::testing::Contains;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

auto Has(const std::string& property, const std::string& text) {
  return Contains(AllOf(Field(&Finding::property, property),
                        Field(&Finding::message, HasSubstr(text))));
}

// Without Nix unless a test asks: with it, every profile but an accepting
// one adds the daemon-egress finding (its own test below).
CellSpec Spec() {
  CellSpec spec;
  spec.nix = false;
  spec.worktree_path = "/srv/work/repo";
  spec.nix_store = "/nix/store";
  spec.nix_daemon_socket = "/nix/var/nix/daemon-socket";
  spec.network.mode = NetworkMode::kNone;
  spec.path = std::vector<std::string>{"/usr/bin"};
  return spec;
}

std::vector<Finding> Check(const CellSpec& spec, const Policy& policy,
                           uid_t cell_uid = 1000) {
  absl::StatusOr<std::vector<Finding>> findings =
      CheckSpecStatically(spec, policy, {"/home/alice"}, cell_uid);
  EXPECT_TRUE(findings.ok()) << findings.status();
  return findings.ok() ? *findings : std::vector<Finding>{};
}

TEST(StaticRulesTest, DocumentedProfileAcceptsADefaultSpec) {
  ASSERT_OK_AND_ASSIGN(Policy documented, BuiltinProfile("documented"));
  EXPECT_THAT(Check(Spec(), documented), IsEmpty());
}

TEST(StaticRulesTest, AgentStrictNamesTheFieldThatFixesEachDefault) {
  ASSERT_OK_AND_ASSIGN(Policy strict, BuiltinProfile("agent-strict"));
  const std::vector<Finding> findings = Check(Spec(), strict);
  EXPECT_THAT(findings,
              Has("isolation-policy", "isolation.pidNamespace: true"));
  EXPECT_THAT(findings,
              Has("isolation-policy", "isolation.ipcNamespace: true"));
  EXPECT_THAT(findings, Has("isolation-policy", "--capabilities=none"));
  EXPECT_THAT(findings, Has("isolation-policy", "isolation.seccomp: true"));
  EXPECT_THAT(findings, Has("isolation-policy", "--read-only-root"));
  EXPECT_THAT(findings, Has("isolation-policy", "--protect=@defaults"));
  // The JSON report's `field` and `flag` name the same fix for tools.
  for (const auto& [field, flag] :
       {std::pair{"isolation.pidNamespace", "--pid-namespace"},
        std::pair{"isolation.capabilities", "--capabilities=none"},
        std::pair{"protect", "--protect=@defaults"}}) {
    EXPECT_THAT(findings, Contains(AllOf(Field(&Finding::field, field),
                                         Field(&Finding::flag, flag))))
        << field;
  }
  CellSpec with_token = Spec();
  with_token.env["GH_TOKEN"] = "x";
  EXPECT_THAT(Check(with_token, strict),
              Contains(AllOf(Field(&Finding::property, "env-policy"),
                             Field(&Finding::field, "env.GH_TOKEN"))));
  CellSpec hardened = Spec();
  hardened.isolation = {true, true, Capabilities::kNone, true, true};
  hardened.protect = DefaultProtectedPaths();
  EXPECT_THAT(Check(hardened, strict), IsEmpty());
  // The same cell run as host root (a root launcher without hostUser).
  EXPECT_THAT(Check(hardened, strict, 0),
              Has("isolation-policy", "--host-user=NAME"));
  ASSERT_OK_AND_ASSIGN(Policy documented, BuiltinProfile("documented"));
  EXPECT_THAT(Check(hardened, documented, 0), IsEmpty());
}

TEST(StaticRulesTest, RequiredLimitsNameTheFieldAndTheFlag) {
  Policy policy;
  policy.limits.required = {"memoryMax", "pidsMax", "nofile"};
  CellSpec spec = Spec();
  std::vector<Finding> findings = Check(spec, policy);
  EXPECT_THAT(findings, Has("isolation-policy",
                            "requires `limits.memoryMax`; set it "
                            "(--memory-max=SIZE)"));
  EXPECT_THAT(findings, Has("isolation-policy", "(--pids-max=N)"));
  EXPECT_THAT(findings, Has("isolation-policy",
                            "`limits.rlimits.nofile`; set it "
                            "(--rlimit=nofile=N)"));
  EXPECT_EQ(findings.size(), 3u);
  spec.limits.memory_max = 1 << 30;
  spec.limits.pids_max = 100;
  spec.limits.rlimits = {{"nofile", 256}};
  EXPECT_THAT(Check(spec, policy), IsEmpty());
}

TEST(StaticRulesTest, ForbiddenSourcesAndTheirAncestors) {
  Policy policy;
  policy.mounts.forbidden_sources = {"/etc", "~/.ssh"};
  CellSpec spec = Spec();
  spec.mounts = {{MountType::kRoBind, "/etc/ssl/certs", "/etc/ssl/certs"},
                 {MountType::kRoBind, "/home/alice", "/home/alice"},
                 {MountType::kRoBind, "/etc", "/host-etc"},
                 {MountType::kTmpfs, "", "/scratch"}};
  const std::vector<Finding> findings = Check(spec, policy);
  EXPECT_THAT(findings, Has("mount-policy",
                            "`mounts[1].src` binds "
                            "'/home/alice', which contains "
                            "'/home/alice/.ssh'"));
  EXPECT_THAT(findings, Has("mount-policy", "`mounts[2].src` binds '/etc'"));
  // A subdirectory of a forbidden path is what narrower binds are for.
  EXPECT_THAT(findings, Not(Has("mount-policy", "mounts[0]")));
  EXPECT_EQ(findings.size(), 2u);
}

TEST(StaticRulesTest, NoWritableBindOfASystemDirectory) {
  Policy policy;
  policy.mounts.forbid_writable_system_dirs = true;
  CellSpec spec = Spec();
  spec.log_dir = "/var/lib/cell-logs";  // Read-only inside: not a finding.
  spec.mounts = {{MountType::kBind, "/usr", "/usr"},
                 {MountType::kBind, "/var/lib/postgresql", "/db"},
                 {MountType::kBind, "/var", "/hostvar"},
                 {MountType::kRoBind, "/etc", "/etc"},
                 {MountType::kBind, "/srv/data", "/data"}};
  const std::vector<Finding> findings = Check(spec, policy);
  EXPECT_THAT(findings, Has("mount-policy",
                            "`mounts[0].src` binds '/usr' "
                            "writable: /usr is a system"));
  EXPECT_THAT(findings, Has("mount-policy", "`mounts[1].src`"));
  EXPECT_THAT(findings, Has("mount-policy", "`mounts[2].src`"));
  EXPECT_EQ(findings.size(), 3u);
  EXPECT_TRUE(Check(spec, BuiltinProfile("agent-strict").value()).size() >= 3u);
}

// Attacker round 10: a tlsRoots naming a key, and a persistent home in
// ~/.local (where ~/.local/bin, on PATH, runs on the host), passed.
TEST(StaticRulesTest, TlsRootsAndHiddenHomeDirectoriesAreSources) {
  const Policy strict = BuiltinProfile("agent-strict").value();
  CellSpec spec = Spec();
  spec.tls_roots = "/home/alice/.ssh/id_ed25519";
  spec.mounts = {
      {MountType::kBind, "/home/alice/.local", "/home/cell"},
      {MountType::kBind, "/home/alice/.local/share/cell/home", "/persist"},
      {MountType::kBind, "/home/alice/project", "/project"}};
  const std::vector<Finding> findings = Check(spec, strict);
  EXPECT_THAT(findings, Has("mount-policy",
                            "`tlsRoots` binds '/home/alice/.ssh/id_ed25519', "
                            "inside '/home/alice/.ssh'"));
  EXPECT_THAT(findings, Has("mount-policy",
                            "`mounts[0].src` binds '/home/alice/.local' "
                            "writable: a hidden directory"));
  EXPECT_THAT(findings, Not(Has("mount-policy", "mounts[1]")));
  EXPECT_THAT(findings, Not(Has("mount-policy", "mounts[2]")));
}

// Attacker round 11: with hostUser, the cell is that user, whose home
// cell-verify's own $HOME did not stand for; a whole home bound, or ~/bin
// writable (on PATH), passed agent-strict.
TEST(StaticRulesTest, EveryHomeTheCellCouldReach) {
  const Policy strict = BuiltinProfile("agent-strict").value();
  CellSpec spec = Spec();
  spec.mounts = {{MountType::kRoBind, "/home/bob", "/data"},
                 {MountType::kBind, "/home/bob/bin", "/tools"},
                 {MountType::kRoBind, "/home/bob/.ssh/id_ed25519", "/k"},
                 {MountType::kBind, "/home/bob/project", "/project"}};
  absl::StatusOr<std::vector<Finding>> findings =
      CheckSpecStatically(spec, strict, {"/root", "/home/bob"}, 1001);
  ASSERT_TRUE(findings.ok());
  EXPECT_THAT(*findings,
              Has("mount-policy", "`mounts[0].src` binds '/home/bob'"));
  EXPECT_THAT(*findings, Has("mount-policy",
                             "`mounts[1].src` binds '/home/bob/bin' writable"));
  EXPECT_THAT(*findings,
              Has("mount-policy",
                  "`mounts[2].src` binds '/home/bob/.ssh/id_ed25519', inside"));
  EXPECT_THAT(*findings, Not(Has("mount-policy", "mounts[3]")));
}

// Attacker round 11: credentials under names no glob catches.
TEST(StaticRulesTest, CredentialShapedValuesWhateverTheirNames) {
  const Policy strict = BuiltinProfile("agent-strict").value();
  CellSpec spec = Spec();
  spec.env = {{"GH_PAT", "ghp_0123456789abcdefABCDEF0123456789abcd"},
              {"DATABASE_URL", "postgres://admin:hunter2@db.internal/app"},
              {"OPENAI_KEY", "sk-proj-0123456789abcdefghij"},
              {"KEY_ID", "AKIAIOSFODNN7EXAMPLE"},
              {"EDITOR", "vi"},
              {"DOCS", "https://example.com/a:b@c"},
              {"SITE", "https://user@example.com/"}};
  const std::vector<Finding> findings = Check(spec, strict);
  for (const char* name : {"GH_PAT", "DATABASE_URL", "OPENAI_KEY", "KEY_ID"}) {
    EXPECT_THAT(findings, Has("env-policy", absl::StrCat("`env.", name,
                                                         "` holds what looks "
                                                         "like")))
        << name;
  }
  for (const char* name : {"EDITOR", "DOCS", "SITE"}) {
    EXPECT_THAT(findings,
                Not(Has("env-policy", absl::StrCat("`env.", name, "`"))))
        << name;
  }
}

TEST(StaticRulesTest, WritableBindsMustComeFromAllowedPlaces) {
  Policy policy;
  policy.mounts.writable_sources_under = {"/srv/work"};
  CellSpec spec = Spec();
  spec.log_dir = "/var/log/cell";
  spec.mounts = {{MountType::kBind, "/srv/work/cache", "/cache"},
                 {MountType::kBind, "/opt/data", "/data"},
                 {MountType::kRoBind, "/opt/tools", "/tools"}};
  const std::vector<Finding> findings = Check(spec, policy);
  EXPECT_THAT(findings, Has("mount-policy",
                            "`logDir` binds '/var/log/cell' "
                            "writable"));
  EXPECT_THAT(findings, Has("mount-policy", "`mounts[1].src`"));
  EXPECT_EQ(findings.size(), 2u);
}

TEST(StaticRulesTest, AWritableBindOfTheStoreFailsUnderAnyProfile) {
  Policy documented;
  documented.nix_daemon_egress = Policy::DaemonEgress::kAccept;
  CellSpec spec = Spec();
  spec.nix = true;
  spec.mounts = {{MountType::kBind, "/nix/store/abc-hello", "/hello"},
                 {MountType::kRoBind, "/nix/store", "/store-again"}};
  const std::vector<Finding> findings = Check(spec, documented);
  EXPECT_THAT(findings, Has("mount-policy",
                            "`mounts[0].src` binds "
                            "'/nix/store/abc-hello' writable"));
  EXPECT_EQ(findings.size(), 1u);
}

TEST(StaticRulesTest, ForbiddenEnvNames) {
  ASSERT_OK_AND_ASSIGN(Policy strict, BuiltinProfile("agent-strict"));
  CellSpec spec = Spec();
  spec.isolation = {true, true, Capabilities::kNone, true, true};
  spec.protect = DefaultProtectedPaths();
  spec.env = {{"GITHUB_TOKEN", "x"}, {"AWS_REGION", "eu"}, {"EDITOR", "vi"}};
  const std::vector<Finding> findings = Check(spec, strict);
  EXPECT_THAT(findings, Has("env-policy",
                            "`env.GITHUB_TOKEN` matches the "
                            "forbidden name '*_TOKEN'"));
  EXPECT_THAT(findings, Has("env-policy", "`env.AWS_REGION`"));
  EXPECT_EQ(findings.size(), 2u);
}

TEST(StaticRulesTest, NixRequiredAndTheFilter) {
  Policy policy;
  policy.nix_daemon_required = true;
  policy.network.forbid_allow_all = true;
  CellSpec spec = Spec();
  spec.nix = false;
  spec.network.mode = NetworkMode::kProxy;
  const std::vector<Finding> findings = Check(spec, policy);
  EXPECT_THAT(findings, Has("nix-policy", "\"nix\": true"));
  EXPECT_THAT(findings, Has("filter-policy", "no tinyproxyFilter"));

  ASSERT_OK_AND_ASSIGN(::cell::testing::TempDir dir,
                       ::cell::testing::TempDir::Create());
  std::ofstream(dir.Path("filter")) << "^github\\.com$\n";
  spec.nix = true;
  spec.tinyproxy_filter = dir.Path("filter");
  policy.nix_daemon_egress = Policy::DaemonEgress::kAccept;
  EXPECT_THAT(Check(spec, policy), IsEmpty());
  spec.tinyproxy_filter = dir.Path("absent");
  EXPECT_FALSE(CheckSpecStatically(spec, policy, {"/home/alice"}, 1000).ok());
}

// The daemon fetches fixed-output derivations and substitutes on the host,
// past the cell's filter: a warning in the documented profile, a failure in
// agent-strict, nothing where a site policy accepts it.
TEST(StaticRulesTest, NixDaemonEgressIsAFinding) {
  CellSpec spec = Spec();
  spec.nix = true;
  ASSERT_OK_AND_ASSIGN(Policy documented, BuiltinProfile("documented"));
  EXPECT_THAT(Check(spec, documented),
              Contains(AllOf(Field(&Finding::property, "nix-policy"),
                             Field(&Finding::level, FindingLevel::kWarn),
                             Field(&Finding::message,
                                   HasSubstr("past its proxy and filter")))));
  ASSERT_OK_AND_ASSIGN(Policy strict, BuiltinProfile("agent-strict"));
  EXPECT_THAT(Check(spec, strict),
              Contains(AllOf(Field(&Finding::property, "nix-policy"),
                             Field(&Finding::level, FindingLevel::kFail))));
  ASSERT_OK_AND_ASSIGN(
      Policy site, ParsePolicy(R"({"version": 1, "nixDaemonEgress": "accept"})",
                               "site.json"));
  EXPECT_THAT(Check(spec, site), IsEmpty());
  EXPECT_FALSE(
      ParsePolicy(R"({"version": 1, "nixDaemonEgress": "maybe"})", "x").ok());
}

// tinyproxy cannot check addresses: a finding, failing where the policy
// forbids private addresses.
TEST(StaticRulesTest, TinyproxyJudgesNamesOnly) {
  CellSpec spec = Spec();
  spec.network.mode = NetworkMode::kProxy;
  spec.network.engine = EngineKind::kTinyproxy;
  ASSERT_OK_AND_ASSIGN(Policy documented, BuiltinProfile("documented"));
  EXPECT_THAT(Check(spec, documented),
              Contains(AllOf(Field(&Finding::level, FindingLevel::kWarn),
                             Field(&Finding::message,
                                   HasSubstr("judges host names only")))));
  ASSERT_OK_AND_ASSIGN(Policy strict, BuiltinProfile("agent-strict"));
  EXPECT_THAT(
      Check(spec, strict),
      Contains(AllOf(Field(&Finding::level, FindingLevel::kFail),
                     Field(&Finding::message, HasSubstr("--engine=builtin")))));
  spec.network.engine = EngineKind::kBuiltin;
  EXPECT_THAT(Check(spec, documented),
              Not(Contains(Field(&Finding::message,
                                 HasSubstr("judges host names only")))));
}

}  // namespace
}  // namespace cell::policy

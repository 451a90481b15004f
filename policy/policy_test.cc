#include "policy/policy.h"

#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace cell::policy {
namespace {

using ::cell::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr absl::StatusCode kInvalid = absl::StatusCode::kInvalidArgument;

TEST(ParsePolicyTest, ReadsEverySection) {
  ASSERT_OK_AND_ASSIGN(Policy policy, ParsePolicy(R"({
    // Ours.
    "version": 1,
    "name": "acme",
    "network": {"mustAllow": ["github.com"], "mustDeny": ["evil.example"],
                "forbidAllowAll": true, "forbidPrivateAddresses": true},
    "mounts": {"forbiddenSources": ["/etc", "~/.ssh"],
               "writableSourcesUnder": ["/srv/work"]},
    "env": {"forbiddenNames": ["*_TOKEN"]},
    "isolation": {"pidNamespace": true, "capabilities": "none",
                  "readOnlyRoot": true},
    "limits": {"required": ["pidsMax", "nofile"]},
    "nixDaemonRequired": true,
    "severity": {"cleanup": "warn", "pid-namespace": "off"}
  })",
                                                  "acme.json"));
  EXPECT_EQ(policy.name, "acme");
  EXPECT_THAT(policy.network.must_allow, ElementsAre("github.com"));
  EXPECT_THAT(policy.network.must_deny, ElementsAre("evil.example"));
  EXPECT_TRUE(policy.network.forbid_allow_all);
  EXPECT_TRUE(policy.network.forbid_private_addresses);
  EXPECT_THAT(policy.mounts.forbidden_sources, ElementsAre("/etc", "~/.ssh"));
  EXPECT_THAT(policy.mounts.writable_sources_under, ElementsAre("/srv/work"));
  EXPECT_THAT(policy.env.forbidden_names, ElementsAre("*_TOKEN"));
  EXPECT_EQ(policy.isolation.pid_namespace, true);
  EXPECT_FALSE(policy.isolation.ipc_namespace.has_value());
  EXPECT_EQ(policy.isolation.capabilities, Capabilities::kNone);
  EXPECT_EQ(policy.isolation.read_only_root, true);
  EXPECT_THAT(policy.limits.required, ElementsAre("pidsMax", "nofile"));
  EXPECT_TRUE(policy.nix_daemon_required);
  EXPECT_EQ(SeverityOf(policy, "cleanup"), Severity::kWarn);
  EXPECT_EQ(SeverityOf(policy, "pid-namespace"), Severity::kOff);
  EXPECT_EQ(SeverityOf(policy, "proxy"), Severity::kFail);
}

TEST(ParsePolicyTest, ErrorsNameTheField) {
  EXPECT_THAT(ParsePolicy(R"({"name": "x"})", "p.json"),
              StatusIs(kInvalid, HasSubstr("p.json: field `version`")));
  EXPECT_THAT(ParsePolicy(R"({"version": 1, "netwrok": {}})", "p"),
              StatusIs(kInvalid, AllOf(HasSubstr("field `netwrok`"),
                                       HasSubstr("did you mean `network`?"))));
  EXPECT_THAT(
      ParsePolicy(R"({"version": 1, "network": {"mustallow": []}})", "p"),
      StatusIs(kInvalid, HasSubstr("field `network.mustallow`")));
  EXPECT_THAT(
      ParsePolicy(R"({"version": 1, "severity": {"proxi": "warn"}})", "p"),
      StatusIs(kInvalid, AllOf(HasSubstr("field `severity.proxi`"),
                               HasSubstr("`proxy`"))));
  EXPECT_THAT(
      ParsePolicy(R"({"version": 1, "severity": {"proxy": "maybe"}})", "p"),
      StatusIs(kInvalid, HasSubstr("\"maybe\" is not one of \"fail\"")));
  EXPECT_THAT(ParsePolicy(R"({"version": 1, "isolation": {"capabilities":
                            "some"}})",
                          "p"),
              StatusIs(kInvalid, HasSubstr("isolation.capabilities")));
  EXPECT_THAT(
      ParsePolicy(R"({"version": 1, "mounts": {"forbiddenSources": ["etc"]}})",
                  "p"),
      StatusIs(kInvalid, HasSubstr("'etc' must be an absolute path")));
  EXPECT_THAT(
      ParsePolicy(R"({"version": 1, "env": {"forbiddenNames": "A"}})", "p"),
      StatusIs(kInvalid, HasSubstr("field `env.forbiddenNames`")));
  EXPECT_THAT(
      ParsePolicy(R"({"version": 1, "limits": {"required": ["nofiles"]}})",
                  "p"),
      StatusIs(kInvalid, AllOf(HasSubstr("field `limits.required[0]`"),
                               HasSubstr("'nofiles' is not a limit"))));
  EXPECT_THAT(ParsePolicy("{\"version\": 1,", "p.json"),
              StatusIs(kInvalid, HasSubstr("p.json:1:")));
}

TEST(BuiltinProfileTest, BothProfilesParse) {
  ASSERT_OK_AND_ASSIGN(Policy documented, BuiltinProfile("documented"));
  EXPECT_EQ(documented.name, "documented");
  EXPECT_FALSE(documented.isolation.pid_namespace.has_value());
  EXPECT_FALSE(documented.network.forbid_allow_all);

  ASSERT_OK_AND_ASSIGN(Policy strict, BuiltinProfile("agent-strict"));
  EXPECT_EQ(strict.isolation.pid_namespace, true);
  EXPECT_EQ(strict.isolation.ipc_namespace, true);
  EXPECT_EQ(strict.isolation.capabilities, Capabilities::kNone);
  EXPECT_TRUE(strict.network.forbid_allow_all);
  EXPECT_TRUE(strict.network.forbid_private_addresses);
  EXPECT_THAT(strict.mounts.forbidden_sources, ::testing::Contains("~/.ssh"));
  EXPECT_THAT(strict.env.forbidden_names, ::testing::Contains("AWS_*"));

  EXPECT_THAT(BuiltinProfile("paranoid"),
              StatusIs(kInvalid, HasSubstr("documented or agent-strict")));
  EXPECT_THAT(BuiltinProfileNames(), ElementsAre("documented", "agent-strict"));
}

TEST(SeverityTest, Names) {
  EXPECT_EQ(SeverityName(Severity::kWarn), "warn");
  EXPECT_EQ(PropertyIds().front(), "pid-namespace");
}

}  // namespace
}  // namespace cell::policy

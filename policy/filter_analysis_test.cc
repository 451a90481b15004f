#include "policy/filter_analysis.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "launcher/proxy/address_policy.h"
#include "launcher/proxy/filter.h"
#include "testing/status_matchers.h"

namespace cell::policy {
namespace {

using ::testing::AllOf;
using ::testing::Contains;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

std::vector<FilterPattern> Lines(const std::string& text) {
  absl::StatusOr<std::vector<FilterPattern>> patterns =
      ParseFilter(text, "filter");
  EXPECT_TRUE(patterns.ok()) << patterns.status();
  return patterns.ok() ? *patterns : std::vector<FilterPattern>{};
}

auto Has(FindingLevel level, const std::string& text) {
  return Contains(AllOf(Field(&Finding::level, level),
                        Field(&Finding::message, HasSubstr(text)),
                        Field(&Finding::property, "filter-policy")));
}

TEST(AnalyzeFilterTest, ATightFilterPasses) {
  NetworkRules rules;
  rules.must_allow = {"github.com", "API.GitHub.com"};
  rules.must_deny = {"evil.example"};
  rules.forbid_allow_all = true;
  rules.forbid_private_addresses = true;
  EXPECT_THAT(AnalyzeFilter(Lines("^github\\.com$\n^api\\.github\\.com$\n"),
                            "filter", true, rules),
              IsEmpty());
}

TEST(AnalyzeFilterTest, MustAllowDeniedAndMustDenyAllowed) {
  NetworkRules rules;
  rules.must_allow = {"pypi.org"};
  rules.must_deny = {"github.com"};
  const auto findings =
      AnalyzeFilter(Lines("# hosts\n^github\\.com$\n"), "f.txt", true, rules);
  EXPECT_THAT(findings, Has(FindingLevel::kFail,
                            "mustAllow host 'pypi.org' "
                            "is denied"));
  EXPECT_THAT(findings, Has(FindingLevel::kFail, "^pypi\\.org$"));
  EXPECT_THAT(findings,
              Has(FindingLevel::kFail,
                  "mustDeny host 'github.com' is allowed by f.txt:2"));
}

TEST(AnalyzeFilterTest, AllowAllInDisguise) {
  NetworkRules rules;
  for (const char* line : {".*", ".", "^", "x*", "(a|)", "[^/]+"}) {
    const auto warned = AnalyzeFilter(Lines(line), "f", true, rules);
    EXPECT_THAT(warned, Has(FindingLevel::kWarn, "allows every host")) << line;
  }
  rules.forbid_allow_all = true;
  EXPECT_THAT(AnalyzeFilter(Lines("^ok$\n.*\n"), "f", true, rules),
              Has(FindingLevel::kFail, "f:2 '.*' allows every host"));
  EXPECT_THAT(AnalyzeFilter({}, "f", false, rules),
              Has(FindingLevel::kFail, "no tinyproxyFilter"));
}

TEST(AnalyzeFilterTest, UnanchoredLinesAreWarnedWithAnExample) {
  NetworkRules rules;
  rules.must_allow = {"example.com"};
  const auto findings =
      AnalyzeFilter(Lines("example\\.com\n"), "f", true, rules);
  EXPECT_THAT(findings, Has(FindingLevel::kWarn, "not anchored"));
  EXPECT_THAT(findings, Has(FindingLevel::kWarn, "'example.com.evil.example'"));
  EXPECT_THAT(AnalyzeFilter(Lines("^example\\.com$\n"), "f", true, rules),
              IsEmpty());
}

TEST(AnalyzeFilterTest, PrivateAndMetadataAddresses) {
  NetworkRules rules;
  rules.forbid_private_addresses = true;
  const auto findings = AnalyzeFilter(
      Lines("^github\\.com$\n^169\\.254\\.[0-9]+\\.[0-9]+$\n^localhost$\n"),
      "f", true, rules);
  EXPECT_THAT(findings, Has(FindingLevel::kFail,
                            "'169.254.169.254' is "
                            "allowed by f:2"));
  EXPECT_THAT(findings,
              Has(FindingLevel::kFail, "'localhost' is allowed by f:3"));
  EXPECT_THAT(findings, Not(Has(FindingLevel::kFail, "'10.0.0.1'")));
  EXPECT_THAT(AnalyzeFilter({}, "f", false, rules),
              Has(FindingLevel::kFail,
                  "'169.254.169.254' is allowed: without "
                  "a filter"));
}

// Attacker round 5: a line naming an address outside the samples (the
// builtin engine connects to an address a line names) passed.
TEST(AnalyzeFilterTest, EveryLineNamingASpecialUseAddressFails) {
  NetworkRules rules;
  rules.forbid_private_addresses = true;
  const auto findings = AnalyzeFilter(
      Lines("^127\\.0\\.0\\.2$\n^10\\.1\\.2\\.3$\n172.17.0.1\n"
            "^169\\.254\\.170\\.2$\n^\\[fd00::2\\]$\n^203\\.0\\.113\\.9$\n"
            "^8\\.8\\.8\\.8$\n"),
      "f", true, rules);
  EXPECT_THAT(findings, Has(FindingLevel::kFail,
                            "'127.0.0.2' (loopback) is allowed by f:1"));
  EXPECT_THAT(findings, Has(FindingLevel::kFail,
                            "'10.1.2.3' (private) is allowed by f:2"));
  EXPECT_THAT(findings, Has(FindingLevel::kFail, "'172.17.0.1' (private)"));
  EXPECT_THAT(findings, Has(FindingLevel::kFail, "'169.254.170.2'"));
  EXPECT_THAT(findings, Has(FindingLevel::kFail, "'fd00::2'"));
  EXPECT_THAT(findings, Has(FindingLevel::kFail, "'203.0.113.9'"));
  EXPECT_THAT(findings, Not(Has(FindingLevel::kFail, "'8.8.8.8'")));
  // Without the rule (documented), a line naming an address is the
  // operator's to write.
  EXPECT_THAT(
      AnalyzeFilter(Lines("^127\\.0\\.0\\.2$\n"), "f", true, NetworkRules{}),
      Not(Has(FindingLevel::kFail, "127.0.0.2")));
}

// The host's own addresses are named as such, whatever range they are in.
TEST(AnalyzeFilterTest, TheHostsOwnAddressIsNamed) {
  ASSERT_OK_AND_ASSIGN(std::vector<sockaddr_storage> own, HostAddresses());
  for (const sockaddr_storage& address : own) {
    const std::string text =
        AddressText(*reinterpret_cast<const sockaddr*>(&address));
    if (text.rfind("127.", 0) == 0 || text == "::1") continue;
    NetworkRules rules;
    rules.forbid_private_addresses = true;
    EXPECT_THAT(
        AnalyzeFilter(Lines(absl::StrCat("^", text, "$\n")), "f", true, rules),
        Has(FindingLevel::kFail, "(the host's own)"))
        << text;
  }
}

TEST(AnalyzeFilterTest, LinesTinyproxyReadsDifferentlyAreErrors) {
  NetworkRules rules;
  const auto findings = AnalyzeFilter(
      Lines("^(a)\\1$\n^\\d+$\n^[a\\]]$\n^\\<word$\n^[[:alpha:]]+\\.com$\n"),
      "f", true, rules);
  EXPECT_THAT(findings,
              Has(FindingLevel::kFail, "f:1 '^(a)\\1$': back-reference"));
  EXPECT_THAT(findings, Has(FindingLevel::kFail, "f:2 '^\\d+$': \\d is a GNU"));
  EXPECT_THAT(findings, Has(FindingLevel::kFail,
                            "f:3 '^[a\\]]$': a backslash "
                            "inside [...]"));
  EXPECT_THAT(findings, Has(FindingLevel::kFail, "f:4"));
  EXPECT_THAT(findings, Not(Has(FindingLevel::kFail, "f:5")));
}

}  // namespace
}  // namespace cell::policy

#include "policy/report.h"

#include <string>

#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "policy/score.h"

namespace cell::policy {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

Report Sample() {
  Report report;
  report.spec = "agent.json";
  report.policy = "agent-strict";
  report.results = {
      {"pid-namespace", Outcome::kFail, "own PID namespace",
       "host PID namespace, PID 1 is init", "set --pid-namespace <now>"},
      {"proxy", Outcome::kPass, "proxy reachable", "CONNECT status 403", ""},
      {"cleanup", Outcome::kWarn, "$JD removed", "$JD LEFT BEHIND", "leftover"},
      {"nix-daemon", Outcome::kError, "handshake", "null", "no facts"},
      {"env-policy", Outcome::kOff, "no findings", "", ""}};
  return report;
}

TEST(ReportTest, TextShowsExpectedBesideObservedForProblems) {
  const std::string text = FormatText(Sample());
  EXPECT_THAT(text,
              HasSubstr("cell-verify: agent.json against 'agent-strict'"));
  EXPECT_THAT(text, HasSubstr("  FAIL  pid-namespace"));
  EXPECT_THAT(text, HasSubstr("expected: own PID namespace"));
  EXPECT_THAT(text, HasSubstr("  PASS  proxy"));
  EXPECT_THAT(text, Not(HasSubstr("expected: proxy reachable")));
  EXPECT_THAT(text, HasSubstr("5 properties: 1 passed, 1 failed, 1 warned, "
                              "1 errors, 1 off"));
}

// Static findings: one line each, near-identical ones grouped, instead of
// the message that joins them all.
TEST(ReportTest, TextListsGroupedFindingsOneALine) {
  Report report = Sample();
  PropertyResult result{"filter-policy", Outcome::kFail, "no findings",
                        "2 failing, 0 advisory", "a; b; c"};
  result.findings = {
      {"filter-policy.x", "fail", "", "",
       "private or metadata address 'localhost', '0' is "
       "allowed by f:1",
       2},
      {"filter-policy.y", "warn", "", "", "f:2 is unanchored", 1}};
  report.results = {result};
  const std::string text = FormatText(report);
  EXPECT_THAT(text, HasSubstr("        - fail: private or metadata address "
                              "'localhost', '0' is allowed by f:1 (2 alike)\n"
                              "        - warn: f:2 is unanchored\n"));
  EXPECT_THAT(text, Not(HasSubstr("a; b; c")));
}

TEST(ReportTest, ColourOnlyWhenAsked) {
  Report report = Sample();
  EXPECT_THAT(FormatText(report), Not(HasSubstr("\033[")));
  report.colour = true;
  const std::string text = FormatText(report);
  EXPECT_THAT(text, HasSubstr("\033[1;31mFAIL \033[0m pid-namespace"));
  EXPECT_THAT(text, HasSubstr("\033[32mPASS \033[0m proxy"));
}

TEST(ReportTest, OneLinePerProperty) {
  Report report = Sample();
  report.results = {{"nix-config", Outcome::kPass, "x", "a\nb", ""}};
  EXPECT_THAT(FormatText(report), HasSubstr("nix-config           a\\nb\n"));
}

// Found in review: a file name in a worktree that redraws its FAIL row as
// a green PASS. What came from the sandbox is shown, not obeyed; so is a
// sandbox's command line.
TEST(ReportTest, TextShowsControlCharactersInsteadOfObeyingThem) {
  Report report = Sample();
  report.sandbox = "sh -c 'x\033]0;title\a'";
  report.results[0].observed =
      "visible: /w/x\r\033[2K\033[32m  PASS  \033[0msecrets";
  report.results[0].message =
      "bad\x9b"
      "1m";
  report.results[0].expected = "own\033[8m";
  const std::string text = FormatText(report);
  EXPECT_THAT(text, Not(HasSubstr("\033")));
  EXPECT_THAT(text, Not(HasSubstr("\r")));
  EXPECT_THAT(text, Not(HasSubstr("\a")));
  EXPECT_THAT(text, HasSubstr("visible: /w/x\\x0d\\x1b[2K\\x1b[32m  PASS  "));
  EXPECT_THAT(text, HasSubstr("sandbox `sh -c 'x\\x1b]0;title\\x07'`"));
  EXPECT_THAT(text, HasSubstr("bad\\x9b1m"));
  EXPECT_THAT(text, HasSubstr("expected: own\\x1b[8m"));
}

TEST(ReportTest, JsonIsMachineReadable) {
  const nlohmann::json json = nlohmann::json::parse(FormatJson(Sample()));
  EXPECT_EQ(json["passed"], false);
  EXPECT_EQ(json["summary"]["fail"], 1);
  EXPECT_EQ(json["results"][0]["property"], "pid-namespace");
  EXPECT_EQ(json["results"][0]["outcome"], "fail");
  EXPECT_EQ(json["results"][0]["observed"],
            "host PID namespace, PID 1 is init");
}

TEST(ReportTest, JunitCountsAndEscapes) {
  const std::string xml = FormatJunit(Sample());
  EXPECT_THAT(xml, HasSubstr("tests=\"5\" failures=\"1\" errors=\"1\" "
                             "skipped=\"1\""));
  EXPECT_THAT(xml, HasSubstr("<failure message=\"set --pid-namespace "
                             "&lt;now&gt;\">"));
  EXPECT_THAT(xml, HasSubstr("<error message=\"no facts\">"));
  EXPECT_THAT(xml, HasSubstr("<skipped"));
  EXPECT_THAT(xml, HasSubstr("<system-out>warning:"));
  EXPECT_THAT(xml, Not(HasSubstr("<now>")));
}

TEST(ReportTest, EveryFormatShowsTheExposure) {
  Report report = Sample();
  const Exposure exposure = ScoreExposure(report.results);
  const std::string line =
      absl::StrFormat("exposure %.1f/10 (%s)", exposure.score, exposure.band);
  EXPECT_THAT(FormatText(report), HasSubstr(line + "\n"));

  nlohmann::json json = nlohmann::json::parse(FormatJson(report));
  EXPECT_EQ(json["exposure"]["score"], exposure.score);
  EXPECT_EQ(json["exposure"]["band"], std::string(exposure.band));
  EXPECT_TRUE(json["exposure"]["threshold"].is_null());

  std::string xml = FormatJunit(report);
  EXPECT_THAT(xml, HasSubstr(absl::StrFormat(
                       "skipped=\"1\">\n    <properties>\n"
                       "      <property name=\"exposure\" value=\"%.1f\"/>\n"
                       "      <property name=\"exposureBand\" value=\"%s\"/>\n"
                       "    </properties>\n",
                       exposure.score, exposure.band)));
  EXPECT_THAT(xml, HasSubstr("    <system-out>" + line +
                             "</system-out>\n  </testsuite>"));

  // With a threshold the report says where the score stands, and `passed`
  // follows the exit status: an error still fails.
  report.threshold = 10;
  EXPECT_THAT(FormatText(report),
              HasSubstr(line + ", within the threshold 10"));
  json = nlohmann::json::parse(FormatJson(report));
  EXPECT_EQ(json["exposure"]["threshold"], 10.0);
  EXPECT_EQ(json["passed"], false);
  xml = FormatJunit(report);
  EXPECT_THAT(xml, HasSubstr("<property name=\"exposureThreshold\" "
                             "value=\"10\"/>"));
  report.results.erase(report.results.begin() + 3);  // The error.
  EXPECT_EQ(nlohmann::json::parse(FormatJson(report))["passed"], true);
  report.threshold = 0.5;
  EXPECT_THAT(FormatText(report), HasSubstr(", above the threshold 0.5"));
  EXPECT_EQ(nlohmann::json::parse(FormatJson(report))["passed"], false);
}

TEST(ReportTest, JsonListsFindings) {
  Report report = Sample();
  report.results[4] = {
      "env-policy",
      Outcome::kFail,
      "no findings",
      "2 failing, 0 advisory",
      "`env.A_TOKEN` ...; `env.B_TOKEN` ...",
      {{"env-policy.env-a-token-matches", "fail", "env.A_TOKEN", "",
        "`env.A_TOKEN` matches", 1},
       {"env-policy.env-b-token-matches", "fail", "env.B_TOKEN", "--unset-env",
        "`env.B_TOKEN` matches", 2}}};
  const nlohmann::json json = nlohmann::json::parse(FormatJson(report));
  EXPECT_EQ(json["results"][0]["findings"], nlohmann::json::array());
  const nlohmann::json& findings = json["results"][4]["findings"];
  ASSERT_EQ(findings.size(), 2u);
  EXPECT_EQ(findings[1],
            nlohmann::json({{"id", "env-policy.env-b-token-matches"},
                            {"severity", "fail"},
                            {"field", "env.B_TOKEN"},
                            {"flag", "--unset-env"},
                            {"message", "`env.B_TOKEN` matches"},
                            {"count", 2}}));
  // The joined message stays, for people and older tools.
  EXPECT_EQ(json["results"][4]["message"],
            "`env.A_TOKEN` ...; `env.B_TOKEN` ...");
}

}  // namespace
}  // namespace cell::policy

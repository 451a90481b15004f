#include "policy/report.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

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

}  // namespace
}  // namespace cell::policy

#include "policy/score.h"

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "policy/properties/property.h"
#include "testing/runfiles.h"
#include "testing/status_matchers.h"

namespace cell::policy {
namespace {

using ::cell::testing::RunfilePath;
using ::testing::HasSubstr;

PropertyResult Result(const std::string& property, Outcome outcome) {
  return {property, outcome, "", "", ""};
}

TEST(ScoreTest, WeightsComeFromTheRegistry) {
  EXPECT_EQ(PropertyWeight("pid-namespace"),
            FindProperty("pid-namespace")->weight);
  EXPECT_EQ(PropertyWeight("fliter-policy"), 10);  // Unknown: the worst.
}

TEST(ScoreTest, NothingCountedScoresZero) {
  EXPECT_EQ(ScoreExposure({}).score, 0.0);
  EXPECT_EQ(ScoreExposure({Result("proxy", Outcome::kOff)}).score, 0.0);
  EXPECT_EQ(ScoreExposure({Result("proxy", Outcome::kPass)}).band, "OK");
}

TEST(ScoreTest, WeightedShareOfExposure) {
  const int a = PropertyWeight("pid-namespace");
  const int b = PropertyWeight("env-policy");
  // One failed property of two: its share of the weight.
  const double failed = ScoreExposure({Result("pid-namespace", Outcome::kFail),
                                       Result("env-policy", Outcome::kPass)})
                            .score;
  EXPECT_NEAR(failed, 10.0 * a / (a + b), 0.05);
  // An error counts as a fail; a warn as half of one; off not at all.
  EXPECT_EQ(ScoreExposure({Result("pid-namespace", Outcome::kError),
                           Result("env-policy", Outcome::kPass),
                           Result("proxy", Outcome::kOff)})
                .score,
            failed);
  EXPECT_NEAR(ScoreExposure({Result("pid-namespace", Outcome::kWarn),
                             Result("env-policy", Outcome::kPass)})
                  .score,
              5.0 * a / (a + b), 0.05);
  EXPECT_EQ(ScoreExposure({Result("pid-namespace", Outcome::kFail)}).score,
            10.0);
  EXPECT_EQ(ScoreExposure({Result("pid-namespace", Outcome::kWarn)}).score,
            5.0);
}

// Two properties of weight 1 and 2: 1 fails -> 10 * 1/3 = 3.33 -> 3.3;
// a warn of 2 -> 10 * 1/3 too; both -> 10 * 2/3 = 6.67 -> 6.7.
// One failing escape among every other property passing is UNSAFE, not a
// small share; a warning alone is at least 0.3 x its weight.
TEST(ScoreTest, TheWorstResultSetsAFloor) {
  std::vector<PropertyResult> results;
  for (const PropertyDef& property : Properties()) {
    results.push_back(Result(property.id, Outcome::kPass));
  }
  EXPECT_EQ(ScoreExposure(results).score, 0.0);
  results[0] = Result("terminal", Outcome::kFail);  // Weight 10.
  EXPECT_EQ(ScoreExposure(results).score, 7.5);
  EXPECT_EQ(ScoreExposure(results).band, "UNSAFE");
  results[0] = Result("host-identity", Outcome::kWarn);  // Weight 8.
  EXPECT_EQ(ScoreExposure(results).score, 2.4);
  results[0] = Result("worktree-writable", Outcome::kFail);  // Weight 1.
  EXPECT_EQ(ScoreExposure(results).score, 0.8);
  EXPECT_FALSE(Acceptable(results, 0.5));
  EXPECT_TRUE(Acceptable(results, 1.0));
}

TEST(ScoreTest, RoundsToOneDecimal) {
  std::string light, heavy;
  for (const PropertyDef& property : Properties()) {
    if (property.weight == 1 && light.empty()) light = property.id;
    if (property.weight == 2 && heavy.empty()) heavy = property.id;
  }
  if (light.empty() || heavy.empty()) GTEST_SKIP() << "no weights 1 and 2";
  EXPECT_EQ(ScoreExposure(
                {Result(light, Outcome::kFail), Result(heavy, Outcome::kPass)})
                .score,
            3.3);
  EXPECT_EQ(ScoreExposure(
                {Result(light, Outcome::kFail), Result(heavy, Outcome::kWarn)})
                .score,
            6.7);
}

TEST(ScoreTest, Bands) {
  EXPECT_EQ(ExposureBand(0.0), "OK");
  EXPECT_EQ(ExposureBand(1.9), "OK");
  EXPECT_EQ(ExposureBand(2.0), "MEDIUM");
  EXPECT_EQ(ExposureBand(4.9), "MEDIUM");
  EXPECT_EQ(ExposureBand(5.0), "EXPOSED");
  EXPECT_EQ(ExposureBand(7.4), "EXPOSED");
  EXPECT_EQ(ExposureBand(7.5), "UNSAFE");
  EXPECT_EQ(ExposureBand(10.0), "UNSAFE");
}

TEST(ScoreTest, ThresholdParsing) {
  EXPECT_THAT(ParseThreshold("0"), IsOkAndHolds(0.0));
  EXPECT_THAT(ParseThreshold("3.5"), IsOkAndHolds(3.5));
  EXPECT_THAT(ParseThreshold("10"), IsOkAndHolds(10.0));
  for (const char* bad : {"abc", "11", "-1", "", "nan", "inf", "10.01"}) {
    const absl::StatusOr<double> parsed = ParseThreshold(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_THAT(std::string(parsed.status().message()),
                HasSubstr("--threshold"));
    EXPECT_THAT(std::string(parsed.status().message()),
                HasSubstr("from 0 to 10"));
  }
}

TEST(ScoreTest, ThresholdDecidesButErrorsStillFail) {
  const std::vector<PropertyResult> failed = {
      Result("pid-namespace", Outcome::kFail),
      Result("env-policy", Outcome::kPass)};
  const double score = ScoreExposure(failed).score;
  EXPECT_FALSE(Acceptable(failed, std::nullopt));
  EXPECT_TRUE(Acceptable(failed, score));  // At the threshold: not above.
  EXPECT_TRUE(Acceptable(failed, 10.0));
  EXPECT_FALSE(Acceptable(failed, score - 0.1));
  const std::vector<PropertyResult> errored = {
      Result("pid-namespace", Outcome::kError),
      Result("env-policy", Outcome::kPass)};
  EXPECT_FALSE(Acceptable(errored, 10.0));
  const std::vector<PropertyResult> warned = {
      Result("pid-namespace", Outcome::kWarn)};
  EXPECT_TRUE(Acceptable(warned, std::nullopt));
  EXPECT_FALSE(Acceptable(warned, 4.9));
}

// README.md's "Exposure score" table lists every property of the registry
// with its weight, and nothing else. The failure message is the fix.
TEST(ScoreTest, ReadmeTableMatchesTheRegistry) {
  ASSERT_OK_AND_ASSIGN(const std::string path, RunfilePath("README.md"));
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string readme = buffer.str();
  ASSERT_FALSE(readme.empty()) << path;

  // `id` -> weight, from the rows of the section's table.
  std::map<std::string, std::string> rows;
  bool in_section = false;
  for (absl::string_view line : absl::StrSplit(readme, '\n')) {
    if (absl::StartsWith(line, "#")) {
      in_section = absl::StartsWith(line, "### Exposure score");
      continue;
    }
    if (!in_section || !absl::StartsWith(line, "| `")) continue;
    const std::vector<absl::string_view> cells = absl::StrSplit(line, '|');
    if (cells.size() < 3) continue;
    const std::string id(absl::StripAsciiWhitespace(absl::StripSuffix(
        absl::StripPrefix(absl::StripAsciiWhitespace(cells[1]), "`"), "`")));
    rows[id] = std::string(absl::StripAsciiWhitespace(cells[2]));
  }

  std::vector<std::string> problems;
  std::vector<std::string> table;
  for (const PropertyDef& property : Properties()) {
    const std::string row = absl::StrCat(
        "| `", property.id, "` | ", property.weight, " | ",
        absl::StrReplaceAll(property.summary, {{"|", "\\|"}}), " |");
    table.push_back(row);
    const auto found = rows.find(property.id);
    if (found == rows.end()) {
      problems.push_back(absl::StrCat("missing row: ", row));
      continue;
    }
    int weight = 0;
    if (!absl::SimpleAtoi(found->second, &weight) ||
        weight != property.weight) {
      problems.push_back(absl::StrCat("row `", property.id, "` says weight '",
                                      found->second, "', the registry ",
                                      property.weight, ": ", row));
    }
    rows.erase(found);
  }
  for (const auto& [id, weight] : rows) {
    problems.push_back(
        absl::StrCat("row `", id, "` is no property of the registry"));
  }
  EXPECT_TRUE(problems.empty())
      << "README.md, section \"### Exposure score\":\n  "
      << absl::StrJoin(problems, "\n  ")
      << "\nThe whole table, in registry order:\n"
      << "| property | weight | what it checks |\n|---|---:|---|\n"
      << absl::StrJoin(table, "\n");
}

}  // namespace
}  // namespace cell::policy

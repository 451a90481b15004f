#include "testing/status_matchers.h"

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest-spi.h"
#include "gtest/gtest.h"

namespace cell::testing {
namespace {

using ::testing::DescribeMatcher;
using ::testing::ExplainMatchResult;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StringMatchResultListener;

TEST(IsOkTest, MatchesOkStatusAndValue) {
  EXPECT_THAT(absl::OkStatus(), IsOk());
  EXPECT_THAT(absl::StatusOr<int>(3), IsOk());
  EXPECT_THAT(absl::NotFoundError("gone"), Not(IsOk()));
  EXPECT_THAT(absl::StatusOr<int>(absl::InternalError("x")), Not(IsOk()));
}

TEST(IsOkTest, ExplainsTheStatus) {
  StringMatchResultListener listener;
  EXPECT_FALSE(
      ExplainMatchResult(IsOk(), absl::NotFoundError("no spec"), &listener));
  EXPECT_THAT(listener.str(), HasSubstr("NOT_FOUND: no spec"));
}

TEST(StatusIsTest, ChecksCodeAndMessage) {
  const absl::Status error = absl::InvalidArgumentError("field `version`");
  EXPECT_THAT(error, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(error,
              StatusIs(absl::StatusCode::kInvalidArgument, "field `version`"));
  EXPECT_THAT(error, StatusIs(absl::StatusCode::kInvalidArgument,
                              HasSubstr("version")));
  EXPECT_THAT(error, Not(StatusIs(absl::StatusCode::kNotFound)));
  EXPECT_THAT(error, Not(StatusIs(absl::StatusCode::kInvalidArgument,
                                  HasSubstr("command"))));
  EXPECT_THAT(absl::StatusOr<std::string>(error),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(absl::OkStatus(), StatusIs(absl::StatusCode::kOk));
}

TEST(StatusIsTest, DescribesAndExplains) {
  const auto matcher =
      StatusIs(absl::StatusCode::kNotFound, HasSubstr("worktree"));
  EXPECT_THAT(DescribeMatcher<absl::Status>(matcher),
              HasSubstr("has code NOT_FOUND"));
  StringMatchResultListener listener;
  EXPECT_FALSE(
      ExplainMatchResult(matcher, absl::NotFoundError("logDir"), &listener));
  EXPECT_THAT(listener.str(), HasSubstr("\"logDir\" does not match"));
}

TEST(AssertOkAndAssignTest, MovesTheValue) {
  ASSERT_OK_AND_ASSIGN(std::string value, absl::StatusOr<std::string>("moved"));
  EXPECT_EQ(value, "moved");
  int existing = 0;
  ASSERT_OK_AND_ASSIGN(existing, absl::StatusOr<int>(7));
  EXPECT_EQ(existing, 7);
}

// A failing ASSERT_OK_AND_ASSIGN must stop the test; checked through a
// nested gtest failure so that this test itself can pass.
TEST(AssertOkAndAssignTest, FailsOnError) {
  bool reached_after = false;
  auto body = [&reached_after]() {
    ASSERT_OK_AND_ASSIGN(int value,
                         absl::StatusOr<int>(absl::AbortedError("boom")));
    reached_after = value > 0;
  };
  ::testing::TestPartResultArray failures;
  {
    ::testing::ScopedFakeTestPartResultReporter reporter(
        ::testing::ScopedFakeTestPartResultReporter::
            INTERCEPT_ONLY_CURRENT_THREAD,
        &failures);
    body();
  }
  ASSERT_EQ(failures.size(), 1);
  EXPECT_TRUE(failures.GetTestPartResult(0).fatally_failed());
  EXPECT_THAT(failures.GetTestPartResult(0).message(),
              HasSubstr("ABORTED: boom"));
  EXPECT_FALSE(reached_after);
}

}  // namespace
}  // namespace cell::testing

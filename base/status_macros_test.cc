#include "base/status_macros.h"

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace cell {
namespace {

using ::cell::testing::IsOk;
using ::cell::testing::StatusIs;
using ::testing::HasSubstr;

absl::Status Check(int value) {
  if (value < 0) return absl::InvalidArgumentError("negative");
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<int>> MakeBox(int value) {
  if (value < 0) return absl::OutOfRangeError("no box for negatives");
  return std::make_unique<int>(value);
}

absl::Status ReturnIfError(int value, int* steps) {
  CELL_RETURN_IF_ERROR(Check(value));
  ++*steps;
  CELL_RETURN_IF_ERROR(MakeBox(value - 10));
  ++*steps;
  return absl::OkStatus();
}

absl::StatusOr<int> AssignOrReturn(int value) {
  // A move-only type proves the value is moved, not copied.
  CELL_ASSIGN_OR_RETURN(std::unique_ptr<int> box, MakeBox(value));
  int doubled = 0;
  CELL_ASSIGN_OR_RETURN(doubled, absl::StatusOr<int>(*box * 2));
  return doubled;
}

TEST(StatusMacrosTest, ReturnIfErrorStopsAtFirstError) {
  int steps = 0;
  EXPECT_THAT(ReturnIfError(-1, &steps),
              StatusIs(absl::StatusCode::kInvalidArgument, "negative"));
  EXPECT_EQ(steps, 0);

  steps = 0;
  EXPECT_THAT(ReturnIfError(5, &steps),
              StatusIs(absl::StatusCode::kOutOfRange, HasSubstr("no box")));
  EXPECT_EQ(steps, 1);

  steps = 0;
  EXPECT_THAT(ReturnIfError(15, &steps), IsOk());
  EXPECT_EQ(steps, 2);
}

TEST(StatusMacrosTest, ReturnIfErrorEvaluatesOnce) {
  int calls = 0;
  auto counted = [&calls]() {
    ++calls;
    return absl::OkStatus();
  };
  auto run = [&]() -> absl::Status {
    CELL_RETURN_IF_ERROR(counted());
    return absl::OkStatus();
  };
  ASSERT_THAT(run(), IsOk());
  EXPECT_EQ(calls, 1);
}

TEST(StatusMacrosTest, AssignOrReturnAssignsOrPropagates) {
  EXPECT_THAT(AssignOrReturn(-3), StatusIs(absl::StatusCode::kOutOfRange));
  absl::StatusOr<int> result = AssignOrReturn(21);
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(*result, 42);
}

}  // namespace
}  // namespace cell

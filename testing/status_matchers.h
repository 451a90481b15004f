// gMock matchers and assertion macros for absl::Status and absl::StatusOr<T>,
// which Debian's abseil (20220623) and GoogleTest do not ship.
//
//   EXPECT_THAT(DoIt(), IsOk());
//   EXPECT_THAT(Parse("{"), StatusIs(absl::StatusCode::kInvalidArgument,
//                                    HasSubstr("line 1")));
//   ASSERT_OK_AND_ASSIGN(CellSpec spec, ParseSpec(text));
#ifndef CELL_TESTING_STATUS_MATCHERS_H_
#define CELL_TESTING_STATUS_MATCHERS_H_

#include <ostream>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cell::testing {
namespace internal_status {

inline const absl::Status& GetStatus(const absl::Status& status) {
  return status;
}

template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

class IsOkMatcher {
 public:
  template <typename T>
  bool MatchAndExplain(const T& actual,
                       ::testing::MatchResultListener* listener) const {
    const absl::Status& status = GetStatus(actual);
    if (!status.ok()) *listener << "which is " << status;
    return status.ok();
  }
  void DescribeTo(std::ostream* os) const { *os << "is OK"; }
  void DescribeNegationTo(std::ostream* os) const { *os << "is not OK"; }
};

class StatusIsMatcher {
 public:
  StatusIsMatcher(absl::StatusCode code,
                  ::testing::Matcher<const std::string&> message)
      : code_(code), message_(std::move(message)) {}

  template <typename T>
  bool MatchAndExplain(const T& actual,
                       ::testing::MatchResultListener* listener) const {
    const absl::Status& status = GetStatus(actual);
    if (status.code() != code_) {
      *listener << "which is " << status;
      return false;
    }
    ::testing::StringMatchResultListener inner;
    if (!message_.MatchAndExplain(std::string(status.message()), &inner)) {
      *listener << "whose message \"" << status.message()
                << "\" does not match";
      if (!inner.str().empty()) *listener << ", " << inner.str();
      return false;
    }
    return true;
  }
  void DescribeTo(std::ostream* os) const {
    *os << "has code " << absl::StatusCodeToString(code_)
        << " and a message that ";
    message_.DescribeTo(os);
  }
  void DescribeNegationTo(std::ostream* os) const {
    *os << "does not have code " << absl::StatusCodeToString(code_)
        << " or has a message that ";
    message_.DescribeNegationTo(os);
  }

 private:
  absl::StatusCode code_;
  ::testing::Matcher<const std::string&> message_;
};

}  // namespace internal_status

// Matches an OK absl::Status or an absl::StatusOr<T> that holds a value.
inline ::testing::PolymorphicMatcher<internal_status::IsOkMatcher> IsOk() {
  return ::testing::MakePolymorphicMatcher(internal_status::IsOkMatcher());
}

// Matches a status (or StatusOr) with `code` whose message matches
// `message` (a string for equality, or any string matcher).
template <typename MessageMatcher>
::testing::PolymorphicMatcher<internal_status::StatusIsMatcher> StatusIs(
    absl::StatusCode code, MessageMatcher&& message) {
  return ::testing::MakePolymorphicMatcher(internal_status::StatusIsMatcher(
      code, ::testing::MatcherCast<const std::string&>(
                std::forward<MessageMatcher>(message))));
}

inline ::testing::PolymorphicMatcher<internal_status::StatusIsMatcher> StatusIs(
    absl::StatusCode code) {
  return StatusIs(code, ::testing::_);
}

}  // namespace cell::testing

#define CELL_TESTING_CONCAT_INNER_(x, y) x##y
#define CELL_TESTING_CONCAT_(x, y) CELL_TESTING_CONCAT_INNER_(x, y)

// A StatusOr that is OK and whose value matches `expected` (a value or a
// matcher).
MATCHER_P(IsOkAndHolds, expected, "") {
  if (!arg.ok()) {
    *result_listener << "status " << arg.status();
    return false;
  }
  return ::testing::ExplainMatchResult(expected, *arg, result_listener);
}

#define EXPECT_OK(expr) EXPECT_THAT((expr), ::cell::testing::IsOk())
#define ASSERT_OK(expr) ASSERT_THAT((expr), ::cell::testing::IsOk())

// Asserts that `rexpr` (an absl::StatusOr<T>) holds a value and moves it
// into `lhs`; on error the test stops with the status in its message.
#define ASSERT_OK_AND_ASSIGN(lhs, rexpr) \
  CELL_ASSERT_OK_AND_ASSIGN_IMPL_(       \
      CELL_TESTING_CONCAT_(cell_testing_status_or_, __LINE__), lhs, rexpr)

#define CELL_ASSERT_OK_AND_ASSIGN_IMPL_(status_or, lhs, rexpr) \
  auto status_or = (rexpr);                                    \
  ASSERT_TRUE(status_or.ok()) << status_or.status();           \
  lhs = std::move(status_or).value()

#endif  // CELL_TESTING_STATUS_MATCHERS_H_

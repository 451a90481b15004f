#include "testing/runfiles.h"

#include <fstream>
#include <sstream>
#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace cell::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(RunfilePathTest, FindsDeclaredData) {
  ASSERT_OK_AND_ASSIGN(std::string path,
                       RunfilePath("testing/testdata/runfile.txt"));
  EXPECT_THAT(path, StartsWith("/"));
  std::ifstream file(path);
  std::stringstream content;
  content << file.rdbuf();
  EXPECT_EQ(content.str(), "hello from runfiles\n");
}

TEST(RunfilePathTest, MissingFileNamesWhereItLooked) {
  EXPECT_THAT(RunfilePath("testing/testdata/absent.txt"),
              StatusIs(absl::StatusCode::kNotFound,
                       AllOf(HasSubstr("testing/testdata/absent.txt"),
                             HasSubstr("tried:"), HasSubstr("`data`"))));
}

TEST(RunfilePathTest, RejectsAbsolutePaths) {
  EXPECT_THAT(RunfilePath("/etc/passwd"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(RunfilePath(""), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace cell::testing

// End-to-end: the built `cell` binary driven as a user would.
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/runfiles.h"
#include "tests/status_matchers.h"
#include "tests/subprocess.h"

namespace cell::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Optional;

class CellCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(cell_, RunfilePath("launcher/cell"));
  }
  std::string cell_;
};

TEST_F(CellCliTest, HelpTeachesTheCommands) {
  for (const char* flag : {"--help", "-h", "help"}) {
    ASSERT_OK_AND_ASSIGN(SubprocessResult result, RunSubprocess({cell_, flag}));
    EXPECT_THAT(result.exit_code, Optional(0)) << flag;
    EXPECT_THAT(result.stdout_text, HasSubstr("cell run"));
    EXPECT_THAT(result.stdout_text, HasSubstr("check-spec"));
    EXPECT_THAT(result.stdout_text, HasSubstr("125"));
  }
}

TEST_F(CellCliTest, NoCommandIsAUsageError) {
  ASSERT_OK_AND_ASSIGN(SubprocessResult result, RunSubprocess({cell_}));
  EXPECT_THAT(result.exit_code, Optional(2));
  EXPECT_THAT(result.stderr_text, HasSubstr("Usage:"));
}

TEST_F(CellCliTest, UnknownCommandNamesIt) {
  ASSERT_OK_AND_ASSIGN(SubprocessResult result,
                       RunSubprocess({cell_, "lanch"}));
  EXPECT_THAT(result.exit_code, Optional(2));
  EXPECT_THAT(result.stderr_text, HasSubstr("unknown command 'lanch'"));
}

}  // namespace
}  // namespace cell::testing

// Integration: the escape routes of issue 16, each attempted for real from
// inside a documented and a hardened cell, as root and as uid 65534. Each
// test fails on a launcher without the matching fix.
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/cell_fixture.h"
#include "tests/status_matchers.h"

namespace cell::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Optional;

// The hardened cell of SECURITY.md.
const std::vector<std::string> kHardened = {
    "--pid-namespace", "--ipc-namespace", "--capabilities=none", "--seccomp",
    "--read-only-root"};

class EscapeTest : public CellFixture {
 protected:
  void SetUp() override {
    CellFixture::SetUp();
    InstallProbe();
  }

  // `cell-probe NAME` in a cell with `flags`: the probe's facts.
  nlohmann::json ProbeFacts(std::vector<std::string> flags,
                            const std::string& name) {
    flags.push_back(
        absl::StrCat("--ro-bind=", Path("probes"), ":/run/cell/probes"));
    absl::StatusOr<SubprocessResult> result =
        RunCell(flags, {"/run/cell/probes/cell-probe", name});
    EXPECT_TRUE(result.ok()) << result.status();
    if (!result.ok()) return nullptr;
    EXPECT_THAT(result->exit_code, Optional(0)) << result->stderr_text;
    const nlohmann::json line =
        nlohmann::json::parse(result->stdout_text, nullptr, false);
    EXPECT_FALSE(line.is_discarded()) << result->stdout_text;
    return line.is_discarded() ? nullptr : line["facts"];
  }

  // Both cells every route must be closed in.
  std::map<std::string, std::vector<std::string>> Cells() const {
    return {{"documented", {}}, {"hardened", kHardened}};
  }
};

bool HostHas(const std::string& path) {
  struct stat info;
  return lstat(path.c_str(), &info) == 0;
}

// Section 1: a root-launched cell is host uid 0, and the sysctl write check
// looks at that uid, not at capabilities. Opening for writing is the attack
// (core_pattern would make the host kernel run a worktree script as root);
// nothing is written.
TEST_P(EscapeTest, HostSysctlsCannotBeOpenedForWriting) {
  for (const auto& [name, flags] : Cells()) {
    const nlohmann::json facts = ProbeFacts(flags, "kernel");
    ASSERT_TRUE(facts.is_object()) << name;
    ASSERT_EQ(facts["writeOpen"].size(), 6u) << facts.dump();
    for (const auto& [path, outcome] : facts["writeOpen"].items()) {
      EXPECT_NE(outcome, "ok") << name << " cell: " << path;
      if (HostHas(path) && uid() == 0) {
        // Refused by the read-only mount: for host root the file modes
        // would allow it.
        EXPECT_THAT(outcome.get<std::string>(), HasSubstr("EROFS"))
            << name << " cell: " << path;
      }
    }
  }
}

TEST_P(EscapeTest, KernelMemoryKeysAndLogsShowNothing) {
  for (const auto& [name, flags] : Cells()) {
    const nlohmann::json facts = ProbeFacts(flags, "kernel");
    ASSERT_TRUE(facts.is_object()) << name;
    for (const auto& [path, outcome] : facts["read"].items()) {
      // Masked: an empty file (0 bytes), or absent where the kernel has
      // no such file; never a byte of the host's.
      if (outcome.is_number()) {
        EXPECT_EQ(outcome, 0) << name << " cell: " << path;
      } else {
        EXPECT_FALSE(HostHas(path))
            << name << " cell: " << path << ": " << outcome;
      }
    }
    // The same with the tools an agent would use.
    ASSERT_OK_AND_ASSIGN(
        SubprocessResult result,
        RunCell(flags, {"/bin/sh", "-c",
                        "cat /proc/kcore /proc/timer_list /proc/keys "
                        "2>/dev/null | wc -c; ls -A /proc/acpi /proc/scsi "
                        "2>/dev/null | grep -v ':$' | grep -c . || true"}));
    EXPECT_EQ(result.stdout_text, "0\n0\n") << name << " cell";
  }
}

INSTANTIATE_TEST_SUITE_P(Users, EscapeTest,
                         ::testing::Values(TestUser::kRoot, TestUser::kNobody),
                         TestUserName);

}  // namespace
}  // namespace cell::testing

// Probes over a fake /proc: what each reports when it is given a root.
#include "probes/probes.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace cell::probes {
namespace {

using ::cell::testing::TempDir;
using ::testing::HasSubstr;

class FakeProcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create());
    dir_.emplace(std::move(dir));
    for (const char* sub : {"1", "17", "self", "self/ns", "net"}) {
      ASSERT_EQ(mkdir(dir_->Path(sub).c_str(), 0755), 0);
    }
    Write("1/comm", "systemd\n");
    Write("self/status",
          "Name:\tprobe\nCapInh:\t0000000000000000\nCapPrm:\t000001ffffffffff\n"
          "CapEff:\t000001ffffffffff\nCapBnd:\t000001ffffffffff\n"
          "CapAmb:\t0000000000000000\nNoNewPrivs:\t1\n");
    Write("self/uid_map", "      1000       1000          1\n");
    Write("self/gid_map", "       100        100          1\n");
    Write("self/setgroups", "deny\n");
    Write("self/mountinfo",
          "1 0 0:1 / / rw - tmpfs tmpfs rw\n"
          "2 1 8:1 /s /nix/store ro,nosuid - ext4 /dev/sda1 rw\n");
    for (const char* kind :
         {"user", "mnt", "net", "pid", "ipc", "uts", "cgroup", "time"}) {
      ASSERT_EQ(symlink((std::string(kind) + ":[40265318" +
                         std::to_string(std::string(kind).size()) + "]")
                            .c_str(),
                        dir_->Path(std::string("self/ns/") + kind).c_str()),
                0);
    }
    options_.proc_root = dir_->path();
  }

  void Write(const std::string& relative, const std::string& content) {
    std::ofstream(dir_->Path(relative)) << content;
  }

  std::optional<TempDir> dir_;
  ProbeOptions options_;
};

TEST_F(FakeProcTest, PidReportsPidOneAndVisibleProcesses) {
  const Facts facts = ProbePid(options_);
  EXPECT_EQ(facts["pid1Visible"], true);
  EXPECT_EQ(facts["pid1Comm"], "systemd");
  EXPECT_EQ(facts["visibleProcesses"], 2);
  EXPECT_EQ(facts["pidNamespace"], 402653183);
}

TEST_F(FakeProcTest, PidWithoutPidOne) {
  ASSERT_EQ(unlink(dir_->Path("1/comm").c_str()), 0);
  ASSERT_EQ(rmdir(dir_->Path("1").c_str()), 0);
  const Facts facts = ProbePid(options_);
  EXPECT_EQ(facts["pid1Visible"], false);
  EXPECT_EQ(facts["pid1Comm"], nullptr);
}

TEST_F(FakeProcTest, IdentityReadsTheMaps) {
  const Facts facts = ProbeIdentity(options_);
  EXPECT_EQ(facts["uidMap"], Facts::parse("[[1000, 1000, 1]]"));
  EXPECT_EQ(facts["gidMap"], Facts::parse("[[100, 100, 1]]"));
  EXPECT_EQ(facts["setgroups"], "deny");
  EXPECT_EQ(facts["uid"], getuid());
}

TEST_F(FakeProcTest, CapsReportsEverySet) {
  const Facts facts = ProbeCaps(options_);
  EXPECT_EQ(facts["CapEff"]["count"], 41);
  EXPECT_EQ(facts["CapEff"]["hex"], "000001ffffffffff");
  EXPECT_EQ(facts["CapAmb"]["count"], 0);
  EXPECT_EQ(facts["noNewPrivs"], true);
  // The functional checks run for real; they report ok or an errno name.
  EXPECT_TRUE(facts["mountInNewNamespace"].contains("ok"));
  EXPECT_TRUE(facts["setLoopbackFlags"].contains("ok"));
}

TEST_F(FakeProcTest, NsReportsInodes) {
  const Facts facts = ProbeNs(options_);
  EXPECT_EQ(facts["pid"], 402653183);
  EXPECT_EQ(facts["cgroup"], 402653186);
  EXPECT_EQ(facts["time"], 402653184);
}

TEST_F(FakeProcTest, StoreReadsItsMountFlags) {
  options_.nix_store = "/nix/store";
  const Facts facts = ProbeStore(options_);
  EXPECT_EQ(facts["mount"]["readOnly"], true);
  EXPECT_EQ(facts["mount"]["fsType"], "ext4");
}

TEST_F(FakeProcTest, MissingFilesAreFactsNotCrashes) {
  options_.proc_root = dir_->Path("absent");
  EXPECT_EQ(ProbePid(options_)["pid1Visible"], false);
  EXPECT_TRUE(ProbeMounts(options_)["mounts"].empty());
  EXPECT_EQ(ProbeCaps(options_)["CapEff"], nullptr);
  options_.nix_socket = dir_->Path("no-socket");
  const Facts nix = ProbeNix(options_);
  EXPECT_EQ(nix["daemon"]["connected"], false);
  EXPECT_THAT(nix["daemon"]["error"].get<std::string>(), HasSubstr("ENOENT"));
}

TEST(ProbeEnvTest, MasksSecrets) {
  setenv("CELL_TEST_API_TOKEN", "s3cr3t", 1);
  setenv("CELL_TEST_PLAIN", "visible", 1);
  const Facts facts = ProbeEnv(ProbeOptions());
  EXPECT_EQ(facts["variables"]["CELL_TEST_API_TOKEN"], "***");
  EXPECT_EQ(facts["variables"]["CELL_TEST_PLAIN"], "visible");
  EXPECT_EQ(facts.dump().find("s3cr3t"), std::string::npos);
}

TEST(FormatProbeLineTest, OneJsonObjectPerLine) {
  const std::string line = FormatProbeLine("pid", {{"a", 1}});
  EXPECT_EQ(line, R"({"facts":{"a":1},"probe":"pid"})");
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_EQ(ErrnoFact(2), "ENOENT: No such file or directory");
}

}  // namespace
}  // namespace cell::probes

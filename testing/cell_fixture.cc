#include "testing/cell_fixture.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "probes/host.h"
#include "testing/runfiles.h"
#include "testing/status_matchers.h"

namespace cell::testing {
namespace {

void CopyExecutable(const std::string& from, const std::string& to) {
  std::ifstream in(from, std::ios::binary);
  ASSERT_TRUE(in.good()) << from;
  std::ofstream out(to, std::ios::binary);
  out << in.rdbuf();
  out.close();
  ASSERT_EQ(chmod(to.c_str(), 0755), 0);
}

}  // namespace

std::string TestUserName(const ::testing::TestParamInfo<TestUser>& info) {
  return info.param == TestUser::kRoot ? "Root" : "Nobody";
}

void CellFixture::SetUp() {
  ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create());
  dir_.emplace(std::move(dir));
  ASSERT_OK_AND_ASSIGN(std::string cell, RunfilePath("launcher/cell"));
  cell_ = Path("cell");
  CopyExecutable(cell, cell_);
  for (const char* sub : {"wt", "store", "daemon", "tmp"}) {
    ASSERT_EQ(mkdir(Path(sub).c_str(), 0755), 0);
  }
  ASSERT_EQ(chmod(Path("tmp").c_str(), 01777), 0);
  ASSERT_EQ(chown(Path("wt").c_str(), uid(), gid()), 0);
  std::ofstream(Path("store/hello")) << "from the store\n";
  ASSERT_OK(MakeSocketFile(Path("daemon/socket")));
}

std::vector<std::string> CellFixture::AsTestUser(
    const std::vector<std::string>& argv) const {
  std::vector<std::string> full;
  if (GetParam() == TestUser::kNobody) {
    full = {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534",
            "--clear-groups", "--"};
  }
  full.insert(full.end(), argv.begin(), argv.end());
  return full;
}

std::vector<std::string> CellFixture::CellArgv(
    const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {cell_};
  argv.insert(argv.end(), args.begin(), args.end());
  return AsTestUser(argv);
}

void CellFixture::InstallProbe() const {
  ASSERT_EQ(mkdir(Path("probes").c_str(), 0755), 0);
  ASSERT_OK_AND_ASSIGN(std::string probe, RunfilePath("probes/cell-probe"));
  std::ifstream in(probe, std::ios::binary);
  std::ofstream out(Path("probes/cell-probe"), std::ios::binary);
  out << in.rdbuf();
  out.close();
  ASSERT_EQ(chmod(Path("probes/cell-probe").c_str(), 0755), 0);
}

std::vector<std::string> CellFixture::UntrustedUserFlags() const {
  if (GetParam() != TestUser::kRoot) return {};
  EXPECT_EQ(chown(Path("wt").c_str(), cell_uid(), cell_uid()), 0);
  return {"--host-user=nobody"};
}

std::vector<std::string> CellFixture::BaseFlags() const {
  return {"--worktree=wt",  "--nix-store=store", "--nix-daemon-socket=daemon",
          "--network=none", "--ro-bind=/usr",    "--ro-bind=/bin",
          "--ro-bind=/lib", "--ro-bind=/lib64"};
}

SubprocessOptions CellFixture::Options() const {
  SubprocessOptions options;
  options.cwd = dir_->path();
  options.env = std::vector<std::string>{
      absl::StrCat("TMPDIR=", CellTmpDir()), "PATH=/usr/bin:/bin",
      "TERM=xterm-test", "SECRET_TOKEN=must-not-leak"};
  return options;
}

std::vector<std::string> CellFixture::RunArgv(
    const std::vector<std::string>& extra_flags,
    const std::vector<std::string>& command) const {
  std::vector<std::string> args = {"run"};
  for (const std::string& flag : BaseFlags()) args.push_back(flag);
  args.insert(args.end(), extra_flags.begin(), extra_flags.end());
  args.push_back("--");
  args.insert(args.end(), command.begin(), command.end());
  return CellArgv(args);
}

absl::StatusOr<Subprocess> CellFixture::StartCell(
    const std::vector<std::string>& extra_flags,
    const std::vector<std::string>& command) {
  return Subprocess::Start(RunArgv(extra_flags, command), Options());
}

absl::StatusOr<SubprocessResult> CellFixture::RunCell(
    const std::vector<std::string>& extra_flags,
    const std::vector<std::string>& command) {
  absl::StatusOr<Subprocess> process = StartCell(extra_flags, command);
  if (!process.ok()) return process.status();
  return process->Wait();
}

absl::StatusOr<Subprocess> CellFixture::StartCellAndWait(
    const std::vector<std::string>& extra_flags,
    const std::vector<std::string>& command, nlohmann::json* started) {
  const std::string status = Path("tmp/status.jsonl");
  unlink(status.c_str());
  std::vector<std::string> flags = extra_flags;
  flags.push_back(absl::StrCat("--status-file=", status));
  absl::StatusOr<Subprocess> process = StartCell(flags, command);
  if (!process.ok()) return process.status();
  std::optional<nlohmann::json> event = WaitForEvent(status, "started");
  if (!event.has_value()) {
    return absl::DeadlineExceededError("the cell did not report `started`");
  }
  *started = *std::move(event);
  return process;
}

std::vector<nlohmann::json> CellFixture::ReadEvents(
    const std::string& path) const {
  std::ifstream in(path);
  std::vector<nlohmann::json> events;
  std::string line;
  while (std::getline(in, line)) {
    nlohmann::json event = nlohmann::json::parse(line, nullptr, false);
    if (!event.is_discarded()) events.push_back(std::move(event));
  }
  return events;
}

std::vector<nlohmann::json> CellFixture::ReadAuditLog(
    const std::string& path) const {
  std::ifstream in(path);
  std::vector<nlohmann::json> records;
  for (std::string line; std::getline(in, line);) {
    nlohmann::json record = nlohmann::json::parse(line, nullptr, false);
    EXPECT_FALSE(record.is_discarded()) << path << ": " << line;
    if (!record.is_discarded()) records.push_back(std::move(record));
  }
  return records;
}

std::optional<nlohmann::json> CellFixture::WaitForEvent(
    const std::string& path, const std::string& name) const {
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (absl::Now() < deadline) {
    for (const nlohmann::json& event : ReadEvents(path)) {
      if (event.value("event", "") == name) return event;
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
  return std::nullopt;
}

std::optional<int> CellFixture::ExitedCode(const std::string& path) const {
  std::optional<int> code;
  for (const nlohmann::json& event : ReadEvents(path)) {
    if (event.value("event", "") == "exited") {
      code = event.value("exitCode", -1);
    }
  }
  return code;
}

void CellFixture::InstallHelper(const std::string& name) const {
  ASSERT_OK_AND_ASSIGN(
      std::string helper,
      RunfilePath(absl::StrCat("tests/integration/helpers/", name)));
  std::ifstream in(helper, std::ios::binary);
  std::ofstream out(Path(absl::StrCat("wt/", name)), std::ios::binary);
  out << in.rdbuf();
  out.close();
  ASSERT_EQ(chmod(Path(absl::StrCat("wt/", name)).c_str(), 0755), 0);
}

std::vector<std::string> CellFixture::JobDirs() const {
  return probes::JobDirsIn(CellTmpDir());
}

bool WaitForProcessGone(pid_t pid, int seconds) {
  const absl::Time deadline = absl::Now() + absl::Seconds(seconds);
  while (!probes::ProcessGone(pid)) {
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return true;
}

}  // namespace cell::testing

// A fixture for integration tests that launch real cells with the built
// `cell` binary, as root or (through setpriv) as the unprivileged uid 65534.
// Each test gets a private directory holding a copy of the binary (the
// runfiles tree under /root is not reachable by other users), a worktree, a
// private Nix store and daemon socket dir, and its own $TMPDIR for $JDs.
#ifndef CELL_TESTING_CELL_FIXTURE_H_
#define CELL_TESTING_CELL_FIXTURE_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "base/subprocess.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "testing/temp_dir.h"

namespace cell::testing {

enum class TestUser { kRoot, kNobody };

std::string TestUserName(const ::testing::TestParamInfo<TestUser>& info);

class CellFixture : public ::testing::TestWithParam<TestUser> {
 protected:
  void SetUp() override;

  uid_t uid() const { return GetParam() == TestUser::kRoot ? 0 : 65534; }
  gid_t gid() const { return GetParam() == TestUser::kRoot ? 0 : 65534; }

  // The path of `relative` in this test's directory.
  std::string Path(const std::string& relative) const {
    return dir_->Path(relative);
  }
  // The $TMPDIR the cells of this test use.
  std::string CellTmpDir() const { return Path("tmp"); }

  // `argv` prefixed so that it runs as the test user.
  std::vector<std::string> AsTestUser(
      const std::vector<std::string>& argv) const;

  // argv that runs `cell ARGS...` as the test user.
  std::vector<std::string> CellArgv(const std::vector<std::string>& args) const;

  // What a cell that reaches a real Nix daemon needs: the daemon trusts
  // host root, so a root launcher must run the cell as another user
  // (--host-user=nobody, and nobody gets the worktree); the unprivileged
  // launcher needs nothing. The cell's uid is then cell_uid().
  std::vector<std::string> UntrustedUserFlags() const;
  uid_t cell_uid() const { return 65534; }

  // Flags for a cell over this test's worktree, store and daemon dir, no
  // network, with the host's /usr, /bin, /lib, /lib64 bound read-only so
  // ordinary commands work.
  std::vector<std::string> BaseFlags() const;

  // argv of `cell run BASE_FLAGS EXTRA -- COMMAND` as the test user.
  std::vector<std::string> RunArgv(
      const std::vector<std::string>& extra_flags,
      const std::vector<std::string>& command) const;

  // `cell run BASE_FLAGS EXTRA -- COMMAND` from this test's directory.
  absl::StatusOr<SubprocessResult> RunCell(
      const std::vector<std::string>& extra_flags,
      const std::vector<std::string>& command);
  absl::StatusOr<Subprocess> StartCell(
      const std::vector<std::string>& extra_flags,
      const std::vector<std::string>& command);

  // StartCell with a --status-file, returning once the command started;
  // `started` receives that event (jd, pid, proxyPort).
  absl::StatusOr<Subprocess> StartCellAndWait(
      const std::vector<std::string>& extra_flags,
      const std::vector<std::string>& command, nlohmann::json* started);

  // Options for running `cell` directly: cwd, a fixed environment.
  SubprocessOptions Options() const;

  // The JSON lines of a --status-file.
  std::vector<nlohmann::json> ReadEvents(const std::string& path) const;
  // The records of an audit log; a line that is not JSON fails the test.
  std::vector<nlohmann::json> ReadAuditLog(const std::string& path) const;
  // Polls until `path` has an event named `name` (or 20 s pass).
  std::optional<nlohmann::json> WaitForEvent(const std::string& path,
                                             const std::string& name) const;

  // The `exitCode` of the `exited` event in a --status-file, or nullopt
  // when there is none.
  std::optional<int> ExitedCode(const std::string& path) const;

  // Copies the built cell-probe (a data dependency of the test) to
  // Path("probes"), for --ro-bind=probes:/run/cell/probes.
  void InstallProbe() const;
  // Copies the static helper tests/integration/helpers/`name` (a data
  // dependency of the test) into the worktree, executable: ./`name` inside.
  void InstallHelper(const std::string& name) const;

  // Entries of this test's $TMPDIR that look like a $JD.
  std::vector<std::string> JobDirs() const;

  std::optional<TempDir> dir_;
  std::string cell_;
};

// True once `pid` no longer exists (or is a zombie), polling up to `seconds`.
bool WaitForProcessGone(pid_t pid, int seconds);

}  // namespace cell::testing

#endif  // CELL_TESTING_CELL_FIXTURE_H_

// cell-verify is itself tested: deliberately broken cells, at least one per
// property, each run through the real cell-verify, which must FAIL it
// naming the right property; the good cells must pass. A cell is broken
// by its spec, by a test-only fault compiled into //launcher:cell_with_faults
// (base/test_faults.h: today's launcher with one protection switched off),
// or by a "lying" launcher that adds flags the spec did not ask for.
//
// The matrix (property x broken cell -> verdict) is written to the test's
// outputs and must equal the README's copy between the broken-cells
// markers; tools/update_readme_tables.sh copies it there.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/subprocess.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "testing/nix_daemon.h"
#include "testing/runfiles.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

extern char** environ;

namespace cell::testing {
namespace {

using Json = nlohmann::json;

// Properties no broken cell below makes fail yet: each is a known gap,
// named in the README under the matrix. The test fails when one of them
// is caught after all (take it off the list) and when a property is
// neither caught nor listed.
const std::set<std::string>& NotYetBroken() {
  static const auto* const kGaps = new std::set<std::string>{};
  return *kGaps;
}

struct BrokenCell {
  std::string label;    // The matrix column.
  std::string how;      // What is broken, for the legend.
  std::string profile;  // documented or agent-strict.
  Json spec;            // The spec, "version" aside.
  std::string fault;    // CELL_TEST_FAULTS for the fault build.
  std::string lie;      // Flags a lying launcher adds to `cell run`.
  std::vector<std::string> must_fail;  // Empty: a good cell, all must pass.
};

class BrokenCellsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(getuid(), 0u) << "the matrix needs root (host-root cells, a "
                               "nix daemon, hostUser)";
    ASSERT_OK_AND_ASSIGN(verify_, RunfilePath("policy/cell-verify"));
    ASSERT_OK_AND_ASSIGN(cell_, RunfilePath("launcher/cell"));
    ASSERT_OK_AND_ASSIGN(faulty_, RunfilePath("launcher/cell_with_faults"));
    ASSERT_OK_AND_ASSIGN(readme_, RunfilePath("README.md"));
    ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create());
    dir_.emplace(std::move(dir));
    chmod(dir_->path().c_str(), 0755);
    for (const char* sub :
         {"wt", "wt-root", "logs", "no-daemon", "chroot", "chroot/proc",
          "twice", "twice/sub", "shared", "shared/wt"}) {
      ASSERT_EQ(mkdir(dir_->Path(sub).c_str(), 0755), 0);
    }
    // Cells run as nobody write their worktree; wt-root stays root's.
    ASSERT_EQ(chown(dir_->Path("wt").c_str(), 65534, 65534), 0);
    ASSERT_EQ(symlink("wt", dir_->Path("wt-link").c_str()), 0);
    std::ofstream(dir_->Path("filter")) << "^github\\.com$\n";
    // Allows the canary's name, not its address: the builtin engine must
    // still refuse it (loopback, and no line names 127.0.0.1).
    std::ofstream(dir_->Path("filter-localhost")) << "^localhost$\n";
    // Names the canary's address: the one way to let it through.
    std::ofstream(dir_->Path("filter-canary")) << "^127\\.0\\.0\\.1$\n";
    // A filter the cell's user (nobody) could write, were a view of it
    // left writable.
    std::ofstream(dir_->Path("filter-nobody")) << "^github\\.com$\n";
    ASSERT_EQ(chown(dir_->Path("filter-nobody").c_str(), 65534, 65534), 0);
    // A socket nothing listens on: the launcher binds it, the daemon is gone.
    const int stale = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    const std::string stale_path = dir_->Path("no-daemon/socket");
    ASSERT_LT(stale_path.size(), sizeof(address.sun_path));
    std::memcpy(address.sun_path, stale_path.c_str(), stale_path.size() + 1);
    ASSERT_EQ(
        bind(stale, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    close(stale);
    // A worktree holding a credential file.
    ASSERT_EQ(mkdir(dir_->Path("wt-creds").c_str(), 0755), 0);
    ASSERT_EQ(chown(dir_->Path("wt-creds").c_str(), 65534, 65534), 0);
    std::ofstream(dir_->Path("wt-creds/.git-credentials"))
        << "https://user:not-a-real-token@example.com\n";
    // A chroot's proc: the host's, mounted beneath a directory a spec binds.
    ASSERT_EQ(
        mount("proc", dir_->Path("chroot/proc").c_str(), "proc", 0, nullptr),
        0);
    // A worktree on a shared mount, as / is on a systemd host (this
    // machine's is private): what the host mounts beneath it later must not
    // show in the cell.
    ASSERT_EQ(chown(dir_->Path("shared/wt").c_str(), 65534, 65534), 0);
    ASSERT_EQ(mount(dir_->Path("shared").c_str(), dir_->Path("shared").c_str(),
                    nullptr, MS_BIND, nullptr),
              0);
    ASSERT_EQ(mount(nullptr, dir_->Path("shared").c_str(), nullptr, MS_SHARED,
                    nullptr),
              0);
  }

  void TearDown() override {
    if (!dir_.has_value()) return;
    umount2(dir_->Path("chroot/proc").c_str(), MNT_DETACH);
    umount2(dir_->Path("shared").c_str(), MNT_DETACH);
  }

  // A launcher that adds `flags` to every `cell run`: a cell that does not
  // do what its spec says.
  std::string Liar(const std::string& flags) {
    const std::string path = dir_->Path(absl::StrCat("liar-", liars_++));
    std::ofstream(path) << "#!/bin/sh\nreal=" << cell_ << "\n"
                        << "if [ \"$1\" = run ]; then shift; exec \"$real\" "
                           "run "
                        << flags << " \"$@\"; fi\nexec \"$real\" \"$@\"\n";
    chmod(path.c_str(), 0755);
    return path;
  }

  // Runs cell-verify on the case: property -> outcome, and the raw report;
  // `order` gets the properties in report order.
  std::map<std::string, std::string> Verify(const BrokenCell& c,
                                            std::string* report,
                                            std::vector<std::string>* order) {
    const std::string spec = dir_->Path("spec.json");
    Json spec_json = c.spec;
    spec_json["version"] = 1;
    std::ofstream(spec) << spec_json.dump();
    std::string launcher = cell_;
    if (!c.fault.empty()) launcher = faulty_;
    if (!c.lie.empty()) launcher = Liar(c.lie);
    SubprocessOptions options;
    options.cwd = dir_->path();
    options.timeout = absl::Minutes(3);
    std::vector<std::string> env;
    for (char** entry = environ; *entry != nullptr; ++entry) {
      env.push_back(*entry);
    }
    if (!c.fault.empty()) env.push_back("CELL_TEST_FAULTS=" + c.fault);
    options.env = env;
    absl::StatusOr<SubprocessResult> result =
        RunSubprocess({verify_, "--spec=" + spec, "--profile=" + c.profile,
                       "--format=json", "--cell=" + launcher},
                      options);
    std::map<std::string, std::string> outcomes;
    if (!result.ok()) {
      *report = std::string(result.status().message());
      return outcomes;
    }
    *report = result->stdout_text + result->stderr_text;
    const Json json =
        Json::parse(result->stdout_text, nullptr, /*allow_exceptions=*/false);
    if (!json.is_object() || !json.contains("results")) return outcomes;
    for (const Json& r : json["results"]) {
      if (r.contains("property") && r["property"].is_string() &&
          r.contains("outcome") && r["outcome"].is_string()) {
        outcomes[r["property"]] = r["outcome"];
        if (std::find(order->begin(), order->end(), r["property"]) ==
            order->end()) {
          order->push_back(r["property"]);
        }
      }
    }
    return outcomes;
  }

  std::string verify_, cell_, faulty_, readme_;
  std::optional<TempDir> dir_;
  int liars_ = 0;
};

// The README's copy of the matrix: what lies between the markers.
std::string ReadmeMatrix(const std::string& readme) {
  std::ifstream in(readme);
  std::stringstream text;
  text << in.rdbuf();
  const std::string all = text.str();
  const std::string begin = "<!-- broken-cells:begin -->\n";
  const std::string end = "<!-- broken-cells:end -->";
  const size_t from = all.find(begin);
  const size_t to = all.find(end);
  if (from == std::string::npos || to == std::string::npos || to < from) {
    return "(no broken-cells markers in README.md)";
  }
  return all.substr(from + begin.size(), to - from - begin.size());
}

// `base` with `changes` merged in (RFC 7386: null removes a field).
Json With(Json base, const Json& changes) {
  base.merge_patch(changes);
  return base;
}

// `base` with one more mount.
Json WithMount(Json base, const Json& mount) {
  base["mounts"].push_back(mount);
  return base;
}

// A TCP port free on the host's loopback now.
int FreeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof(address);
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), size) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
    close(fd);
    return 0;  // The spec parser refuses port 0: the test fails loudly.
  }
  close(fd);
  return ntohs(address.sin_port);
}

// One verdict in the matrix: short, so that 30 columns stay readable.
std::string Cell(const std::string& outcome) {
  if (outcome == "fail") return "**✗**";
  if (outcome == "warn") return "w";
  if (outcome == "pass") return "·";
  if (outcome == "off") return "off";
  if (outcome == "error") return "E";
  return "";  // Not judged for this cell (Nix properties without Nix).
}

TEST_F(BrokenCellsTest, EveryPropertyFailsForItsBrokenCellAndGoodCellsPass) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<NixDaemon> untrusting,
                       NixDaemon::Start(dir_->Path("nix")));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<NixDaemon> trusting,
                       NixDaemon::Start(dir_->Path("nix-trusting"), "*"));
  // Root's cells write a root-owned worktree, nobody's a nobody-owned one.
  Json documented = {{"worktreePath", "wt-root"},
                     {"tinyproxyFilter", "filter"},
                     {"nix", false},
                     {"mounts",
                      {{{"type", "ro-bind"}, {"src", "/usr"}},
                       {{"type", "ro-bind"}, {"src", "/lib"}},
                       {{"type", "ro-bind"}, {"src", "/lib64"}},
                       {{"type", "ro-bind"}, {"src", "/bin"}}}}};
  const Json isolation = {{"pidNamespace", true},
                          {"ipcNamespace", true},
                          {"capabilities", "none"},
                          {"seccomp", true},
                          {"readOnlyRoot", true}};
  const Json hardened = With(documented, {{"worktreePath", "wt"},
                                          {"hostUser", "nobody"},
                                          {"protect", {"@defaults"}},
                                          {"logDir", "logs"},
                                          {"isolation", isolation}});
  const Json nix_good =
      With(documented, {{"nix", nullptr},
                        {"worktreePath", "wt"},
                        {"hostUser", "nobody"},
                        {"nixStore", untrusting->store_dir()},
                        {"nixDaemonSocket", untrusting->socket_dir()}});
  const Json nix_of_trusting =
      With(nix_good, {{"nixStore", trusting->store_dir()},
                      {"nixDaemonSocket", trusting->socket_dir()}});
  const Json limited =
      With(documented,
           {{"limits", {{"rlimits", {{"nofile", 128}}}, {"pidsMax", 24}}}});

  const std::vector<BrokenCell> cells = {
      {"good",
       "the documented cell (root launcher)",
       "documented",
       documented,
       "",
       "",
       {}},
      {"hardened",
       "the hardened cell, run as nobody",
       "agent-strict",
       hardened,
       "",
       "",
       {}},
      {"nix",
       "a Nix cell through an untrusting daemon, as nobody",
       "documented",
       nix_good,
       "",
       "",
       {}},
      {"proc",
       "no /proc masks (fault)",
       "documented",
       documented,
       "no-proc-masks",
       "",
       {"kernel-interfaces"}},
      {"proc-h",
       "no /proc masks, hardened but host root (fault)",
       "agent-strict",
       With(hardened, {{"hostUser", nullptr}, {"worktreePath", "wt-root"}}),
       "no-proc-masks",
       "",
       {"kernel-interfaces", "host-identity"}},
      {"tty",
       "the caller's terminal kept (fault)",
       "documented",
       documented,
       "caller-terminal",
       "",
       {"terminal"}},
      {"tty-h",
       "the caller's terminal kept, hardened (fault)",
       "agent-strict",
       hardened,
       "caller-terminal",
       "",
       {"terminal"}},
      {"trust",
       "a daemon that trusts the cell",
       "documented",
       nix_of_trusting,
       "",
       "",
       {"nix-trust"}},
      {"trust-h",
       "a daemon that trusts the cell",
       "agent-strict",
       nix_of_trusting,
       "",
       "",
       {"nix-trust", "nix-policy"}},
      {"link",
       "worktree through a symlink, followed (fault)",
       "agent-strict",
       With(hardened, {{"worktreePath", "wt-link"}}),
       "follow-symlinks",
       "",
       {"bind-sources"}},
      {"control",
       "logDir and protect paths writable (fault)",
       "agent-strict",
       hardened,
       "writable-control-files",
       "",
       {"control-files"}},
      {"addr",
       "the proxy connects to loopback (fault)",
       "agent-strict",
       With(hardened, {{"tinyproxyFilter", "filter-localhost"}}),
       "no-address-policy",
       "",
       {"proxy", "proxy-hostile"}},
      {"jd",
       "$JD left behind (fault)",
       "agent-strict",
       hardened,
       "keep-job-dir",
       "",
       {"cleanup"}},
      {"sysctl",
       "/proc/sys bound read-write, let through (fault)",
       "documented",
       WithMount(documented,
                 {{"type", "bind"}, {"src", "/proc/sys"}, {"dst", "/mnt/sys"}}),
       "allow-kernel-binds",
       "",
       {"kernel-interfaces"}},
      {"pts",
       "/dev/pts bound, let through (fault)",
       "agent-strict",
       WithMount(
           hardened,
           {{"type", "ro-bind"}, {"src", "/dev/pts"}, {"dst", "/mnt/pts"}}),
       "allow-kernel-binds",
       "",
       {"terminal"}},
      {"socket",
       "a host socket bound in",
       "agent-strict",
       WithMount(hardened, {{"type", "ro-bind"},
                            {"src", untrusting->socket_dir()},
                            {"dst", "/mnt/daemon"}}),
       "",
       "",
       {"sockets"}},
      {"socket-s",
       "a host socket's directory bound beneath /nix/store",
       "agent-strict",
       WithMount(hardened, {{"type", "ro-bind"},
                            {"src", untrusting->socket_dir()},
                            {"dst", "/nix/store/aaaa-sockets"}}),
       "",
       "",
       {"sockets"}},
      {"socket-2",
       "a host socket under the second name of a directory bound twice",
       "agent-strict",
       WithMount(WithMount(WithMount(hardened, {{"type", "ro-bind"},
                                                {"src", "twice"},
                                                {"dst", "/b"}}),
                           {{"type", "ro-bind"},
                            {"src", untrusting->socket_dir()},
                            {"dst", "/b/sub"}}),
                 {{"type", "ro-bind"}, {"src", "twice"}, {"dst", "/a"}}),
       "",
       "",
       {"sockets"}},
      {"socket-f",
       "a host socket bound as a single file",
       "agent-strict",
       WithMount(hardened, {{"type", "ro-bind"},
                            {"src", untrusting->socket_dir() + "/socket"},
                            {"dst", "/run/agent.sock"}}),
       "",
       "",
       {"sockets"}},
      {"chroot",
       "a chroot with the host's proc, carried in (fault)",
       "documented",
       WithMount(documented,
                 {{"type", "bind"}, {"src", "chroot"}, {"dst", "/mnt/chroot"}}),
       "allow-kernel-binds",
       "",
       {"kernel-interfaces"}},
      {"trust-m",
       "a trusting daemon's socket bound without Nix",
       "documented",
       WithMount(documented, {{"type", "ro-bind"},
                              {"src", trusting->socket_dir()},
                              {"dst", "/run/nix"}}),
       "",
       "",
       {"nix-trust", "sockets"}},
      {"spelling",
       "a file bind of the filter, missed by spelling (fault)",
       "agent-strict",
       WithMount(With(hardened, {{"tinyproxyFilter", "filter-nobody"}}),
                 {{"type", "bind"},
                  {"src", "filter-nobody"},
                  {"dst", "/mnt/filter"}}),
       "views-by-spelling",
       "",
       {"control-files"}},
      {"leak",
       "a descriptor of the host's / left open (fault)",
       "agent-strict",
       hardened,
       "leak-host-directory",
       "",
       {"descriptors"}},
      {"route",
       "a default route in the cell (fault)",
       "agent-strict",
       hardened,
       "default-route",
       "",
       {"no-routes"}},
      {"uring",
       "io_uring not filtered (fault)",
       "agent-strict",
       hardened,
       "allow-io-uring",
       "",
       {"seccomp", "seccomp-coverage"}},
      {"root",
       "the hardened spec without hostUser: host root",
       "agent-strict",
       With(hardened, {{"hostUser", nullptr}, {"worktreePath", "wt-root"}}),
       "",
       "",
       {"host-identity", "isolation-policy"}},
      {"caps",
       "capabilities kept though the spec drops them (liar)",
       "agent-strict",
       hardened,
       "",
       "--capabilities=all",
       {"capabilities"}},
      {"pid",
       "own PID namespace though the spec shares it (liar)",
       "documented",
       documented,
       "",
       "--pid-namespace",
       {"pid-namespace"}},
      {"ipc",
       "own IPC namespace though the spec shares it (liar)",
       "documented",
       documented,
       "",
       "--ipc-namespace",
       {"ipc-namespace"}},
      {"ro-root",
       "read-only root though the spec asks a tmpfs (liar)",
       "documented",
       documented,
       "",
       "--read-only-root",
       {"root-read-only"}},
      {"bind",
       "/etc/ssh bound though the spec does not (liar)",
       "documented",
       documented,
       "",
       "--ro-bind=/etc/ssh",
       {"only-explicit-binds"}},
      {"no-net",
       "no proxy though the spec asks one (liar)",
       "documented",
       documented,
       "",
       "--network=none",
       {"proxy"}},
      {"limits",
       "a raised rlimit, no pids bound (liar)",
       "documented",
       limited,
       "",
       "--rlimit=nofile=127 --pids-max=100000",
       {"rlimits", "cgroup-limits"}},
      {"creds",
       "a .git-credentials in the worktree",
       "agent-strict",
       With(hardened, {{"worktreePath", "wt-creds"}}),
       "",
       "",
       {"secrets"}},
      {"wt-ro",
       "a worktree the cell's user cannot write",
       "agent-strict",
       With(hardened, {{"worktreePath", "wt-root"}}),
       "",
       "",
       {"worktree-writable"}},
      {"rw-usr",
       "a read-write bind of /usr",
       "agent-strict",
       With(hardened, {{"mounts", {{{"type", "bind"}, {"src", "/usr"}}}}}),
       "",
       "",
       {"mount-policy"}},
      {"secret",
       "a credential in the environment",
       "agent-strict",
       With(hardened, {{"env", {{"AWS_SECRET_ACCESS_KEY", "x"}}}}),
       "",
       "",
       {"env-policy"}},
      {"allow-all",
       "no filter: every host allowed",
       "agent-strict",
       With(hardened, {{"tinyproxyFilter", nullptr}}),
       "",
       "",
       {"filter-policy"}},
      {"no-daemon",
       "a Nix socket directory where no daemon answers",
       "documented",
       With(nix_good, {{"nixDaemonSocket", "no-daemon"}}),
       "",
       "",
       {"nix-daemon"}},
      {"nix-env",
       "NIX_CONFIG not forced (fault)",
       "documented",
       nix_good,
       "no-nix-config",
       "",
       {"nix-config"}},
      {"rw-store",
       "the store bound read-write (fault)",
       "documented",
       nix_good,
       "writable-store",
       "",
       {"store-read-only"}},
      {"fronting",
       "the client's Host header forwarded (fault)",
       "documented",
       With(documented, {{"tinyproxyFilter", "filter-canary"}}),
       "client-host-header",
       "",
       {"proxy-hostile"}},
      {"shared",
       "the hardened cell, its worktree on a shared host mount",
       "agent-strict",
       With(hardened, {{"worktreePath", "shared/wt"}}),
       "",
       "",
       {}},
      {"propagation",
       "the same, its mounts left slaves of the host's (fault)",
       "agent-strict",
       With(hardened, {{"worktreePath", "shared/wt"}}),
       "host-propagation",
       "",
       {"mount-flags"}},
      {"root-in",
       "root inside: the caller's ids mapped to 0 (fault)",
       "agent-strict",
       hardened,
       "map-root-inside",
       "",
       {"identity"}},
      {"host-net",
       "no network namespace: the host's shared (fault)",
       "agent-strict",
       // The listener the cell would have had on its own loopback is on the
       // host's: a port nothing else uses.
       With(hardened, {{"network", {{"port", FreeLoopbackPort()}}}}),
       "share-network-namespace",
       "",
       {"namespaces", "no-routes"}},
  };

  std::map<std::string, std::map<std::string, std::string>> matrix;
  std::vector<std::string> order;  // Properties, in report order.
  std::set<std::string> caught;
  for (const BrokenCell& c : cells) {
    std::string report;
    const std::map<std::string, std::string> outcomes =
        Verify(c, &report, &order);
    ASSERT_FALSE(outcomes.empty()) << c.label << ": no report\n" << report;
    for (const auto& [property, outcome] : outcomes) {
      if (outcome == "fail") caught.insert(property);
      EXPECT_NE(outcome, "error") << c.label << ": " << property << "\n"
                                  << report;
    }
    if (c.must_fail.empty()) {
      for (const auto& [property, outcome] : outcomes) {
        EXPECT_NE(outcome, "fail")
            << c.label << " (a good cell): " << property << "\n"
            << report;
      }
    }
    for (const std::string& property : c.must_fail) {
      const auto it = outcomes.find(property);
      EXPECT_TRUE(it != outcomes.end() && it->second == "fail")
          << c.label << " (" << c.how << ") must fail " << property << "\n"
          << report;
    }
    matrix[c.label] = outcomes;
  }

  // Every property is made to fail by some broken cell, or is a known gap.
  for (const std::string& property : order) {
    EXPECT_TRUE(caught.count(property) > 0 || NotYetBroken().count(property))
        << property << " fails for no broken cell: add one";
    EXPECT_FALSE(caught.count(property) > 0 && NotYetBroken().count(property))
        << property << " is caught now: take it off NotYetBroken()";
  }

  // The matrix, as the README shows it.
  std::string table = "| property |";
  std::string rule = "|---|";
  for (const BrokenCell& c : cells) {
    absl::StrAppend(&table, " ", c.label, " |");
    absl::StrAppend(&rule, ":-:|");
  }
  absl::StrAppend(&table, "\n", rule, "\n");
  for (const std::string& property : order) {
    absl::StrAppend(&table, "| `", property, "` |");
    for (const BrokenCell& c : cells) {
      const auto& outcomes = matrix[c.label];
      const auto it = outcomes.find(property);
      absl::StrAppend(&table, " ", Cell(it == outcomes.end() ? "" : it->second),
                      " |");
    }
    absl::StrAppend(&table, "\n");
  }
  absl::StrAppend(&table,
                  "\n**✗** fail, w warn, · pass, blank: not judged for that "
                  "cell (no Nix).\n\n");
  for (const BrokenCell& c : cells) {
    absl::StrAppend(&table, "- **", c.label, "**: ", c.how, "; `", c.profile,
                    "`",
                    c.must_fail.empty()
                        ? "; a good cell: nothing may fail"
                        : absl::StrCat("; must fail `",
                                       absl::StrJoin(c.must_fail, "`, `"), "`"),
                    "\n");
  }
  absl::StrAppend(
      &table,
      NotYetBroken().empty()
          ? "\nEvery property has a broken cell.\n"
          : absl::StrCat("\nNo broken cell yet for: `",
                         absl::StrJoin(NotYetBroken(), "`, `"), "`.\n"));
  if (const char* out = std::getenv("TEST_UNDECLARED_OUTPUTS_DIR")) {
    std::ofstream(absl::StrCat(out, "/broken-cells.md")) << table;
  }
  EXPECT_EQ(ReadmeMatrix(readme_), table)
      << "README.md's broken-cell matrix is out of date: run "
         "tools/update_readme_tables.sh";
}

}  // namespace
}  // namespace cell::testing

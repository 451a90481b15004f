// cell-verify: does this cell really have the properties its spec and our
// documentation promise, and does it satisfy my policy? Checks the spec
// statically, then runs cell-probe inside a real cell (through the `cell`
// binary, as a user would) and judges the facts. Flags live only here.
//
// Exit: 0 every property passed (warnings allowed), 1 a property failed,
// 2 usage or setup error. With --threshold=N: 1 when the exposure score
// (policy/score.h) is above N or a property is an error, else 0.
#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/fs_util.h"
#include "base/json_text.h"
#include "base/loopback.h"
#include "base/status_macros.h"
#include "base/subprocess.h"
#include "launcher/proxy/address_policy.h"
#include "launcher/proxy/filter.h"
#include "launcher/proxy/host_filter.h"
#include "launcher/spec/host_identity.h"
#include "launcher/spec/spec.h"
#include "nlohmann/json.hpp"
#include "policy/command_view.h"
#include "policy/evaluate.h"
#include "policy/host_checks.h"
#include "policy/http_canary.h"
#include "policy/policy.h"
#include "policy/report.h"
#include "policy/score.h"
#include "policy/static_rules.h"
#include "probes/host.h"

namespace {

using ::cell::policy::Observation;
using ::cell::policy::Policy;
using ::cell::policy::PropertyResult;
using Json = nlohmann::json;

constexpr int kExitPass = 0;
constexpr int kExitFail = 1;
constexpr int kExitError = 2;

// Whether the builtin engine would connect to `host` (the canary, on host
// loopback): one of its addresses is public, or named by a filter line
// that allows the host (launcher/proxy/address_policy.h), as the engine asks.
absl::StatusOr<bool> LoopbackAllowed(
    const std::vector<cell::FilterPattern>& patterns, const std::string& host,
    bool has_filter) {
  if (!has_filter) return false;  // No line names any address.
  CELL_ASSIGN_OR_RETURN(cell::HostFilter filter,
                        cell::HostFilter::Compile(patterns, "filter"));
  const std::vector<std::string> allowing = filter.MatchingPatterns(host);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* result = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &result) != 0) return false;
  bool allowed = false;
  for (addrinfo* ai = result; ai != nullptr; ai = ai->ai_next) {
    const sockaddr& address = *ai->ai_addr;
    allowed = allowed ||
              cell::ClassifyAddress(address) == cell::AddressKind::kPublic ||
              std::any_of(allowing.begin(), allowing.end(),
                          [&address](const std::string& line) {
                            return cell::LineNamesAddress(line, address);
                          });
  }
  freeaddrinfo(result);
  return allowed;
}

// The canary: a listening socket on the host's loopback. The proxy is asked
// to CONNECT to it under two names; the filter (as the static analysis
// reads it, with the builtin engine's address rule) decides which should
// succeed, and the proxy must agree. Nothing leaves the machine: both names
// are the host's loopback.
// The first two are the proxy property's; the rest, other spellings of the
// same loopback address a client or resolver accepts, are proxy-hostile's:
// each must get what the filter means for it, never more.
constexpr const char* kCanaryHosts[] = {
    "127.0.0.1",  "localhost",    "0",          "127.1",     "2130706433",
    "0x7f000001", "017700000001", "localhost.", "LOCALHOST", "127.000.000.001"};

constexpr char kUsage[] =
    R"(Usage: cell-verify --spec=FILE [--policy=FILE | --profile=NAME]
                   [--format=text|json|junit] [--output=FILE] [--static-only]
                   [--cell=PATH] [--probe=PATH] [--threshold=N]

Checks a cell before you deploy an agent into it: the spec against a policy
(mounts, env, isolation, the domain filter), then the cell itself: it runs
cell-probe inside a real cell built from the spec and compares what the probe
observes with what the spec and SPEC.md promise, property by property.

  --spec=FILE        the cell spec (as for `cell run --spec`)
  --policy=FILE      a policy file (JSON), or
  --profile=NAME     a shipped policy: documented (default; the cell behaves
                     exactly as documented, unsafe defaults included) or
                     agent-strict (what we recommend for agents)
  --format=FORMAT    text (default), json or junit
  --output=FILE      write the report there instead of stdout
  --static-only      check the spec and policy only; launch nothing
  --cell=PATH        the cell launcher (default: beside cell-verify, its
                     Bazel runfiles, or PATH)
  --probe=PATH       the cell-probe binary (likewise)
  --threshold=N      exit 1 only when the exposure score (0-10, weighted as
                     README.md says; decimals allowed) is above N, or a
                     property could not be judged (an error)

Exit status: 0 all properties passed (warnings allowed), 1 a property
failed, 2 usage or setup error. With --threshold, 0 or 1 as it says.
)";

struct Flags {
  std::string spec;
  std::string policy_file;
  std::string profile = "documented";
  std::string format = "text";
  std::string output;
  bool static_only = false;
  std::string cell;
  std::string probe;
  std::optional<double> threshold;  // --threshold: exit by the score.
};

absl::StatusOr<Flags> ParseFlags(int argc, char** argv, bool* help) {
  Flags flags;
  bool profile_given = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      *help = true;
      return flags;
    }
    if (arg == "--static-only") {
      flags.static_only = true;
      continue;
    }
    const size_t equals = arg.find('=');
    if (!absl::StartsWith(arg, "--") || equals == std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected argument '", arg, "' (see --help)"));
    }
    const std::string name = arg.substr(2, equals - 2);
    const std::string value = arg.substr(equals + 1);
    if (name == "spec") {
      flags.spec = value;
    } else if (name == "policy") {
      flags.policy_file = value;
    } else if (name == "profile") {
      flags.profile = value;
      profile_given = true;
    } else if (name == "format") {
      if (value != "text" && value != "json" && value != "junit") {
        return absl::InvalidArgumentError(
            absl::StrCat("--format=", value, ": expected text, json or junit"));
      }
      flags.format = value;
    } else if (name == "output") {
      flags.output = value;
    } else if (name == "cell") {
      flags.cell = value;
    } else if (name == "probe") {
      flags.probe = value;
    } else if (name == "threshold") {
      CELL_ASSIGN_OR_RETURN(flags.threshold,
                            cell::policy::ParseThreshold(value));
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag --", name, " (see --help)"));
    }
  }
  if (flags.spec.empty()) {
    return absl::InvalidArgumentError("--spec=FILE is required (see --help)");
  }
  if (!flags.policy_file.empty() && profile_given) {
    return absl::InvalidArgumentError(
        "give either --policy or --profile, not both");
  }
  return flags;
}

std::string SelfPath() {
  char buffer[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", buffer, sizeof(buffer) - 1);
  return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : "";
}

bool Executable(const std::string& path) {
  return !path.empty() && access(path.c_str(), X_OK) == 0;
}

// `name` from a flag, Bazel runfiles, beside this binary, or PATH.
absl::StatusOr<std::string> FindTool(const std::string& flag,
                                     const std::string& name,
                                     const std::string& runfile) {
  if (!flag.empty()) {
    if (Executable(flag)) return flag;
    return absl::NotFoundError(absl::StrCat(flag, " is not executable"));
  }
  const std::string self = SelfPath();
  const std::string dir = self.substr(0, self.rfind('/'));
  std::vector<std::string> candidates;
  for (const char* root : {"RUNFILES_DIR", "TEST_SRCDIR"}) {
    if (const char* value = std::getenv(root)) {
      candidates.push_back(absl::StrCat(value, "/cell/", runfile));
    }
  }
  candidates.push_back(absl::StrCat(self, ".runfiles/cell/", runfile));
  candidates.push_back(absl::StrCat(dir, "/", name));
  if (const char* path = std::getenv("PATH")) {
    for (absl::string_view entry :
         absl::StrSplit(path, ':', absl::SkipEmpty())) {
      candidates.push_back(absl::StrCat(entry, "/", name));
    }
  }
  for (const std::string& candidate : candidates) {
    if (Executable(candidate)) return candidate;
  }
  return absl::NotFoundError(absl::StrCat(
      "cannot find ", name, "; build it (bazel build //...) or pass --",
      name == "cell" ? "cell" : "probe", "=PATH"));
}

// The spec resolved by `cell check-spec`, exactly as `cell run` will see it.
absl::StatusOr<cell::CellSpec> ResolvedSpec(const std::string& cell,
                                            const std::string& spec_file) {
  CELL_ASSIGN_OR_RETURN(
      cell::SubprocessResult result,
      cell::RunSubprocess(
          {cell, "check-spec", absl::StrCat("--spec=", spec_file)}));
  if (result.exit_code != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("the spec does not check: ",
                     absl::StripTrailingAsciiWhitespace(result.stderr_text)));
  }
  CELL_ASSIGN_OR_RETURN(Json json,
                        cell::ParseJsonText(result.stdout_text, "check-spec"));
  return cell::SpecFromJson(json);
}

// A private copy of the probe to bind into the cell (the original may be a
// symlink into a tree the cell cannot see).
absl::StatusOr<std::string> StageProbe(const std::string& probe,
                                       const std::string& work) {
  const std::string dir = work + "/probes";
  if (mkdir(dir.c_str(), 0755) != 0)
    return cell::ErrnoStatus(errno, "mkdir " + dir);
  std::ifstream in(probe, std::ios::binary);
  std::ofstream out(dir + "/cell-probe", std::ios::binary);
  out << in.rdbuf();
  out.close();
  if (!in.good() && !in.eof()) {
    return absl::InternalError(absl::StrCat("cannot copy ", probe));
  }
  if (chmod((dir + "/cell-probe").c_str(), 0755) != 0) {
    return cell::ErrnoStatus(errno, "chmod");
  }
  return dir;
}

// A pty of cell-verify's own to start the cell under: the stand-in for the
// terminal of a person who runs an agent, so that the terminal property
// means the same in CI (no terminal) as at a desk. Nothing the cell pushes
// into it reaches a real terminal. The master is drained on a thread so
// that output into the pty can never block the cell.
class StandInTerminal {
 public:
  static absl::StatusOr<std::unique_ptr<StandInTerminal>> Open() {
    const int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0) return cell::ErrnoStatus(errno, "posix_openpt");
    std::unique_ptr<StandInTerminal> terminal(new StandInTerminal(master));
    const char* name = unlockpt(master) == 0 ? ptsname(master) : nullptr;
    if (name == nullptr) return cell::ErrnoStatus(errno, "unlockpt/ptsname");
    terminal->slave_ = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    struct stat info;
    if (terminal->slave_ < 0 || fstat(terminal->slave_, &info) != 0) {
      return cell::ErrnoStatus(errno, absl::StrCat("open ", name));
    }
    terminal->identity_ = absl::StrCat(info.st_dev, ":", info.st_ino);
    // Raw: every byte pushed into its input counts (FIONREAD), lines or not.
    termios mode;
    if (tcgetattr(terminal->slave_, &mode) != 0) {
      return cell::ErrnoStatus(errno, "tcgetattr");
    }
    cfmakeraw(&mode);
    if (tcsetattr(terminal->slave_, TCSANOW, &mode) != 0) {
      return cell::ErrnoStatus(errno, "tcsetattr");
    }
    StandInTerminal* raw = terminal.get();
    terminal->drain_ = std::thread([raw] {
      char buffer[4096];
      while (!raw->stop_) {
        pollfd event = {raw->master_, POLLIN, 0};
        if (poll(&event, 1, 100) > 0 &&
            read(raw->master_, buffer, sizeof(buffer)) < 0 && errno != EIO &&
            errno != EAGAIN && errno != EINTR) {
          return;
        }
      }
    });
    return terminal;
  }
  ~StandInTerminal() {
    stop_ = true;
    if (drain_.joinable()) drain_.join();
    if (slave_ >= 0) close(slave_);
    close(master_);
  }
  int slave() const { return slave_; }
  // Bytes waiting in its input: nothing but the cell can have put them.
  int PendingInput() const {
    int bytes = 0;
    return ioctl(slave_, FIONREAD, &bytes) == 0 ? bytes : -1;
  }
  // "DEV:INO" of the slave, as the probe compares it.
  const std::string& identity() const { return identity_; }

 private:
  explicit StandInTerminal(int master) : master_(master) {}
  int master_;
  int slave_ = -1;
  std::string identity_;
  std::atomic<bool> stop_{false};
  std::thread drain_;
};

// A small text file, or "" when it cannot be read.
std::string FileText(const std::string& path) {
  absl::StatusOr<std::string> text = cell::ReadFileToString(path, 1 << 20);
  return text.ok() ? *std::move(text) : "";
}

// While the probe waits: the command as the host sees it. The launcher
// names the process it started in the status file's "started" event (the
// command, or the cell's init whose child it is).
void InspectCommand(const std::string& status_file, pid_t launcher,
                    Observation* observation) {
  observation->host_root_id = cell::policy::IdentityOf("/");
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  pid_t started = 0;
  while (started == 0 && absl::Now() < deadline &&
         cell::probes::ProcessGone(launcher) == false) {
    for (absl::string_view line :
         absl::StrSplit(FileText(status_file), '\n', absl::SkipEmpty())) {
      const Json event = Json::parse(line.begin(), line.end(), nullptr, false);
      if (event.is_object() && event.value("event", "") == "started" &&
          event.contains("pid") && event["pid"].is_number_integer()) {
        started = event["pid"].get<pid_t>();
      }
    }
    if (started == 0) absl::SleepFor(absl::Milliseconds(2));
  }
  if (started == 0) return;
  std::optional<pid_t> command;
  for (int i = 0; i < 250 && !command.has_value(); ++i) {
    command = cell::policy::FindCommand(started, "/cell-probe");
    if (!command.has_value()) absl::SleepFor(absl::Milliseconds(2));
  }
  if (!command.has_value()) return;
  std::optional<cell::policy::CommandView> view =
      cell::policy::ViewCommand(*command);
  if (!view.has_value()) return;
  observation->command_inspected = true;
  observation->command_descriptors = std::move(view->descriptors);
  observation->command_cwd_ids = std::move(view->cwd_ids);
  observation->command_root_ids = std::move(view->root_ids);
}

// Runs the probes in a cell built from the spec; fills `observation`.
absl::Status ObserveCell(const Flags& flags, const cell::CellSpec& spec,
                         const std::string& cell, const std::string& probe,
                         Observation* observation) {
  char work_template[] = "/tmp/cell-verify.XXXXXX";
  if (mkdtemp(work_template) == nullptr) {
    return cell::ErrnoStatus(errno, "mkdtemp /tmp/cell-verify.XXXXXX");
  }
  const std::string work = work_template;
  chmod(work.c_str(), 0755);
  struct Cleanup {
    std::string path;
    ~Cleanup() { (void)cell::RemoveTree(path); }
  } cleanup{work};
  CELL_ASSIGN_OR_RETURN(std::string probe_dir, StageProbe(probe, work));

  // The kernel completes the proxy's connection from the backlog, so
  // nothing needs to accept().
  CELL_ASSIGN_OR_RETURN(auto canary, cell::ListenOnLoopback(16));
  struct CloseFd {
    int fd;
    ~CloseFd() { close(fd); }
  } close_canary{canary.first};
  std::vector<cell::FilterPattern> patterns;
  if (spec.tinyproxy_filter.has_value()) {
    CELL_ASSIGN_OR_RETURN(patterns,
                          cell::LoadFilterFile(*spec.tinyproxy_filter));
  }
  // What the proxy should answer for `host`: 200 where the filter allows
  // it, else 403.
  auto expected_status = [&](const std::string& host) -> absl::StatusOr<int> {
    bool allowed = !spec.tinyproxy_filter.has_value() ||
                   cell::FilterAllows(patterns, host);
    // The builtin engine also refuses the canary's loopback address unless
    // a line allowing the host names it (tinyproxy cannot tell).
    if (allowed && spec.network.engine == cell::EngineKind::kBuiltin) {
      CELL_ASSIGN_OR_RETURN(
          bool reachable,
          LoopbackAllowed(patterns, host, spec.tinyproxy_filter.has_value()));
      allowed = reachable;
    }
    return allowed ? 200 : 403;
  };
  std::vector<std::string> connect_flags;
  for (const char* host : kCanaryHosts) {
    connect_flags.push_back(
        absl::StrCat("--connect=", host, ":", canary.second));
    CELL_ASSIGN_OR_RETURN(int status, expected_status(host));
    observation->expected_connect_statuses.push_back(status);
  }
  // The HTTP canary, on another port of the same loopback: plain GETs whose
  // Host header names another virtual host than the request line. The proxy
  // must judge the request line, and send upstream the Host it judged.
  CELL_ASSIGN_OR_RETURN(std::unique_ptr<cell::policy::HttpCanary> http_canary,
                        cell::policy::HttpCanary::Start());
  const std::string http_canary_at =
      absl::StrCat("127.0.0.1:", http_canary->port());
  for (const auto& [host, header] :
       {std::pair<std::string, std::string>{"127.0.0.1",
                                            "zz-cell-canary.invalid"},
        {"localhost", http_canary_at},
        {"zz-cell-canary.invalid", http_canary_at}}) {
    connect_flags.push_back(
        absl::StrCat("--get=", host, ":", http_canary->port(), "@", header));
    CELL_ASSIGN_OR_RETURN(int status, expected_status(host));
    observation->expected_get_statuses.push_back(status);
  }
  const std::string status_file = work + "/status.jsonl";
  CELL_ASSIGN_OR_RETURN(std::unique_ptr<StandInTerminal> terminal,
                        StandInTerminal::Open());
  // The abstract-socket canary: listening in this (the host's) network
  // namespace; a cell has its own, where the name must not answer. The
  // kernel completes a connection from the backlog: nothing accepts.
  const std::string abstract_name = absl::StrCat(
      "cell-verify-canary-", getpid(), "-", work.substr(work.rfind('.') + 1));
  const int abstract_canary = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (abstract_canary < 0) return cell::ErrnoStatus(errno, "socket(AF_UNIX)");
  CloseFd close_abstract{abstract_canary};
  sockaddr_un abstract_address{};
  abstract_address.sun_family = AF_UNIX;
  std::memcpy(abstract_address.sun_path + 1, abstract_name.data(),
              abstract_name.size());
  if (bind(abstract_canary, reinterpret_cast<sockaddr*>(&abstract_address),
           static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 +
                                  abstract_name.size())) != 0 ||
      listen(abstract_canary, 4) != 0) {
    return cell::ErrnoStatus(errno, "the abstract-socket canary");
  }
  cell::SubprocessOptions options;
  options.timeout = absl::Minutes(2);
  options.controlling_terminal = terminal->slave();
  std::vector<std::string> argv = {
      cell,
      "run",
      absl::StrCat("--spec=", flags.spec),
      absl::StrCat("--ro-bind=", probe_dir, ":/run/cell/probes"),
      absl::StrCat("--status-file=", status_file),
      "--",
      "/run/cell/probes/cell-probe",
      "all",
      "--wait-for=/run/cell/probes/.inspected",
      absl::StrCat("--host-pid=", getpid()),
      absl::StrCat("--caller-tty=", terminal->identity()),
      absl::StrCat("--abstract-canary=", abstract_name)};
  // The canaries' requests go to an audit log of cell-verify's own, not
  // into the spec's: the cell runs with logDir replaced by a private
  // directory, which the launcher binds exactly as it would the spec's
  // (check-spec has judged the spec's own already). Not when a read-write
  // view of the cell shows the spec's logDir (inside the worktree): the
  // launcher makes that view read-only only for the logDir it runs with,
  // and control-files tries to write it.
  if (spec.log_dir.has_value() &&
      cell::policy::WritableCellViews(spec, *spec.log_dir).empty()) {
    const std::string log_dir = work + "/log";
    if (mkdir(log_dir.c_str(), 0755) != 0) {
      return cell::ErrnoStatus(errno, "mkdir " + log_dir);
    }
    argv.insert(argv.begin() + 2, absl::StrCat("--log-dir=", log_dir));
  }
  if (const int forks = cell::policy::ForkTestCount(spec); forks > 0) {
    argv.push_back(absl::StrCat("--fork-max=", forks));
  }
  if (const int mib = cell::policy::MemoryTestMiB(spec); mib > 0) {
    argv.push_back(absl::StrCat("--alloc-mib=", mib));
  }
  for (const auto& [path, what] : observation->control_paths) {
    argv.push_back(absl::StrCat("--try-write=", path));
  }
  argv.insert(argv.end(), connect_flags.begin(), connect_flags.end());
  // The probe waits (--wait-for) until the host has looked at it
  // (descriptors, cwd, root, as the launcher's exec left them), then runs.
  const std::string inspected = probe_dir + "/.inspected";
  CELL_ASSIGN_OR_RETURN(cell::Subprocess process,
                        cell::Subprocess::Start(argv, options));
  InspectCommand(status_file, process.pid(), observation);
  (void)cell::WriteNewFile(inspected, "", 0644);
  CELL_ASSIGN_OR_RETURN(cell::SubprocessResult run, process.Wait());
  if (run.exit_code == 125 || run.exit_code == 126 || run.exit_code == 127) {
    return absl::FailedPreconditionError(
        absl::StrCat("the cell did not start: ",
                     absl::StripTrailingAsciiWhitespace(run.stderr_text)));
  }
  observation->facts = cell::policy::ParseProbeFacts(run.stdout_text);
  observation->caller_terminal_input = terminal->PendingInput();
  // What only the host can see, after the run.
  Json started;
  for (absl::string_view line :
       absl::StrSplit(FileText(status_file), '\n', absl::SkipEmpty())) {
    const Json event = Json::parse(line.begin(), line.end(), nullptr, false);
    if (event.is_object() && event.value("event", "") == "started") {
      started = event;
    }
  }
  // Written by our launcher, but read with type checks all the same: a
  // wrong type must not throw.
  if (started.is_object()) {
    const auto jd = started.find("jd");
    observation->jd_removed = jd != started.end() && jd->is_string() &&
                              cell::probes::PathGone(jd->get<std::string>());
    for (const auto& [field, gone] :
         {std::pair{"proxyPid", &observation->proxy_gone},
          std::pair{"pid", &observation->command_gone}}) {
      const auto pid = started.find(field);
      if (pid != started.end() && pid->is_number_integer()) {
        *gone = cell::probes::ProcessGone(pid->get<pid_t>());
      }
    }
  }
  return absl::OkStatus();
}

// The host ids the cell runs as: this process's (the launcher it starts
// inherits them), or those of `hostUser`.
std::pair<uid_t, gid_t> CellHostIds(const cell::CellSpec& spec) {
  absl::StatusOr<cell::HostIdentity> identity = cell::ResolveHostIdentity(
      spec.host_user, getuid(), getgid(), FileText("/etc/passwd"),
      FileText("/etc/group"));
  if (!identity.ok()) return {getuid(), getgid()};  // The launch says why.
  return {identity->uid, identity->gid};
}

// The host side of the control-files and bind-sources properties: what
// must stay read-only inside, and the spec's paths as its file names them.
absl::Status CheckHostPaths(const Flags& flags, const cell::CellSpec& spec,
                            const std::string& cell_binary,
                            Observation* observation) {
  std::map<std::string, std::string> control;
  for (const auto& [path, what] :
       {std::pair{flags.spec, "the spec"}, std::pair{cell_binary, "cell"}}) {
    char real[PATH_MAX];
    if (realpath(path.c_str(), real) != nullptr) control[real] = what;
  }
  if (spec.tinyproxy_filter.has_value()) {
    control[*spec.tinyproxy_filter] = "the filter";
  }
  observation->control_paths = cell::policy::ControlPaths(spec, control);
  CELL_ASSIGN_OR_RETURN(
      std::string text,
      cell::ReadFileToString(flags.spec, cell::kMaxJsonTextBytes));
  CELL_ASSIGN_OR_RETURN(Json raw, cell::ParseJsonText(text, flags.spec));
  observation->host_path_problems = cell::policy::HostPathProblems(raw, spec);
  const int worktree = open(spec.worktree_path.c_str(),
                            O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
  struct stat info;
  if (worktree >= 0 && fstat(worktree, &info) == 0) {
    observation->host_worktree_id = absl::StrCat(info.st_dev, ":", info.st_ino);
  }
  if (worktree >= 0) close(worktree);
  return absl::OkStatus();
}

Observation HostFacts(const cell::CellSpec& spec) {
  Observation observation;
  observation.host_namespaces = cell::probes::HostNamespaceInodes();
  std::string comm = FileText("/proc/1/comm");
  while (!comm.empty() && comm.back() == '\n') comm.pop_back();
  observation.host_pid1_comm = comm;
  observation.host_capability_count =
      std::atoi(FileText("/proc/sys/kernel/cap_last_cap").c_str()) + 1;
  std::tie(observation.uid, observation.gid) = CellHostIds(spec);
  // What a cell without `limits` inherits: this process's, which the
  // launcher it starts inherits in turn.
  for (const auto& [name, resource] : cell::RlimitResources()) {
    rlimit limit;
    if (getrlimit(resource, &limit) == 0) {
      observation.host_rlimits[std::string(name)] =
          cell::policy::RlimitFacts(limit.rlim_cur, limit.rlim_max);
    }
  }
  for (absl::string_view line :
       absl::StrSplit(FileText("/proc/self/cgroup"), '\n', absl::SkipEmpty())) {
    std::vector<std::string> fields =
        absl::StrSplit(line, absl::MaxSplits(':', 2));
    if (fields.size() == 3) observation.host_cgroups[fields[1]] = fields[2];
  }
  return observation;
}

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "cell-verify: %s\n",
               std::string(status.message()).c_str());
  return kExitError;
}

}  // namespace

int main(int argc, char** argv) {
  bool help = false;
  absl::StatusOr<Flags> flags = ParseFlags(argc, argv, &help);
  if (help) {
    std::fputs(kUsage, stdout);
    return kExitPass;
  }
  if (!flags.ok()) return Fail(flags.status());

  absl::StatusOr<Policy> policy =
      flags->policy_file.empty() ? cell::policy::BuiltinProfile(flags->profile)
                                 : [&]() -> absl::StatusOr<Policy> {
    CELL_ASSIGN_OR_RETURN(
        std::string text,
        cell::ReadFileToString(flags->policy_file, cell::kMaxJsonTextBytes));
    return cell::policy::ParsePolicy(text, flags->policy_file);
  }();
  if (!policy.ok()) return Fail(policy.status());
  absl::StatusOr<std::string> cell_binary =
      FindTool(flags->cell, "cell", "launcher/cell");
  if (!cell_binary.ok()) return Fail(cell_binary.status());
  absl::StatusOr<cell::CellSpec> spec = ResolvedSpec(*cell_binary, flags->spec);
  if (!spec.ok()) return Fail(spec.status());

  const char* home = std::getenv("HOME");
  absl::StatusOr<std::vector<cell::policy::Finding>> findings =
      cell::policy::CheckSpecStatically(*spec, *policy, home ? home : "/",
                                        CellHostIds(*spec).first);
  if (!findings.ok()) return Fail(findings.status());

  cell::policy::Report report;
  report.spec = flags->spec;
  report.policy = policy->name;
  report.static_only = flags->static_only;
  report.threshold = flags->threshold;
  report.colour = flags->format == "text" && flags->output.empty() &&
                  isatty(STDOUT_FILENO) && std::getenv("NO_COLOR") == nullptr;
  if (flags->static_only) {
    report.results = cell::policy::EvaluateStatic(*policy, *findings);
  } else {
    absl::StatusOr<std::string> probe =
        FindTool(flags->probe, "cell-probe", "probes/cell-probe");
    if (!probe.ok()) return Fail(probe.status());
    std::fprintf(stderr,
                 "cell-verify: running the probes in a cell built from %s\n",
                 flags->spec.c_str());
    Observation observation = HostFacts(*spec);
    const absl::Status host_paths =
        CheckHostPaths(*flags, *spec, *cell_binary, &observation);
    if (!host_paths.ok()) return Fail(host_paths);
    const absl::Status observed =
        ObserveCell(*flags, *spec, *cell_binary, *probe, &observation);
    if (!observed.ok()) return Fail(observed);
    report.results =
        cell::policy::Evaluate(*spec, *policy, observation, *findings);
  }

  const std::string text = flags->format == "json"    ? FormatJson(report)
                           : flags->format == "junit" ? FormatJunit(report)
                                                      : FormatText(report);
  if (flags->output.empty()) {
    std::fputs(text.c_str(), stdout);
  } else {
    std::ofstream out(flags->output);
    out << text;
    out.close();
    if (!out.good()) {
      return Fail(absl::InternalError(
          absl::StrCat("--output: cannot write ", flags->output)));
    }
  }
  return cell::policy::Acceptable(report.results, flags->threshold) ? kExitPass
                                                                    : kExitFail;
}

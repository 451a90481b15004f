#include "policy/probe_run.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <cstring>
#include <fstream>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "base/fs_util.h"
#include "base/loopback.h"
#include "base/status_macros.h"
#include "policy/command_view.h"
#include "policy/evaluate.h"
#include "policy/http_canary.h"
#include "probes/host.h"

namespace cell::policy {
namespace {

// The TCP canary's names: the first two are the proxy property's; the
// rest, other spellings of the same loopback address a client or resolver
// accepts, are proxy-hostile's: each must get what the filter means for
// it, never more.
// The IPv4-mapped IPv6 forms reach an IPv4 listener too (found in review:
// a proxy that refused the ten others let "[::ffff:127.0.0.1]" through).
constexpr const char* kCanaryHosts[] = {
    "127.0.0.1",       "localhost",          "0",
    "127.1",           "2130706433",         "0x7f000001",
    "017700000001",    "localhost.",         "LOCALHOST",
    "127.000.000.001", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]"};

// A pty of cell-verify's own to start the run under: the stand-in for the
// terminal of a person who runs an agent, so that the terminal property
// means the same in CI (no terminal) as at a desk. Nothing the cell pushes
// into it reaches a real terminal. The master is drained on a thread so
// that output into the pty can never block the cell.
class StandInTerminal {
 public:
  static absl::StatusOr<std::unique_ptr<StandInTerminal>> Open() {
    const int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0) return ErrnoStatus(errno, "posix_openpt");
    std::unique_ptr<StandInTerminal> terminal(new StandInTerminal(master));
    const char* name = unlockpt(master) == 0 ? ptsname(master) : nullptr;
    if (name == nullptr) return ErrnoStatus(errno, "unlockpt/ptsname");
    terminal->slave_ = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    struct stat info;
    if (terminal->slave_ < 0 || fstat(terminal->slave_, &info) != 0) {
      return ErrnoStatus(errno, absl::StrCat("open ", name));
    }
    terminal->identity_ = absl::StrCat(info.st_dev, ":", info.st_ino);
    // Raw: every byte pushed into its input counts (FIONREAD), lines or not.
    termios mode;
    if (tcgetattr(terminal->slave_, &mode) != 0) {
      return ErrnoStatus(errno, "tcgetattr");
    }
    cfmakeraw(&mode);
    if (tcsetattr(terminal->slave_, TCSANOW, &mode) != 0) {
      return ErrnoStatus(errno, "tcsetattr");
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

// The work directory of the run in progress ("" when none), for
// CleanUpRunInProgress on the signal thread.
std::mutex run_in_progress_mutex;
std::string& RunInProgress() {
  static std::string* work = new std::string();
  return *work;
}

}  // namespace

void CleanUpRunInProgress() {
  std::lock_guard<std::mutex> lock(run_in_progress_mutex);
  KillLeftoverChildren(absl::ZeroDuration());
  const std::string& work = RunInProgress();
  if (!work.empty()) {
    // Renamed first, in one step: the main thread may still write into the
    // work directory (the probe's go-ahead) while it is being removed.
    const std::string stopped = work + ".stopped";
    (void)RemoveTree(rename(work.c_str(), stopped.c_str()) == 0 ? stopped
                                                                : work);
  }
  RunInProgress().clear();
}

// The listeners the probe must reach only as the filter allows (through
// the proxy), or not at all (the abstract socket), and the pty.
class ProbeRun::Canaries {
 public:
  ~Canaries() {
    if (tcp_ >= 0) close(tcp_);
    if (abstract_ >= 0) close(abstract_);
  }
  int tcp_ = -1;
  int tcp_port_ = 0;
  std::unique_ptr<HttpCanary> http_;
  int abstract_ = -1;
  std::string abstract_name_;
  std::unique_ptr<StandInTerminal> terminal_;
};

absl::StatusOr<std::unique_ptr<ProbeRun>> ProbeRun::Prepare(
    const std::string& probe) {
  std::unique_ptr<ProbeRun> run(new ProbeRun());
  char work_template[] = "/tmp/cell-verify.XXXXXX";
  if (mkdtemp(work_template) == nullptr) {
    return ErrnoStatus(errno, "mkdtemp /tmp/cell-verify.XXXXXX");
  }
  run->work_ = work_template;
  {
    std::lock_guard<std::mutex> lock(run_in_progress_mutex);
    RunInProgress() = run->work_;
  }
  // Readable by a cell of another host user (hostUser), and by a sandbox
  // that drops to another uid.
  chmod(run->work_.c_str(), 0755);
  // A private copy to show inside (the original may be a symlink into a
  // tree the cell cannot see).
  const std::string dir = run->probe_dir();
  if (mkdir(dir.c_str(), 0755) != 0) return ErrnoStatus(errno, "mkdir " + dir);
  {
    std::ifstream in(probe, std::ios::binary);
    std::ofstream out(dir + "/cell-probe", std::ios::binary);
    out << in.rdbuf();
    out.close();
    if (!in.good() || !out.good()) {
      return absl::InternalError(absl::StrCat("cannot copy ", probe));
    }
  }
  if (chmod((dir + "/cell-probe").c_str(), 0755) != 0) {
    return ErrnoStatus(errno, "chmod");
  }
  run->canaries_ = std::make_unique<Canaries>();
  Canaries& canaries = *run->canaries_;
  // The kernel completes the proxy's connection from the backlog, so
  // nothing needs to accept().
  CELL_ASSIGN_OR_RETURN(auto tcp, ListenOnLoopback(16));
  std::tie(canaries.tcp_, canaries.tcp_port_) = tcp;
  CELL_ASSIGN_OR_RETURN(canaries.http_, HttpCanary::Start());
  CELL_ASSIGN_OR_RETURN(canaries.terminal_, StandInTerminal::Open());
  // Listening in this (the host's) network namespace; a cell has its own,
  // where the name must not answer.
  canaries.abstract_name_ =
      absl::StrCat("cell-verify-canary-", getpid(), "-",
                   run->work_.substr(run->work_.rfind('.') + 1));
  canaries.abstract_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (canaries.abstract_ < 0) return ErrnoStatus(errno, "socket(AF_UNIX)");
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path + 1, canaries.abstract_name_.data(),
              canaries.abstract_name_.size());
  if (bind(canaries.abstract_, reinterpret_cast<sockaddr*>(&address),
           static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 +
                                  canaries.abstract_name_.size())) != 0 ||
      listen(canaries.abstract_, 4) != 0) {
    return ErrnoStatus(errno, "the abstract-socket canary");
  }
  return run;
}

ProbeRun::~ProbeRun() {
  canaries_.reset();
  std::lock_guard<std::mutex> lock(run_in_progress_mutex);
  if (!work_.empty()) (void)RemoveTree(work_);
  RunInProgress().clear();
}

void ProbeRun::InspectCommand(pid_t command, pid_t session,
                              Observation* observation) const {
  if (std::optional<CommandView> view = ViewCommand(command);
      view.has_value()) {
    observation->command_inspected = true;
    observation->command_descriptors = std::move(view->descriptors);
    observation->command_cwd_ids = std::move(view->cwd_ids);
    observation->command_root_ids = std::move(view->root_ids);
    observation->command_cgroups = view->cgroups;
  }
  // Its namespaces and network, read here where the sandbox cannot forge
  // them (found in review: a fake /proc showed the probe only lo).
  const std::string dir = absl::StrCat("/proc/", command);
  observation->command_namespaces = probes::NamespaceInodesOf(dir);
  const probes::NetworkView network = probes::NetworkOf(dir);
  if (!network.interfaces.empty()) {
    observation->command_network = {{"interfaces", network.interfaces},
                                    {"ipv4Routes", network.ipv4_routes},
                                    {"ipv4Default", network.ipv4_default},
                                    {"ipv6Default", network.ipv6_default}};
  }
  // The session the stand-in terminal controls is the one Subprocess
  // started: the command must have left it.
  if (const std::optional<ProcessStat> stat = StatOf(command);
      stat.has_value()) {
    observation->command_in_caller_session = stat->session == session;
  }
}

absl::StatusOr<std::vector<std::string>> ProbeRun::ProbeCommand(
    const std::string& probes_inside, const ExpectedStatus& expect,
    const std::vector<std::string>& extra, Observation* observation) {
  std::vector<std::string> argv = {
      absl::StrCat(probes_inside, "/cell-probe"), "all",
      // The probe waits until the host has looked at it (descriptors, cwd,
      // root, as the exec left them), then runs.
      absl::StrCat("--wait-for=", probes_inside, "/.inspected"),
      absl::StrCat("--host-pid=", getpid()),
      absl::StrCat("--caller-tty=", canaries_->terminal_->identity()),
      absl::StrCat("--abstract-canary=", canaries_->abstract_name_)};
  argv.insert(argv.end(), extra.begin(), extra.end());
  for (const char* host : kCanaryHosts) {
    argv.push_back(absl::StrCat("--connect=", host, ":", canaries_->tcp_port_));
    CELL_ASSIGN_OR_RETURN(int status, expect(host));
    observation->expected_connect_statuses.push_back(status);
  }
  // The HTTP canary, on another port of the same loopback: plain GETs whose
  // Host header names another virtual host than the request line. The proxy
  // must judge the request line, and send upstream the Host it judged.
  const int port = canaries_->http_->port();
  const std::string at = absl::StrCat("127.0.0.1:", port);
  for (const auto& [host, header] : {std::pair<std::string, std::string>{
                                         "127.0.0.1", "zz-cell-canary.invalid"},
                                     {"localhost", at},
                                     {"zz-cell-canary.invalid", at}}) {
    argv.push_back(absl::StrCat("--get=", host, ":", port, "@", header));
    CELL_ASSIGN_OR_RETURN(int status, expect(host));
    observation->expected_get_statuses.push_back(status);
  }
  return argv;
}

absl::StatusOr<SubprocessResult> ProbeRun::Run(
    const std::vector<std::string>& argv, const StartedProcess& started,
    const std::string& cwd, Observation* observation) {
  // What the run starts and leaves behind comes back to this process, not
  // to init, so that it can be found and killed afterwards.
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
    return ErrnoStatus(errno, "prctl(PR_SET_CHILD_SUBREAPER)");
  }
  SubprocessOptions options;
  options.timeout = absl::Minutes(2);
  options.controlling_terminal = canaries_->terminal_->slave();
  options.cwd = cwd;
  // A sandbox's leftovers may hold its output open.
  options.read_until = SubprocessOptions::ReadUntil::kProcessExits;
  // A descriptor of a host directory handed to what runs, as a careless
  // caller would (runc's CVE-2024-21626 was one: openat(fd, "..") walks
  // the host). The launcher or sandbox must not pass it on; the host sees
  // whether the probe holds it (descriptors).
  const int handed =
      open(work_.c_str(), O_RDONLY | O_DIRECTORY);  // NOLINT: inherited.
  if (handed < 0) return ErrnoStatus(errno, "open " + work_);
  absl::StatusOr<Subprocess> started_process = Subprocess::Start(argv, options);
  close(handed);
  CELL_ASSIGN_OR_RETURN(Subprocess process, std::move(started_process));

  // While the probe waits: the command as the host sees it, found by its
  // executable (the probe's copy, by identity), among what `started` names.
  observation->host_root_id = IdentityOf("/");
  const std::string probe_id = IdentityOf(probe_dir() + "/cell-probe");
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  std::vector<pid_t> commands;
  pid_t from = 0;
  while (commands.empty() && absl::Now() < deadline &&
         !probes::ProcessGone(process.pid())) {
    from = started(process.pid());
    if (from > 0) commands = FindCommands(from, probe_id);
    if (commands.empty()) absl::SleepFor(absl::Milliseconds(2));
  }
  std::optional<pid_t> command;
  if (!commands.empty()) {
    command = commands[0];
    InspectCommand(*command, process.pid(), observation);
    if (commands.size() > 1) {
      observation->command_descriptors.push_back(absl::StrCat(
          commands.size(),
          " processes run the probe's binary at once: the command cannot be "
          "told from a stand-in"));
    }
  }
  (void)WriteNewFile(probe_dir() + "/.inspected", "", 0644);
  CELL_ASSIGN_OR_RETURN(SubprocessResult result, process.Wait());
  if (command.has_value()) {
    observation->command_gone = probes::ProcessGone(*command);
  }
  observation->leftover_processes = KillLeftoverChildren(absl::Seconds(1));
  observation->facts = ParseProbeFacts(result.stdout_text);
  observation->caller_terminal_input = canaries_->terminal_->PendingInput();
  return result;
}

namespace {

// This process's children that still run, by pid and name. A zombie whose
// other threads live on (its leader called exit() alone) runs: waitpid
// cannot reap it, and SIGKILL to its pid ends them all.
std::vector<std::pair<pid_t, std::string>> RunningChildren() {
  const pid_t self = getpid();
  std::vector<std::pair<pid_t, std::string>> running;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return running;
  while (const dirent* entry = readdir(proc)) {
    pid_t pid = 0;
    if (!absl::SimpleAtoi(entry->d_name, &pid)) continue;
    const std::optional<ProcessStat> stat = StatOf(pid);
    if (!stat.has_value() || stat->parent != self) continue;
    bool live = stat->state != 'Z';
    if (!live) {
      DIR* tasks = opendir(absl::StrCat("/proc/", pid, "/task").c_str());
      int count = 0;
      while (tasks != nullptr && readdir(tasks) != nullptr) ++count;
      if (tasks != nullptr) closedir(tasks);
      live = count > 3;  // ".", ".." and the leader.
    }
    if (live) running.emplace_back(pid, stat->name);
  }
  closedir(proc);
  return running;
}

}  // namespace

std::vector<std::string> KillLeftoverChildren(absl::Duration grace) {
  const absl::Time deadline = absl::Now() + grace;
  std::vector<std::pair<pid_t, std::string>> running;
  while (true) {
    while (waitpid(-1, nullptr, WNOHANG) > 0) {
    }
    running = RunningChildren();
    if (running.empty() || absl::Now() >= deadline) break;
    absl::SleepFor(absl::Milliseconds(20));
  }
  // What is killed leaves its own children to this process in turn: until
  // none is left (bounded, against one that forks as fast as it is killed).
  std::vector<std::string> named;
  for (int round = 0; round < 100 && !running.empty(); ++round) {
    for (const auto& [pid, name] : running) {
      named.push_back(absl::StrCat(pid, " ", name));
      kill(pid, SIGKILL);
    }
    for (const auto& [pid, name] : running) waitpid(pid, nullptr, 0);
    while (waitpid(-1, nullptr, WNOHANG) > 0) {
    }
    running = RunningChildren();
  }
  return named;
}

}  // namespace cell::policy

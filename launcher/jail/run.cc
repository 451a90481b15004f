#include "launcher/jail/run.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/fs_util.h"
#include "base/host_path.h"
#include "base/mountinfo.h"
#include "base/outer_runtime.h"
#include "base/status_macros.h"
#include "base/test_faults.h"
#include "launcher/jail/fd_passing.h"
#include "launcher/jail/preflight.h"
#include "launcher/jail/seccomp.h"
#include "launcher/jail/userns.h"
#include "launcher/proxy/engines.h"
#include "nlohmann/json.hpp"

namespace cell {
namespace {

absl::Status MakePipe(UniqueFd* read_end, UniqueFd* write_end) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return ErrnoStatus(errno, "pipe2");
  read_end->Reset(fds[0]);
  write_end->Reset(fds[1]);
  return absl::OkStatus();
}

// A socketpair for handing the launcher one descriptor from the child
// (launcher/jail/fd_passing.h).
absl::Status MakeChannel(UniqueFd* parent_end, UniqueFd* child_end) {
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
    return ErrnoStatus(errno, "socketpair");
  }
  parent_end->Reset(pair[0]);
  child_end->Reset(pair[1]);
  return absl::OkStatus();
}

ExitReport ReportFor(int wait_status) {
  ExitReport report;
  if (WIFEXITED(wait_status)) report.exit_code = WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) report.signal = WTERMSIG(wait_status);
  return report;
}

}  // namespace

int ExitReport::ExitStatus() const {
  if (signal.has_value()) return 128 + *signal;
  return exit_code.value_or(125);
}

int ExitReport::SignalToRaise() const {
  // With a PID namespace the init reports the command's signal N as the
  // exit code 128+N.
  const int number = signal.has_value() ? *signal
                     : exit_code.has_value() && *exit_code > 128
                         ? *exit_code - 128
                         : 0;
  if (number <= 0 || number >= 64) return 0;
  const bool raisable =
      number == SIGINT || number == SIGTERM || number == SIGHUP;
  return raisable && (launcher_signals & (uint64_t{1} << number)) != 0 ? number
                                                                       : 0;
}

CellRun::CellRun(const CellSpec& spec, const RunOptions& options)
    : spec_(spec), options_(options) {}

CellRun::~CellRun() { Teardown(); }

absl::StatusOr<std::unique_ptr<CellRun>> CellRun::Prepare(
    const CellSpec& spec, const RunOptions& options) {
  std::unique_ptr<CellRun> run(new CellRun(spec, options));
  run->run_id_ = NewRunId();
  // The filter is read and checked once, here, by the engine.
  CELL_ASSIGN_OR_RETURN(run->engine_, CreateProxyEngine(spec, run->run_id_));
  CELL_RETURN_IF_ERROR(run->PlanRun());
  return run;
}

absl::StatusOr<CellPlan> CellRun::PlanOnly(const CellSpec& spec,
                                           const RunOptions& options) {
  CELL_RETURN_IF_ERROR(CheckFilter(spec));
  const std::string group_text = IdFileText("/etc/group");
  CELL_ASSIGN_OR_RETURN(
      const HostIdentity identity,
      ResolveHostIdentity(spec.host_user, getuid(), getgid(),
                          IdFileText("/etc/passwd"), group_text));
  CELL_RETURN_IF_ERROR(CheckNixTrust(spec, identity, group_text));
  CELL_ASSIGN_OR_RETURN(
      CellPlan plan,
      MakePlan(spec, options.command.empty() ? spec.command : options.command,
               GatherHostFacts(identity)));
  CELL_RETURN_IF_ERROR(CheckRlimits(plan));
  return plan;
}

// Prepare, continued: who the cell runs as, its plan, and the checks that
// need the plan. Host side; creates only the placeholders of protected
// paths, removed with the run.
absl::Status CellRun::PlanRun() {
  const std::string group_text = IdFileText("/etc/group");
  CELL_ASSIGN_OR_RETURN(
      identity_, ResolveHostIdentity(spec_.host_user, getuid(), getgid(),
                                     IdFileText("/etc/passwd"), group_text));
  CELL_RETURN_IF_ERROR(CheckNixTrust(spec_, identity_, group_text));
  host_ = GatherHostFacts(identity_);
  CELL_ASSIGN_OR_RETURN(
      plan_,
      MakePlan(spec_,
               options_.command.empty() ? spec_.command : options_.command,
               host_));
  CELL_RETURN_IF_ERROR(CheckRlimits(plan_));
  // Before the protected paths: the status file is one of them.
  CELL_ASSIGN_OR_RETURN(StatusFile status_file,
                        StatusFile::Open(options_.status_file));
  status_file_.emplace(std::move(status_file));
  // What controls the next launch, and what tools read after this one,
  // stays read-only inside; applied after every other mount.
  std::vector<std::string> control_files = options_.control_files;
  if (!options_.status_file.empty()) {
    absl::StatusOr<std::string> path =
        ResolveTrustedPathFromCwd(options_.status_file);
    if (path.ok()) control_files.push_back(*std::move(path));
  }
  if (spec_.tinyproxy_filter.has_value()) {
    control_files.push_back(*spec_.tinyproxy_filter);
  }
  if (spec_.log_dir.has_value()) control_files.push_back(*spec_.log_dir);
  char self[PATH_MAX];
  if (realpath("/proc/self/exe", self) != nullptr) {
    control_files.push_back(self);
  }
  // Kernel file systems a bind would carry in beneath its source.
  {
    absl::StatusOr<std::string> mountinfo =
        ReadFileToString("/proc/self/mountinfo", 16 << 20);
    if (!mountinfo.ok()) return mountinfo.status();
    MaskKernelSubmounts(ParseMountInfo(*mountinfo), &plan_.mounts);
  }
  CELL_ASSIGN_OR_RETURN(
      std::vector<MountOp> protect_ops,
      ProtectOps(spec_, plan_.mounts, control_files, &placeholders_));
  plan_.mounts.insert(plan_.mounts.end(), protect_ops.begin(),
                      protect_ops.end());
  return absl::OkStatus();
}

// $JD, the cgroup and the proxy engine exist from here on; Teardown
// removes them.
namespace {

// `status` with `advice` ("; ...") appended to its message.
absl::Status WithAdvice(const absl::Status& status, absl::string_view advice) {
  if (status.ok() || advice.empty()) return status;
  return absl::Status(status.code(), absl::StrCat(status.message(), advice));
}

}  // namespace

absl::Status CellRun::Provision() {
  const std::string jd_parent = JobDirParent();
  CELL_RETURN_IF_ERROR(CheckBindsHideJobDirs(plan_.mounts, jd_parent));
  SweepStaleJobDirs(jd_parent);
  absl::StatusOr<JobDir> jd = JobDir::Create(jd_parent);
  if (!jd.ok()) {
    return WithAdvice(jd.status(),
                      TmpAdvice(DetectOuterRuntime(GatherRuntimeFacts())));
  }
  jd_.emplace(*std::move(jd));
  const std::string new_root = jd_->Path("root");
  if (mkdir(new_root.c_str(), 0700) != 0) {
    return ErrnoStatus(errno, "mkdir " + new_root);
  }
  // A bind of a directory above the new root (a read-only bind of / or of
  // $TMPDIR) would show the cell its own root again, its /proc included:
  // masked where it would appear.
  MaskNewRootInBinds(new_root, &plan_.mounts);
  // Before the clone, so the command starts inside it.
  if (spec_.limits.NeedsCgroup()) {
    absl::StatusOr<CellCgroup> created = CellCgroup::Create(spec_.limits);
    if (!created.ok()) {
      return WithAdvice(created.status(),
                        CgroupAdvice(DetectOuterRuntime(GatherRuntimeFacts())));
    }
    cgroup_.emplace(*std::move(created));
  }
  // A caller that ignores SIGCHLD would have the kernel reap the child
  // (and lose its status) behind waitpid's back.
  signal(SIGCHLD, SIG_DFL);
  CELL_ASSIGN_OR_RETURN(SignalBlock signals, SignalBlock::Create());
  signals_.emplace(std::move(signals));
  // A peer that closes while an engine splices into it must be an EPIPE
  // for that connection, not a SIGPIPE that kills the launcher (and with
  // it the cell); an audit log at the launcher's file-size limit must be
  // an EFBIG (a refused record), not a SIGXFSZ. The child restores both.
  signal(SIGPIPE, SIG_IGN);
  signal(SIGXFSZ, SIG_IGN);
  if (engine_ != nullptr) {
    CELL_RETURN_IF_ERROR(engine_->Start({jd_->path(), WritableSources(plan_)}));
  }
  CELL_RETURN_IF_ERROR(ProvisionChannels());
  return ConfigureChild();
}

// The descriptors the child hands over (the proxy listener it makes inside
// the cell, the pty of its own) and the pipes of the start protocol.
absl::Status CellRun::ProvisionChannels() {
  if (engine_ != nullptr) {
    CELL_RETURN_IF_ERROR(MakeChannel(&listener_parent_, &listener_child_));
  }
  // A terminal on the launcher's stdio: the cell gets a pty of its own,
  // never the caller's terminal.
  if (std::optional<CallerTerminal> detected = CallerTerminal::Detect();
      detected.has_value() && !TestFault(fault::kCallerTerminal)) {
    caller_terminal_.emplace(*std::move(detected));
  }
  if (caller_terminal_.has_value()) {
    CELL_RETURN_IF_ERROR(MakeChannel(&terminal_parent_, &terminal_child_));
  }
  if (plan_.pid_namespace) {
    CELL_RETURN_IF_ERROR(MakeChannel(&command_parent_, &command_child_));
  }
  CELL_RETURN_IF_ERROR(MakePipe(&sync_read_, &sync_write_));
  return MakePipe(&failure_read_, &failure_write_);
}

// Everything the child needs, prepared here: it must not allocate.
absl::Status CellRun::ConfigureChild() {
  config_.plan = &plan_;
  config_.new_root = jd_->Path("root");
  config_.cap_last = ReadCapLast();
  rlimit files;
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 &&
      files.rlim_cur != RLIM_INFINITY) {
    config_.max_fds =
        static_cast<int>(std::min<rlim_t>(files.rlim_cur, 1 << 20));
  }
  for (std::string& arg : plan_.argv) config_.argv.push_back(arg.data());
  config_.argv.push_back(nullptr);
  for (std::string& entry : plan_.env) config_.envp.push_back(entry.data());
  config_.envp.push_back(nullptr);
  config_.sync_fd = sync_read_.get();
  config_.failure_fd = failure_write_.get();
  config_.listener_channel_fd = listener_child_.get();
  config_.proxy_port = spec_.network.port;
  if (caller_terminal_.has_value()) {
    config_.terminal = caller_terminal_->config();
    config_.terminal_channel_fd = terminal_child_.get();
  }
  config_.command_channel_fd = command_child_.get();
  config_.restore_mask = signals_->old_mask();
  if (plan_.seccomp) {
    CELL_ASSIGN_OR_RETURN(seccomp_program_, BuildSeccompFilter());
    config_.seccomp_program = &seccomp_program_;
  }
  config_.cell_uid = identity_.uid;
  config_.cell_gid = identity_.gid;
  if (TestFault(fault::kMapRootInside)) config_.cell_uid = config_.cell_gid = 0;
  if (!identity_.switched) return absl::OkStatus();
  // Another user's cell: the child starts as root (the maps only name that
  // user) and switches once the new root is mounted; it inherits the
  // user's supplementary groups, which only the launcher can set (Spawn
  // restores the launcher's own after the clone).
  config_.switch_user = true;
  launcher_pidfd_.Reset(static_cast<int>(syscall(SYS_pidfd_open, getpid(), 0)));
  if (launcher_pidfd_.get() < 0) return ErrnoStatus(errno, "pidfd_open");
  config_.launcher_pidfd = launcher_pidfd_.get();
  const int count = getgroups(0, nullptr);
  launcher_groups_.resize(count > 0 ? count : 0);
  if (count < 0 || getgroups(count, launcher_groups_.data()) != count ||
      setgroups(identity_.groups.size(), identity_.groups.data()) != 0) {
    return ErrnoStatus(errno, "cannot give the cell the groups of `hostUser`");
  }
  return absl::OkStatus();
}

absl::Status CellRun::Spawn() {
  unsigned long flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET | SIGCHLD;
  if (TestFault(fault::kShareNetworkNamespace)) flags &= ~CLONE_NEWNET;
  if (plan_.pid_namespace) flags |= CLONE_NEWPID;
  if (plan_.ipc_namespace) flags |= CLONE_NEWIPC;
  // A raw clone behaves like fork (no CLONE_VM, no new stack); the launcher
  // is single-threaded here, so the child may run on its copy of memory.
  const long pid =
      syscall(SYS_clone, flags, nullptr, nullptr, nullptr, nullptr);
  if (pid < 0) {
    const int error = errno;
    return WithAdvice(
        ErrnoStatus(error, "cannot create the cell's namespaces (clone)"),
        UserNamespaceAdvice(DetectOuterRuntime(GatherRuntimeFacts()), error));
  }
  if (pid == 0) RunChild(config_);  // Never returns.
  // Parent: the child waits on the sync pipe for its id maps.
  child_ = static_cast<pid_t>(pid);
  if (identity_.switched) {
    (void)setgroups(launcher_groups_.size(), launcher_groups_.data());
  }
  sync_read_.Reset();
  failure_write_.Reset();
  listener_child_.Reset();
  terminal_child_.Reset();
  command_child_.Reset();
  absl::Status maps = WriteIdentityMaps(
      child_, host_.uid, host_.gid,
      identity_.switched ? Setgroups::kDeny : Setgroups::kAllow);
  if (absl::IsPermissionDenied(maps)) {
    maps = WithAdvice(
        maps, IdMapAdvice(DetectOuterRuntime(GatherRuntimeFacts())));
  }
  if (maps.ok() && cgroup_.has_value()) maps = cgroup_->AddProcess(child_);
  if (!maps.ok()) return Abort(maps);
  const char go = 1;
  (void)!write(sync_write_.get(), &go, 1);
  sync_write_.Reset();
  return absl::OkStatus();
}

absl::StatusOr<std::optional<ExitReport>> CellRun::AwaitExec() {
  // Proxy mode: the child hands over the listener it made inside the cell;
  // nothing arrives when it failed before, and the failure pipe says why.
  if (engine_ != nullptr) {
    const int listener = ReceiveFd(listener_parent_.get());
    listener_parent_.Reset();
    if (listener >= 0) {
      if (absl::Status attached = engine_->Attach(listener); !attached.ok()) {
        return Abort(attached);
      }
    }
  }
  // The pty's master, sent once the child opened it.
  if (caller_terminal_.has_value()) {
    const int master = ReceiveFd(terminal_parent_.get());
    terminal_parent_.Reset();
    if (master >= 0) {
      absl::StatusOr<TerminalRelay> made =
          TerminalRelay::Create(UniqueFd(master), *caller_terminal_);
      if (!made.ok()) return Abort(made.status());
      terminal_.emplace(*std::move(made));
    }
  }
  // With a PID namespace, the init's pidfd of the command.
  if (command_parent_.get() >= 0) {
    command_pidfd_.Reset(ReceiveFd(command_parent_.get()));
    command_parent_.Reset();
  }
  // End-of-file on the failure pipe: the command was exec'd.
  ChildFailure failure;
  ssize_t n;
  do {
    n = read(failure_read_.get(), &failure, sizeof(failure));
  } while (n < 0 && errno == EINTR);
  failure_read_.Reset();
  if (n != sizeof(failure)) return std::optional<ExitReport>();
  waitpid(child_, nullptr, 0);
  child_ = -1;
  std::string message = DescribeChildFailure(failure, plan_);
  // A fresh /proc refused: most often the container the launcher runs in
  // masks parts of its own (the setting that changes it is named).
  if (failure.step == ChildStep::kMount && failure.error == EPERM &&
      failure.index >= 0 &&
      static_cast<size_t>(failure.index) < plan_.mounts.size() &&
      plan_.mounts[failure.index].kind == MountOpKind::kProc) {
    absl::StrAppend(&message,
                    ProcMountAdvice(DetectOuterRuntime(GatherRuntimeFacts())));
  }
  if (failure.step != ChildStep::kExec) {
    return absl::FailedPreconditionError(message);
  }
  ExitReport report;
  report.exit_code = failure.error == ENOENT ? 127 : 126;
  report.diagnostic = message;
  return std::optional<ExitReport>(std::move(report));
}

ExitReport CellRun::Supervise() {
  nlohmann::json started = {{"event", "started"},
                            {"runId", run_id_},
                            {"jd", jd_->path()},
                            {"pid", child_},
                            {"proxyPort", nullptr}};
  if (engine_ != nullptr) {
    started["proxyPort"] = spec_.network.port;
    engine_->AddStatusFields(&started);
  }
  if (cgroup_.has_value()) started["cgroups"] = cgroup_->dirs();
  status_file_->Write(started);
  // Raw mode only now: until the command runs, keys keep their meaning
  // for the launcher (Ctrl-C stops a slow start). Not fatal: the cell
  // works without it, only keys are then cooked twice.
  if (terminal_.has_value()) (void)caller_terminal_->EnterRawMode();
  uint64_t received = 0;
  const int status =
      WaitForChild(child_, command_pidfd_.get(), *signals_, engine_.get(),
                   terminal_.has_value() ? &*terminal_ : nullptr, &received);
  child_ = -1;
  if (terminal_.has_value()) terminal_->Drain();
  ExitReport report = ReportFor(status);
  report.typed_signals = terminal_.has_value() ? terminal_->typed_signals() : 0;
  report.launcher_signals = received | report.typed_signals;
  return report;
}

absl::Status CellRun::Abort(absl::Status status) {
  if (child_ > 0) {
    kill(child_, SIGKILL);
    waitpid(child_, nullptr, 0);
    child_ = -1;
  }
  return status;
}

std::string CellRun::Teardown() {
  (void)Abort(absl::OkStatus());
  // The caller's terminal as it was, before anything else can fail.
  terminal_.reset();
  caller_terminal_.reset();
  std::string warning;
  if (cgroup_.has_value()) {
    if (const absl::Status removed = cgroup_->KillAndRemove(); !removed.ok()) {
      warning = absl::StrCat("warning: ", removed.message());
    }
    cgroup_.reset();
  }
  if (engine_ != nullptr) engine_->Stop();
  // Every descriptor of the run before $JD goes: its removal needs some
  // (a launcher at its open-file limit must still leave nothing behind).
  for (UniqueFd* fd : {&listener_parent_, &listener_child_, &terminal_parent_,
                       &terminal_child_, &command_parent_, &command_child_,
                       &command_pidfd_, &sync_read_, &sync_write_,
                       &failure_read_, &failure_write_, &launcher_pidfd_}) {
    fd->Reset();
  }
  signals_.reset();
  if (jd_.has_value()) {
    if (const absl::Status removed = jd_->Remove(); !removed.ok()) {
      warning = absl::StrCat("warning: could not remove ", jd_->path(), ": ",
                             removed.message());
    }
    jd_.reset();
  }
  placeholders_.RemoveAll();
  return warning;
}

ExitReport CellRun::Finish(ExitReport report) {
  const std::string warning = Teardown();
  status_file_->Write(
      {{"event", "exited"},
       {"exitCode", report.ExitStatus()},
       {"signal", report.signal.has_value() ? nlohmann::json(*report.signal)
                                            : nlohmann::json(nullptr)}});
  if (!warning.empty()) {
    report.diagnostic = report.diagnostic.empty()
                            ? warning
                            : absl::StrCat(report.diagnostic, "; ", warning);
  }
  return report;
}

absl::StatusOr<ExitReport> CellRun::Run() {
  CELL_RETURN_IF_ERROR(Provision());
  CELL_RETURN_IF_ERROR(Spawn());
  CELL_ASSIGN_OR_RETURN(std::optional<ExitReport> not_started, AwaitExec());
  if (not_started.has_value()) return Finish(*std::move(not_started));
  return Finish(Supervise());
}

}  // namespace cell

#include "launcher/jail/run.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "launcher/proxy/builtin/server.h"
#include "launcher/jail/cgroup.h"
#include "launcher/jail/child.h"
#include "launcher/jail/fd_passing.h"
#include "launcher/proxy/filter.h"
#include "base/fs_util.h"
#include "launcher/proxy/host_filter.h"
#include "launcher/spec/host_identity.h"
#include "base/host_path.h"
#include "launcher/jail/jd.h"
#include "base/loopback.h"
#include "launcher/spec/plan.h"
#include "launcher/spec/protect.h"
#include "launcher/proxy/tinyproxy/process.h"
#include "launcher/proxy/tinyproxy/relay.h"
#include "launcher/jail/seccomp.h"
#include "base/status_macros.h"
#include "launcher/jail/terminal.h"
#include "base/unique_fd.h"
#include "launcher/jail/userns.h"
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

// /etc/passwd or /etc/group, read directly rather than through NSS: the
// launcher is a static binary, where getpwuid() would dlopen the host's
// NSS modules (and ask nscd), and the cell only needs names for its own
// generated /etc files. "" when unreadable.
std::string IdFileText(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFileToString(path, 16 << 20);
  return text.ok() ? *std::move(text) : std::string();
}

HostFacts GatherHostFacts(const HostIdentity& identity) {
  HostFacts host;
  host.uid = identity.uid;
  host.gid = identity.gid;
  host.user_name = identity.user_name;
  host.group_name = identity.group_name;
  if (const char* term = std::getenv("TERM")) host.term = term;
  if (const char* lang = std::getenv("LANG")) host.lang = lang;
  return host;
}

// A nix.conf with the files it includes (`include F`, `!include F`,
// relative to its directory), which may add trusted users.
std::string NixConfText(const std::string& path, int depth) {
  std::string text = IdFileText(path);
  if (depth >= 10) return text;
  std::string included;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    line = absl::StripLeadingAsciiWhitespace(line);
    if (!absl::ConsumePrefix(&line, "!include ") &&
        !absl::ConsumePrefix(&line, "include ")) {
      continue;
    }
    const std::string file(absl::StripAsciiWhitespace(line));
    if (file.empty()) continue;
    const std::string dir = path.substr(0, path.rfind('/'));
    absl::StrAppend(
        &included, "\n",
        NixConfText(file.front() == '/' ? file : absl::StrCat(dir, "/", file),
                    depth + 1));
  }
  return absl::StrCat(text, included);
}

// A cell must never be a trusted user of the Nix daemon it reaches: a
// trusted user may build with `--option sandbox false` and an empty
// `build-users-group`, running its builder as the daemon's user (root) in
// the host's namespaces. Only a daemon that answers at the socket counts.
absl::Status CheckNixTrust(const CellSpec& spec, const HostIdentity& identity,
                           absl::string_view group_text) {
  if (!spec.nix) return absl::OkStatus();
  const char* conf_dir = std::getenv("NIX_CONF_DIR");
  const std::string conf = NixConfText(
      absl::StrCat(conf_dir != nullptr ? conf_dir : "/etc/nix", "/nix.conf"),
      0);
  if (!NixDaemonTrusts(identity, conf, group_text)) return absl::OkStatus();
  // Trusted by its config: refused if a daemon answers at the socket (only
  // now, so that an untrusted cell's launch adds nothing to its log).
  // Through the directory's fd: a socket path may be longer than sun_path
  // allows, and inside the cell it is the short /run/nix/socket.
  UniqueFd dir(
      open(spec.nix_daemon_socket.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() < 0) return absl::OkStatus();  // The mount will say why.
  const std::string socket_path =
      absl::StrCat(spec.nix_daemon_socket, "/socket");
  const std::string short_path =
      absl::StrCat("/proc/self/fd/", dir.get(), "/socket");
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, short_path.c_str(), short_path.size() + 1);
  UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0 ||
      connect(fd.get(), reinterpret_cast<const sockaddr*>(&address),
              sizeof(address)) != 0) {
    return absl::OkStatus();  // No daemon: nothing to trust the cell.
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "field `hostUser`: the cell would run as host ",
      identity.uid == 0 ? std::string("root")
                        : absl::StrCat("user ", identity.uid),
      ", which the Nix daemon at ", socket_path,
      " trusts: it could run builds with the sandbox off as the daemon's "
      "user on the host. Run the cell as an untrusted user (--host-user=NAME "
      "as root, or start cell as that user), or without Nix (--no-nix)"));
}

int ReadCapLast() {
  absl::StatusOr<std::string> text =
      ReadFileToString("/proc/sys/kernel/cap_last_cap", 64);
  int value = 0;
  if (text.ok() &&
      absl::SimpleAtoi(absl::StripAsciiWhitespace(*text), &value)) {
    return value;
  }
  return 40;  // CAP_CHECKPOINT_RESTORE, the last one as of Linux 5.9.
}

// Appends JSON lines to --status-file; tools read it instead of stderr.
class StatusFile {
 public:
  static absl::StatusOr<StatusFile> Open(const std::string& path) {
    if (path.empty()) return StatusFile(UniqueFd());
    // It may lie where a cell writes (a worktree): no symlink or hard link
    // there may make a root launcher truncate another file.
    absl::StatusOr<UniqueFd> fd =
        OpenOutputFile(path, LogFileMode::kTruncate, 0644);
    if (!fd.ok()) {
      return absl::Status(
          fd.status().code(),
          absl::StrCat("--status-file: ", fd.status().message()));
    }
    return StatusFile(*std::move(fd));
  }
  void Write(const nlohmann::json& event) {
    if (fd_.get() < 0) return;
    // Replace, never throw: $TMPDIR may hold bytes that are not UTF-8.
    const std::string line =
        event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
        "\n";
    (void)!write(fd_.get(), line.data(), line.size());
  }

 private:
  explicit StatusFile(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

// Blocks the forwarded signals and SIGCHLD for the launcher's lifetime (they
// arrive through a signalfd instead), restoring the old mask on scope exit.
class SignalBlock {
 public:
  static absl::StatusOr<SignalBlock> Create() {
    sigset_t blocked;
    sigemptyset(&blocked);
    for (const int signal_number : kForwardedSignals) {
      sigaddset(&blocked, signal_number);
    }
    sigaddset(&blocked, SIGCHLD);
    SignalBlock block;
    if (sigprocmask(SIG_BLOCK, &blocked, &block.old_mask_) != 0) {
      return ErrnoStatus(errno, "sigprocmask");
    }
    block.active_ = true;
    const int fd = signalfd(-1, &blocked, SFD_CLOEXEC);
    if (fd < 0) return ErrnoStatus(errno, "signalfd");
    block.fd_.Reset(fd);
    return block;
  }
  SignalBlock(SignalBlock&& other) noexcept
      : old_mask_(other.old_mask_),
        fd_(std::move(other.fd_)),
        active_(std::exchange(other.active_, false)) {}
  ~SignalBlock() {
    if (active_) sigprocmask(SIG_SETMASK, &old_mask_, nullptr);
  }
  const sigset_t& old_mask() const { return old_mask_; }
  int fd() const { return fd_.get(); }

 private:
  SignalBlock() = default;
  sigset_t old_mask_;
  UniqueFd fd_;
  bool active_ = false;
};

// Waits for `child` to exit, forwarding signals from `signals` to it and
// serving the proxy front end (when there is one: `proxy_fd` >= 0, served by
// `serve_proxy`) and the cell's terminal (when it has one) meanwhile.
int WaitForChild(pid_t child, const SignalBlock& signals, int proxy_fd,
                 const std::function<void()>& serve_proxy,
                 TerminalRelay* terminal) {
  while (true) {
    int status = 0;
    const pid_t done = waitpid(child, &status, WNOHANG);
    if (done == child) return status;
    if (done < 0 && errno != EINTR) return 0;
    pollfd events[4] = {{signals.fd(), POLLIN, 0}, {proxy_fd, POLLIN, 0}};
    const int terminal_fds =
        terminal != nullptr ? terminal->PollFds(events + 2) : 0;
    if (poll(events, 2 + terminal_fds, -1) < 0) continue;
    if (events[1].revents != 0) serve_proxy();
    if (terminal_fds > 0) terminal->HandleEvents(events + 2, terminal_fds);
    if (events[0].revents == 0) continue;
    signalfd_siginfo info;
    const ssize_t n = read(signals.fd(), &info, sizeof(info));
    if (n != sizeof(info)) continue;
    if (info.ssi_signo == SIGWINCH && terminal != nullptr) {
      // The pty's new size signals the cell's foreground job itself.
      terminal->Resize();
    } else if (info.ssi_signo != SIGCHLD) {
      kill(child, static_cast<int>(info.ssi_signo));
    }
  }
}

absl::StatusOr<std::string> FilterText(const CellSpec& spec) {
  if (!spec.tinyproxy_filter.has_value()) return std::string(kAllowAllFilter);
  // Read once more: it was checked when the spec was resolved, but what
  // tinyproxy gets must be what was checked now.
  CELL_ASSIGN_OR_RETURN(std::string text,
                        ReadConfigFile(*spec.tinyproxy_filter, 1 << 20));
  absl::Status status = ParseFilter(text, *spec.tinyproxy_filter).status();
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("field `tinyproxyFilter`: ", status.message()));
  }
  return text;
}

// The builtin engine's filter, compiled with RE2 before anything starts.
absl::StatusOr<HostFilter> BuiltinFilter(const CellSpec& spec) {
  if (!spec.tinyproxy_filter.has_value()) return HostFilter::AllowAll();
  absl::StatusOr<std::vector<FilterPattern>> patterns =
      LoadFilterFile(*spec.tinyproxy_filter);
  absl::StatusOr<HostFilter> filter =
      patterns.ok() ? HostFilter::Compile(*patterns, *spec.tinyproxy_filter)
                    : absl::StatusOr<HostFilter>(patterns.status());
  if (!filter.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("field `tinyproxyFilter`: ", filter.status().message()));
  }
  return filter;
}

// Host side, before the run directory exists: a read-write bind must not
// give the cell where run directories live ($JD holds the proxy's state and
// audit log, and the staging root; others' hold theirs), nor one of them,
// as it could rewrite them. A read-only bind of a parent (`/` for a test
// of the host's tree) only shows them; the mount policy judges such binds.
absl::Status CheckBindsHideJobDirs(const std::vector<MountOp>& mounts,
                                   const std::string& jd_parent) {
  char resolved_parent[PATH_MAX];
  if (realpath(jd_parent.c_str(), resolved_parent) == nullptr) {
    return absl::OkStatus();  // JobDir::Create will say what is wrong.
  }
  for (const MountOp& mount : mounts) {
    if (mount.kind != MountOpKind::kBind) continue;
    char source[PATH_MAX];
    if (realpath(mount.src.c_str(), source) == nullptr) continue;
    const absl::string_view path = source;
    const absl::string_view parent = resolved_parent;
    // Below the parent: the entry of the parent it is in (or is).
    absl::string_view entry;
    if (path.size() > parent.size() && PathIsSameOrUnder(path, parent)) {
      entry = path.substr(parent == "/" ? 1 : parent.size() + 1);
      entry = entry.substr(0, entry.find('/'));
    }
    if (PathIsSameOrUnder(parent, path) ||
        absl::StartsWith(entry, kJobDirPrefix) ||
        absl::StartsWith(entry, kJobDirStagingPrefix)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "read-write bind of '", mount.src, "' at ", mount.dst,
          " would let the cell rewrite the launcher's private run "
          "directories in ",
          resolved_parent,
          " (proxy state, audit log); bind something narrower or read-only, "
          "or point TMPDIR at a directory the cell does not see"));
    }
  }
  return absl::OkStatus();
}

// Host side, before the clone: the command may lower its rlimits but not
// raise them past the launcher's hard limits (that needs CAP_SYS_RESOURCE
// on the host), so such a value is an error now rather than in the child.
absl::Status CheckRlimits(const CellPlan& plan) {
  for (const RlimitOp& op : plan.rlimits) {
    rlimit current;
    if (getrlimit(op.resource, &current) != 0) continue;
    if (current.rlim_max != RLIM_INFINITY && op.value > current.rlim_max) {
      return absl::InvalidArgumentError(absl::StrCat(
          "field `limits.rlimits.", op.name, "`: ", op.value,
          " is above the launcher's hard limit of ", current.rlim_max,
          "; lower it, or raise the hard limit on the host (ulimit -H, "
          "limits.conf, LimitNOFILE= ...)"));
    }
  }
  return absl::OkStatus();
}

// The host directories the cell may write: its read-write binds.
std::vector<std::string> WritableSources(const CellPlan& plan) {
  std::vector<std::string> writable;
  for (const MountOp& mount : plan.mounts) {
    if (mount.kind == MountOpKind::kBind) writable.push_back(mount.src);
  }
  return writable;
}

// 16 hex digits from the kernel's random source: this run's id in the
// status file and the audit log.
std::string NewRunId() {
  unsigned char bytes[8] = {};
  if (getrandom(bytes, sizeof(bytes), 0) != sizeof(bytes)) {
    const uint64_t fallback =
        static_cast<uint64_t>(getpid()) ^
        static_cast<uint64_t>(absl::ToUnixNanos(absl::Now()));
    std::memcpy(bytes, &fallback, sizeof(bytes));
  }
  std::string id;
  for (const unsigned char byte : bytes) {
    absl::StrAppend(&id, absl::Hex(byte, absl::kZeroPad2));
  }
  return id;
}

ExitReport ReportFor(int wait_status) {
  ExitReport report;
  if (WIFEXITED(wait_status)) report.exit_code = WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) report.signal = WTERMSIG(wait_status);
  return report;
}

}  // namespace

absl::Status CheckFilter(const CellSpec& spec) {
  if (spec.network.mode != NetworkMode::kProxy) return absl::OkStatus();
  if (spec.network.engine == ProxyEngine::kBuiltin) {
    return BuiltinFilter(spec).status();
  }
  return FilterText(spec).status();
}

int ExitReport::ExitStatus() const {
  if (signal.has_value()) return 128 + *signal;
  return exit_code.value_or(125);
}

absl::StatusOr<ExitReport> RunCell(const CellSpec& spec,
                                   const RunOptions& options) {
  const bool proxied = spec.network.mode == NetworkMode::kProxy;
  const bool builtin = proxied && spec.network.engine == ProxyEngine::kBuiltin;
  std::string filter_text;
  std::optional<HostFilter> host_filter;
  if (builtin) {
    CELL_ASSIGN_OR_RETURN(HostFilter compiled, BuiltinFilter(spec));
    host_filter.emplace(std::move(compiled));
  } else if (proxied) {
    CELL_ASSIGN_OR_RETURN(filter_text, FilterText(spec));
  }
  const std::string group_text = IdFileText("/etc/group");
  CELL_ASSIGN_OR_RETURN(
      const HostIdentity identity,
      ResolveHostIdentity(spec.host_user, getuid(), getgid(),
                          IdFileText("/etc/passwd"), group_text));
  CELL_RETURN_IF_ERROR(CheckNixTrust(spec, identity, group_text));
  const HostFacts host = GatherHostFacts(identity);
  CELL_ASSIGN_OR_RETURN(
      CellPlan plan,
      MakePlan(spec, options.command.empty() ? spec.command : options.command,
               host));
  CELL_RETURN_IF_ERROR(CheckRlimits(plan));
  // What controls the next launch stays read-only inside; applied after
  // every other mount. The placeholders go when this function returns.
  std::vector<std::string> control_files = options.control_files;
  if (spec.tinyproxy_filter.has_value()) {
    control_files.push_back(*spec.tinyproxy_filter);
  }
  if (spec.log_dir.has_value()) control_files.push_back(*spec.log_dir);
  char self[PATH_MAX];
  if (realpath("/proc/self/exe", self) != nullptr) {
    control_files.push_back(self);
  }
  Placeholders placeholders;
  CELL_ASSIGN_OR_RETURN(
      std::vector<MountOp> protect_ops,
      ProtectOps(spec, plan.mounts, control_files, &placeholders));
  plan.mounts.insert(plan.mounts.end(), protect_ops.begin(), protect_ops.end());
  CELL_ASSIGN_OR_RETURN(StatusFile status_file,
                        StatusFile::Open(options.status_file));
  const std::string run_id = NewRunId();

  const std::string jd_parent = JobDirParent();
  CELL_RETURN_IF_ERROR(CheckBindsHideJobDirs(plan.mounts, jd_parent));
  SweepStaleJobDirs(jd_parent);
  CELL_ASSIGN_OR_RETURN(JobDir jd, JobDir::Create(jd_parent));
  const std::string new_root = jd.Path("root");
  if (mkdir(new_root.c_str(), 0700) != 0) {
    return ErrnoStatus(errno, "mkdir " + new_root);
  }

  // Before the clone, so the command starts inside it; its destructor
  // kills whatever is left in it on every way out of this function.
  std::optional<CellCgroup> cgroup;
  if (spec.limits.NeedsCgroup()) {
    CELL_ASSIGN_OR_RETURN(CellCgroup created, CellCgroup::Create(spec.limits));
    cgroup.emplace(std::move(created));
  }

  CELL_ASSIGN_OR_RETURN(SignalBlock signals, SignalBlock::Create());
  // A peer that closes while the relay or the builtin engine splices into
  // it must be an EPIPE for that connection, not a SIGPIPE that kills the
  // launcher (and with it the cell). The child restores the default.
  signal(SIGPIPE, SIG_IGN);
  std::optional<TinyproxyProcess> proxy;
  UniqueFd listener_parent, listener_child;
  if (proxied) {
    if (!builtin) {
      CELL_ASSIGN_OR_RETURN(
          TinyproxyProcess started,
          TinyproxyProcess::Start(jd.path(), filter_text, spec.log_dir,
                                  WritableSources(plan)));
      proxy.emplace(std::move(started));
    }
    CELL_RETURN_IF_ERROR(MakeChannel(&listener_parent, &listener_child));
  }
  // A terminal on the launcher's stdio: the cell gets a pty of its own,
  // never the caller's terminal.
  std::optional<CallerTerminal> caller_terminal = CallerTerminal::Detect();
  UniqueFd terminal_parent, terminal_child;
  if (caller_terminal.has_value()) {
    CELL_RETURN_IF_ERROR(MakeChannel(&terminal_parent, &terminal_child));
  }

  // Everything the child needs, prepared here: it must not allocate.
  ChildConfig config;
  config.plan = &plan;
  config.new_root = new_root;
  config.cap_last = ReadCapLast();
  rlimit files;
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 &&
      files.rlim_cur != RLIM_INFINITY) {
    config.max_fds =
        static_cast<int>(std::min<rlim_t>(files.rlim_cur, 1 << 20));
  }
  for (std::string& arg : plan.argv) config.argv.push_back(arg.data());
  config.argv.push_back(nullptr);
  for (std::string& entry : plan.env) config.envp.push_back(entry.data());
  config.envp.push_back(nullptr);

  UniqueFd sync_read, sync_write, failure_read, failure_write;
  CELL_RETURN_IF_ERROR(MakePipe(&sync_read, &sync_write));
  CELL_RETURN_IF_ERROR(MakePipe(&failure_read, &failure_write));
  config.sync_fd = sync_read.get();
  config.failure_fd = failure_write.get();
  config.listener_channel_fd = listener_child.get();
  config.proxy_port = spec.network.port;
  if (caller_terminal.has_value()) {
    config.terminal = caller_terminal->config();
    config.terminal_channel_fd = terminal_child.get();
  }
  config.restore_mask = signals.old_mask();
  std::vector<sock_filter> seccomp_program;
  if (plan.seccomp) {
    CELL_ASSIGN_OR_RETURN(seccomp_program, BuildSeccompFilter());
    config.seccomp_program = &seccomp_program;
  }

  config.cell_uid = identity.uid;
  config.cell_gid = identity.gid;
  // Another user's cell: the child starts as root (the maps only name that
  // user) and switches once the new root is mounted; it inherits the
  // user's supplementary groups, which only the launcher can set. The
  // launcher's own are restored after the clone.
  std::vector<gid_t> launcher_groups;
  UniqueFd launcher_pidfd;
  if (identity.switched) {
    config.switch_user = true;
    launcher_pidfd.Reset(
        static_cast<int>(syscall(SYS_pidfd_open, getpid(), 0)));
    if (launcher_pidfd.get() < 0) return ErrnoStatus(errno, "pidfd_open");
    config.launcher_pidfd = launcher_pidfd.get();
    const int count = getgroups(0, nullptr);
    launcher_groups.resize(count > 0 ? count : 0);
    if (count < 0 || getgroups(count, launcher_groups.data()) != count ||
        setgroups(identity.groups.size(), identity.groups.data()) != 0) {
      return ErrnoStatus(errno,
                         "cannot give the cell the groups of `hostUser`");
    }
  }

  unsigned long flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET | SIGCHLD;
  if (plan.pid_namespace) flags |= CLONE_NEWPID;
  if (plan.ipc_namespace) flags |= CLONE_NEWIPC;
  // A raw clone behaves like fork (no CLONE_VM, no new stack); the launcher
  // is single-threaded here, so the child may run on its copy of memory.
  const long pid =
      syscall(SYS_clone, flags, nullptr, nullptr, nullptr, nullptr);
  if (pid < 0) {
    return ErrnoStatus(errno,
                       "cannot create the cell's namespaces (clone); are user "
                       "namespaces allowed here? (sysctl "
                       "user.max_user_namespaces)");
  }
  if (pid == 0) RunChild(config);  // Never returns.
  if (identity.switched) {
    (void)setgroups(launcher_groups.size(), launcher_groups.data());
  }

  // Parent: the child waits on the sync pipe for its id maps.
  const pid_t child = static_cast<pid_t>(pid);
  sync_read.Reset();
  failure_write.Reset();
  listener_child.Reset();
  terminal_child.Reset();
  absl::Status maps = WriteIdentityMaps(
      child, host.uid, host.gid,
      identity.switched ? Setgroups::kDeny : Setgroups::kAllow);
  if (maps.ok() && cgroup.has_value()) maps = cgroup->AddProcess(child);
  if (!maps.ok()) {
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
    return maps;
  }
  const char go = 1;
  (void)!write(sync_write.get(), &go, 1);
  sync_write.Reset();

  // Proxy mode: the child hands over the listener it made inside the cell;
  // nothing arrives when it failed before, and the failure pipe says why.
  std::unique_ptr<Relay> relay;
  std::unique_ptr<BuiltinProxy> builtin_proxy;
  if (proxied) {
    const int listener = ReceiveFd(listener_parent.get());
    listener_parent.Reset();
    if (listener >= 0) {
      absl::Status created;
      if (builtin) {
        BuiltinProxyOptions proxy_options;
        proxy_options.run_id = run_id;
        proxy_options.audit_log =
            spec.log_dir.has_value()
                ? absl::StrCat(*spec.log_dir, "/", kProxyAuditLogName)
                : jd.Path(kProxyAuditLogName);
        absl::StatusOr<std::unique_ptr<BuiltinProxy>> made =
            BuiltinProxy::Create(listener, *std::move(host_filter),
                                 std::move(proxy_options));
        created = made.status();
        if (made.ok()) builtin_proxy = *std::move(made);
      } else {
        absl::StatusOr<std::unique_ptr<Relay>> made =
            Relay::Create(listener, LoopbackAddress(proxy->port()));
        created = made.status();
        if (made.ok()) relay = *std::move(made);
      }
      if (!created.ok()) {
        kill(child, SIGKILL);
        waitpid(child, nullptr, 0);
        return created;
      }
    }
  }

  // The pty's master, sent once the child opened it; nothing arrives when
  // the child failed before, and the failure pipe says why.
  std::optional<TerminalRelay> terminal;
  if (caller_terminal.has_value()) {
    const int master = ReceiveFd(terminal_parent.get());
    terminal_parent.Reset();
    if (master >= 0) {
      absl::StatusOr<TerminalRelay> made =
          TerminalRelay::Create(UniqueFd(master), *caller_terminal);
      if (!made.ok()) {
        kill(child, SIGKILL);
        waitpid(child, nullptr, 0);
        return made.status();
      }
      terminal.emplace(*std::move(made));
    }
  }

  // End-of-file on the failure pipe: the command was exec'd.
  ChildFailure failure;
  ssize_t n;
  do {
    n = read(failure_read.get(), &failure, sizeof(failure));
  } while (n < 0 && errno == EINTR);
  failure_read.Reset();
  if (n == sizeof(failure)) {
    waitpid(child, nullptr, 0);
    const std::string message = DescribeChildFailure(failure, plan);
    if (failure.step != ChildStep::kExec) {
      return absl::FailedPreconditionError(message);
    }
    ExitReport report;
    report.exit_code = failure.error == ENOENT ? 127 : 126;
    report.diagnostic = message;
    relay.reset();
    builtin_proxy.reset();
    if (proxy.has_value()) proxy->Stop();
    CELL_RETURN_IF_ERROR(jd.Remove());
    status_file.Write({{"event", "exited"},
                       {"exitCode", *report.exit_code},
                       {"signal", nullptr}});
    return report;
  }

  nlohmann::json started = {{"event", "started"},
                            {"runId", run_id},
                            {"jd", jd.path()},
                            {"pid", child},
                            {"proxyPort", nullptr}};
  if (proxied) {
    started["proxyPort"] = spec.network.port;
    started["engine"] = builtin ? "builtin" : "tinyproxy";
  }
  if (proxy.has_value()) {
    started["hostProxyPort"] = proxy->port();
    started["proxyPid"] = proxy->pid();
  }
  if (cgroup.has_value()) started["cgroups"] = cgroup->dirs();
  status_file.Write(started);
  int proxy_fd = -1;
  std::function<void()> serve_proxy;
  if (relay != nullptr) {
    proxy_fd = relay->fd();
    serve_proxy = [&relay] { relay->HandleEvents(); };
  } else if (builtin_proxy != nullptr) {
    proxy_fd = builtin_proxy->fd();
    serve_proxy = [&builtin_proxy] { builtin_proxy->HandleEvents(); };
  }
  // Raw mode only now: until the command runs, keys keep their meaning
  // for the launcher (Ctrl-C stops a slow start). Not fatal: the cell
  // works without it, only keys are then cooked twice.
  if (terminal.has_value()) (void)caller_terminal->EnterRawMode();
  ExitReport report =
      ReportFor(WaitForChild(child, signals, proxy_fd, serve_proxy,
                             terminal.has_value() ? &*terminal : nullptr));
  if (terminal.has_value()) {
    terminal->Drain();
    // The caller's terminal as it was, before anything else can fail.
    terminal.reset();
    caller_terminal.reset();
  }
  // Cleanup in order: what the command left in its cgroup (the tree does
  // not outlive a cell with limits), connections, the proxy, then $JD.
  absl::Status cgroup_removed;
  if (cgroup.has_value()) cgroup_removed = cgroup->KillAndRemove();
  relay.reset();
  builtin_proxy.reset();
  if (proxy.has_value()) proxy->Stop();
  const absl::Status removed = jd.Remove();
  status_file.Write(
      {{"event", "exited"},
       {"exitCode", report.ExitStatus()},
       {"signal", report.signal.has_value() ? nlohmann::json(*report.signal)
                                            : nlohmann::json(nullptr)}});
  if (!removed.ok()) {
    report.diagnostic = absl::StrCat("warning: could not remove ", jd.path(),
                                     ": ", removed.message());
  } else if (!cgroup_removed.ok()) {
    report.diagnostic = absl::StrCat("warning: ", cgroup_removed.message());
  }
  return report;
}

}  // namespace cell

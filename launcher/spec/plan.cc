#include "launcher/spec/plan.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/fs_util.h"
#include "base/kernel_fs.h"
#include "base/test_faults.h"

namespace cell {
namespace {

constexpr char kNixConfig[] =
    "experimental-features = nix-command flakes\nsubstitute = true";
constexpr char kNixRemote[] = "unix:///run/nix/socket";
constexpr char kNixPath[] = "/home/cell/.nix-defexpr/channels";
constexpr char kNoProxy[] = "localhost,127.0.0.1,::1";

MountOp Op(MountOpKind kind, std::string src, std::string dst,
           int mode = 0755) {
  MountOp op;
  op.kind = kind;
  op.src = std::move(src);
  op.dst = std::move(dst);
  op.mode = mode;
  return op;
}

MountOp File(std::string dst, std::string content) {
  MountOp op = Op(MountOpKind::kFile, "", std::move(dst), 0644);
  op.content = std::move(content);
  return op;
}

std::string NameOr(const std::string& name, absl::string_view fallback) {
  return name.empty() ? std::string(fallback) : name;
}

// /etc/passwd and /etc/group: root plus the caller's ids, named as on the
// host so that tools printing owners show familiar names.
std::string PasswdFile(const HostFacts& host) {
  if (host.uid == 0) return "root:x:0:0:root:/home/cell:/bin/sh\n";
  return absl::StrCat("root:x:0:0:root:/root:/bin/sh\n",
                      NameOr(host.user_name, "cell"), ":x:", host.uid, ":",
                      host.gid, "::/home/cell:/bin/sh\n");
}

std::string GroupFile(const HostFacts& host) {
  if (host.gid == 0) return "root:x:0:\n";
  return absl::StrCat("root:x:0:\n", NameOr(host.group_name, "cell"),
                      ":x:", host.gid, ":\n");
}

void AddDev(std::vector<MountOp>* mounts) {
  mounts->push_back(Op(MountOpKind::kTmpfs, "", "/dev", 0755));
  // A user namespace cannot mknod; binding the host's nodes is what
  // bubblewrap does too.
  for (const char* device :
       {"null", "zero", "full", "random", "urandom", "tty"}) {
    mounts->push_back(Op(MountOpKind::kBind, absl::StrCat("/dev/", device),
                         absl::StrCat("/dev/", device)));
  }
  mounts->push_back(Op(MountOpKind::kDevpts, "", "/dev/pts"));
  mounts->push_back(Op(MountOpKind::kSymlink, "pts/ptmx", "/dev/ptmx"));
  mounts->push_back(Op(MountOpKind::kTmpfs, "", "/dev/shm", 01777));
  mounts->push_back(Op(MountOpKind::kSymlink, "/proc/self/fd", "/dev/fd"));
  mounts->push_back(Op(MountOpKind::kSymlink, "/proc/self/fd/0", "/dev/stdin"));
  mounts->push_back(
      Op(MountOpKind::kSymlink, "/proc/self/fd/1", "/dev/stdout"));
  mounts->push_back(
      Op(MountOpKind::kSymlink, "/proc/self/fd/2", "/dev/stderr"));
}

}  // namespace

void MaskKernelSubmounts(const std::vector<MountEntry>& host_mounts,
                         std::vector<MountOp>* mounts) {
  if (TestFault(fault::kAllowKernelBinds) || TestFault(fault::kNoKernelMasks)) {
    return;
  }
  std::vector<MountOp> out;
  for (MountOp& op : *mounts) {
    const bool bind =
        (op.kind == MountOpKind::kBind || op.kind == MountOpKind::kRoBind) &&
        !op.src.empty();
    const std::string src = op.src;
    const std::string dst = op.dst;
    out.push_back(std::move(op));
    if (!bind) continue;
    std::vector<std::string> masks;
    for (const MountEntry& mount : host_mounts) {
      if (mount.mount_point == src ||
          !PathIsSameOrUnder(mount.mount_point, src) ||
          !IsKernelFileSystem(mount.fs_type.c_str())) {
        continue;
      }
      const std::string rest =
          src == "/" ? mount.mount_point : mount.mount_point.substr(src.size());
      masks.push_back(dst == "/" ? rest : absl::StrCat(dst, rest));
    }
    // Outermost only: a mask hides everything beneath it.
    std::sort(masks.begin(), masks.end());
    std::vector<std::string> outermost;
    for (std::string& mask : masks) {
      if (!outermost.empty() && PathIsSameOrUnder(mask, outermost.back())) {
        continue;
      }
      outermost.push_back(std::move(mask));
    }
    for (std::string& mask : outermost) {
      MountOp op_mask;
      op_mask.kind = MountOpKind::kMask;
      op_mask.dst = std::move(mask);
      out.push_back(std::move(op_mask));
    }
  }
  *mounts = std::move(out);
}

void MaskNewRootInBinds(const std::string& new_root,
                        std::vector<MountOp>* mounts) {
  std::vector<MountOp> out;
  for (MountOp& op : *mounts) {
    const bool holds =
        (op.kind == MountOpKind::kBind || op.kind == MountOpKind::kRoBind) &&
        !op.src.empty() && op.src != new_root &&
        PathIsSameOrUnder(new_root, op.src);
    std::string mask;
    if (holds) {
      const std::string rest =
          op.src == "/" ? new_root : new_root.substr(op.src.size());
      mask = op.dst == "/" ? rest : absl::StrCat(op.dst, rest);
    }
    out.push_back(std::move(op));
    if (!holds) continue;
    MountOp hide;
    hide.kind = MountOpKind::kMask;
    hide.dst = std::move(mask);
    out.push_back(std::move(hide));
  }
  *mounts = std::move(out);
}

std::string ProxyUrl(int port) {
  return absl::StrCat("http://127.0.0.1:", port);
}

std::string DescribeMountOp(const MountOp& op) {
  switch (op.kind) {
    case MountOpKind::kTmpfs:
      return absl::StrCat("tmpfs at ", op.dst);
    case MountOpKind::kBind:
      return absl::StrCat("bind ", op.src, " at ", op.dst);
    case MountOpKind::kRoBind:
      return absl::StrCat("read-only bind ", op.src, " at ", op.dst);
    case MountOpKind::kDir:
      return absl::StrCat("directory ", op.dst);
    case MountOpKind::kSymlink:
      return absl::StrCat("symlink ", op.dst, " -> ", op.src);
    case MountOpKind::kFile:
      return absl::StrCat("file ", op.dst);
    case MountOpKind::kProc:
      return absl::StrCat("proc at ", op.dst);
    case MountOpKind::kDevpts:
      return absl::StrCat("devpts at ", op.dst);
    case MountOpKind::kRoRebind:
      return absl::StrCat("read-only ", op.dst);
    case MountOpKind::kMask:
      return absl::StrCat("mask over ", op.dst);
    case MountOpKind::kPin:
      return absl::StrCat("pinned directory ", op.dst);
  }
  return "?";
}

absl::StatusOr<CellPlan> MakePlan(const CellSpec& spec,
                                  const std::vector<std::string>& command,
                                  const HostFacts& host) {
  if (command.empty()) {
    return absl::InvalidArgumentError(
        "no command to run: set `command` in the spec or give one after `--`");
  }
  if (!spec.path.has_value()) {
    return absl::FailedPreconditionError("the spec was not resolved");
  }
  CellPlan plan;
  plan.argv = command;
  plan.cwd = std::string(kCellWorktree);
  plan.pid_namespace = spec.isolation.pid_namespace;
  plan.ipc_namespace = spec.isolation.ipc_namespace;
  plan.seccomp = spec.isolation.seccomp;
  plan.keep_capabilities = spec.isolation.capabilities == Capabilities::kAll;
  plan.read_only_root = spec.isolation.read_only_root;
  for (const auto& [name, value] : spec.limits.rlimits) {
    const auto& resources = RlimitResources();
    const auto known = std::find_if(
        resources.begin(), resources.end(),
        [&name = name](const auto& entry) { return entry.first == name; });
    if (known == resources.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("field `limits.rlimits.", name, "`: unknown rlimit"));
    }
    plan.rlimits.push_back({name, known->second, value});
  }

  std::vector<MountOp>& mounts = plan.mounts;
  if (spec.nix) {
    mounts.push_back(Op(TestFault(fault::kWritableStore) ? MountOpKind::kBind
                                                         : MountOpKind::kRoBind,
                        spec.nix_store, std::string(kCellNixStore)));
    // Read-only: connect() to a socket works on a read-only mount, and the
    // cell must not be able to replace the host daemon's socket.
    mounts.push_back(Op(MountOpKind::kRoBind, spec.nix_daemon_socket,
                        std::string(kCellNixDaemonDir)));
  }
  // The home: the spec's read-write bind at /home/cell (a persistent
  // home), else a fresh tmpfs; the worktree and logDir go inside it.
  const auto home_bind = std::find_if(
      spec.mounts.begin(), spec.mounts.end(),
      [](const MountSpec& mount) { return mount.dst == kCellHome; });
  if (home_bind != spec.mounts.end()) {
    mounts.push_back(
        Op(MountOpKind::kBind, home_bind->src, std::string(kCellHome)));
  } else {
    mounts.push_back(Op(MountOpKind::kTmpfs, "", std::string(kCellHome), 0755));
  }
  mounts.push_back(
      Op(MountOpKind::kBind, spec.worktree_path, std::string(kCellWorktree)));
  if (spec.log_dir.has_value()) {
    // Read-only: the launcher's records there (the proxy's audit log and
    // logs) are read, never changed, from inside.
    mounts.push_back(Op(TestFault(fault::kWritableControlFiles)
                            ? MountOpKind::kBind
                            : MountOpKind::kRoBind,
                        *spec.log_dir, std::string(kCellLogDir)));
  }
  if (spec.tls_roots.has_value()) {
    mounts.push_back(
        Op(MountOpKind::kRoBind, *spec.tls_roots, std::string(kCellTlsRoots)));
  }
  mounts.push_back(Op(MountOpKind::kTmpfs, "", "/tmp", 01777));
  if (spec.isolation.pid_namespace) {
    mounts.push_back(Op(MountOpKind::kProc, "", "/proc", 0555));
  } else {
    // Without a PID namespace the kernel refuses a new proc instance (the
    // host's PID namespace belongs to the initial user namespace); the
    // host's /proc is what the cell would see anyway.
    mounts.push_back(Op(MountOpKind::kBind, "/proc", "/proc"));
  }
  // Either /proc: the host's bound one and a fresh instance expose the
  // same kernel interfaces.
  for (const char* path : kProcReadOnlyPaths) {
    if (TestFault(fault::kNoProcMasks)) break;
    mounts.push_back(Op(MountOpKind::kRoRebind, "", path));
  }
  for (const char* path : kProcMaskedPaths) {
    if (TestFault(fault::kNoProcMasks)) break;
    mounts.push_back(Op(MountOpKind::kMask, "", path));
  }
  AddDev(&mounts);
  mounts.push_back(File("/etc/passwd", PasswdFile(host)));
  mounts.push_back(File("/etc/group", GroupFile(host)));
  mounts.push_back(File("/etc/hosts",
                        "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost "
                        "ip6-loopback\n"));
  for (const MountSpec& mount : spec.mounts) {
    if (mount.dst == kCellHome) continue;  // Mounted first, above.
    MountOpKind kind = MountOpKind::kDir;
    switch (mount.type) {
      case MountType::kRoBind:
        kind = MountOpKind::kRoBind;
        break;
      case MountType::kBind:
        kind = MountOpKind::kBind;
        break;
      case MountType::kTmpfs:
        kind = MountOpKind::kTmpfs;
        break;
      case MountType::kDir:
        kind = MountOpKind::kDir;
        break;
      case MountType::kSymlink:
        kind = MountOpKind::kSymlink;
        break;
    }
    MountOp op = Op(kind, mount.src, mount.dst,
                    kind == MountOpKind::kTmpfs ? 01777 : 0755);
    op.optional = mount.optional;
    mounts.push_back(std::move(op));
  }

  std::vector<std::string>& env = plan.env;
  env.push_back(absl::StrCat("HOME=", kCellHome));
  env.push_back(absl::StrCat("USER=", host.uid == 0
                                          ? std::string("root")
                                          : NameOr(host.user_name, "cell")));
  env.push_back(absl::StrCat("PATH=", absl::StrJoin(*spec.path, ":")));
  if (host.term.has_value()) env.push_back(absl::StrCat("TERM=", *host.term));
  if (host.lang.has_value()) env.push_back(absl::StrCat("LANG=", *host.lang));
  if (spec.nix) {
    if (!TestFault(fault::kNoNixConfig)) {
      env.push_back(absl::StrCat("NIX_CONFIG=", kNixConfig));
    }
    env.push_back(absl::StrCat("NIX_REMOTE=", kNixRemote));
    env.push_back(absl::StrCat("NIX_PATH=", kNixPath));
  }
  if (spec.network.mode == NetworkMode::kProxy) {
    const std::string url = ProxyUrl(spec.network.port);
    for (const char* name :
         {"http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"}) {
      env.push_back(absl::StrCat(name, "=", url));
    }
    env.push_back(absl::StrCat("no_proxy=", kNoProxy));
    env.push_back(absl::StrCat("NO_PROXY=", kNoProxy));
  }
  if (spec.tls_roots.has_value()) {
    for (const std::string& name : TlsRootsEnvNames()) {
      env.push_back(absl::StrCat(name, "=", kCellTlsRoots));
    }
  }
  for (const auto& [name, value] : spec.env) {
    // TERM and LANG may be overridden; the spec parser rejects forced names.
    const std::string prefix = absl::StrCat(name, "=");
    env.erase(std::remove_if(env.begin(), env.end(),
                             [&prefix](const std::string& entry) {
                               return absl::StartsWith(entry, prefix);
                             }),
              env.end());
    env.push_back(absl::StrCat(name, "=", value));
  }

  const std::string& program = command.front();
  if (program.find('/') != std::string::npos) {
    plan.exec_candidates.push_back(program);
  } else {
    for (const std::string& dir : *spec.path) {
      plan.exec_candidates.push_back(absl::StrCat(dir, "/", program));
    }
  }
  return plan;
}

}  // namespace cell

#include "launcher/jail/preflight.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/fs_util.h"
#include "base/unique_fd.h"
#include "launcher/jail/jd.h"

namespace cell {
namespace {

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

}  // namespace

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

std::vector<std::string> WritableSources(const CellPlan& plan) {
  std::vector<std::string> writable;
  for (const MountOp& mount : plan.mounts) {
    if (mount.kind == MountOpKind::kBind) writable.push_back(mount.src);
  }
  return writable;
}

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

}  // namespace cell

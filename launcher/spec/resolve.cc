#include "launcher/spec/resolve.h"

#include <dirent.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/devices.h"
#include "base/fs_util.h"
#include "base/host_path.h"
#include "base/json_fields.h"
#include "base/status_macros.h"
#include "base/test_faults.h"
#include "launcher/spec/host_identity.h"
#include "launcher/spec/presets.h"

namespace cell {
namespace {

std::string Absolute(absl::string_view path, absl::string_view cwd) {
  if (!path.empty() && path.front() == '/') return std::string(path);
  return absl::StrCat(cwd, "/", path);
}

enum class Kind { kDirectory, kRegularFile, kSocket };

absl::string_view KindName(Kind kind) {
  switch (kind) {
    case Kind::kDirectory:
      return "a directory";
    case Kind::kRegularFile:
      return "a regular file";
    case Kind::kSocket:
      return "a socket";
  }
  return "?";
}

bool HasKind(const struct stat& info, Kind kind) {
  switch (kind) {
    case Kind::kDirectory:
      return S_ISDIR(info.st_mode);
    case Kind::kRegularFile:
      return S_ISREG(info.st_mode);
    case Kind::kSocket:
      return S_ISSOCK(info.st_mode);
  }
  return false;
}

// `path` (relative to `cwd`) resolved through trusted symlinks only
// (base/host_path.h); it must exist and be `kind`.
absl::StatusOr<std::string> ResolveHostPath(absl::string_view field,
                                            absl::string_view path,
                                            absl::string_view cwd, Kind kind) {
  const std::string absolute = Absolute(path, cwd);
  absl::StatusOr<std::string> resolved = ResolveTrustedPath(absolute);
  if (!resolved.ok()) {
    if (absl::IsNotFound(resolved.status())) {
      return absl::NotFoundError(
          absl::StrCat("field `", field, "`: '", absolute,
                       "' does not exist; create it or fix the path"));
    }
    return FieldError(field, resolved.status().message());
  }
  struct stat info;
  if (stat(resolved->c_str(), &info) != 0 || !HasKind(info, kind)) {
    return FieldError(field,
                      absl::StrCat("'", absolute, "' is not ", KindName(kind)));
  }
  return *std::move(resolved);
}

// logDir: as ResolveHostPath, but a directory not made yet is fine (`cell
// run` makes it first): then its nearest existing ancestor is resolved,
// and the rest is appended as written, without `..`.
absl::StatusOr<std::string> ResolveLogDir(absl::string_view path,
                                          absl::string_view cwd) {
  absl::StatusOr<std::string> existing =
      ResolveHostPath("logDir", path, cwd, Kind::kDirectory);
  if (!absl::IsNotFound(existing.status())) return existing;
  absl::StatusOr<ExistingAncestor> ancestor =
      FindExistingAncestor(Absolute(path, cwd));
  struct stat info;
  if (!ancestor.ok() || stat(ancestor->resolved.c_str(), &info) != 0 ||
      !S_ISDIR(info.st_mode)) {
    return existing;
  }
  std::string result = ancestor->resolved == "/" ? "" : ancestor->resolved;
  for (const std::string& component : ancestor->missing) {
    absl::StrAppend(&result, "/", component);
  }
  return result;
}

// Whether `path` lies in a hidden directory of `home` (by identity), other
// than cell's own ~/.local/share/cell.
bool InHiddenHomeDirectory(const std::string& path, const std::string& home) {
  const std::optional<std::string> inside = PathUnderByIdentity(path, home);
  return inside.has_value() && absl::StartsWith(*inside, "/.") &&
         !PathIsSameOrUnder(*inside, "/.local/share/cell");
}

// Compares version strings such as "2.18.1" and "2.9" numerically by part.
bool VersionLess(absl::string_view a, absl::string_view b) {
  std::vector<std::string> pa = absl::StrSplit(a, '.');
  std::vector<std::string> pb = absl::StrSplit(b, '.');
  for (size_t i = 0; i < std::min(pa.size(), pb.size()); ++i) {
    const long na = std::strtol(pa[i].c_str(), nullptr, 10);
    const long nb = std::strtol(pb[i].c_str(), nullptr, 10);
    if (na != nb) return na < nb;
    if (pa[i] != pb[i]) return pa[i] < pb[i];
  }
  return pa.size() < pb.size();
}

// The `bin` dir (as seen inside the cell) of the newest
// "<hash>-NAME-<digit>..." entry of the store that has bin/NAME, or "" when
// there is none.
std::string FindStoreBin(const std::string& store, absl::string_view name,
                         absl::string_view program) {
  std::unique_ptr<DIR, int (*)(DIR*)> dir(opendir(store.c_str()), closedir);
  if (dir == nullptr) return "";
  std::string best_entry;
  std::string best_version;
  const std::string infix = absl::StrCat("-", name, "-");
  while (const dirent* entry = readdir(dir.get())) {
    const absl::string_view entry_name = entry->d_name;
    const size_t at = entry_name.find(infix);
    // Store entries are "<32-char hash>-<name>-<version>".
    if (at != 32) continue;
    const absl::string_view version = entry_name.substr(at + infix.size());
    if (version.empty() || !absl::ascii_isdigit(version.front())) continue;
    const std::string program_path =
        absl::StrCat(store, "/", entry_name, "/bin/", program);
    if (access(program_path.c_str(), X_OK) != 0) continue;
    if (best_entry.empty() || VersionLess(best_version, version) ||
        (best_version == version && best_entry < entry_name)) {
      best_entry = std::string(entry_name);
      best_version = std::string(version);
    }
  }
  if (best_entry.empty()) return "";
  return absl::StrCat(kCellNixStore, "/", best_entry, "/bin");
}

// What no bind may bring in from the host: its kernel interfaces and its
// devices. A cell has a /proc of its own (masked) and no /sys; bound from
// the host they act on the whole host (a host-root cell writing
// /proc/sys/kernel/core_pattern has the host kernel run its code as root),
// wherever they are mounted (a chroot's proc is the host's too). A
// terminal bound in is the caller's: read what they type, write to their
// screen; a disk, memory, the console, the kernel log, userfaultfd act on
// the host. Device nodes are allowed by name: what agents need and cannot
// hurt the host with.
absl::Status CheckHostPathIsPlain(absl::string_view field,
                                  const std::string& path) {
  if (TestFault(fault::kAllowKernelBinds)) return absl::OkStatus();
  for (const char* dir : {"/proc", "/sys"}) {
    if (PathIsSameOrUnder(path, dir)) {
      return FieldError(
          field,
          absl::StrCat("'", path, "' is the host's ", dir,
                       ": its kernel interfaces act on the whole host (a "
                       "host-root cell writing /proc/sys/kernel/core_pattern "
                       "runs code as host root); a cell has a /proc of its "
                       "own. Remove it"));
    }
  }
  struct statfs fs;
  if (statfs(path.c_str(), &fs) == 0) {
    const char* kernel = nullptr;
    switch (fs.f_type) {
      case PROC_SUPER_MAGIC:
        kernel = "proc";
        break;
      case SYSFS_MAGIC:
        kernel = "sysfs";
        break;
      case DEBUGFS_MAGIC:
        kernel = "debugfs";
        break;
      case TRACEFS_MAGIC:
        kernel = "tracefs";
        break;
      case SECURITYFS_MAGIC:
        kernel = "securityfs";
        break;
      case CGROUP_SUPER_MAGIC:
        kernel = "cgroup";
        break;
      case CGROUP2_SUPER_MAGIC:
        kernel = "cgroup2";
        break;
      case BPF_FS_MAGIC:
        kernel = "bpf";
        break;
      case DEVPTS_SUPER_MAGIC:
        kernel = "devpts";
        break;
      case EFIVARFS_MAGIC:
        kernel = "efivarfs";
        break;
      case PSTOREFS_MAGIC:
        kernel = "pstore";
        break;
      case BINFMTFS_MAGIC:
        kernel = "binfmt_misc";
        break;
      default:
        break;
    }
    if (kernel != nullptr) {
      return FieldError(
          field, absl::StrCat("'", path, "' is on a ", kernel,
                              " file system: the host's kernel interfaces, "
                              "which act on the whole host. Remove it"));
    }
  }
  struct stat info;
  if (stat(path.c_str(), &info) != 0) return absl::OkStatus();  // Said later.
  if (S_ISDIR(info.st_mode) && PathIsSameOrUnder(path, "/dev")) {
    return FieldError(
        field, absl::StrCat("'", path,
                            "' is a directory of the host's devices "
                            "(terminals, disks); bind the device nodes the "
                            "cell needs one by one, e.g. /dev/kvm"));
  }
  if (!S_ISCHR(info.st_mode) && !S_ISBLK(info.st_mode)) return absl::OkStatus();
  const unsigned major_number = major(info.st_rdev);
  const unsigned minor_number = minor(info.st_rdev);
  const bool allowed = DeviceAllowedInCell(info);
  if (allowed) return absl::OkStatus();
  return FieldError(
      field,
      absl::StrCat("'", path, "' is a ",
                   S_ISBLK(info.st_mode) ? "block" : "character", " device (",
                   major_number, ":", minor_number,
                   ") that acts on the host (a disk, memory, a terminal, the "
                   "console or kernel log, userfaultfd...); a cell may bind "
                   "only null, zero, full, random, urandom, kvm, fuse, "
                   "net/tun and dri render nodes"));
}

// The host's own CA bundle: the first that exists of the distributions'
// places (Debian and Ubuntu, Fedora and RHEL, openSUSE, Alpine and Arch),
// then $NIX_SSL_CERT_FILE and $SSL_CERT_FILE.
absl::StatusOr<std::string> FindHostTlsRoots(absl::string_view host_root) {
  std::vector<std::string> candidates;
  for (const char* path : {"/etc/ssl/certs/ca-certificates.crt",
                           "/etc/pki/tls/certs/ca-bundle.crt",
                           "/etc/ssl/ca-bundle.pem", "/etc/ssl/cert.pem"}) {
    candidates.push_back(absl::StrCat(host_root, path));
  }
  for (const char* name : {"NIX_SSL_CERT_FILE", "SSL_CERT_FILE"}) {
    if (const char* value = getenv(name); value != nullptr && *value == '/') {
      candidates.emplace_back(value);
    }
  }
  for (const std::string& candidate : candidates) {
    struct stat info;
    if (stat(candidate.c_str(), &info) == 0 && S_ISREG(info.st_mode)) {
      return candidate;
    }
  }
  return FieldError(
      "tlsRoots",
      absl::StrCat("\"@host\": no CA bundle found on this host (looked at ",
                   absl::StrJoin(candidates, ", "),
                   "); install ca-certificates or give the bundle's path, "
                   "--tls-roots=FILE"));
}

// `tlsRoots` is shown to every TLS client in the cell: it must be what it
// claims, certificates only. A key (an SSH or TLS private key named by
// mistake, or by a spec someone else wrote) would be handed to the cell.
absl::Status CheckTlsRoots(const std::string& path) {
  constexpr size_t kMaxBundle = size_t{16} << 20;  // Debian's: 200 KiB.
  absl::StatusOr<std::string> text = ReadConfigFile(path, kMaxBundle);
  if (!text.ok()) return FieldError("tlsRoots", text.status().message());
  if (text->find("PRIVATE KEY") != std::string::npos ||
      text->find("BEGIN OPENSSH") != std::string::npos) {
    return FieldError("tlsRoots",
                      absl::StrCat("'", path,
                                   "' holds a private key; name a bundle of "
                                   "CA certificates (PEM) only"));
  }
  if (text->find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
    return FieldError(
        "tlsRoots",
        absl::StrCat("'", path,
                     "' holds no PEM certificate (-----BEGIN CERTIFICATE-----"
                     "); name a CA bundle such as "
                     "/etc/ssl/certs/ca-certificates.crt"));
  }
  return absl::OkStatus();
}

// The binds' sources resolved (a missing optional one dropped); the other
// mounts as they are.
absl::StatusOr<std::vector<MountSpec>> ResolveMounts(
    std::vector<MountSpec> mounts, absl::string_view cwd) {
  std::vector<MountSpec> kept;
  for (size_t i = 0; i < mounts.size(); ++i) {
    MountSpec& mount = mounts[i];
    if (mount.type == MountType::kRoBind || mount.type == MountType::kBind) {
      const std::string field = absl::StrCat("mounts[", i, "].src");
      const std::string absolute = Absolute(mount.src, cwd);
      absl::StatusOr<std::string> resolved = ResolveTrustedPath(absolute);
      if (!resolved.ok()) {
        if (!absl::IsNotFound(resolved.status())) {
          return FieldError(field, resolved.status().message());
        }
        if (mount.optional) continue;
        return absl::NotFoundError(absl::StrCat(
            "field `", field, "`: '", absolute,
            "' does not exist; create it, fix the path, or mark the mount "
            "\"optional\": true"));
      }
      mount.src = *std::move(resolved);
      CELL_RETURN_IF_ERROR(CheckHostPathIsPlain(field, mount.src));
      if (mount.type == MountType::kBind && mount.src == "/") {
        return FieldError(field,
                          "refusing to bind the host's root '/' "
                          "read-write into a cell");
      }
    }
    kept.push_back(std::move(mount));
  }
  return kept;
}

}  // namespace

std::vector<std::string> HomeDirectories(
    const std::optional<std::string>& host_user) {
  // /etc/passwd read here, not through getpwuid: a static launcher must
  // not load the host's NSS modules.
  const std::string passwd =
      ReadFileToString("/etc/passwd", 16 << 20).value_or("");
  std::vector<std::string> candidates = {
      "/root", HomeOfUser(passwd, std::to_string(getuid()))};
  if (const char* home = getenv("HOME"); home != nullptr && *home == '/') {
    candidates.emplace_back(home);
  }
  // A root launcher's cell of another user: that user's home too.
  if (host_user.has_value()) {
    candidates.push_back(HomeOfUser(passwd, *host_user));
  }
  std::vector<std::string> homes;
  for (const std::string& candidate : candidates) {
    char real[PATH_MAX];
    if (candidate.empty() || realpath(candidate.c_str(), real) == nullptr) {
      continue;
    }
    // "/" as a home (daemons' accounts) is refused as a worktree anyway.
    if (std::string(real) == "/") continue;
    if (std::find(homes.begin(), homes.end(), real) == homes.end()) {
      homes.emplace_back(real);
    }
  }
  return homes;
}

void AnchorSpecPaths(absl::string_view dir, nlohmann::json* spec) {
  if (!spec->is_object()) return;
  const auto anchor = [dir](nlohmann::json* value) {
    if (!value->is_string()) return;
    const std::string& path = value->get_ref<const std::string&>();
    // "@host" and the like are not paths.
    if (path.empty() || path.front() == '/' || path.front() == '@') return;
    *value = Absolute(path, dir);
  };
  for (const char* field : {"tinyproxyFilter", "logDir", "nixStore",
                            "nixDaemonSocket", "tlsRoots"}) {
    if (auto it = spec->find(field); it != spec->end()) anchor(&*it);
  }
  if (auto mounts = spec->find("mounts");
      mounts != spec->end() && mounts->is_array()) {
    for (nlohmann::json& mount : *mounts) {
      if (!mount.is_object()) continue;
      const auto type = mount.find("type");
      if (type == mount.end() || !type->is_string() ||
          (*type != "bind" && *type != "ro-bind")) {
        continue;
      }
      if (auto src = mount.find("src"); src != mount.end()) {
        // A bind without `dst` shows its source at the same path: that
        // path as written, not the anchored one.
        if (mount.find("dst") == mount.end() && src->is_string() &&
            !src->get_ref<const std::string&>().empty() &&
            src->get_ref<const std::string&>().front() != '/') {
          continue;  // The parser names the missing `dst`.
        }
        anchor(&*src);
      }
    }
  }
}

absl::StatusOr<CellSpec> ResolveSpec(CellSpec spec, absl::string_view cwd) {
  ResolveOptions options;
  options.cwd = std::string(cwd);
  options.homes = HomeDirectories(spec.host_user);
  return ResolveSpec(std::move(spec), options);
}

absl::StatusOr<CellSpec> ResolveSpec(CellSpec spec,
                                     const ResolveOptions& options) {
  const absl::string_view cwd = options.cwd;
  if (cwd.empty() || cwd.front() != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("working directory '", cwd, "' is not absolute"));
  }
  const std::string worktree_as_given = spec.worktree_path;
  CELL_ASSIGN_OR_RETURN(spec.worktree_path,
                        ResolveHostPath("worktreePath", spec.worktree_path, cwd,
                                        Kind::kDirectory));
  CELL_RETURN_IF_ERROR(
      CheckHostPathIsPlain("worktreePath", spec.worktree_path));
  if (spec.worktree_path == "/") {
    return FieldError("worktreePath",
                      "resolves to the host's root '/'; refusing to bind it "
                      "read-write into a cell");
  }
  // `cd ~ && ./agent-cell` with a worktreePath of "." would give the agent
  // the whole home read-write: .ssh, shell start-up files, every project.
  // Naming the directory absolutely says it is meant.
  if (worktree_as_given.empty() || worktree_as_given.front() != '/') {
    for (const std::string& home : options.homes) {
      // `cd ~/.config && cell run --worktree=.`: what the cell writes in a
      // home's hidden directories runs on the host (attacker round 11: a
      // trust record of its own in ~/.config/cell/trusted).
      if (InHiddenHomeDirectory(spec.worktree_path, home)) {
        return FieldError(
            "worktreePath",
            absl::StrCat("'", worktree_as_given, "' resolves to '",
                         spec.worktree_path,
                         "', in a hidden directory of the home ", home,
                         ", where what a cell writes can run on the host "
                         "(~/.config, ~/.local/bin, ~/.ssh); run it in a "
                         "project directory, or give the absolute path "
                         "(--worktree=",
                         spec.worktree_path, ") if that is really meant"));
      }
      // By identity: another name for the home (a bind mount of it) too.
      const std::optional<std::string> below =
          PathUnderByIdentity(home, spec.worktree_path);
      if (!below.has_value()) continue;
      return FieldError(
          "worktreePath",
          absl::StrCat("'", worktree_as_given, "' resolves to '",
                       spec.worktree_path, "', which ",
                       below->empty() ? "is" : "holds", " the home directory ",
                       home,
                       " (.ssh, shell start-up files, every project), "
                       "read-write in the cell; run it in a project "
                       "directory, or give the absolute path (--worktree=",
                       spec.worktree_path, ") if that is really meant"));
    }
  }
  if (spec.tinyproxy_filter.has_value()) {
    CELL_ASSIGN_OR_RETURN(
        *spec.tinyproxy_filter,
        ResolveHostPath("tinyproxyFilter", *spec.tinyproxy_filter, cwd,
                        Kind::kRegularFile));
  }
  if (spec.log_dir.has_value()) {
    CELL_ASSIGN_OR_RETURN(*spec.log_dir, ResolveLogDir(*spec.log_dir, cwd));
    CELL_RETURN_IF_ERROR(CheckHostPathIsPlain("logDir", *spec.log_dir));
    if (*spec.log_dir == "/") {
      return FieldError("logDir",
                        "resolves to the host's root '/'; refusing to "
                        "bind it read-write into a cell");
    }
  }
  if (spec.nix) {
    absl::StatusOr<std::string> store =
        ResolveHostPath("nixStore", spec.nix_store, cwd, Kind::kDirectory);
    if (absl::IsNotFound(store.status())) {
      return absl::NotFoundError(absl::StrCat(
          store.status().message(),
          "; on a host without Nix set \"nix\": false (--no-nix), and "
          "--preset=host for the host's own programs"));
    }
    CELL_ASSIGN_OR_RETURN(spec.nix_store, std::move(store));
    CELL_RETURN_IF_ERROR(CheckHostPathIsPlain("nixStore", spec.nix_store));
    CELL_ASSIGN_OR_RETURN(
        spec.nix_daemon_socket,
        ResolveHostPath("nixDaemonSocket", spec.nix_daemon_socket, cwd,
                        Kind::kDirectory));
    const std::string socket = absl::StrCat(spec.nix_daemon_socket, "/socket");
    struct stat info;
    if (lstat(socket.c_str(), &info) != 0 || !S_ISSOCK(info.st_mode)) {
      return FieldError(
          "nixDaemonSocket",
          absl::StrCat("'", spec.nix_daemon_socket,
                       "' has no `socket` entry; start nix-daemon, point the "
                       "field at the directory holding its socket, or set "
                       "\"nix\": false (--no-nix) on hosts without Nix"));
    }
  }
  if (spec.tls_roots.has_value()) {
    if (*spec.tls_roots == kHostTlsRoots) {
      CELL_ASSIGN_OR_RETURN(*spec.tls_roots,
                            FindHostTlsRoots(options.host_root));
    }
    CELL_ASSIGN_OR_RETURN(
        *spec.tls_roots,
        ResolveHostPath("tlsRoots", *spec.tls_roots, cwd, Kind::kRegularFile));
    CELL_RETURN_IF_ERROR(CheckHostPathIsPlain("tlsRoots", *spec.tls_roots));
    CELL_RETURN_IF_ERROR(CheckTlsRoots(*spec.tls_roots));
  }
  std::vector<std::string> preset_path;
  if (!spec.presets.empty()) {
    if (!spec.nix && std::find(spec.presets.begin(), spec.presets.end(),
                               "nix") != spec.presets.end()) {
      return FieldError("presets",
                        "\"nix\" binds a Nix host's profiles, whose links "
                        "point into the Nix store: it needs \"nix\": true "
                        "(drop --no-nix), or use the \"host\" preset");
    }
    std::vector<std::string> taken;
    for (const MountSpec& mount : spec.mounts) taken.push_back(mount.dst);
    std::vector<MountSpec> expanded =
        ExpandPresets(spec.presets, options.host_root, taken);
    spec.mounts.insert(spec.mounts.begin(), expanded.begin(), expanded.end());
    preset_path = PresetPathDirs(spec.presets);
    // Resolved: the result is in `mounts`, and a resolved spec resolves to
    // itself (check-spec output is a spec).
    spec.presets.clear();
  }
  // Without Nix the store and socket fields are kept as given but unused,
  // so that the resolved spec still parses (check-spec output is a spec).
  CELL_ASSIGN_OR_RETURN(spec.mounts,
                        ResolveMounts(std::move(spec.mounts), cwd));
  // A persistent home: never the user's own home, or a directory holding
  // it, read-write in the cell.
  for (size_t i = 0; i < spec.mounts.size(); ++i) {
    if (spec.mounts[i].dst != kCellHome) continue;
    for (const std::string& home : options.homes) {
      // Inside the home, only below a place of cell's own: what a cell
      // leaves in the home's hidden directories runs on the host
      // (~/.local/bin is on PATH, ~/.config holds autostart entries).
      if (InHiddenHomeDirectory(spec.mounts[i].src, home)) {
        return FieldError(
            absl::StrCat("mounts[", i, "].src"),
            absl::StrCat("'", spec.mounts[i].src,
                         "' is in a hidden directory of the home ", home,
                         ", where what a cell writes can run on the host "
                         "(~/.local/bin is on PATH, ~/.config holds "
                         "autostart entries); use ",
                         home, "/.local/share/cell/home"));
      }
      const std::optional<std::string> below =
          PathUnderByIdentity(home, spec.mounts[i].src);
      if (!below.has_value()) continue;
      return FieldError(
          absl::StrCat("mounts[", i, "].src"),
          absl::StrCat("'", spec.mounts[i].src, "' ",
                       below->empty() ? "is" : "holds", " the home directory ",
                       home,
                       " (.ssh, shell start-up files): give the cell a home "
                       "of its own, e.g. ",
                       home, "/.local/share/cell/home"));
    }
    if (spec.mounts[i].src == spec.worktree_path) {
      return FieldError(absl::StrCat("mounts[", i, "].src"),
                        "is the worktree; give the cell's home a directory "
                        "of its own");
    }
  }
  // logDir as the worktree or a read-write bind (by identity: another name
  // counts): the cell would rewrite the audit log. A view of it inside
  // such a bind is made read-only at launch instead (protect.h).
  if (spec.log_dir.has_value()) {
    std::vector<std::pair<std::string, std::string>> writable = {
        {"worktreePath", spec.worktree_path}};
    for (size_t i = 0; i < spec.mounts.size(); ++i) {
      if (spec.mounts[i].type != MountType::kBind) continue;
      writable.emplace_back(absl::StrCat("mounts[", i, "].src"),
                            spec.mounts[i].src);
    }
    for (const auto& [field, source] : writable) {
      if (PathUnderByIdentity(*spec.log_dir, source) != std::string()) {
        continue;
      }
      return FieldError(
          "logDir",
          absl::StrCat("'", *spec.log_dir, "' is also `", field,
                       "`, bound read-write: the cell could rewrite the "
                       "audit log; give logDir a directory of its own"));
    }
  }
  if (!spec.path.has_value()) {
    std::vector<std::string> path;
    if (spec.nix) {
      for (const auto& [name, program] :
           std::vector<std::pair<absl::string_view, absl::string_view>>{
               {"nix", "nix"}, {"coreutils", "ls"}}) {
        std::string bin = FindStoreBin(spec.nix_store, name, program);
        if (!bin.empty()) path.push_back(std::move(bin));
      }
    }
    path.insert(path.end(), preset_path.begin(), preset_path.end());
    if (path.empty()) path = {"/usr/bin", "/bin"};
    spec.path = std::move(path);
  }
  return spec;
}

}  // namespace cell

// Probe: what the cell can reach through its binds. One walk of the tree
// finds sockets and devices; mountinfo names the kernel file systems.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/devices.h"
#include "base/kernel_fs.h"
#include "base/mountinfo.h"
#include "probes/parsers.h"
#include "probes/probes.h"
#include "probes/support.h"

namespace cell::probes {
namespace {

// Bounds on the walk: a cell's tree is its binds (/usr alone is ~150k
// entries on a Debian host); past these the facts say so.
constexpr int kMaxEntries = 400000;
constexpr int kMaxDepth = 32;

// File systems whose trees are not walked: the kernel's (judged from
// mountinfo below) and their sheer size.
bool KernelFileSystem(long type) {
  switch (type) {
    case PROC_SUPER_MAGIC:
    case SYSFS_MAGIC:
    case DEBUGFS_MAGIC:
    case TRACEFS_MAGIC:
    case SECURITYFS_MAGIC:
    case CGROUP_SUPER_MAGIC:
    case CGROUP2_SUPER_MAGIC:
    case BPF_FS_MAGIC:
      return true;
    default:
      return false;
  }
}

// Credential files by name, with the directory that makes the name mean
// one ("" for any): what agents' sandboxes are told to keep out.
bool CredentialName(const std::string& dir, const char* name) {
  static const auto* const kNames =
      new std::vector<std::pair<std::string, std::string>>{
          {"", ".netrc"},
          {"", ".git-credentials"},
          {"", ".pypirc"},
          {".aws", "credentials"},
          {".docker", "config.json"},
          {".kube", "config"},
          {"gh", "hosts.yml"},
          {"nix", "netrc"},
          {"gcloud", "application_default_credentials.json"},
          {"gcloud", "credentials.db"},
          // Attacker round 5: tokens of package registries, vault,
          // databases, clouds, and deploy keys passed as "none found".
          {"", ".npmrc"},
          {"", ".vault-token"},
          {"", ".pgpass"},
          {"", ".s3cfg"},
          {"", ".boto"},
          {"", ".terraformrc"},
          {"", "credentials.tfrc.json"},
          {"", "deploy_key"},
          {".cargo", "credentials"},
          {".cargo", "credentials.toml"},
          {".azure", "accessTokens.json"},
          {".azure", "msal_token_cache.json"}};
  // The distribution's own trees ship sample dotfiles (a package's
  // .npmrc), never a user's credentials.
  for (const char* system :
       {"/usr/", "/lib", "/bin/", "/sbin/", "/nix/store/"}) {
    if (dir.rfind(system, 0) == 0) return false;
  }
  const std::string base = dir.substr(dir.rfind('/') + 1);
  for (const auto& [parent, file] : *kNames) {
    if (file == name && (parent.empty() || parent == base)) return true;
  }
  // Any private key in an .ssh directory (id_ed25519_sk, id_work, ...).
  const std::string file = name;
  if (base == ".ssh" && file.rfind("id_", 0) == 0 &&
      (file.size() < 4 || file.compare(file.size() - 4, 4, ".pub") != 0)) {
    return true;
  }
  return dir == "/run/secrets" || dir.rfind("/run/secrets/", 0) == 0;
}

struct Found {
  std::vector<std::string> secrets;
  std::vector<std::string> sockets;
  std::vector<std::pair<std::string, struct stat>> devices;
  // Directories already walked, by identity: binds of one tree at several
  // places (/lib and /usr/lib on a merged-/usr host) are walked once.
  std::set<std::pair<dev_t, ino_t>> seen;
  // Directories the cell may pass through but not list (mode 0711): what
  // is in them can be reached by name and cannot be inventoried.
  std::vector<std::string> unlistable;
  int entries = 0;
  bool truncated = false;
};

// Walks the directory open at `fd` (taken over), named `dir`, whose
// identity is `info`. Relative opens and d_type keep it to about one
// openat, one fstat and the getdents per directory.
void Walk(int fd, const std::string& dir, const struct stat& info,
          dev_t parent_device, int depth, Found* found) {
  // Too deep: this subtree is not walked (the facts say the walk is
  // incomplete); the others still are.
  if (depth > kMaxDepth) found->truncated = true;
  if (depth > kMaxDepth ||
      !found->seen.insert({info.st_dev, info.st_ino}).second) {
    close(fd);
    return;
  }
  // A mount crossed: the kernel's file systems are not walked (mountinfo
  // names them below), and their trees are large.
  struct statfs fs;
  if (info.st_dev != parent_device && fstatfs(fd, &fs) == 0 &&
      KernelFileSystem(fs.f_type)) {
    close(fd);
    return;
  }
  DIR* handle = fdopendir(fd);
  if (handle == nullptr) {
    close(fd);
    return;
  }
  std::vector<std::string> subdirs;
  while (const dirent* entry = readdir(handle)) {
    const char* name = entry->d_name;
    if (std::strcmp(name, ".") == 0 || std::strcmp(name, "..") == 0) continue;
    if (++found->entries > kMaxEntries) {
      found->truncated = true;
      break;
    }
    unsigned char type = entry->d_type;
    struct stat entry_info;
    if (type == DT_UNKNOWN || type == DT_CHR || type == DT_BLK) {
      if (fstatat(dirfd(handle), name, &entry_info, AT_SYMLINK_NOFOLLOW) != 0) {
        continue;
      }
      type = S_ISDIR(entry_info.st_mode)    ? DT_DIR
             : S_ISSOCK(entry_info.st_mode) ? DT_SOCK
             : S_ISCHR(entry_info.st_mode)  ? DT_CHR
             : S_ISBLK(entry_info.st_mode)  ? DT_BLK
                                            : DT_REG;
    }
    const std::string path = (dir == "/" ? "" : dir) + "/" + name;
    if (type != DT_DIR && CredentialName(dir, name)) {
      found->secrets.push_back(path);
    }
    if (type == DT_DIR) {
      subdirs.push_back(name);
    } else if (type == DT_SOCK) {
      found->sockets.push_back(path);
    } else if (type == DT_CHR || type == DT_BLK) {
      found->devices.emplace_back(path, entry_info);
    }
  }
  for (const std::string& name : subdirs) {
    if (found->entries > kMaxEntries) break;
    const std::string path = (dir == "/" ? "" : dir) + "/" + name;
    // The store cannot hold sockets or devices (Nix refuses them), and it
    // may hold millions of files.
    if (path == "/nix/store") continue;
    const int child = openat(dirfd(handle), name.c_str(),
                             O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    struct stat child_info;
    if (child < 0) {
      // What the cell can enter but the walk cannot (a directory it may
      // pass through but not list), or can open up: one its own user owns,
      // which a chmod makes listable (attacker round 5: a mode-000
      // directory hid a host socket and a credential file). Either leaves
      // the walk incomplete, which is not a pass. An owner the user
      // namespace does not map shows as the overflow uid, which is also
      // the cell's own when it runs as nobody: a chmod to the mode it
      // already has (nothing changes but its ctime) succeeds only for the
      // directory's real owner.
      struct stat denied;
      if (errno == EACCES && (faccessat(dirfd(handle), name.c_str(), X_OK,
                                        AT_SYMLINK_NOFOLLOW) == 0 ||
                              (fstatat(dirfd(handle), name.c_str(), &denied,
                                       AT_SYMLINK_NOFOLLOW) == 0 &&
                               denied.st_uid == geteuid() &&
                               fchmodat(dirfd(handle), name.c_str(),
                                        denied.st_mode & 07777, 0) == 0))) {
        found->unlistable.push_back(path);
      }
      continue;
    }
    if (fstat(child, &child_info) != 0) {
      close(child);
      continue;
    }
    Walk(child, path, child_info, info.st_dev, depth + 1, found);
  }
  closedir(handle);
}

// What a device the cell can reach is: "" for the ones a cell may have
// (null, zero, full, random, urandom, /dev/tty, its own ptmx and pts, and
// kvm, fuse, net/tun, dri render nodes, which the launcher lets a spec
// bind), "terminal" for another terminal, "device" for anything else.
std::string DeviceKind(const struct stat& info, dev_t own_pts) {
  if (DeviceAllowedInCell(info)) return "";
  const unsigned major_number = major(info.st_rdev);
  const unsigned minor_number = minor(info.st_rdev);
  if (!S_ISCHR(info.st_mode)) return "device";
  if (major_number == 5 && (minor_number == 0 || minor_number == 2)) {
    return "";  // /dev/tty (whichever is controlling), ptmx.
  }
  const bool terminal = major_number == 2 || major_number == 3 ||
                        major_number == 4 || major_number == 5 ||
                        major_number == 7 ||
                        (major_number >= 136 && major_number <= 143);
  if (!terminal) return "device";
  return info.st_dev == own_pts ? "" : "terminal";  // Its own devpts aside.
}

// The mounts that are the cell's own: its /proc and the read-only binds
// of parts of it (a proc mount at /proc/R whose root is R), its devpts,
// the device nodes of its /dev. A proc mount elsewhere under /proc, or
// with another root, is not.
bool OwnKernelMount(const MountEntry& mount) {
  if (mount.fs_type == "proc") {
    if (mount.mount_point == "/proc") return mount.root == "/";
    return mount.mount_point.rfind("/proc/", 0) == 0 &&
           mount.root == mount.mount_point.substr(5);
  }
  if (mount.mount_point == "/dev/pts" && mount.fs_type == "devpts") return true;
  for (const char* node : {"/dev/null", "/dev/zero", "/dev/full", "/dev/random",
                           "/dev/urandom", "/dev/tty"}) {
    if (mount.mount_point == node) return true;
  }
  return false;
}

}  // namespace

Facts ProbeReach(const ProbeOptions& options) {
  Facts facts;
  Found found;
  const std::vector<MountEntry> mounts =
      ParseMountInfo(ReadText(options.proc_root + "/self/mountinfo"));
  const int root = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct stat root_info;
  if (root >= 0 && fstat(root, &root_info) == 0) {
    Walk(root, "/", root_info, root_info.st_dev, 0, &found);
  } else if (root >= 0) {
    close(root);
  }
  // Every mount point is walked as a root of its own too: one beneath the
  // store (which the walk does not enter), or beneath a directory walked
  // under another name first (the walk visits a directory once, by
  // identity, and would miss what is mounted under its second name).
  for (const MountEntry& mount : mounts) {
    if (mount.mount_point == "/" || mount.mount_point == "/nix/store" ||
        mount.mount_point == "/proc" ||
        mount.mount_point.rfind("/proc/", 0) == 0) {
      continue;
    }
    const int fd = open(mount.mount_point.c_str(),
                        O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    struct stat info;
    if (fd < 0) continue;  // Not a directory, or not reachable.
    if (fstat(fd, &info) != 0) {
      close(fd);
      continue;
    }
    Walk(fd, mount.mount_point, info, 0, 0, &found);
  }
  // A socket or device bound over a file: readdir reports the file under
  // it, so every mount point is looked at itself.
  for (const MountEntry& mount : mounts) {
    struct stat info;
    if (lstat(mount.mount_point.c_str(), &info) != 0) continue;
    if (S_ISSOCK(info.st_mode) &&
        std::find(found.sockets.begin(), found.sockets.end(),
                  mount.mount_point) == found.sockets.end()) {
      found.sockets.push_back(mount.mount_point);
    } else if ((S_ISCHR(info.st_mode) || S_ISBLK(info.st_mode)) &&
               std::none_of(found.devices.begin(), found.devices.end(),
                            [&mount](const auto& device) {
                              return device.first == mount.mount_point;
                            })) {
      found.devices.emplace_back(mount.mount_point, info);
    }
  }
  facts["walked"] = found.entries;
  facts["truncated"] = found.truncated;
  Facts unlistable = Facts::array();
  for (const std::string& path : found.unlistable) unlistable.push_back(path);
  facts["unlistable"] = unlistable;

  Facts sockets = Facts::array();
  for (const std::string& path : found.sockets) {
    // Every socket is asked whether it is a Nix daemon that trusts the
    // cell; anything else does not answer the magic within a second.
    sockets.push_back({{"path", path}, {"nix", AskNixDaemon(path, 1)}});
  }
  facts["sockets"] = sockets;

  struct stat pts;
  const dev_t own_pts = stat("/dev/pts", &pts) == 0 ? pts.st_dev : 0;
  Facts devices = Facts::array();
  for (const auto& [path, info] : found.devices) {
    const std::string kind = DeviceKind(info, own_pts);
    if (kind.empty()) continue;
    const std::string identity = StatIdentity(info);
    // O_NOCTTY: never becomes this process's controlling terminal; nothing
    // is read or written.
    const int fd =
        open(path.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    const Facts opened = fd >= 0 ? Facts("ok") : Facts(ErrnoFact(errno));
    if (fd >= 0) close(fd);
    devices.push_back({{"path", path},
                       {"kind", kind},
                       {"callerTty", !options.caller_tty.empty() &&
                                         identity == options.caller_tty},
                       {"open", opened}});
  }
  facts["devices"] = devices;

  if (options.abstract_canary.empty()) {
    facts["abstractCanary"] = "not given";
  } else {
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    const size_t length =
        std::min(options.abstract_canary.size(), sizeof(address.sun_path) - 1);
    std::memcpy(address.sun_path + 1, options.abstract_canary.data(), length);
    const int result =
        fd < 0 ? -1
               : connect(fd, reinterpret_cast<sockaddr*>(&address),
                         static_cast<socklen_t>(
                             offsetof(sockaddr_un, sun_path) + 1 + length));
    facts["abstractCanary"] =
        result == 0 ? Facts("ok") : Facts(ErrnoFact(errno));
    if (fd >= 0) close(fd);
  }

  // Sockets the command was handed (descriptors 3 and up).
  Facts inherited = Facts::array();
  for (int fd = 3; fd < 1024; ++fd) {
    struct stat info;
    if (fstat(fd, &info) == 0 && S_ISSOCK(info.st_mode)) {
      inherited.push_back(fd);
    }
  }
  facts["inheritedSockets"] = inherited;

  Facts kernel_mounts = Facts::array();
  for (const MountEntry& mount : mounts) {
    if (!IsKernelFileSystem(mount.fs_type.c_str()) || OwnKernelMount(mount)) {
      continue;
    }
    Facts entry = {{"mountPoint", mount.mount_point},
                   {"fsType", mount.fs_type},
                   {"root", mount.root},
                   {"readOnly", mount.read_only}};
    if (mount.fs_type == "proc") {
      // The attack through this proc mount: the sensitive files that lie
      // under its root, at their place in it.
      const std::string root = mount.root == "/" ? "" : mount.root;
      Facts writes = Facts::object();
      for (const std::string& target : ProcWriteTargets()) {
        if (target.rfind(root + "/", 0) != 0) continue;
        const std::string path = mount.mount_point + target.substr(root.size());
        writes[path] = WriteOpen(path);
      }
      Facts reads = Facts::object();
      for (const std::string& target : ProcReadTargets()) {
        if (target.rfind(root + "/", 0) != 0) continue;
        const std::string path = mount.mount_point + target.substr(root.size());
        reads[path] = ReadBytes(path);
      }
      entry["writeOpen"] = writes;
      entry["read"] = reads;
    }
    kernel_mounts.push_back(entry);
  }
  facts["kernelMounts"] = kernel_mounts;

  // Credentials: files by name, and variables with secret-looking names in
  // the environment of every process the cell can read (its own; the
  // host's are not readable from a cell). Names only, never values.
  Facts secrets = Facts::array();
  for (const std::string& path : found.secrets) secrets.push_back(path);
  facts["secretFiles"] = secrets;
  Facts variables = Facts::array();
  DIR* proc = opendir(options.proc_root.c_str());
  std::set<std::string> seen;
  if (proc != nullptr) {
    while (const dirent* entry = readdir(proc)) {
      if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
      const std::string text =
          ReadText(options.proc_root + "/" + entry->d_name + "/environ");
      size_t start = 0;
      while (start < text.size()) {
        size_t end = text.find('\0', start);
        if (end == std::string::npos) end = text.size();
        const std::string variable = text.substr(start, end - start);
        const std::string name = variable.substr(0, variable.find('='));
        if (!name.empty() && IsSecretName(name) && seen.insert(name).second) {
          variables.push_back(name);
        }
        start = end + 1;
      }
    }
    closedir(proc);
  }
  facts["secretVariables"] = variables;
  return facts;
}

}  // namespace cell::probes

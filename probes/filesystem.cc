// Probes: the cell's files and environment.
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include "base/mount_flags.h"
#include "base/mountinfo.h"
#include "probes/parsers.h"
#include "probes/probes.h"

extern char** environ;

#include "probes/support.h"

namespace cell::probes {

Facts ProbeMounts(const ProbeOptions& options) {
  Facts mounts = Facts::array();
  for (const MountEntry& entry :
       ParseMountInfo(ReadText(options.proc_root + "/self/mountinfo"))) {
    // A device node bound over a file (an allowed one keeps its device
    // use, so it is not nodev).
    struct stat info;
    const bool device = stat(entry.mount_point.c_str(), &info) == 0 &&
                        (S_ISCHR(info.st_mode) || S_ISBLK(info.st_mode));
    mounts.push_back({{"mountPoint", entry.mount_point},
                      {"fsType", entry.fs_type},
                      {"source", entry.source},
                      {"readOnly", entry.read_only},
                      {"nosuid", entry.nosuid},
                      {"nodev", entry.nodev},
                      {"device", device},
                      {"propagation", entry.propagation}});
  }
  Facts visible = Facts::object();
  for (const std::string& path : options.host_paths) {
    struct stat info;
    visible[path] = lstat(path.c_str(), &info) == 0;
  }
  return {{"mounts", mounts}, {"hostPathsVisible", visible}};
}

Facts ProbeFs(const ProbeOptions& options) {
  Facts facts;
  char cwd[4096];
  facts["cwd"] = getcwd(cwd, sizeof(cwd)) != nullptr ? Facts(cwd) : Facts();
  facts["home"] = EnvOrNull("HOME");
  for (const auto& [key, dir] :
       std::vector<std::pair<std::string, std::string>>{
           {"worktree", options.worktree}, {"tmp", "/tmp"}, {"root", ""}}) {
    const std::string path = dir + "/.cell-probe-" + std::to_string(getpid());
    Facts result;
    const int fd =
        open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
      result = {{"writable", false}, {"error", ErrnoFact(errno)}};
    } else {
      const char text[] = "cell-probe";
      char back[sizeof(text)] = {};
      const bool round_trip =
          write(fd, text, sizeof(text)) == sizeof(text) &&
          pread(fd, back, sizeof(back), 0) == sizeof(back) &&
          std::memcmp(text, back, sizeof(text)) == 0;
      close(fd);
      const bool removed = unlink(path.c_str()) == 0;
      result = {{"writable", round_trip}, {"removed", removed}};
    }
    result["path"] = dir.empty() ? "/" : dir;
    facts[key] = result;
  }
  struct stat info;
  facts["worktreeId"] = stat(options.worktree.c_str(), &info) == 0
                            ? Facts(StatIdentity(info))
                            : Facts(ErrnoFact(errno));
  Facts writes = Facts::object();
  for (const std::string& path : options.try_write) {
    if (lstat(path.c_str(), &info) != 0) {
      // Missing: planting it is the attack. Can the cell create it, or the
      // first missing directory on the way (.git for .git/hooks/)? What
      // was made is removed at once.
      std::string first = path;
      for (std::string parent = first.substr(0, first.rfind('/'));
           !parent.empty() && lstat(parent.c_str(), &info) != 0;
           parent = parent.substr(0, parent.rfind('/'))) {
        first = parent;
      }
      int error = 0;
      if (first == path) {
        const int fd =
            open(path.c_str(),
                 O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        error = fd >= 0 ? 0 : errno;
        if (fd >= 0) {
          close(fd);
          unlink(path.c_str());
        }
      } else {
        error = mkdir(first.c_str(), 0700) == 0 ? 0 : errno;
        if (error == 0) rmdir(first.c_str());
      }
      writes[path] = error == 0 ? Facts("ok") : Facts(ErrnoFact(error));
    } else if (S_ISDIR(info.st_mode)) {
      const std::string file =
          path + "/.cell-probe-control-" + std::to_string(getpid());
      const int fd =
          open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
      if (fd >= 0) {
        close(fd);
        unlink(file.c_str());
      }
      writes[path] = fd >= 0 ? Facts("ok") : Facts(ErrnoFact(errno));
    } else {
      // No O_TRUNC, nothing written: the open is the attack's first step.
      const int fd = open(path.c_str(), O_WRONLY | O_NOFOLLOW | O_NONBLOCK |
                                            O_NOCTTY | O_CLOEXEC);
      if (fd >= 0) close(fd);
      writes[path] = fd >= 0 ? Facts("ok") : Facts(ErrnoFact(errno));
    }
  }
  facts["controlWrites"] = writes;
  // A protected path, or any directory on its way, renamed away lets a new
  // one take its place: as good as writing it (found in review, twice:
  // read-only binds of every protected path left `.git` itself movable, and
  // then the worktree in a writable parent, taking its mounts along).
  // Nothing is renamed here: an entry can be renamed when it is no mount
  // point (those are EBUSY) and its directory takes writes (access(2) asks
  // the kernel: a read-only mount, permissions, an immutable flag; a
  // sticky directory only for an owner). Inside the worktree every such
  // rename shows on the host; above it, only in a host directory (one of
  // `host_ancestors`): the cell's own root is its own. A mount point does
  // not pin what is above it, so the walk goes on to /.
  std::set<std::string> mount_points;
  for (const MountEntry& entry :
       ParseMountInfo(ReadText(options.proc_root + "/self/mountinfo"))) {
    mount_points.insert(entry.mount_point);
  }
  Facts renames = Facts::object();
  std::set<std::string> judged;
  for (const std::string& path : options.try_write) {
    std::string at = path;
    while (!at.empty() && lstat(at.c_str(), &info) != 0) {
      at = at.substr(0, at.rfind('/'));
    }
    for (; !at.empty(); at = at.substr(0, at.rfind('/'))) {
      if (!judged.insert(at).second) continue;
      if (mount_points.count(at) > 0) continue;
      const std::string parent =
          at.rfind('/') == 0 ? "/" : at.substr(0, at.rfind('/'));
      struct stat entry;
      struct stat directory;
      if (lstat(at.c_str(), &entry) != 0 ||
          stat(parent.c_str(), &directory) != 0) {
        continue;
      }
      const bool in_worktree = at.rfind(options.worktree + "/", 0) == 0;
      const bool host_directory =
          std::find(options.host_ancestors.begin(),
                    options.host_ancestors.end(),
                    StatIdentity(directory)) != options.host_ancestors.end();
      if (!in_worktree && !host_directory) continue;
      if (access(parent.c_str(), W_OK) != 0) continue;
      const uid_t self = geteuid();
      if ((directory.st_mode & S_ISVTX) != 0 && entry.st_uid != self &&
          directory.st_uid != self && self != 0) {
        continue;
      }
      renames[at] = in_worktree
                        ? "ok: no mount point, in a writable directory"
                        : "ok: no mount point, in a writable host directory";
    }
  }
  facts["controlRenames"] = renames;
  return facts;
}

Facts ProbeEnv(const ProbeOptions& options) {
  Facts variables = Facts::object();
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string text = *entry;
    const size_t equals = text.find('=');
    if (equals == std::string::npos) continue;
    const std::string name = text.substr(0, equals);
    variables[name] =
        IsSecretName(name) ? std::string("***") : text.substr(equals + 1);
  }
  Facts path_entries = Facts::array();
  if (const char* path = std::getenv("PATH")) {
    std::istringstream in(path);
    std::string dir;
    while (std::getline(in, dir, ':')) {
      struct stat info;
      path_entries.push_back(
          {{"dir", dir},
           {"exists", stat(dir.c_str(), &info) == 0 && S_ISDIR(info.st_mode)}});
    }
  }
  return {{"variables", variables}, {"path", path_entries}};
}

}  // namespace cell::probes

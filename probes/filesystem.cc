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

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
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
                            ? Facts(std::to_string(info.st_dev) + ":" +
                                    std::to_string(info.st_ino))
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
  // A protected path, or a directory on the way to it inside the worktree
  // (.git for .git/config), renamed away lets a new one take its place:
  // as good as writing it (found in review: read-only binds of every path
  // left .git itself movable). Each is renamed and at once renamed back.
  Facts renames = Facts::object();
  const std::string root = options.worktree + "/";
  for (const std::string& path : options.try_write) {
    if (path.rfind(root, 0) != 0) continue;
    for (std::string at = path; at.size() > options.worktree.size();
         at = at.substr(0, at.rfind('/'))) {
      if (renames.contains(at) || lstat(at.c_str(), &info) != 0) continue;
      const std::string away =
          at + ".cell-probe-renamed-" + std::to_string(getpid());
      if (rename(at.c_str(), away.c_str()) != 0) {
        renames[at] = ErrnoFact(errno);
      } else if (rename(away.c_str(), at.c_str()) == 0) {
        renames[at] = "ok";
      } else {
        renames[at] =
            "ok; NOT RENAMED BACK, it is at " + away + ": " + ErrnoFact(errno);
      }
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

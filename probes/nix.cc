// Probes: the Nix store and daemon as a cell sees them.
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
#include "probes/parsers.h"
#include "probes/probes.h"

extern char** environ;

#include "probes/support.h"

namespace cell::probes {
namespace {

// Whether the command could make the read-only mount at `path` writable:
// a bind remount without MS_RDONLY, in a private copy of the mount namespace
// (in a nested user namespace if this process may not unshare its own) so
// that the cell itself never changes. Keeps the flags the kernel would
// refuse to clear anyway (nosuid, nodev, ...): only read-only is tested.
Facts TryRemountWritable(const std::string& path) {
  return AttemptInChild([&path] {
    if (unshare(CLONE_NEWNS) != 0 &&
        unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) {
      return errno;
    }
    const unsigned long flags =
        MS_REMOUNT | MS_BIND | KeptMountFlags(path.c_str());
    return ErrnoOf(mount(nullptr, path.c_str(), nullptr, flags, nullptr));
  });
}

}  // namespace

Facts ProbeStore(const ProbeOptions& options) {
  Facts facts;
  facts["path"] = options.nix_store;
  const std::vector<MountEntry> mounts =
      ParseMountInfo(ReadText(options.proc_root + "/self/mountinfo"));
  Facts mount = nullptr;
  for (const MountEntry& entry : mounts) {
    if (entry.mount_point == options.nix_store) {
      mount = {{"fsType", entry.fs_type}, {"readOnly", entry.read_only}};
    }
  }
  facts["mount"] = mount;
  DIR* dir = opendir(options.nix_store.c_str());
  if (dir == nullptr) {
    facts["readable"] = false;
    facts["readError"] = ErrnoFact(errno);
  } else {
    int entries = 0;
    while (const dirent* entry = readdir(dir)) {
      if (entry->d_name[0] != '.') ++entries;
    }
    closedir(dir);
    facts["readable"] = true;
    facts["entries"] = entries;
  }
  const std::string probe_file = options.nix_store + "/.cell-probe-write";
  const int fd = open(probe_file.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd >= 0) {
    close(fd);
    unlink(probe_file.c_str());
    facts["writeError"] = nullptr;
    facts["writable"] = true;
  } else {
    facts["writeError"] = ErrnoFact(errno);
    facts["writable"] = false;
  }
  facts["remountWritable"] = TryRemountWritable(options.nix_store);
  return facts;
}

Facts ProbeNix(const ProbeOptions& options) {
  Facts facts;
  for (const char* name : {"NIX_CONFIG", "NIX_REMOTE", "NIX_PATH"}) {
    facts[name] = EnvOrNull(name);
  }
  Facts daemon = {{"socket", options.nix_socket}};
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, options.nix_socket.c_str(),
               sizeof(address.sun_path) - 1);
  if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&address),
                        sizeof(address)) != 0) {
    daemon["connected"] = false;
    daemon["error"] = ErrnoFact(errno);
    if (fd >= 0) close(fd);
    facts["daemon"] = daemon;
    return facts;
  }
  daemon["connected"] = true;
  // The worker protocol's opening: the client sends WORKER_MAGIC_1, the
  // daemon answers WORKER_MAGIC_2 and its protocol version (both u64 LE).
  constexpr uint64_t kMagic1 = 0x6e697863;
  constexpr uint64_t kMagic2 = 0x6478696f;
  const timeval timeout = {10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  uint64_t words[2] = {0, 0};
  size_t got = 0;
  if (send(fd, &kMagic1, sizeof(kMagic1), MSG_NOSIGNAL) == sizeof(kMagic1)) {
    while (got < sizeof(words)) {
      const ssize_t n = recv(fd, reinterpret_cast<char*>(words) + got,
                             sizeof(words) - got, 0);
      if (n <= 0) break;
      got += static_cast<size_t>(n);
    }
  }
  const int error = errno;
  close(fd);
  if (got < sizeof(words)) {
    daemon["handshake"] = false;
    daemon["error"] = got == 0 ? ErrnoFact(error) : "short answer";
  } else {
    daemon["handshake"] = words[0] == kMagic2;
    daemon["magic"] = words[0];
    daemon["protocolVersion"] =
        std::to_string(words[1] >> 8) + "." + std::to_string(words[1] & 0xff);
  }
  facts["daemon"] = daemon;
  return facts;
}

}  // namespace cell::probes

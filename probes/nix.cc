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

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>

#include "base/mount_flags.h"
#include "base/mountinfo.h"
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

// The Nix worker protocol's framing: little-endian u64 words; a string is
// its length, its bytes and zeros up to a multiple of 8.
class Wire {
 public:
  explicit Wire(int fd) : fd_(fd) {}
  bool Put(uint64_t word) {
    return send(fd_, &word, sizeof(word), MSG_NOSIGNAL) == sizeof(word);
  }
  bool PutString(const std::string& text) {
    std::string padded = text;
    padded.resize((text.size() + 7) / 8 * 8, '\0');
    return Put(text.size()) &&
           send(fd_, padded.data(), padded.size(), MSG_NOSIGNAL) ==
               static_cast<ssize_t>(padded.size());
  }
  bool Get(uint64_t* word) { return GetBytes(word, sizeof(*word)); }
  // Strings longer than `limit` are refused (facts from a daemon we only
  // probe: never trusted to be small).
  bool GetString(std::string* text, size_t limit = 1 << 16) {
    uint64_t size = 0;
    if (!Get(&size) || size > limit) return false;
    text->assign((size + 7) / 8 * 8, '\0');
    if (!GetBytes(text->data(), text->size())) return false;
    text->resize(size);
    return true;
  }

 private:
  bool GetBytes(void* out, size_t size) {
    size_t got = 0;
    while (got < size) {
      const ssize_t n = recv(fd_, static_cast<char*>(out) + got, size - got, 0);
      if (n <= 0) return false;
      got += static_cast<size_t>(n);
    }
    return true;
  }
  int fd_;
};

// The daemon's log messages after an operation, up to STDERR_LAST (true)
// or STDERR_ERROR / a broken stream (false); `text` gets what they said.
bool ReadUntilLast(Wire& wire, std::string* text) {
  constexpr uint64_t kNext = 0x6f6c6d67, kLast = 0x616c7473,
                     kError = 0x63787470, kStartActivity = 0x53545254,
                     kStopActivity = 0x53544f50, kResult = 0x52534c54;
  for (int messages = 0; messages < 10000; ++messages) {
    uint64_t kind = 0, word = 0;
    std::string line;
    if (!wire.Get(&kind)) return false;
    if (kind == kLast) return true;
    if (kind == kNext) {
      if (!wire.GetString(&line)) return false;
      text->append(line);
    } else if (kind == kStartActivity) {
      // id, level, type, text, fields, parent.
      if (!wire.Get(&word) || !wire.Get(&word) || !wire.Get(&word) ||
          !wire.GetString(&line)) {
        return false;
      }
      text->append(line).append("\n");
      uint64_t fields = 0;
      if (!wire.Get(&fields) || fields > 64) return false;
      for (uint64_t i = 0; i < fields; ++i) {
        uint64_t type = 0;
        if (!wire.Get(&type)) return false;
        if (type == 0 ? !wire.Get(&word) : !wire.GetString(&line)) {
          return false;
        }
      }
      if (!wire.Get(&word)) return false;
    } else if (kind == kStopActivity) {
      if (!wire.Get(&word)) return false;
    } else if (kind == kResult) {
      // id, type, fields.
      uint64_t fields = 0;
      if (!wire.Get(&word) || !wire.Get(&word) || !wire.Get(&fields) ||
          fields > 64) {
        return false;
      }
      for (uint64_t i = 0; i < fields; ++i) {
        uint64_t type = 0;
        if (!wire.Get(&type)) return false;
        if (type == 0 ? !wire.Get(&word) : !wire.GetString(&line)) {
          return false;
        }
      }
    } else {
      return false;  // kError, or a message this probe does not know.
    }
    (void)kError;
  }
  return false;
}

// Whether the daemon trusts this connection: what it says in the handshake
// (protocol 1.35 and later), or else whether it ignores a restricted
// setting sent from here: an untrusted client's is dropped with a message
// ("ignoring the client-specified setting ... not a trusted user", which
// older daemons log at debug level, so the options ask for that level). The
// setting only ever applies to this connection's worker, which builds
// nothing. Continues the handshake after the daemon's magic and version.
Facts DaemonTrust(int fd, uint64_t daemon_version) {
  Wire wire(fd);
  const uint64_t minor = std::min<uint64_t>(daemon_version & 0xff, 35);
  std::string version_text;
  uint64_t trust = 0;
  if (!wire.Put((1 << 8) | minor) ||
      (minor >= 14 && !wire.Put(0)) ||  // No CPU affinity.
      (minor >= 11 && !wire.Put(0)) ||  // reserveSpace: no.
      (minor >= 33 && !wire.GetString(&version_text, 256)) ||
      (minor >= 35 && !wire.Get(&trust))) {
    return {{"error", "handshake cut short"}};
  }
  std::string log;
  if (!ReadUntilLast(wire, &log)) return {{"error", "no STDERR_LAST"}};
  Facts facts = {{"daemonVersion", version_text}};
  if (trust == 1 || trust == 2) {
    facts["trusted"] = trust == 1;
    facts["source"] = "handshake";
    return facts;
  }
  if (minor < 12) return {{"error", "protocol too old for options"}};
  constexpr uint64_t kSetOptions = 19;
  constexpr uint64_t kDebug = 6;
  constexpr const char* kRestricted = "sandbox-fallback";
  // keepFailed, keepGoing, tryFallback, verbosity, maxBuildJobs,
  // maxSilentTime, useBuildHook, verboseBuild, logType, printBuildTrace,
  // buildCores, useSubstitutes, then the overrides.
  const uint64_t options[] = {0, 0, 0, kDebug, 1, 0, 0, 0, 0, 0, 0, 0};
  bool sent = wire.Put(kSetOptions);
  for (const uint64_t option : options) sent = sent && wire.Put(option);
  sent = sent && wire.Put(1) && wire.PutString(kRestricted) &&
         wire.PutString("false");
  log.clear();
  if (!sent || !ReadUntilLast(wire, &log)) {
    return {{"error", "setOptions: no answer"}};
  }
  facts["trusted"] = log.find(std::string("client-specified setting '") +
                              kRestricted) == std::string::npos;
  facts["source"] = "setOptions";
  return facts;
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

Facts AskNixDaemon(const std::string& socket_path, int timeout_seconds) {
  Facts daemon = {{"socket", socket_path}};
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, socket_path.c_str(),
               sizeof(address.sun_path) - 1);
  if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&address),
                        sizeof(address)) != 0) {
    daemon["connected"] = false;
    daemon["error"] = ErrnoFact(errno);
    if (fd >= 0) close(fd);
    return daemon;
  }
  daemon["connected"] = true;
  // The worker protocol's opening: the client sends WORKER_MAGIC_1, the
  // daemon answers WORKER_MAGIC_2 and its protocol version (both u64 LE).
  constexpr uint64_t kMagic1 = 0x6e697863;
  constexpr uint64_t kMagic2 = 0x6478696f;
  const timeval timeout = {timeout_seconds, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
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
  if (got == sizeof(words) && words[0] == kMagic2) {
    daemon["trust"] = DaemonTrust(fd, words[1]);
  }
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
  return daemon;
}

Facts ProbeNix(const ProbeOptions& options) {
  Facts facts;
  for (const char* name : {"NIX_CONFIG", "NIX_REMOTE", "NIX_PATH"}) {
    facts[name] = EnvOrNull(name);
  }
  facts["daemon"] = AskNixDaemon(options.nix_socket, 10);
  return facts;
}

}  // namespace cell::probes

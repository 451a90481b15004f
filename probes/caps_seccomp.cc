// Probes: capabilities and the seccomp filter, each tried.
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

// Whether a forked child can use CAP_SYS_ADMIN: new mount namespace, then a
// tmpfs mount in it (nothing leaks to the probe's own namespace).
Facts TryMountInChild() {
  const int error = ErrnoInChild([] {
    if (unshare(CLONE_NEWNS) != 0) return errno;
    if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        mount("cell-probe", "/tmp", "tmpfs", 0, nullptr) != 0) {
      return errno;
    }
    return 0;
  });
  if (error < 0) return {{"error", "child died"}};
  if (error == 0) return {{"ok", true}};
  return {{"ok", false}, {"error", ErrnoFact(error)}};
}

// Whether CAP_NET_ADMIN works: set lo's flags to what they are.
Facts TrySetLoopbackFlags() {
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return {{"ok", false}, {"error", ErrnoFact(errno)}};
  ifreq request{};
  std::strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
  Facts facts = {{"ok", true}};
  if (ioctl(fd, SIOCGIFFLAGS, &request) != 0 ||
      ioctl(fd, SIOCSIFFLAGS, &request) != 0) {
    facts = {{"ok", false}, {"error", ErrnoFact(errno)}};
  }
  close(fd);
  return facts;
}

}  // namespace

Facts ProbeCaps(const ProbeOptions& options) {
  Facts facts;
  const std::map<std::string, std::string> status =
      ParseStatus(ReadText(options.proc_root + "/self/status"));
  for (const char* set : {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"}) {
    const auto it = status.find(set);
    const std::optional<uint64_t> mask =
        it == status.end() ? std::nullopt : ParseCapMask(it->second);
    facts[set] = mask.has_value()
                     ? Facts({{"hex", it->second}, {"count", CountBits(*mask)}})
                     : Facts(nullptr);
  }
  const auto nnp = status.find("NoNewPrivs");
  facts["noNewPrivs"] = nnp != status.end() && nnp->second == "1";
  facts["mountInNewNamespace"] = TryMountInChild();
  facts["setLoopbackFlags"] = TrySetLoopbackFlags();
  return facts;
}

Facts ProbeSeccomp(const ProbeOptions& options) {
  Facts facts;
  const std::map<std::string, std::string> status =
      ParseStatus(ReadText(options.proc_root + "/self/status"));
  for (const auto& [field, name] : {std::pair{"Seccomp", "mode"},
                                    std::pair{"Seccomp_filters", "filters"}}) {
    const auto it = status.find(field);
    char* end = nullptr;
    const long value =
        it == status.end() ? 0 : std::strtol(it->second.c_str(), &end, 10);
    facts[name] = it != status.end() && !it->second.empty() && *end == '\0'
                      ? Facts(value)
                      : Facts(nullptr);
  }
  // Escape routes, each tried for real: "ok", or the errno that stopped it.
  Facts attempts;
  attempts["unshareUser"] =
      AttemptInChild([] { return ErrnoOf(unshare(CLONE_NEWUSER)); });
  attempts["ptraceTraceme"] = AttemptInChild(
      [] { return ErrnoOf(ptrace(PTRACE_TRACEME, 0, nullptr, nullptr)); });
  attempts["keyctl"] = AttemptInChild([] {
    // KEYCTL_GET_KEYRING_ID of the session keyring: harmless when allowed.
    return ErrnoOf(syscall(SYS_keyctl, 0, -3, 0));
  });
  attempts["bpf"] = AttemptInChild([] {
    // BPF_MAP_CREATE without attributes: EFAULT or EINVAL when allowed.
    return ErrnoOf(syscall(SYS_bpf, 0, nullptr, 0));
  });
  attempts["ioUringSetup"] = AttemptInChild([] {
    // No parameters: EFAULT when the kernel is reached.
    return ErrnoOf(syscall(SYS_io_uring_setup, 1, nullptr));
  });
  attempts["tiocsti"] = AttemptInChild([] {
    // On no descriptor, with the upper bits set as an attacker would:
    // EBADF when the kernel is reached; never a real terminal.
    char byte = 0;
    return ErrnoOf(syscall(SYS_ioctl, -1, 0x100000000ul | TIOCSTI, &byte));
  });
  facts["attempts"] = attempts;
  return facts;
}

}  // namespace cell::probes

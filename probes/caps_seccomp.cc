// Probes: capabilities and the seccomp filter, each tried.
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
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
#include <map>
#include <sstream>
#include <string>

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

  // Every route the filter must deny, by the bad-arguments method (as
  // bubblewrap's try-syscall): arguments the kernel refuses (EBADF, EFAULT,
  // EINVAL) once reached, so that nothing happens either way. EPERM is the
  // filter (or, for module and kexec calls, the missing host capability:
  // denied all the same); anything else reached the kernel. In a child.
  struct Route {
    const char* name;
    long number;
    long args[6];
  };
  constexpr long kBad = -1;
  const Route routes[] = {
      {"unshare", SYS_unshare, {kBad}},
      {"setns", SYS_setns, {kBad, 0}},
      {"ptrace", SYS_ptrace, {kBad, 0, 0, 0}},
      {"process_vm_readv", SYS_process_vm_readv, {0, 0, kBad, 0, kBad, 0}},
      {"process_vm_writev", SYS_process_vm_writev, {0, 0, kBad, 0, kBad, 0}},
      {"keyctl", SYS_keyctl, {kBad}},
      {"add_key", SYS_add_key, {0, 0, 0, 0, 0}},
      {"request_key", SYS_request_key, {0, 0, 0, 0}},
      {"bpf", SYS_bpf, {kBad, 0, 0}},
      {"perf_event_open", SYS_perf_event_open, {0, 0, 0, 0, 0}},
      {"userfaultfd", SYS_userfaultfd, {kBad}},
      {"init_module", SYS_init_module, {0, 0, 0}},
      {"finit_module", SYS_finit_module, {kBad, 0, 0}},
      {"delete_module", SYS_delete_module, {0, 0}},
      {"kexec_load", SYS_kexec_load, {0, 0, 0, kBad}},
      {"kexec_file_load", SYS_kexec_file_load, {kBad, kBad, 0, 0, kBad}},
      {"open_by_handle_at", SYS_open_by_handle_at, {kBad, 0, 0}},
      {"io_uring_setup", SYS_io_uring_setup, {1, 0}},
      {"io_uring_enter", SYS_io_uring_enter, {kBad, 0, 0, 0, 0, 0}},
      {"io_uring_register", SYS_io_uring_register, {kBad, 0, 0, 0}},
      {"fsopen", SYS_fsopen, {0, 0}},
      {"fsconfig", SYS_fsconfig, {kBad, 0, 0, 0, 0}},
      {"fsmount", SYS_fsmount, {kBad, 0, 0}},
      {"fspick", SYS_fspick, {kBad, 0, 0}},
      {"move_mount", SYS_move_mount, {kBad, 0, kBad, 0, 0}},
      {"open_tree", SYS_open_tree, {kBad, 0, 0}},
      {"mount_setattr", SYS_mount_setattr, {kBad, 0, 0, 0, 0}},
      // Addresses without randomisation: the attack half of personality.
      {"personality", SYS_personality, {0x0040000}},
      // Flags in memory, where a filter cannot look: ENOSYS sends libc
      // back to clone, whose flags are checked.
      {"clone3", SYS_clone3, {0, 0}},
  };
  Facts coverage = Facts::object();
  for (const Route& route : routes) {
    coverage[route.name] = AttemptInChild([&route] {
      return ErrnoOf(syscall(route.number, route.args[0], route.args[1],
                             route.args[2], route.args[3], route.args[4],
                             route.args[5]));
    });
  }
  facts["coverage"] = coverage;

  // The other ABIs of this CPU: i386's int 0x80 and x32's numbers (both
  // getpid). A filter for x86-64 only must kill the process (SIGSYS);
  // "returned" means the call ran unfiltered.
  Facts abis = Facts::object();
  for (const char* abi : {"i386", "x32"}) {
    const pid_t child = fork();
    if (child == 0) {
      // SIGSYS would dump core into the cwd (the worktree).
      const rlimit no_core = {0, 0};
      setrlimit(RLIMIT_CORE, &no_core);
      if (std::strcmp(abi, "i386") == 0) {
        long result = 20;  // __NR_getpid on i386.
        asm volatile("int $0x80" : "+a"(result) : : "memory");
      } else {
        syscall(0x40000000 | SYS_getpid);
      }
      _exit(0);
    }
    int status = 0;
    if (child < 0 || waitpid(child, &status, 0) != child) {
      abis[abi] = ErrnoFact(errno);
    } else if (WIFSIGNALED(status)) {
      abis[abi] = WTERMSIG(status) == SIGSYS
                      ? "SIGSYS"
                      : "signal " + std::to_string(WTERMSIG(status));
    } else {
      abis[abi] = "returned";
    }
  }
  facts["otherAbis"] = abis;

  // Every thread is filtered: a thread's own Seccomp line.
  std::string thread_mode = "no thread";
  pthread_t thread;
  struct Shared {
    std::string proc_root;
    std::string mode;
  } shared{options.proc_root, ""};
  if (pthread_create(
          &thread, nullptr,
          [](void* data) -> void* {
            auto* shared = static_cast<Shared*>(data);
            const std::map<std::string, std::string> status = ParseStatus(
                ReadText(shared->proc_root + "/thread-self/status"));
            const auto it = status.find("Seccomp");
            shared->mode = it == status.end() ? "unknown" : it->second;
            return nullptr;
          },
          &shared) == 0) {
    pthread_join(thread, nullptr);
    thread_mode = shared.mode;
  }
  facts["threadMode"] = thread_mode;
  return facts;
}

}  // namespace cell::probes

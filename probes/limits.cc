// Probes: rlimits and the cell's cgroup, tested by effect.
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

// An rlimit value as a fact: a number, or null for unlimited.
Facts RlimitFact(rlim_t value) {
  return value == RLIM_INFINITY ? Facts(nullptr) : Facts(value);
}

// Forks up to `count` children that wait on a pipe, then releases them.
Facts ForkUpTo(int count) {
  Facts facts = {{"tried", count}};
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    facts["error"] = ErrnoFact(errno);
    return facts;
  }
  std::vector<pid_t> children;
  for (int i = 0; i < count; ++i) {
    const pid_t pid = fork();
    if (pid < 0) {
      facts["error"] = ErrnoFact(errno);
      break;
    }
    if (pid == 0) {
      close(pipe_fds[1]);
      char byte;
      (void)!read(pipe_fds[0], &byte, 1);  // End-of-file: released.
      _exit(0);
    }
    children.push_back(pid);
  }
  close(pipe_fds[0]);
  close(pipe_fds[1]);
  for (const pid_t child : children) waitpid(child, nullptr, 0);
  facts["started"] = children.size();
  return facts;
}

// Touches up to `mib` MiB in a child, reporting each MiB; the cgroup's
// memory bound ends it with SIGKILL (the OOM killer) before that.
Facts TouchMemory(int mib) {
  Facts facts = {{"triedMiB", mib}};
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    facts["error"] = ErrnoFact(errno);
    return facts;
  }
  const pid_t pid = fork();
  if (pid < 0) {
    facts["error"] = ErrnoFact(errno);
    return facts;
  }
  if (pid == 0) {
    close(pipe_fds[0]);
    constexpr size_t kMiB = 1 << 20;
    for (int i = 0; i < mib; ++i) {
      void* block = mmap(nullptr, kMiB, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (block == MAP_FAILED) _exit(2);
      std::memset(block, 0x5a, kMiB);
      const int32_t done = i + 1;
      (void)!write(pipe_fds[1], &done, sizeof(done));
    }
    _exit(0);
  }
  close(pipe_fds[1]);
  int32_t touched = 0;
  int32_t value = 0;
  while (read(pipe_fds[0], &value, sizeof(value)) == sizeof(value)) {
    touched = value;
  }
  close(pipe_fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  facts["touchedMiB"] = touched;
  facts["signal"] =
      WIFSIGNALED(status) ? Facts(WTERMSIG(status)) : Facts(nullptr);
  facts["exitCode"] =
      WIFEXITED(status) ? Facts(WEXITSTATUS(status)) : Facts(nullptr);
  return facts;
}

}  // namespace

Facts ProbeLimits(const ProbeOptions& options) {
  Facts facts;
  Facts rlimits = Facts::object();
  for (const auto& [name, resource] : std::vector<std::pair<const char*, int>>{
           {"as", RLIMIT_AS},
           {"core", RLIMIT_CORE},
           {"cpu", RLIMIT_CPU},
           {"data", RLIMIT_DATA},
           {"fsize", RLIMIT_FSIZE},
           {"locks", RLIMIT_LOCKS},
           {"memlock", RLIMIT_MEMLOCK},
           {"msgqueue", RLIMIT_MSGQUEUE},
           {"nofile", RLIMIT_NOFILE},
           {"nproc", RLIMIT_NPROC},
           {"rss", RLIMIT_RSS},
           {"sigpending", RLIMIT_SIGPENDING},
           {"stack", RLIMIT_STACK}}) {
    rlimit limit;
    if (getrlimit(resource, &limit) != 0) {
      rlimits[name] = {{"error", ErrnoFact(errno)}};
      continue;
    }
    rlimits[name] = {{"soft", RlimitFact(limit.rlim_cur)},
                     {"hard", RlimitFact(limit.rlim_max)}};
  }
  facts["rlimits"] = rlimits;
  // "ID:CONTROLLERS:PATH" lines; the unified hierarchy's key is "".
  Facts cgroups = Facts::object();
  std::istringstream lines(ReadText(options.proc_root + "/self/cgroup"));
  for (std::string line; std::getline(lines, line);) {
    const size_t first = line.find(':');
    const size_t second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    cgroups[line.substr(first + 1, second - first - 1)] =
        line.substr(second + 1);
  }
  facts["cgroups"] = cgroups;
  if (options.fork_max > 0) facts["forkTest"] = ForkUpTo(options.fork_max);
  if (options.alloc_mib > 0) {
    facts["memoryTest"] = TouchMemory(options.alloc_mib);
  }
  return facts;
}

}  // namespace cell::probes

#include "probes/support.h"

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

extern char** environ;

namespace cell::probes {

std::string ReadText(const std::string& path, int* error) {
  std::ifstream in(path);
  if (!in.good()) {
    if (error != nullptr) *error = errno != 0 ? errno : ENOENT;
    return "";
  }
  std::stringstream content;
  content << in.rdbuf();
  if (error != nullptr) *error = 0;
  return content.str();
}

std::string Trim(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
    text.pop_back();
  }
  return text;
}

std::string StatIdentity(const struct stat& info) {
  return std::to_string(info.st_dev) + ":" + std::to_string(info.st_ino);
}

std::string ReadLink(const std::string& path) {
  char buffer[4096];
  const ssize_t n = readlink(path.c_str(), buffer, sizeof(buffer) - 1);
  return n < 0 ? "" : std::string(buffer, static_cast<size_t>(n));
}

Facts EnvOrNull(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? Facts(nullptr) : Facts(value);
}

// `attempt` (0 or an errno) run in a forked child, so that one that works
// (a new namespace, being traced) changes nothing here. Its result, or -1
// when the child died without one.
int ErrnoInChild(const std::function<int()>& attempt) {
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) return errno;
  const pid_t pid = fork();
  if (pid < 0) return errno;
  if (pid == 0) {
    const int error = attempt();
    (void)!write(pipe_fds[1], &error, sizeof(error));
    _exit(0);
  }
  close(pipe_fds[1]);
  int error = -1;
  const ssize_t n = read(pipe_fds[0], &error, sizeof(error));
  close(pipe_fds[0]);
  waitpid(pid, nullptr, 0);
  return n == sizeof(error) ? error : -1;
}

// ErrnoInChild as a fact: "ok" or the errno.
Facts AttemptInChild(const std::function<int()>& attempt) {
  const int error = ErrnoInChild(attempt);
  if (error < 0) return "child died";
  return error == 0 ? Facts("ok") : Facts(ErrnoFact(error));
}

// 0 when `result` is not negative, else errno.
int ErrnoOf(long result) { return result < 0 ? errno : 0; }

Facts NamespaceInode(const std::string& proc_root, const std::string& kind) {
  const std::string link = ReadLink(proc_root + "/self/ns/" + kind);
  const std::optional<uint64_t> inode = ParseNamespaceLink(link);
  if (!inode.has_value()) return nullptr;
  return *inode;
}

}  // namespace cell::probes

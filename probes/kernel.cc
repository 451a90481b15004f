// Probes: kernel interfaces and the terminal: what a host-root or terminal
// attack would use.
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

const std::vector<std::string>& ProcWriteTargets() {
  static const auto* const kTargets = new std::vector<std::string>{
      "/sys/kernel/core_pattern", "/sys/kernel/modprobe",
      "/sys/kernel/hostname",     "/sys/kernel/domainname",
      "/sys/vm/panic_on_oom",     "/sysrq-trigger"};
  return *kTargets;
}

const std::vector<std::string>& ProcReadTargets() {
  static const auto* const kTargets = new std::vector<std::string>{
      "/kcore", "/kmsg", "/keys", "/timer_list", "/sched_debug"};
  return *kTargets;
}

Facts WriteOpen(const std::string& path) {
  // Opening for writing is the attack's first step and changes nothing;
  // nothing is ever written.
  const int fd = open(path.c_str(), O_WRONLY | O_NOCTTY | O_CLOEXEC);
  if (fd >= 0) close(fd);
  return fd >= 0 ? Facts("ok") : Facts(ErrnoFact(errno));
}

Facts ReadBytes(const std::string& path) {
  // How many bytes a read shows (up to 4 KiB), or why none.
  const int fd = open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return ErrnoFact(errno);
  char buffer[4096];
  const ssize_t n = read(fd, buffer, sizeof(buffer));
  const Facts result = n >= 0 ? Facts(n) : Facts(ErrnoFact(errno));
  close(fd);
  return result;
}

Facts ProbeKernel(const ProbeOptions& options) {
  Facts write_open = Facts::object();
  for (const std::string& relative : ProcWriteTargets()) {
    write_open["/proc" + relative] = WriteOpen(options.proc_root + relative);
  }
  Facts reads = Facts::object();
  for (const std::string& relative : ProcReadTargets()) {
    reads["/proc" + relative] = ReadBytes(options.proc_root + relative);
  }
  // Kernel addresses: "real" when a symbol shows a non-zero address.
  std::string kallsyms = "absent";
  std::ifstream symbols(options.proc_root + "/kallsyms");
  std::string line;
  if (std::getline(symbols, line)) {
    kallsyms = line.find_first_not_of('0') == line.find(' ') ? "zeros" : "real";
  }
  return {{"writeOpen", write_open}, {"read", reads}, {"kallsyms", kallsyms}};
}

namespace {

// "DEV:INO" of what `path` leads to, or "".
std::string IdentityAt(const std::string& path, struct stat* info) {
  if (stat(path.c_str(), info) != 0) return "";
  return StatIdentity(*info);
}

// Every other process the command can reach through /proc/PID (the
// kernel's ptrace check decides, whatever their mount namespace: found in
// review, a holder outside the probe's mount namespace was skipped): any
// descriptor that is the caller's terminal, any file, directory or socket
// (a way out of the root, a host service), and a root other than this
// one's (/proc/PID/root leads into it). Their pipes, pidfds and eventfds
// are plumbing. Copies of this probe (its children) are skipped.
Facts SandboxProcessDescriptors(const ProbeOptions& options) {
  struct stat info;
  const std::string self_exe =
      IdentityAt(options.proc_root + "/self/exe", &info);
  const std::string self_root = IdentityAt("/", &info);
  Facts terminal_holders = Facts::array();
  Facts held = Facts::array();
  int reachable = 0;
  for (const int pid : ListPids(options.proc_root)) {
    if (pid == getpid()) continue;
    const std::string base = options.proc_root + "/" + std::to_string(pid);
    if (IdentityAt(base + "/exe", &info) == self_exe) continue;
    const std::string root = IdentityAt(base + "/root", &info);
    if (!root.empty() && root != self_root) {
      held.push_back(std::to_string(pid) + " root -> " +
                     ReadLink(base + "/root"));
    }
    DIR* fds = opendir((base + "/fd").c_str());
    if (fds == nullptr) continue;
    ++reachable;
    while (const dirent* entry = readdir(fds)) {
      if (entry->d_name[0] == '.') continue;
      const std::string fd_path = base + "/fd/" + entry->d_name;
      const std::string id = IdentityAt(fd_path, &info);
      const std::string target = ReadLink(fd_path);
      const std::string where =
          std::to_string(pid) + " fd " + entry->d_name + " -> " + target;
      if (!options.caller_tty.empty() && id == options.caller_tty) {
        terminal_holders.push_back(where);
      } else if (!id.empty() &&
                 (S_ISDIR(info.st_mode) || S_ISREG(info.st_mode) ||
                  S_ISSOCK(info.st_mode)) &&
                 target.rfind("anon_inode:", 0) != 0) {
        held.push_back(where);
      }
    }
    closedir(fds);
  }
  return {{"reachable", reachable},
          {"callerTty", terminal_holders},
          {"descriptors", held}};
}

}  // namespace

Facts ProbeTerminal(const ProbeOptions& options) {
  Facts facts;
  facts["pid"] = getpid();
  facts["sid"] = getsid(0);
  facts["sessionLeader"] = getsid(0) == getpid();
  Facts stdio = Facts::array();
  for (int fd = 0; fd < 3; ++fd) {
    const char* name = isatty(fd) == 1 ? ttyname(fd) : nullptr;
    stdio.push_back(name != nullptr ? Facts(name) : Facts(nullptr));
  }
  facts["stdioTtys"] = stdio;
  // The controlling terminal, if any: the cell's own pty or none, never
  // the caller's (its name would not be in this /dev/pts).
  const int tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (tty >= 0) {
    const char* name = ttyname(tty);
    facts["devTty"] = name != nullptr ? name : "open";
  } else {
    facts["devTty"] = ErrnoFact(errno);
  }
  // Is fd 0 the terminal the cell was started under? Compared by device
  // and inode: names mean nothing across devpts instances. (/dev/tty has
  // its own inode; cell-verify sees from outside whether a push through it
  // landed in its terminal.)
  facts["callerTtyGiven"] = !options.caller_tty.empty();
  struct stat info;
  facts["stdinIsCallerTty"] = !options.caller_tty.empty() &&
                              fstat(0, &info) == 0 &&
                              options.caller_tty == StatIdentity(info);
  // Only under cell-verify, whose pty is then the only terminal fd 0 and
  // /dev/tty can be besides the cell's own: a NUL pushed into either, the
  // attack's step with no effect, from a child as the attack would be.
  Facts tiocsti = {{"stdin", "not tried"}, {"devTty", "not tried"}};
  for (const auto& [key, fd] :
       {std::pair{"stdin", 0}, std::pair{"devTty", tty}}) {
    if (options.caller_tty.empty() || fd < 0 || isatty(fd) != 1) continue;
    tiocsti[key] = AttemptInChild([fd = fd] {
      const char nul = '\0';
      return ErrnoOf(ioctl(fd, TIOCSTI, &nul));
    });
  }
  if (tty >= 0) close(tty);
  facts["tiocsti"] = tiocsti;
  // Whether injection works in this cell at all (the kernel's
  // dev.tty.legacy_tiocsti, the seccomp filter): into a pty of its own, as
  // its controlling terminal, in a new session.
  facts["ownPtyTiocsti"] = AttemptInChild([] {
    const int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0) return errno;
    if (unlockpt(master) != 0 || setsid() < 0) return errno;
    const char* name = ptsname(master);
    if (name == nullptr) return errno;
    const int slave = open(name, O_RDWR | O_CLOEXEC);  // Becomes the ctty.
    if (slave < 0) return errno;
    const char nul = '\0';
    return ErrnoOf(ioctl(slave, TIOCSTI, &nul));
  });
  // A console's TIOCLINUX (paste the selection: injection on a virtual
  // console) on fd 0, with the harmless subcode that reads the shift state.
  char subcode = 6;  // TIOCL_GETSHIFTSTATE
  facts["tioclinux"] =
      isatty(0) == 1
          ? Facts(ioctl(0, TIOCLINUX, &subcode) == 0 ? "ok" : ErrnoFact(errno))
          : Facts("not a terminal");
  facts["sandboxProcesses"] = SandboxProcessDescriptors(options);
  return facts;
}

}  // namespace cell::probes

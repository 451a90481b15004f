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

Facts ProbeKernel(const ProbeOptions& options) {
  // Opening for writing is the attack's first step and changes nothing;
  // nothing is ever written.
  Facts write_open = Facts::object();
  for (const char* relative :
       {"/sys/kernel/core_pattern", "/sys/kernel/modprobe",
        "/sys/kernel/hostname", "/sys/kernel/domainname",
        "/sys/vm/panic_on_oom", "/sysrq-trigger"}) {
    const std::string path = options.proc_root + relative;
    const int fd = open(path.c_str(), O_WRONLY | O_NOCTTY | O_CLOEXEC);
    if (fd >= 0) close(fd);
    write_open[std::string("/proc") + relative] =
        fd >= 0 ? "ok" : ErrnoFact(errno);
  }
  // How many bytes a read of each shows (up to 4 KiB), or why none.
  Facts reads = Facts::object();
  for (const char* relative :
       {"/kcore", "/kmsg", "/keys", "/timer_list", "/sched_debug"}) {
    const std::string path = options.proc_root + relative;
    const int fd = open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    Facts result;
    if (fd < 0) {
      result = ErrnoFact(errno);
    } else {
      char buffer[4096];
      const ssize_t n = read(fd, buffer, sizeof(buffer));
      result = n >= 0 ? Facts(n) : Facts(ErrnoFact(errno));
      close(fd);
    }
    reads[std::string("/proc") + relative] = result;
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
    close(tty);
  } else {
    facts["devTty"] = ErrnoFact(errno);
  }
  return facts;
}

}  // namespace cell::probes

#include "probes/probes.h"

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

std::string ErrnoFact(int error) {
  const char* name = strerrorname_np(error);
  return std::string(name != nullptr ? name : "E?") + ": " +
         std::strerror(error);
}

std::string FormatProbeLine(const std::string& name, const Facts& facts) {
  return Facts({{"probe", name}, {"facts", facts}})
      .dump(-1, ' ', false, Facts::error_handler_t::replace);
}

const std::vector<std::pair<std::string, ProbeFunction>>& AllProbes() {
  static const auto* probes =
      new std::vector<std::pair<std::string, ProbeFunction>>{
          {"pid", ProbePid},
          {"net", ProbeNet},
          {"store", ProbeStore},
          {"nix", ProbeNix},
          {"identity", ProbeIdentity},
          {"caps", ProbeCaps},
          {"ns", ProbeNs},
          {"mounts", ProbeMounts},
          {"fs", ProbeFs},
          {"env", ProbeEnv},
          {"host-reach", ProbeHostReach},
          {"seccomp", ProbeSeccomp},
          {"kernel", ProbeKernel},
          {"terminal", ProbeTerminal},
          {"reach", ProbeReach},
          {"limits", ProbeLimits}};
  return *probes;
}

}  // namespace cell::probes

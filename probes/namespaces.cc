// Probes: PID, IPC and the other namespaces, and who the cell is.
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

Facts ProbePid(const ProbeOptions& options) {
  Facts facts;
  const std::string root = options.proc_root;
  facts["pid"] = getpid();
  facts["pid1Visible"] = access((root + "/1").c_str(), F_OK) == 0;
  const std::string comm = Trim(ReadText(root + "/1/comm"));
  facts["pid1Comm"] = comm.empty() ? Facts(nullptr) : Facts(comm);
  facts["visibleProcesses"] = ListPids(root).size();
  facts["pidNamespace"] = NamespaceInode(root, "pid");
  return facts;
}

Facts ProbeNs(const ProbeOptions& options) {
  Facts facts;
  for (const char* kind :
       {"user", "mnt", "net", "pid", "ipc", "uts", "cgroup", "time"}) {
    facts[kind] = NamespaceInode(options.proc_root, kind);
  }
  return facts;
}

Facts ProbeIdentity(const ProbeOptions& options) {
  Facts facts = {{"uid", getuid()},
                 {"euid", geteuid()},
                 {"gid", getgid()},
                 {"egid", getegid()}};
  gid_t groups[256];
  const int count = getgroups(256, groups);
  Facts group_list = Facts::array();
  for (int i = 0; i < count; ++i) group_list.push_back(groups[i]);
  facts["groups"] = group_list;
  for (const char* map : {"uid_map", "gid_map"}) {
    Facts entries = Facts::array();
    for (const IdMapEntry& entry :
         ParseIdMap(ReadText(options.proc_root + "/self/" + map))) {
      entries.push_back({entry.inside, entry.outside, entry.count});
    }
    facts[map == std::string("uid_map") ? "uidMap" : "gidMap"] = entries;
  }
  facts["setgroups"] = Trim(ReadText(options.proc_root + "/self/setgroups"));
  return facts;
}

}  // namespace cell::probes

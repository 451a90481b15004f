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
namespace {

std::string ReadText(const std::string& path, int* error = nullptr) {
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

std::string ReadLink(const std::string& path) {
  char buffer[4096];
  const ssize_t n = readlink(path.c_str(), buffer, sizeof(buffer) - 1);
  return n < 0 ? "" : std::string(buffer, static_cast<size_t>(n));
}

Facts EnvOrNull(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? Facts(nullptr) : Facts(value);
}

bool SplitHostPort(const std::string& target, std::string* host, int* port) {
  const size_t colon = target.rfind(':');
  if (colon == std::string::npos) return false;
  *host = target.substr(0, colon);
  *port = std::atoi(target.substr(colon + 1).c_str());
  return !host->empty() && *port > 0 && *port < 65536;
}

// A TCP connect to a numeric address with a timeout; returns the fd or
// -errno. Numeric only: name lookup in a static binary would load the host's
// NSS modules, and in a cell there is nothing to resolve names with anyway.
int ConnectTcp(const std::string& host, int port, int timeout_ms) {
  sockaddr_storage storage{};
  socklen_t length = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    length = sizeof(*v4);
  } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    length = sizeof(*v6);
  } else {
    return -EINVAL;
  }
  const int fd =
      socket(storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  int error = 0;
  if (connect(fd, reinterpret_cast<sockaddr*>(&storage), length) != 0) {
    error = errno;
    if (error == EINPROGRESS) {
      pollfd event = {fd, POLLOUT, 0};
      if (poll(&event, 1, timeout_ms) <= 0) {
        error = ETIMEDOUT;
      } else {
        socklen_t length = sizeof(error);
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
      }
    }
  }
  if (error != 0) {
    close(fd);
    return -error;
  }
  const int flags = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  return fd;
}

// The HTTP status code of a CONNECT to `target` through the proxy at
// `proxy_url` ("http://host:port"), or an error fact.
Facts ConnectThroughProxy(const std::string& proxy_url,
                          const std::string& target) {
  std::string rest = proxy_url;
  if (rest.rfind("http://", 0) == 0) rest = rest.substr(7);
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  std::string host;
  int port = 0;
  if (!SplitHostPort(rest, &host, &port)) {
    return {{"target", target}, {"error", "cannot parse proxy " + proxy_url}};
  }
  const int fd = ConnectTcp(host, port, 5000);
  if (fd < 0) return {{"target", target}, {"error", ErrnoFact(-fd)}};
  const timeval timeout = {10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  const std::string request =
      "CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n\r\n";
  if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    const int error = errno;
    close(fd);
    return {{"target", target}, {"error", ErrnoFact(error)}};
  }
  char buffer[256];
  const ssize_t n = recv(fd, buffer, sizeof(buffer) - 1, 0);
  const int error = errno;
  close(fd);
  if (n <= 0) {
    return {{"target", target},
            {"error", n == 0 ? "closed without a response" : ErrnoFact(error)}};
  }
  const std::string line(buffer, static_cast<size_t>(n));
  const size_t space = line.find(' ');
  if (line.rfind("HTTP/", 0) != 0 || space == std::string::npos) {
    return {{"target", target}, {"error", "not an HTTP response"}};
  }
  return {{"target", target},
          {"status", std::atoi(line.substr(space + 1, 3).c_str())}};
}

Facts InterfaceFlags(const std::string& name) {
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return {{"error", ErrnoFact(errno)}};
  ifreq request{};
  std::strncpy(request.ifr_name, name.c_str(), IFNAMSIZ - 1);
  Facts facts;
  if (ioctl(fd, SIOCGIFFLAGS, &request) != 0) {
    facts = {{"error", ErrnoFact(errno)}};
  } else {
    facts = {{"up", (request.ifr_flags & IFF_UP) != 0},
             {"loopback", (request.ifr_flags & IFF_LOOPBACK) != 0}};
  }
  close(fd);
  return facts;
}

Facts RoutesFacts(const std::vector<RouteEntry>& routes) {
  Facts list = Facts::array();
  bool has_default = false;
  for (const RouteEntry& route : routes) {
    list.push_back({{"interface", route.interface},
                    {"destination", route.destination},
                    {"default", route.is_default},
                    {"reject", route.reject}});
    has_default = has_default || route.is_default;
  }
  return {{"routes", list}, {"count", routes.size()}, {"default", has_default}};
}

// Whether a forked child can use CAP_SYS_ADMIN: new mount namespace, then a
// tmpfs mount in it (nothing leaks to the probe's own namespace).
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

Facts NamespaceInode(const std::string& proc_root, const std::string& kind) {
  const std::string link = ReadLink(proc_root + "/self/ns/" + kind);
  const std::optional<uint64_t> inode = ParseNamespaceLink(link);
  if (!inode.has_value()) return nullptr;
  return *inode;
}

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

std::string ErrnoFact(int error) {
  const char* name = strerrorname_np(error);
  return std::string(name != nullptr ? name : "E?") + ": " +
         std::strerror(error);
}

std::string FormatProbeLine(const std::string& name, const Facts& facts) {
  return Facts({{"probe", name}, {"facts", facts}})
      .dump(-1, ' ', false, Facts::error_handler_t::replace);
}

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

Facts ProbeNet(const ProbeOptions& options) {
  Facts facts;
  const std::string root = options.proc_root;
  Facts interfaces = Facts::object();
  for (const std::string& name :
       ParseNetDevInterfaces(ReadText(root + "/net/dev"))) {
    interfaces[name] = InterfaceFlags(name);
  }
  facts["interfaces"] = interfaces;
  facts["ipv4"] = RoutesFacts(ParseIpv4Routes(ReadText(root + "/net/route")));
  facts["ipv6"] =
      RoutesFacts(ParseIpv6Routes(ReadText(root + "/net/ipv6_route")));
  std::string host;
  int port = 0;
  if (SplitHostPort(options.direct_target, &host, &port)) {
    const int fd = ConnectTcp(host, port, 2000);
    Facts direct = {{"target", options.direct_target}};
    if (fd >= 0) {
      close(fd);
      direct["connected"] = true;
    } else {
      direct["connected"] = false;
      direct["error"] = ErrnoFact(-fd);
    }
    facts["direct"] = direct;
    // Ways around the proxy, each tried towards the same target: a raw
    // socket, and a fresh network namespace.
    Facts bypass;
    bypass["rawSocket"] = AttemptInChild([&host] {
      const int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
      if (fd < 0) return errno;
      sockaddr_in to = {};
      to.sin_family = AF_INET;
      inet_pton(AF_INET, host.c_str(), &to.sin_addr);
      const unsigned char echo[8] = {8, 0, 0xf7, 0xff, 0, 0, 0, 0};
      const int error =
          ErrnoOf(sendto(fd, echo, sizeof(echo), 0,
                         reinterpret_cast<sockaddr*>(&to), sizeof(to)));
      close(fd);
      return error;
    });
    bypass["newNetNamespace"] = AttemptInChild([&host, port] {
      if (unshare(CLONE_NEWNET) != 0) return errno;
      const int fd = ConnectTcp(host, port, 2000);
      if (fd < 0) return -fd;
      close(fd);
      return 0;
    });
    facts["bypass"] = bypass;
  }
  Facts proxy_env = Facts::object();
  for (const char* name : {"http_proxy", "https_proxy", "HTTP_PROXY",
                           "HTTPS_PROXY", "no_proxy", "NO_PROXY"}) {
    proxy_env[name] = EnvOrNull(name);
  }
  facts["proxyEnv"] = proxy_env;
  Facts connects = Facts::array();
  const char* proxy = std::getenv("http_proxy");
  for (const std::string& target : options.connect_targets) {
    connects.push_back(
        proxy == nullptr
            ? Facts({{"target", target}, {"error", "http_proxy is not set"}})
            : ConnectThroughProxy(proxy, target));
  }
  facts["connect"] = connects;
  return facts;
}

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

Facts ProbeNs(const ProbeOptions& options) {
  Facts facts;
  for (const char* kind :
       {"user", "mnt", "net", "pid", "ipc", "uts", "cgroup"}) {
    facts[kind] = NamespaceInode(options.proc_root, kind);
  }
  return facts;
}

Facts ProbeMounts(const ProbeOptions& options) {
  Facts mounts = Facts::array();
  for (const MountEntry& entry :
       ParseMountInfo(ReadText(options.proc_root + "/self/mountinfo"))) {
    mounts.push_back({{"mountPoint", entry.mount_point},
                      {"fsType", entry.fs_type},
                      {"source", entry.source},
                      {"readOnly", entry.read_only}});
  }
  Facts visible = Facts::object();
  for (const std::string& path : options.host_paths) {
    struct stat info;
    visible[path] = lstat(path.c_str(), &info) == 0;
  }
  return {{"mounts", mounts}, {"hostPathsVisible", visible}};
}

Facts ProbeFs(const ProbeOptions& options) {
  Facts facts;
  char cwd[4096];
  facts["cwd"] = getcwd(cwd, sizeof(cwd)) != nullptr ? Facts(cwd) : Facts();
  facts["home"] = EnvOrNull("HOME");
  for (const auto& [key, dir] :
       std::vector<std::pair<std::string, std::string>>{
           {"worktree", options.worktree}, {"tmp", "/tmp"}, {"root", ""}}) {
    const std::string path = dir + "/.cell-probe-" + std::to_string(getpid());
    Facts result;
    const int fd =
        open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
      result = {{"writable", false}, {"error", ErrnoFact(errno)}};
    } else {
      const char text[] = "cell-probe";
      char back[sizeof(text)] = {};
      const bool round_trip =
          write(fd, text, sizeof(text)) == sizeof(text) &&
          pread(fd, back, sizeof(back), 0) == sizeof(back) &&
          std::memcmp(text, back, sizeof(text)) == 0;
      close(fd);
      const bool removed = unlink(path.c_str()) == 0;
      result = {{"writable", round_trip}, {"removed", removed}};
    }
    result["path"] = dir.empty() ? "/" : dir;
    facts[key] = result;
  }
  return facts;
}

Facts ProbeEnv(const ProbeOptions& options) {
  Facts variables = Facts::object();
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string text = *entry;
    const size_t equals = text.find('=');
    if (equals == std::string::npos) continue;
    const std::string name = text.substr(0, equals);
    variables[name] =
        IsSecretName(name) ? std::string("***") : text.substr(equals + 1);
  }
  Facts path_entries = Facts::array();
  if (const char* path = std::getenv("PATH")) {
    std::istringstream in(path);
    std::string dir;
    while (std::getline(in, dir, ':')) {
      struct stat info;
      path_entries.push_back(
          {{"dir", dir},
           {"exists", stat(dir.c_str(), &info) == 0 && S_ISDIR(info.st_mode)}});
    }
  }
  return {{"variables", variables}, {"path", path_entries}};
}

Facts ProbeHostReach(const ProbeOptions& options) {
  Facts facts;
  // Other processes' command lines (the shared-PID-namespace exposure).
  int readable = 0;
  int others = 0;
  const int self = getpid();
  for (const int pid : ListPids(options.proc_root)) {
    if (pid == self) continue;
    ++others;
    if (!ReadText(options.proc_root + "/" + std::to_string(pid) + "/cmdline")
             .empty()) {
      ++readable;
    }
  }
  facts["otherProcesses"] = others;
  facts["readableCmdlines"] = readable;
  if (options.host_pid > 0) {
    const int pid = options.host_pid;
    Facts target = {{"pid", pid}};
    target["visible"] =
        access((options.proc_root + "/" + std::to_string(pid)).c_str(), F_OK) ==
        0;
    target["signal0"] =
        kill(pid, 0) == 0 ? Facts("ok") : Facts(ErrnoFact(errno));
    // Opening /proc/PID/mem needs exactly ptrace-attach permission, and
    // unlike PTRACE_ATTACH it does not stop the target.
    const int fd =
        open((options.proc_root + "/" + std::to_string(pid) + "/mem").c_str(),
             O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      close(fd);
      target["ptrace"] = "ok";
    } else {
      target["ptrace"] = ErrnoFact(errno);
    }
    // The host's file system through the target's root and cwd links.
    for (const char* link : {"root", "cwd"}) {
      const std::string path =
          options.proc_root + "/" + std::to_string(pid) + "/" + link + "/";
      DIR* dir = opendir(path.c_str());
      target[link == std::string("root") ? "procRoot" : "procCwd"] =
          dir != nullptr ? Facts("ok") : Facts(ErrnoFact(errno));
      if (dir != nullptr) closedir(dir);
    }
    facts["target"] = target;
  }
  // The command's parent: without a PID namespace the launcher itself (and
  // so the builtin engine), with one the cell's own init (PID 1).
  const pid_t parent = getppid();
  facts["parent"] = {
      {"pid", parent},
      {"signal0",
       kill(parent, 0) == 0 ? Facts("ok") : Facts(ErrnoFact(errno))}};
  return facts;
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
          {"limits", ProbeLimits}};
  return *probes;
}

}  // namespace cell::probes

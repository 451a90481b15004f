// Probes: the network a cell has: interfaces, routes, the proxy, and what of
// the host it reaches.
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
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include "base/mount_flags.h"
#include "probes/parsers.h"
#include "probes/probes.h"

extern char** environ;

#include "probes/support.h"

namespace cell::probes {
namespace {

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

// Sends `request` to the proxy at `proxy_url` ("http://host:port") and
// reads the response: a CONNECT's first bytes, or a plain request's whole
// response up to 4 KiB (the proxy closes it: "Connection: close"). Adds
// "status" and, with `want_body`, "body" to `facts`, or "error".
void AskProxy(const std::string& proxy_url, std::string request, bool want_body,
              Facts* facts, int timeout_seconds = 10) {
  std::string rest = proxy_url;
  if (rest.rfind("http://", 0) == 0) rest = rest.substr(7);
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  // USER:PASSWORD@ (srt's proxy URL carries a token): sent as a client
  // sends it, in Proxy-Authorization before the head's blank line.
  if (const size_t at = rest.rfind('@'); at != std::string::npos) {
    request.insert(request.size() - 2, "Proxy-Authorization: Basic " +
                                           Base64(rest.substr(0, at)) + "\r\n");
    rest = rest.substr(at + 1);
  }
  std::string host;
  int port = 0;
  if (!SplitHostPort(rest, &host, &port)) {
    (*facts)["error"] = "cannot parse proxy " + proxy_url;
    return;
  }
  // A static binary resolves no names: the one a proxy URL commonly uses
  // (srt's, a user's) is loopback.
  if (host == "localhost") host = "127.0.0.1";
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const int fd = ConnectTcp(host, port, 5000);
  if (fd < 0) {
    (*facts)["error"] = ErrnoFact(-fd);
    return;
  }
  const timeval timeout = {timeout_seconds, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    (*facts)["error"] = ErrnoFact(errno);
    close(fd);
    return;
  }
  std::string response;
  char buffer[1024];
  int error = 0;
  while (response.size() < 4096) {
    const ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
    if (n < 0) error = errno;
    if (n <= 0) break;
    response.append(buffer, static_cast<size_t>(n));
    if (!want_body) break;
  }
  close(fd);
  if (response.empty()) {
    (*facts)["error"] =
        error == 0 ? "closed without a response" : ErrnoFact(error);
    return;
  }
  const size_t space = response.find(' ');
  if (response.rfind("HTTP/", 0) != 0 || space == std::string::npos) {
    (*facts)["error"] = "not an HTTP response";
    return;
  }
  (*facts)["status"] = std::atoi(response.substr(space + 1, 3).c_str());
  const size_t body = response.find("\r\n\r\n");
  if (want_body && body != std::string::npos) {
    (*facts)["body"] = response.substr(body + 4, 256);
  }
}

// The HTTP status code of a CONNECT to `target` through the proxy.
Facts ConnectThroughProxy(const std::string& proxy_url,
                          const std::string& target) {
  Facts facts = {{"target", target}};
  AskProxy(proxy_url,
           "CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n\r\n",
           /*want_body=*/false, &facts);
  return facts;
}

// A GET of http://TARGET/ through the proxy with the Host header after the
// '@' of `spec` ("host:port@header"): its status and body.
Facts GetThroughProxy(const std::string& proxy_url, const std::string& spec) {
  const size_t at = spec.find('@');
  const std::string target = spec.substr(0, at);
  const std::string header =
      at == std::string::npos ? target : spec.substr(at + 1);
  Facts facts = {{"target", target}, {"hostHeader", header}};
  AskProxy(proxy_url,
           "GET http://" + target + "/cell-canary HTTP/1.1\r\nHost: " + header +
               "\r\nConnection: close\r\n\r\n",
           /*want_body=*/true, &facts);
  return facts;
}

// The ports the *_proxy / *_PROXY variables name, each with the URL's
// USER:PASSWORD ("" when none): what a client in the sandbox would send
// that listener, and which listeners the environment names at all.
std::map<int, std::string> ProxyPortsNamed() {
  std::map<int, std::string> ports;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string text = *entry;
    const size_t equals = text.find('=');
    if (equals == std::string::npos || equals < 6) continue;
    std::string name = text.substr(0, equals);
    for (char& c : name) c = static_cast<char>(std::tolower(c));
    if (name.compare(name.size() - 6, 6, "_proxy") != 0) continue;
    std::string url = text.substr(equals + 1);
    const size_t scheme = url.find("://");
    if (scheme != std::string::npos) url = url.substr(scheme + 3);
    url = url.substr(0, url.find('/'));
    const size_t at = url.rfind('@');
    const size_t colon = url.rfind(':');
    if (colon == std::string::npos || (at != std::string::npos && colon < at)) {
      continue;
    }
    const int port = std::atoi(url.c_str() + colon + 1);
    if (port <= 0) continue;
    std::string& user = ports[port];
    if (at != std::string::npos) user = url.substr(0, at);
  }
  return ports;
}

// A SOCKS5 CONNECT (RFC 1928, by name; RFC 1929 user/password when
// `credentials` holds one) to `target` ("host:port") through the listener
// at `address`:`port`: "granted", "refused: N" (the reply code) or why it
// failed.
Facts Socks5Connect(const std::string& address, int port,
                    const std::string& credentials, const std::string& target) {
  std::string host;
  int target_port = 0;
  if (!SplitHostPort(target, &host, &target_port) || host.size() > 255) {
    return "cannot parse " + target;
  }
  const int fd = ConnectTcp(address, port, 2000);
  if (fd < 0) return ErrnoFact(-fd);
  const timeval timeout = {2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  auto exchange = [fd](const std::string& out, size_t want) -> std::string {
    if (send(fd, out.data(), out.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(out.size())) {
      return "";
    }
    std::string in;
    char buffer[64];
    while (in.size() < want) {
      const ssize_t n = recv(fd, buffer, want - in.size(), 0);
      if (n <= 0) break;
      in.append(buffer, static_cast<size_t>(n));
    }
    return in;
  };
  const bool with_password = !credentials.empty();
  std::string reply =
      exchange(with_password ? std::string("\x05\x02\x00\x02", 4)
                             : std::string("\x05\x01\x00", 3),
               2);
  Facts result = "not a SOCKS5 server";
  if (reply.size() == 2 && reply[0] == 5 && reply[1] == 2 && with_password) {
    const size_t colon = credentials.find(':');
    const std::string user = credentials.substr(0, colon);
    const std::string password =
        colon == std::string::npos ? "" : credentials.substr(colon + 1);
    std::string auth = "\x01";
    auth += static_cast<char>(user.size() & 0xff);
    auth += user;
    auth += static_cast<char>(password.size() & 0xff);
    auth += password;
    const std::string status = exchange(auth, 2);
    reply =
        status.size() == 2 && status[1] == 0 ? std::string("\x05\x00", 2) : "";
    if (reply.empty()) result = "authentication refused";
  }
  if (reply.size() == 2 && reply[0] == 5 && reply[1] == 0) {
    std::string request("\x05\x01\x00\x03", 4);
    request += static_cast<char>(host.size());
    request += host;
    request += static_cast<char>((target_port >> 8) & 0xff);
    request += static_cast<char>(target_port & 0xff);
    const std::string answer = exchange(request, 2);
    result = answer.size() == 2 && answer[0] == 5
                 ? (answer[1] == 0
                        ? Facts("granted")
                        : Facts("refused: " + std::to_string(answer[1] & 0xff)))
                 : Facts("no SOCKS5 reply");
  } else if (reply.size() == 2 && reply[0] == 5 &&
             static_cast<unsigned char>(reply[1]) == 0xff) {
    result = "no acceptable authentication";
  }
  close(fd);
  return result;
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

}  // namespace

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
  // The proxy a client would use: http_proxy (a cell sets all four alike),
  // else what another sandbox may set instead (curl reads https_proxy for
  // HTTPS; some tools only the upper-case names).
  const char* proxy = nullptr;
  for (const char* name :
       {"http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"}) {
    proxy = proxy != nullptr ? proxy : std::getenv(name);
  }
  const Facts unset = "no proxy in the environment (http_proxy, https_proxy)";
  Facts connects = Facts::array();
  for (const std::string& target : options.connect_targets) {
    connects.push_back(proxy == nullptr
                           ? Facts({{"target", target}, {"error", unset}})
                           : ConnectThroughProxy(proxy, target));
  }
  facts["connect"] = connects;
  Facts gets = Facts::array();
  for (const std::string& target : options.get_targets) {
    gets.push_back(proxy == nullptr
                       ? Facts({{"target", target}, {"error", unset}})
                       : GetThroughProxy(proxy, target));
  }
  facts["get"] = gets;
  // Every listener in this network namespace, not only the proxy the
  // environment names (found in review: a second proxy in https_proxy, a
  // bridge nobody named on 127.0.0.2, on [::1], on an abstract socket, a
  // plain forward): each says whether a proxy variable names its port, and
  // a TCP one is asked, at its own address, for the first canary target as
  // an HTTP proxy and (when it does not answer HTTP) as a SOCKS5 proxy,
  // with the credentials the variable gives. Only with lo alone: in the
  // host's network namespace (no-routes fails there anyway) these would be
  // its services.
  Facts listeners = Facts::array();
  if (!options.connect_targets.empty() && interfaces.size() == 1 &&
      interfaces.contains("lo")) {
    const std::map<int, std::string> named = ProxyPortsNamed();
    std::vector<TcpListener> tcp =
        ParseTcpListeners(ReadText(root + "/net/tcp"));
    for (const TcpListener& listener :
         ParseTcpListeners(ReadText(root + "/net/tcp6"))) {
      tcp.push_back(listener);
    }
    constexpr size_t kMostListeners = 32;
    facts["listenersCut"] = tcp.size() > kMostListeners;
    if (tcp.size() > kMostListeners) tcp.resize(kMostListeners);
    const std::string& target = options.connect_targets[0];
    for (const TcpListener& listener : tcp) {
      const auto found = named.find(listener.port);
      const std::string user = found == named.end() || found->second.empty()
                                   ? ""
                                   : found->second + "@";
      const bool v6 = listener.address.find(':') != std::string::npos;
      std::string dial = listener.address;
      if (dial == "0.0.0.0") dial = "127.0.0.1";
      if (dial == "::") dial = "::1";
      Facts http = {{"target", target}};
      AskProxy(
          "http://" + user + (v6 ? "[" + dial + "]" : dial) + ":" +
              std::to_string(listener.port),
          "CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n\r\n",
          /*want_body=*/false, &http, /*timeout_seconds=*/2);
      // A listener that answered in HTTP is an HTTP server: a SOCKS5
      // greeting would only wait for its head timeout (the builtin proxy's).
      const bool speaks_http = http.contains("status");
      listeners.push_back(
          {{"address", listener.address},
           {"port", listener.port},
           {"named", found != named.end()},
           {"http", speaks_http ? http["status"] : http["error"]},
           {"socks5",
            speaks_http
                ? Facts("not tried: an HTTP server")
                : Socks5Connect(dial, listener.port,
                                found == named.end() ? "" : found->second,
                                target)}});
    }
    for (const std::string& name :
         ParseAbstractListeners(ReadText(root + "/net/unix"))) {
      listeners.push_back({{"abstract", name}, {"named", false}});
    }
  }
  facts["listeners"] = listeners;

  return facts;
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

}  // namespace cell::probes

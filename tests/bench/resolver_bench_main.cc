// Resolution latency: the builtin proxy's resolver (launcher/proxy/builtin/
// resolver.h) against glibc's getaddrinfo (this benchmark is dynamically
// linked, so glibc's NSS works as on any host), for a name in /etc/hosts
// and for one answered by a DNS server on loopback.
//
//   bazel run //tests/bench:resolver_bench -- [ITERATIONS]
//
// Root only: in a mount namespace of its own it binds a hosts file and a
// resolv.conf over /etc's (getaddrinfo reads no other), the latter naming
// a test DNS server (testing/dns_server.h) on 127.53.0.53:53. Prints the
// median and the 90th percentile of each, in microseconds.
#include <netdb.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "launcher/proxy/builtin/resolver.h"
#include "testing/dns_server.h"

namespace {

struct Stats {
  double median_us;
  double p90_us;
};

Stats Measure(int iterations, const std::function<bool()>& once) {
  std::vector<double> samples;
  for (int i = 0; i < iterations; ++i) {
    const auto start = std::chrono::steady_clock::now();
    if (!once()) {
      std::fprintf(stderr, "resolver_bench: a lookup failed\n");
      std::exit(1);
    }
    samples.push_back(std::chrono::duration<double, std::micro>(
                          std::chrono::steady_clock::now() - start)
                          .count());
  }
  std::sort(samples.begin(), samples.end());
  return {samples[samples.size() / 2], samples[samples.size() * 9 / 10]};
}

bool Getaddrinfo(const char* name) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* result = nullptr;
  if (getaddrinfo(name, "80", &hints, &result) != 0) return false;
  freeaddrinfo(result);
  return true;
}

bool Builtin(const char* name) {
  cell::ResolverOptions options;
  options.deadline = absl::Now() + absl::Seconds(10);
  return cell::ResolveHost(name, options).ok();
}

void Bind(const std::string& file, const char* over) {
  if (mount(file.c_str(), over, nullptr, MS_BIND, nullptr) != 0) {
    std::perror(over);
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const int iterations = argc > 1 ? std::atoi(argv[1]) : 2000;
  if (unshare(CLONE_NEWNS) != 0 ||
      mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    std::perror("resolver_bench: a private mount namespace (run as root)");
    return 1;
  }
  auto dns = cell::testing::DnsServer::Start("127.53.0.53", 53);
  if (!dns.ok()) {
    std::fprintf(stderr, "resolver_bench: %s\n",
                 dns.status().ToString().c_str());
    return 1;
  }
  cell::testing::DnsEntry entry;
  entry.a = {"192.0.2.1"};
  entry.aaaa = {"2001:db8::1"};
  (*dns)->Set("bench.dns.test", entry);
  char dir_template[] = "/tmp/resolver-bench.XXXXXX";
  const std::string dir = mkdtemp(dir_template);
  std::ofstream(dir + "/hosts") << "127.0.0.1 localhost\n"
                                   "::1 localhost ip6-localhost\n"
                                   "192.0.2.2 bench.hosts.test\n";
  std::ofstream(dir + "/resolv.conf") << "nameserver 127.53.0.53\n";
  Bind(dir + "/hosts", "/etc/hosts");
  Bind(dir + "/resolv.conf", "/etc/resolv.conf");

  std::printf("%-28s %12s %12s\n", "lookup (AF_UNSPEC)", "median us",
              "p90 us");
  for (const char* name : {"bench.hosts.test", "bench.dns.test"}) {
    const Stats glibc = Measure(iterations, [name] { return Getaddrinfo(name); });
    const Stats builtin = Measure(iterations, [name] { return Builtin(name); });
    std::printf("%-28s %12.1f %12.1f\n",
                (std::string(name) + " getaddrinfo").c_str(), glibc.median_us,
                glibc.p90_us);
    std::printf("%-28s %12.1f %12.1f\n",
                (std::string(name) + " builtin").c_str(), builtin.median_us,
                builtin.p90_us);
  }
  std::printf("DNS queries answered: %d (UDP)\n", (*dns)->udp_queries());
  umount("/etc/hosts");
  umount("/etc/resolv.conf");
  unlink((dir + "/hosts").c_str());
  unlink((dir + "/resolv.conf").c_str());
  rmdir(dir.c_str());
  return 0;
}

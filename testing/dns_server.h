// A small DNS server for tests, on a loopback address of the host: UDP and
// TCP on one port (0: a free one; 53 needs root), answering canned records
// from its zone, in a thread of its own. The peer of the builtin proxy's
// resolver (launcher/proxy/builtin/resolver.h) in its unit test, in the
// packed-cell integration test and in the resolver benchmark.
#ifndef CELL_TESTING_DNS_SERVER_H_
#define CELL_TESTING_DNS_SERVER_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace cell::testing {

struct DnsEntry {
  enum class Behavior {
    kAnswer,    // NOERROR with the records below (none: NODATA).
    kNxDomain,  // NXDOMAIN for every type.
    kServFail,  // SERVFAIL for every type.
    kRefused,   // REFUSED for every type.
    kSilent,    // No answer at all (the client times out).
    // Over UDP a truncated answer (TC, no records); over TCP the records.
    kTruncate,
    // Before the answer, from the server's own socket: one with another
    // id, one with the right id for another name, and one with the right
    // id and name but another type, each giving `spoof` as the address;
    // and from a second socket (another source port) the right id and
    // question, also `spoof`. A resolver that believes any of them
    // returns `spoof`.
    kSpoofFirst,
    // An answer that is not a DNS message (8 random bytes), then the
    // answer.
    kGarbageFirst,
  };
  Behavior behavior = Behavior::kAnswer;
  std::vector<std::string> a;     // "127.0.0.1"
  std::vector<std::string> aaaa;  // "::1"
  std::string cname;              // Answered first, its records follow.
  std::string spoof = "6.6.6.6";
};

class DnsServer {
 public:
  // Listens on `address`:`port` (UDP and TCP).
  static absl::StatusOr<std::unique_ptr<DnsServer>> Start(
      const std::string& address = "127.0.0.1", int port = 0);
  ~DnsServer();

  // Adds or replaces what `name` (lower case, no trailing dot) answers.
  // Unknown names get NXDOMAIN.
  void Set(const std::string& name, DnsEntry entry);

  const std::string& address() const { return address_; }
  int port() const { return port_; }
  // Queries received, by transport.
  int udp_queries() const { return udp_queries_.load(); }
  int tcp_queries() const { return tcp_queries_.load(); }
  // "name/TYPE" of every query, in order ("a.test/A", "a.test/AAAA").
  std::vector<std::string> log() const;

 private:
  static absl::StatusOr<std::unique_ptr<DnsServer>> StartOnce(
      const std::string& address, int port);
  DnsServer(std::string address, int udp, int tcp, int spoofer, int port);
  void Loop();
  void ServeUdp();
  void ServeTcp();
  // A datagram sent before the answer: from the spoofing socket (another
  // source port) or the server's own.
  using Datagram = std::pair<bool, std::string>;
  // The answer to `query` (empty for none), and what goes before it.
  std::string Answer(const std::string& query, bool over_tcp,
                     std::vector<Datagram>* before);

  std::string address_;
  int udp_;
  int tcp_;
  int spoofer_;
  int port_;
  int stop_[2] = {-1, -1};
  std::atomic<int> udp_queries_{0};
  std::atomic<int> tcp_queries_{0};
  mutable std::mutex mutex_;
  std::map<std::string, DnsEntry> zone_;
  std::vector<std::string> log_;
  std::thread thread_;
};

}  // namespace cell::testing

#endif  // CELL_TESTING_DNS_SERVER_H_

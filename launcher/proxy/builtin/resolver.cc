#include "launcher/proxy/builtin/resolver.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "base/fs_util.h"
#include "base/unique_fd.h"
#include "launcher/proxy/address_policy.h"
#include "launcher/proxy/builtin/dns_message.h"

namespace cell {
namespace {

constexpr size_t kMaxHostsBytes = 64u << 20;  // Block lists can be large.
constexpr size_t kMaxResolvConfBytes = 1u << 20;
constexpr size_t kMaxNameservers = 3;  // glibc's MAXNS.
constexpr size_t kMaxSearchDomains = 6;
constexpr absl::Duration kCancelCheck = absl::Milliseconds(100);

// Random bits from the kernel (getrandom), for query ids.
uint16_t RandomId() {
  uint16_t id = 0;
  if (getrandom(&id, sizeof(id), GRND_NONBLOCK) == sizeof(id)) return id;
  // A kernel without getrandom (before 3.17): still unpredictable enough
  // from outside, never a constant.
  thread_local std::mt19937 fallback(
      std::random_device{}() ^
      static_cast<uint32_t>(absl::ToUnixNanos(absl::Now())));
  return static_cast<uint16_t>(fallback());
}

socklen_t AddressLength(const sockaddr_storage& address) {
  return address.ss_family == AF_INET6 ? sizeof(sockaddr_in6)
                                       : sizeof(sockaddr_in);
}

sockaddr_storage WithPort(sockaddr_storage address, uint16_t port) {
  if (address.ss_family == AF_INET) {
    reinterpret_cast<sockaddr_in*>(&address)->sin_port = htons(port);
  } else {
    reinterpret_cast<sockaddr_in6*>(&address)->sin6_port = htons(port);
  }
  return address;
}

// Same family, address and port.
bool SameEndpoint(const sockaddr_storage& a, const sockaddr_storage& b) {
  if (a.ss_family != b.ss_family) return false;
  if (a.ss_family == AF_INET) {
    const auto& x = reinterpret_cast<const sockaddr_in&>(a);
    const auto& y = reinterpret_cast<const sockaddr_in&>(b);
    return x.sin_port == y.sin_port && x.sin_addr.s_addr == y.sin_addr.s_addr;
  }
  if (a.ss_family == AF_INET6) {
    const auto& x = reinterpret_cast<const sockaddr_in6&>(a);
    const auto& y = reinterpret_cast<const sockaddr_in6&>(b);
    return x.sin6_port == y.sin6_port &&
           std::memcmp(&x.sin6_addr, &y.sin6_addr, sizeof(in6_addr)) == 0;
  }
  return false;
}

bool SameAddress(const sockaddr_storage& a, const sockaddr_storage& b) {
  return SameEndpoint(WithPort(a, 0), WithPort(b, 0));
}

std::string ServerText(const sockaddr_storage& address) {
  return AddressText(reinterpret_cast<const sockaddr&>(address));
}

std::optional<sockaddr_storage> ParseIp(absl::string_view text) {
  const std::string bare(text);
  sockaddr_storage storage{};
  if (inet_pton(AF_INET, bare.c_str(),
                &reinterpret_cast<sockaddr_in*>(&storage)->sin_addr) == 1) {
    storage.ss_family = AF_INET;
    return storage;
  }
  if (inet_pton(AF_INET6, bare.c_str(),
                &reinterpret_cast<sockaddr_in6*>(&storage)->sin6_addr) == 1) {
    storage.ss_family = AF_INET6;
    return storage;
  }
  return std::nullopt;
}

bool IsResourceError(int error) { return error == EMFILE || error == ENFILE; }

// Why a socket call towards a server failed. ECONNREFUSED on a UDP socket
// is an ICMP port unreachable: nothing listens there.
std::string SocketFailure(int error) {
  return error == ECONNREFUSED
             ? std::string("connection refused (no DNS server listens there)")
             : ErrnoName(error);
}

absl::Status NoDescriptor(absl::string_view host) {
  return absl::ResourceExhaustedError(absl::StrCat(
      "no descriptor to resolve ", host, " (open-file limit reached)"));
}

// An optional file: missing or unreadable is "" (as glibc treats it), but
// a launcher out of descriptors must say so.
absl::StatusOr<std::string> ReadConfigFile(const std::string& path,
                                           size_t max_bytes,
                                           absl::string_view host) {
  absl::StatusOr<std::string> text = ReadFileToString(path, max_bytes);
  if (text.ok()) return text;
  if (absl::IsResourceExhausted(text.status()) ||
      absl::StrContains(text.status().message(), "EMFILE") ||
      absl::StrContains(text.status().message(), "ENFILE")) {
    return NoDescriptor(host);
  }
  return std::string();
}

// Waits until `fd` has `events` or `until`, checking `cancelled` at least
// every kCancelCheck. 1: ready; 0: `until` passed; -1: cancelled; -2:
// poll failed (errno).
int WaitFor(int fd, short events, absl::Time until,
            const std::function<bool()>& cancelled) {
  while (true) {
    if (cancelled && cancelled()) return -1;
    const absl::Duration left = until - absl::Now();
    if (left <= absl::ZeroDuration()) return 0;
    pollfd entry = {fd, events, 0};
    const int ready = poll(
        &entry, 1,
        static_cast<int>(absl::ToInt64Milliseconds(
            std::min(left + absl::Milliseconds(1), kCancelCheck))));
    if (ready > 0) return 1;
    if (ready < 0 && errno != EINTR) return -2;
  }
}

// One query's state through the servers.
struct Query {
  uint16_t type = 0;
  uint16_t id = 0;
  bool done = false;  // Answered NOERROR or NXDOMAIN.
  int rcode = 0;
  std::vector<sockaddr_storage> addresses;
};

// How a lookup went at the servers, for the error.
struct Trouble {
  std::vector<std::string> failures;  // "10.0.0.1: SERVFAIL", ...
  bool timed_out = false;             // Some server did not answer.
  bool other = false;                 // Some server failed otherwise.
  void Add(const sockaddr_storage& server, absl::string_view what,
           bool timeout) {
    const std::string line = absl::StrCat(ServerText(server), ": ", what);
    if (std::find(failures.begin(), failures.end(), line) == failures.end()) {
      failures.push_back(line);
    }
    (timeout ? timed_out : other) = true;
  }
};

struct Exchange {
  const std::string& name;
  const sockaddr_storage& server;  // Port set.
  absl::Time until;
  const std::function<bool()>& cancelled;
  absl::string_view host;  // For errors.
};

// One query over TCP (after a truncated UDP answer): the whole answer, or
// why not.
absl::StatusOr<dns::Response> AskOverTcp(const Exchange& exchange,
                                         const Query& query) {
  const int raw = socket(exchange.server.ss_family,
                         SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (raw < 0) {
    if (IsResourceError(errno)) return NoDescriptor(exchange.host);
    return absl::UnavailableError(ErrnoName(errno));
  }
  UniqueFd fd(raw);
  auto wait = [&exchange, &fd](short events) -> absl::Status {
    switch (WaitFor(fd.get(), events, exchange.until, exchange.cancelled)) {
      case 1:
        return absl::OkStatus();
      case 0:
        return absl::DeadlineExceededError("timed out over TCP");
      case -1:
        return absl::CancelledError("cancelled");
      default:
        return absl::UnavailableError(ErrnoName(errno));
    }
  };
  if (connect(fd.get(), reinterpret_cast<const sockaddr*>(&exchange.server),
              AddressLength(exchange.server)) != 0) {
    if (errno != EINPROGRESS) {
      return absl::UnavailableError(
          absl::StrCat("TCP connect: ", ErrnoName(errno)));
    }
    if (absl::Status waited = wait(POLLOUT); !waited.ok()) return waited;
    int error = 0;
    socklen_t length = sizeof(error);
    getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &length);
    if (error != 0) {
      return absl::UnavailableError(
          absl::StrCat("TCP connect: ", ErrnoName(error)));
    }
  }
  const std::string question =
      dns::BuildQuery(query.id, exchange.name, query.type);
  std::string out;
  out.push_back(static_cast<char>(question.size() >> 8));
  out.push_back(static_cast<char>(question.size() & 0xFF));
  out += question;
  for (size_t sent = 0; sent < out.size();) {
    const ssize_t n =
        send(fd.get(), out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (absl::Status waited = wait(POLLOUT); !waited.ok()) return waited;
    } else {
      return absl::UnavailableError(
          absl::StrCat("TCP send: ", ErrnoName(errno)));
    }
  }
  // A 2-byte length, then the message.
  std::string in;
  size_t want = 2;
  bool have_length = false;
  while (in.size() < want) {
    char buffer[4096];
    const ssize_t n = recv(fd.get(), buffer,
                           std::min(sizeof(buffer), want - in.size()), 0);
    if (n > 0) {
      in.append(buffer, static_cast<size_t>(n));
    } else if (n == 0) {
      return absl::UnavailableError("the TCP answer ended early");
    } else if (errno == EAGAIN || errno == EINTR) {
      if (absl::Status waited = wait(POLLIN); !waited.ok()) return waited;
    } else {
      return absl::UnavailableError(
          absl::StrCat("TCP receive: ", ErrnoName(errno)));
    }
    if (!have_length && in.size() == 2) {
      want = 2 + ((static_cast<uint8_t>(in[0]) << 8) |
                  static_cast<uint8_t>(in[1]));
      have_length = true;
    }
  }
  absl::StatusOr<dns::Response> response =
      dns::ParseResponse(absl::string_view(in).substr(2));
  if (!response.ok()) {
    return absl::UnavailableError(
        absl::StrCat("over TCP: ", response.status().message()));
  }
  if (!dns::AnswerMatches(*response, query.id, exchange.name, query.type) ||
      response->truncated) {
    return absl::UnavailableError(
        "the TCP answer does not match the question");
  }
  return response;
}

// Takes in `response` for `query` (it matched): NOERROR and NXDOMAIN
// settle it; other codes are this server's failure.
void Settle(const dns::Response& response, const Exchange& exchange,
            Query* query, Trouble* trouble) {
  if (response.rcode == dns::kRcodeNoError ||
      response.rcode == dns::kRcodeNxDomain) {
    query->done = true;
    query->rcode = response.rcode;
    query->addresses =
        dns::AnswerAddresses(response, exchange.name, query->type);
  } else {
    trouble->Add(exchange.server, dns::RcodeName(response.rcode), false);
  }
}

// Sends every unsettled query of `queries` to one server over UDP and
// takes the answers that match until each is settled, the server failed
// it, or `exchange.until`. Errors only for what ends the whole lookup:
// no descriptor, cancelled.
absl::Status AskServer(const Exchange& exchange, std::vector<Query>* queries,
                       Trouble* trouble) {
  const int raw = socket(exchange.server.ss_family,
                         SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (raw < 0) {
    if (IsResourceError(errno)) return NoDescriptor(exchange.host);
    trouble->Add(exchange.server, ErrnoName(errno), false);
    return absl::OkStatus();
  }
  UniqueFd fd(raw);
  // Connected: the kernel delivers only datagrams from the server's
  // address and port, and picked a random source port for this socket.
  if (connect(fd.get(), reinterpret_cast<const sockaddr*>(&exchange.server),
              AddressLength(exchange.server)) != 0) {
    trouble->Add(exchange.server, SocketFailure(errno), false);
    return absl::OkStatus();
  }
  // The queries this server still owes an answer.
  std::vector<Query*> waiting;
  for (Query& query : *queries) {
    if (query.done) continue;
    do {
      query.id = RandomId();
    } while (std::any_of(waiting.begin(), waiting.end(),
                         [&query](const Query* other) {
                           return other->id == query.id;
                         }));
    const std::string message =
        dns::BuildQuery(query.id, exchange.name, query.type);
    if (send(fd.get(), message.data(), message.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(message.size())) {
      trouble->Add(exchange.server, SocketFailure(errno), false);
      return absl::OkStatus();
    }
    waiting.push_back(&query);
  }
  std::string buffer(65536, '\0');
  while (!waiting.empty()) {
    const int ready = WaitFor(fd.get(), POLLIN, exchange.until,
                              exchange.cancelled);
    if (ready == -1) return absl::CancelledError("cancelled");
    if (ready == 0) {
      trouble->Add(exchange.server, "no answer (timed out)", true);
      return absl::OkStatus();
    }
    if (ready < 0) {
      trouble->Add(exchange.server, ErrnoName(errno), false);
      return absl::OkStatus();
    }
    sockaddr_storage from{};
    socklen_t from_length = sizeof(from);
    const ssize_t n = recvfrom(fd.get(), buffer.data(), buffer.size(), 0,
                               reinterpret_cast<sockaddr*>(&from),
                               &from_length);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      trouble->Add(exchange.server, SocketFailure(errno), false);
      return absl::OkStatus();
    }
    // The kernel filtered on the connected peer already; this holds even
    // if that ever changes.
    if (!SameEndpoint(from, exchange.server)) continue;
    absl::StatusOr<dns::Response> response = dns::ParseResponse(
        absl::string_view(buffer.data(), static_cast<size_t>(n)));
    if (!response.ok()) continue;  // Garbage is not an answer: wait on.
    const auto match =
        std::find_if(waiting.begin(), waiting.end(), [&](const Query* query) {
          return dns::AnswerMatches(*response, query->id, exchange.name,
                                    query->type);
        });
    if (match == waiting.end()) continue;  // Not ours (a spoof, a late one).
    Query* query = *match;
    waiting.erase(match);
    if (response->truncated) {
      absl::StatusOr<dns::Response> full = AskOverTcp(exchange, *query);
      if (absl::IsResourceExhausted(full.status()) ||
          absl::IsCancelled(full.status())) {
        return full.status();
      }
      if (!full.ok()) {
        trouble->Add(exchange.server,
                     absl::StrCat("truncated answer, and ",
                                  full.status().message()),
                     absl::IsDeadlineExceeded(full.status()));
        continue;
      }
      response = std::move(full);
    }
    Settle(*response, exchange, query, trouble);
    // NXDOMAIN is about the name: the other type has nothing either.
    if (query->done && query->rcode == dns::kRcodeNxDomain) break;
  }
  return absl::OkStatus();
}

// What one name (a candidate of the search list) came to.
struct NameResult {
  enum Kind { kFound, kNxDomain, kNoData, kFailed } kind = kFailed;
  std::vector<sockaddr_storage> addresses;
  Trouble trouble;
  std::string answered_by;  // For NXDOMAIN / NODATA.
};

absl::StatusOr<NameResult> LookupName(
    const std::string& name, const ResolvConf& conf,
    const std::vector<sockaddr_storage>& servers,
    const ResolverOptions& options, absl::string_view host) {
  // AAAA first: sorting decides the order in the end anyway.
  std::vector<Query> queries(2);
  queries[0].type = dns::kTypeAaaa;
  queries[1].type = dns::kTypeA;
  NameResult result;
  auto any_addresses = [&queries] {
    return std::any_of(queries.begin(), queries.end(), [](const Query& q) {
      return q.done && !q.addresses.empty();
    });
  };
  auto all_done = [&queries] {
    return std::all_of(queries.begin(), queries.end(),
                       [](const Query& q) { return q.done; });
  };
  for (int round = 0; round < conf.attempts; ++round) {
    for (const sockaddr_storage& server : servers) {
      const absl::Time now = absl::Now();
      if (now >= options.deadline) break;
      const sockaddr_storage endpoint = WithPort(server, options.dns_port);
      const Exchange exchange = {name, endpoint,
                                 std::min(now + conf.timeout, options.deadline),
                                 options.cancelled, host};
      if (absl::Status asked = AskServer(exchange, &queries, &result.trouble);
          !asked.ok()) {
        return asked;
      }
      for (const Query& query : queries) {
        if (query.done && query.rcode == dns::kRcodeNxDomain) {
          result.kind = NameResult::kNxDomain;
          result.answered_by = ServerText(server);
          return result;
        }
      }
      if (all_done() && !any_addresses()) {
        result.kind = NameResult::kNoData;
        result.answered_by = ServerText(server);
        return result;
      }
      // One family answered: the other had this server's whole try; no
      // further round is spent waiting for it.
      if (any_addresses()) break;
    }
    if (any_addresses() || absl::Now() >= options.deadline) break;
  }
  for (const Query& query : queries) {
    result.addresses.insert(result.addresses.end(), query.addresses.begin(),
                            query.addresses.end());
  }
  if (!result.addresses.empty()) result.kind = NameResult::kFound;
  if (result.kind == NameResult::kFailed && absl::Now() >= options.deadline) {
    result.trouble.timed_out = true;
  }
  return result;
}

// glibc's default precedence (RFC 3484 table, no /etc/gai.conf).
int Precedence(const sockaddr_storage& address) {
  if (address.ss_family != AF_INET6) return 10;
  const in6_addr& a = reinterpret_cast<const sockaddr_in6&>(address).sin6_addr;
  if (IN6_IS_ADDR_LOOPBACK(&a)) return 50;
  if (IN6_IS_ADDR_V4MAPPED(&a)) return 10;
  if (a.s6_addr[0] == 0x20 && a.s6_addr[1] == 0x02) return 30;
  static const uint8_t kZero[12] = {};
  if (std::memcmp(a.s6_addr, kZero, sizeof(kZero)) == 0) return 20;
  return 40;
}

bool HasRoute(const sockaddr_storage& address) {
  const int fd = socket(address.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return true;  // Cannot tell: keep its place.
  const sockaddr_storage target = WithPort(address, 9);
  const bool routed = connect(fd, reinterpret_cast<const sockaddr*>(&target),
                              AddressLength(target)) == 0;
  close(fd);
  return routed;
}

}  // namespace

ResolvConf ParseResolvConf(absl::string_view text) {
  ResolvConf conf;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    const size_t comment = line.find_first_of("#;");
    if (comment != absl::string_view::npos) line = line.substr(0, comment);
    const std::vector<absl::string_view> words =
        absl::StrSplit(line, absl::ByAnyChar(" \t\r"), absl::SkipEmpty());
    if (words.size() < 2) continue;
    const absl::string_view keyword = words[0];
    if (keyword == "nameserver") {
      if (conf.nameservers.size() >= kMaxNameservers) continue;
      absl::string_view address = words[1];
      uint32_t scope = 0;
      const size_t percent = address.find('%');
      if (percent != absl::string_view::npos) {
        const std::string zone(address.substr(percent + 1));
        address = address.substr(0, percent);
        if (!absl::SimpleAtoi(zone, &scope)) scope = if_nametoindex(zone.c_str());
      }
      std::optional<sockaddr_storage> parsed = ParseIp(address);
      if (!parsed.has_value()) continue;
      if (parsed->ss_family == AF_INET6) {
        reinterpret_cast<sockaddr_in6*>(&*parsed)->sin6_scope_id = scope;
      }
      conf.nameservers.push_back(*parsed);
    } else if (keyword == "domain" || keyword == "search") {
      conf.search.clear();
      for (size_t i = 1; i < words.size(); ++i) {
        absl::string_view domain = words[i];
        absl::ConsumeSuffix(&domain, ".");
        if (domain.empty() || conf.search.size() >= kMaxSearchDomains) {
          continue;
        }
        conf.search.emplace_back(domain);
      }
    } else if (keyword == "options") {
      for (size_t i = 1; i < words.size(); ++i) {
        absl::string_view option = words[i];
        int value = 0;
        if (absl::ConsumePrefix(&option, "ndots:") &&
            absl::SimpleAtoi(option, &value)) {
          conf.ndots = std::clamp(value, 0, 15);
        } else if (absl::ConsumePrefix(&option, "timeout:") &&
                   absl::SimpleAtoi(option, &value)) {
          conf.timeout = absl::Seconds(std::clamp(value, 1, 30));
        } else if (absl::ConsumePrefix(&option, "attempts:") &&
                   absl::SimpleAtoi(option, &value)) {
          conf.attempts = std::clamp(value, 1, 5);
        }
      }
    }
  }
  return conf;
}

std::vector<sockaddr_storage> HostsFileAddresses(absl::string_view text,
                                                 absl::string_view name) {
  absl::ConsumeSuffix(&name, ".");
  std::vector<sockaddr_storage> addresses;
  if (name.empty()) return addresses;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    const size_t comment = line.find('#');
    if (comment != absl::string_view::npos) line = line.substr(0, comment);
    const std::vector<absl::string_view> words =
        absl::StrSplit(line, absl::ByAnyChar(" \t\r"), absl::SkipEmpty());
    if (words.size() < 2) continue;
    const bool listed =
        std::any_of(words.begin() + 1, words.end(), [name](absl::string_view w) {
          absl::ConsumeSuffix(&w, ".");
          return absl::EqualsIgnoreCase(w, name);
        });
    if (!listed) continue;
    std::optional<sockaddr_storage> address = ParseIp(words[0]);
    if (!address.has_value()) continue;
    const bool seen = std::any_of(
        addresses.begin(), addresses.end(),
        [&address](const sockaddr_storage& a) { return SameAddress(a, *address); });
    if (!seen) addresses.push_back(*address);
  }
  return addresses;
}

std::optional<sockaddr_storage> NumericHostAddress(absl::string_view host) {
  sockaddr_storage storage{};
  if (absl::ConsumePrefix(&host, "[")) {
    if (!absl::ConsumeSuffix(&host, "]")) return std::nullopt;
    const std::string bare(host);
    if (inet_pton(AF_INET6, bare.c_str(),
                  &reinterpret_cast<sockaddr_in6*>(&storage)->sin6_addr) != 1) {
      return std::nullopt;
    }
    storage.ss_family = AF_INET6;
    return storage;
  }
  const std::string bare(host);
  if (inet_pton(AF_INET6, bare.c_str(),
                &reinterpret_cast<sockaddr_in6*>(&storage)->sin6_addr) == 1) {
    storage.ss_family = AF_INET6;
    return storage;
  }
  // inet_aton's forms (127.1, 0x7f000001, 017700000001, 2130706433), as
  // getaddrinfo reads them; inet_aton itself would also take what follows
  // a space, so nothing but its characters may be there.
  if (bare.empty() ||
      bare.find_first_not_of("0123456789abcdefABCDEFxX.") != std::string::npos) {
    return std::nullopt;
  }
  in_addr v4{};
  if (inet_aton(bare.c_str(), &v4) == 0) return std::nullopt;
  auto* in = reinterpret_cast<sockaddr_in*>(&storage);
  in->sin_family = AF_INET;
  in->sin_addr = v4;
  return storage;
}

void SortAddresses(
    std::vector<sockaddr_storage>* addresses,
    const std::function<bool(const sockaddr_storage&)>& routable) {
  if (addresses->size() < 2) return;
  struct Keyed {
    sockaddr_storage address;
    bool routed;
    int precedence;
  };
  std::vector<Keyed> keyed;
  bool mixed = false;
  for (const sockaddr_storage& address : *addresses) {
    keyed.push_back({address, true, Precedence(address)});
    mixed = mixed || keyed.back().precedence != keyed.front().precedence;
  }
  // One precedence: the order stays (no route test for a single family).
  if (!mixed) return;
  for (Keyed& entry : keyed) {
    entry.routed = routable ? routable(entry.address) : HasRoute(entry.address);
  }
  std::stable_sort(keyed.begin(), keyed.end(),
                   [](const Keyed& a, const Keyed& b) {
                     if (a.routed != b.routed) return a.routed;
                     return a.precedence > b.precedence;
                   });
  for (size_t i = 0; i < keyed.size(); ++i) (*addresses)[i] = keyed[i].address;
}

absl::StatusOr<std::vector<sockaddr_storage>> ResolveHost(
    absl::string_view host, const ResolverOptions& options) {
  if (std::optional<sockaddr_storage> numeric = NumericHostAddress(host)) {
    return std::vector<sockaddr_storage>{*numeric};
  }
  absl::string_view name = host;
  const bool absolute = absl::ConsumeSuffix(&name, ".");
  if (!dns::IsQueryableName(name)) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot resolve ", host, ": not a host name"));
  }
  // 1. /etc/hosts.
  absl::StatusOr<std::string> hosts =
      ReadConfigFile(options.hosts_path, kMaxHostsBytes, host);
  if (!hosts.ok()) return hosts.status();
  std::vector<sockaddr_storage> listed = HostsFileAddresses(*hosts, name);
  if (!listed.empty()) {
    SortAddresses(&listed, options.routable);
    return listed;
  }
  // 2. DNS.
  absl::StatusOr<std::string> conf_text =
      ReadConfigFile(options.resolv_conf_path, kMaxResolvConfBytes, host);
  if (!conf_text.ok()) return conf_text.status();
  const ResolvConf conf = ParseResolvConf(*conf_text);
  std::vector<sockaddr_storage> servers = conf.nameservers;
  const bool defaulted = servers.empty();
  if (defaulted) servers.push_back(*ParseIp("127.0.0.1"));
  // The names to ask, as res_search orders them.
  std::vector<std::string> candidates;
  const std::string bare(name);
  if (absolute) {
    candidates.push_back(bare);
  } else {
    const bool enough_dots =
        std::count(bare.begin(), bare.end(), '.') >= conf.ndots;
    if (enough_dots) candidates.push_back(bare);
    for (const std::string& domain : conf.search) {
      const std::string full = absl::StrCat(bare, ".", domain);
      if (dns::IsQueryableName(full)) candidates.push_back(full);
    }
    if (!enough_dots) candidates.push_back(bare);
  }
  std::vector<std::string> asked;
  std::vector<NameResult> results;
  for (const std::string& candidate : candidates) {
    if (absl::Now() >= options.deadline) break;
    absl::StatusOr<NameResult> result =
        LookupName(candidate, conf, servers, options, host);
    if (!result.ok()) {
      if (absl::IsCancelled(result.status())) {
        return absl::CancelledError(
            absl::StrCat("resolving ", host, " was cancelled"));
      }
      return result.status();
    }
    if (result->kind == NameResult::kFound) {
      SortAddresses(&result->addresses, options.routable);
      return std::move(result->addresses);
    }
    asked.push_back(candidate);
    results.push_back(*std::move(result));
    // A server that does not answer at all is not asked again for the
    // next candidate (res_search stops on a timeout too).
    if (results.back().kind == NameResult::kFailed &&
        results.back().trouble.timed_out && !results.back().trouble.other) {
      break;
    }
  }
  const std::string also =
      asked.size() > 1
          ? absl::StrCat("; asked as ", absl::StrJoin(asked, ", "))
          : "";
  const std::string where =
      defaulted ? absl::StrCat(" (", options.resolv_conf_path,
                               " names no nameserver; asked 127.0.0.1, the "
                               "default)")
                : "";
  for (const NameResult& result : results) {
    if (result.kind == NameResult::kNoData) {
      return absl::NotFoundError(absl::StrCat(
          "cannot resolve ", host, ": the name has no address (no A or AAAA "
          "record, answered by ", result.answered_by, ")", also));
    }
  }
  for (const NameResult& result : results) {
    if (result.kind == NameResult::kNxDomain) {
      return absl::NotFoundError(
          absl::StrCat("cannot resolve ", host, ": no such name (NXDOMAIN from ",
                       result.answered_by, ")", also));
    }
  }
  Trouble trouble;
  for (const NameResult& result : results) {
    for (const std::string& failure : result.trouble.failures) {
      if (std::find(trouble.failures.begin(), trouble.failures.end(),
                    failure) == trouble.failures.end()) {
        trouble.failures.push_back(failure);
      }
    }
    trouble.timed_out = trouble.timed_out || result.trouble.timed_out;
    trouble.other = trouble.other || result.trouble.other;
  }
  const std::string failures =
      trouble.failures.empty() ? "no nameserver was asked in time"
                               : absl::StrJoin(trouble.failures, "; ");
  if (trouble.timed_out && !trouble.other) {
    return absl::DeadlineExceededError(absl::StrCat(
        "resolving ", host, " timed out: ", failures, where, also));
  }
  return absl::UnavailableError(absl::StrCat("cannot resolve ", host, ": ",
                                             failures, where, also));
}

}  // namespace cell

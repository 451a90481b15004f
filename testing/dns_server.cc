#include "testing/dns_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace cell::testing {
namespace {

constexpr uint16_t kA = 1;
constexpr uint16_t kCname = 5;
constexpr uint16_t kAaaa = 28;

void PutU16(std::string* out, uint16_t value) {
  out->push_back(static_cast<char>(value >> 8));
  out->push_back(static_cast<char>(value & 0xFF));
}

uint16_t GetU16(const std::string& in, size_t at) {
  return static_cast<uint16_t>((static_cast<uint8_t>(in[at]) << 8) |
                               static_cast<uint8_t>(in[at + 1]));
}

std::string EncodeName(const std::string& name) {
  std::string out;
  size_t start = 0;
  while (start < name.size()) {
    size_t dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    out.push_back(static_cast<char>(dot - start));
    out.append(name, start, dot - start);
    start = dot + 1;
  }
  out.push_back('\0');
  return out;
}

struct ParsedQuery {
  uint16_t id = 0;
  std::string name;           // Lower case.
  std::string question;       // The question section's bytes, as sent.
  uint16_t type = 0;
};

bool ParseQuery(const std::string& in, ParsedQuery* query) {
  if (in.size() < 12 || GetU16(in, 4) != 1) return false;
  query->id = GetU16(in, 0);
  size_t at = 12;
  while (true) {
    if (at >= in.size()) return false;
    const uint8_t length = static_cast<uint8_t>(in[at]);
    if (length == 0) break;
    if (length > 63 || at + 1 + length > in.size()) return false;
    if (!query->name.empty()) query->name.push_back('.');
    query->name += absl::AsciiStrToLower(in.substr(at + 1, length));
    at += 1 + length;
  }
  if (at + 5 > in.size()) return false;
  query->type = GetU16(in, at + 1);
  query->question = in.substr(12, at + 5 - 12);
  return true;
}

struct Rr {
  uint16_t type;
  bool owner_is_cname;  // Owner: the CNAME target, else the question.
  std::string rdata;
};

// A response: `question` as asked, the records after it. Owners are
// compression pointers: to the question's name (offset 12) or to the
// CNAME record's target.
std::string BuildResponse(uint16_t id, int rcode, bool truncated,
                          const std::string& question,
                          const std::vector<Rr>& records) {
  std::string out;
  PutU16(&out, id);
  PutU16(&out, static_cast<uint16_t>(0x8180 | (truncated ? 0x0200 : 0) |
                                     (rcode & 0xF)));
  PutU16(&out, 1);
  PutU16(&out, static_cast<uint16_t>(records.size()));
  PutU16(&out, 0);
  PutU16(&out, 0);
  out += question;
  size_t cname_target = 12;
  for (const Rr& record : records) {
    PutU16(&out, static_cast<uint16_t>(
                     0xC000 | (record.owner_is_cname ? cname_target : 12)));
    PutU16(&out, record.type);
    PutU16(&out, 1);  // IN
    out += std::string("\0\0\0\x3c", 4);  // TTL 60
    PutU16(&out, static_cast<uint16_t>(record.rdata.size()));
    if (record.type == kCname) cname_target = out.size();
    out += record.rdata;
  }
  return out;
}

std::string AddressBytes(int family, const std::string& text) {
  unsigned char bytes[16] = {};
  if (inet_pton(family, text.c_str(), bytes) != 1) return "";
  return std::string(reinterpret_cast<char*>(bytes),
                     family == AF_INET ? 4 : 16);
}

int BindSocket(int type, const sockaddr_in& address) {
  const int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) !=
      0) {
    const int error = errno;
    close(fd);
    errno = error;
    return -1;
  }
  return fd;
}

}  // namespace

absl::StatusOr<std::unique_ptr<DnsServer>> DnsServer::Start(
    const std::string& address, int port) {
  // A free UDP port may be taken for TCP by another test running at the
  // same time: with port 0, try other ports before giving up.
  absl::StatusOr<std::unique_ptr<DnsServer>> server =
      StartOnce(address, port);
  for (int attempt = 0; port == 0 && attempt < 20 && !server.ok() &&
                        absl::IsUnavailable(server.status());
       ++attempt) {
    server = StartOnce(address, port);
  }
  return server;
}

absl::StatusOr<std::unique_ptr<DnsServer>> DnsServer::StartOnce(
    const std::string& address, int port) {
  sockaddr_in where{};
  where.sin_family = AF_INET;
  where.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, address.c_str(), &where.sin_addr) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("not IPv4: ", address));
  }
  const int udp = BindSocket(SOCK_DGRAM, where);
  if (udp < 0) {
    return absl::UnavailableError(absl::StrCat(
        "cannot bind UDP ", address, ":", port, ": ", std::strerror(errno)));
  }
  sockaddr_in bound{};
  socklen_t length = sizeof(bound);
  getsockname(udp, reinterpret_cast<sockaddr*>(&bound), &length);
  where.sin_port = bound.sin_port;
  const int tcp = BindSocket(SOCK_STREAM, where);
  if (tcp < 0 || listen(tcp, 16) != 0) {
    const std::string why = std::strerror(errno);
    close(udp);
    if (tcp >= 0) close(tcp);
    return absl::UnavailableError(absl::StrCat(
        "cannot listen on TCP ", address, ":", ntohs(where.sin_port), ": ",
        why));
  }
  // The spoofer: the same address, another port.
  where.sin_port = 0;
  const int spoofer = BindSocket(SOCK_DGRAM, where);
  if (spoofer < 0) {
    close(udp);
    close(tcp);
    return absl::UnavailableError("cannot bind the spoofing socket");
  }
  std::unique_ptr<DnsServer> server(
      new DnsServer(address, udp, tcp, spoofer, ntohs(bound.sin_port)));
  if (pipe2(server->stop_, O_CLOEXEC) != 0) {
    return absl::UnavailableError("pipe");
  }
  server->thread_ = std::thread([raw = server.get()] { raw->Loop(); });
  return server;
}

DnsServer::DnsServer(std::string address, int udp, int tcp, int spoofer,
                     int port)
    : address_(std::move(address)),
      udp_(udp),
      tcp_(tcp),
      spoofer_(spoofer),
      port_(port) {}

DnsServer::~DnsServer() {
  if (stop_[1] >= 0) {
    (void)!write(stop_[1], "x", 1);
  }
  if (thread_.joinable()) thread_.join();
  for (int fd : {udp_, tcp_, spoofer_, stop_[0], stop_[1]}) {
    if (fd >= 0) close(fd);
  }
}

void DnsServer::Set(const std::string& name, DnsEntry entry) {
  std::lock_guard<std::mutex> lock(mutex_);
  zone_[name] = std::move(entry);
}

std::vector<std::string> DnsServer::log() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return log_;
}

void DnsServer::Loop() {
  while (true) {
    pollfd events[3] = {
        {stop_[0], POLLIN, 0}, {udp_, POLLIN, 0}, {tcp_, POLLIN, 0}};
    if (poll(events, 3, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (events[0].revents != 0) return;
    if (events[1].revents & POLLIN) ServeUdp();
    if (events[2].revents & POLLIN) ServeTcp();
  }
}

void DnsServer::ServeUdp() {
  char buffer[2048];
  sockaddr_in client{};
  socklen_t length = sizeof(client);
  const ssize_t n = recvfrom(udp_, buffer, sizeof(buffer), 0,
                             reinterpret_cast<sockaddr*>(&client), &length);
  if (n <= 0) return;
  ++udp_queries_;
  std::vector<Datagram> before;
  const std::string answer =
      Answer(std::string(buffer, static_cast<size_t>(n)), false, &before);
  const auto* to = reinterpret_cast<const sockaddr*>(&client);
  for (const auto& [from_spoofer, datagram] : before) {
    sendto(from_spoofer ? spoofer_ : udp_, datagram.data(), datagram.size(), 0,
           to, length);
  }
  if (!answer.empty()) sendto(udp_, answer.data(), answer.size(), 0, to, length);
}

void DnsServer::ServeTcp() {
  const int client = accept4(tcp_, nullptr, nullptr, SOCK_CLOEXEC);
  if (client < 0) return;
  timeval timeout = {2, 0};
  setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  std::string in;
  char buffer[4096];
  while (in.size() < 2 || in.size() < 2u + GetU16(in, 0)) {
    const ssize_t n = recv(client, buffer, sizeof(buffer), 0);
    if (n <= 0) {
      close(client);
      return;
    }
    in.append(buffer, static_cast<size_t>(n));
  }
  ++tcp_queries_;
  std::vector<Datagram> before;
  const std::string answer = Answer(in.substr(2, GetU16(in, 0)), true, &before);
  if (!answer.empty()) {
    std::string out;
    PutU16(&out, static_cast<uint16_t>(answer.size()));
    out += answer;
    (void)!send(client, out.data(), out.size(), MSG_NOSIGNAL);
  }
  close(client);
}

std::string DnsServer::Answer(const std::string& query, bool over_tcp,
                              std::vector<Datagram>* before) {
  ParsedQuery parsed;
  if (!ParseQuery(query, &parsed)) return "";
  DnsEntry entry;
  bool known = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    log_.push_back(absl::StrCat(parsed.name, "/",
                                parsed.type == kA      ? "A"
                                : parsed.type == kAaaa ? "AAAA"
                                                       : "OTHER"));
    const auto found = zone_.find(parsed.name);
    if (found != zone_.end()) {
      entry = found->second;
      known = true;
    }
  }
  if (!known) return BuildResponse(parsed.id, 3, false, parsed.question, {});
  using Behavior = DnsEntry::Behavior;
  switch (entry.behavior) {
    case Behavior::kNxDomain:
      return BuildResponse(parsed.id, 3, false, parsed.question, {});
    case Behavior::kServFail:
      return BuildResponse(parsed.id, 2, false, parsed.question, {});
    case Behavior::kRefused:
      return BuildResponse(parsed.id, 5, false, parsed.question, {});
    case Behavior::kSilent:
      return "";
    default:
      break;
  }
  std::vector<Rr> records;
  if (!entry.cname.empty()) {
    records.push_back({kCname, false, EncodeName(entry.cname)});
  }
  const bool owner_is_cname = !entry.cname.empty();
  if (parsed.type == kA) {
    for (const std::string& a : entry.a) {
      records.push_back({kA, owner_is_cname, AddressBytes(AF_INET, a)});
    }
  } else if (parsed.type == kAaaa) {
    for (const std::string& aaaa : entry.aaaa) {
      records.push_back({kAaaa, owner_is_cname, AddressBytes(AF_INET6, aaaa)});
    }
  }
  if (entry.behavior == Behavior::kTruncate && !over_tcp) {
    return BuildResponse(parsed.id, 0, true, parsed.question, {});
  }
  if (entry.behavior == Behavior::kSpoofFirst && parsed.type == kA) {
    const std::vector<Rr> spoof = {
        {kA, false, AddressBytes(AF_INET, entry.spoof)}};
    // From another port, everything else right.
    before->push_back(
        {true, BuildResponse(parsed.id, 0, false, parsed.question, spoof)});
    // Another id.
    before->push_back(
        {false, BuildResponse(static_cast<uint16_t>(parsed.id ^ 0x5A5A), 0,
                              false, parsed.question, spoof)});
    // Another name.
    std::string other = EncodeName("spoof.invalid");
    other += parsed.question.substr(parsed.question.size() - 4);
    before->push_back(
        {false, BuildResponse(parsed.id, 0, false, other, spoof)});
    // Another type (AAAA asked, it says).
    std::string retyped = parsed.question;
    retyped[retyped.size() - 3] = static_cast<char>(kAaaa);
    before->push_back(
        {false, BuildResponse(parsed.id, 0, false, retyped, spoof)});
  }
  if (entry.behavior == Behavior::kGarbageFirst) {
    before->push_back({false, std::string("\x12\x34garbage", 9)});
  }
  return BuildResponse(parsed.id, 0, false, parsed.question, records);
}

}  // namespace cell::testing

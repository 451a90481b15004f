#include "launcher/proxy/builtin/connect.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/fs_util.h"
#include "base/test_faults.h"
#include "launcher/proxy/address_policy.h"
#include "launcher/proxy/builtin/forward.h"

namespace cell {
namespace {

// getaddrinfo cannot be cancelled, so it runs on its own detached thread
// and the connection waits for it with a timeout.
struct Resolution {
  std::mutex mu;
  std::condition_variable done_cv;
  bool done = false;
  int error = 0;
  std::vector<sockaddr_storage> addresses;
  std::vector<socklen_t> lengths;
};

// Resolves `host` once (literal addresses without a resolver), waiting at
// most `timeout`.
absl::StatusOr<std::shared_ptr<Resolution>> Resolve(
    const std::string& host, uint16_t port, absl::Duration timeout,
    ConnectionTracker* tracker) {
  auto resolution = std::make_shared<Resolution>();
  // Numeric addresses need no resolver (and no thread): the common case of
  // a loopback or literal-IP target stays fast.
  auto add = [&resolution](const void* address, socklen_t length) {
    sockaddr_storage storage{};
    std::memcpy(&storage, address, length);
    resolution->addresses.push_back(storage);
    resolution->lengths.push_back(length);
    resolution->done = true;
  };
  sockaddr_in v4{};
  sockaddr_in6 v6{};
  v4.sin_family = AF_INET;
  v4.sin_port = htons(port);
  v6.sin6_family = AF_INET6;
  v6.sin6_port = htons(port);
  if (inet_pton(AF_INET, host.c_str(), &v4.sin_addr) == 1) {
    add(&v4, sizeof(v4));
  } else if (inet_pton(AF_INET6, host.c_str(), &v6.sin6_addr) == 1) {
    add(&v6, sizeof(v6));
  } else {
    const bool started = StartDetached([resolution, host, port] {
      addrinfo hints{};
      hints.ai_family = AF_UNSPEC;
      hints.ai_socktype = SOCK_STREAM;
      addrinfo* result = nullptr;
      const int error = getaddrinfo(host.c_str(), std::to_string(port).c_str(),
                                    &hints, &result);
      std::lock_guard<std::mutex> lock(resolution->mu);
      resolution->error = error;
      for (addrinfo* ai = result; ai != nullptr; ai = ai->ai_next) {
        sockaddr_storage address{};
        std::memcpy(&address, ai->ai_addr, ai->ai_addrlen);
        resolution->addresses.push_back(address);
        resolution->lengths.push_back(ai->ai_addrlen);
      }
      if (result != nullptr) freeaddrinfo(result);
      resolution->done = true;
      resolution->done_cv.notify_all();
    });
    if (!started) {
      return absl::ResourceExhaustedError(
          absl::StrCat("no thread to resolve ", host, " (process limit)"));
    }
  }
  const absl::Time deadline = absl::Now() + timeout;
  {
    std::unique_lock<std::mutex> lock(resolution->mu);
    while (!resolution->done && absl::Now() < deadline &&
           !tracker->Stopping()) {
      resolution->done_cv.wait_for(lock, std::chrono::milliseconds(100));
    }
    if (!resolution->done) {
      return absl::DeadlineExceededError(
          absl::StrCat("resolving ", host, " timed out"));
    }
    if (resolution->error != 0 || resolution->addresses.empty()) {
      return absl::UnavailableError(absl::StrCat(
          "cannot resolve ", host, ": ", gai_strerror(resolution->error)));
    }
  }
  return resolution;
}

// Which of the resolved addresses the request may go to: public ones that
// are not the host's own, or special-use ones a line of `allowing` names.
absl::StatusOr<std::vector<size_t>> UsableAddresses(
    const std::string& host, const Resolution& resolution,
    const std::vector<std::string>& allowing) {
  // The addresses it may go to, decided here and connected to as they are
  // (no second lookup: a name cannot rebind between check and connect).
  std::vector<size_t> usable;
  std::string refused;
  absl::StatusOr<std::vector<sockaddr_storage>> host_addresses =
      HostAddresses();
  if (!host_addresses.ok()) return host_addresses.status();
  for (size_t i = 0; i < resolution.addresses.size(); ++i) {
    const sockaddr& address =
        reinterpret_cast<const sockaddr&>(resolution.addresses[i]);
    const AddressKind kind = ClassifyAddress(address, *host_addresses);
    const bool named = std::any_of(allowing.begin(), allowing.end(),
                                   [&address](const std::string& line) {
                                     return LineNamesAddress(line, address);
                                   });
    if (kind == AddressKind::kPublic || named ||
        TestFault(fault::kNoAddressPolicy)) {
      usable.push_back(i);
    } else if (refused.empty()) {
      refused =
          absl::StrCat(AddressText(address), " (", AddressKindName(kind), ")");
    }
  }
  if (usable.empty()) {
    return absl::PermissionDeniedError(absl::StrCat(
        host, " is ", refused,
        ", which no filter line names; a line that is exactly the address "
        "allows it"));
  }
  return usable;
}

}  // namespace

absl::StatusOr<int> ConnectUpstream(const std::string& host, uint16_t port,
                                    const std::vector<std::string>& allowing,
                                    const ConnectTimeouts& timeouts,
                                    ConnectionTracker* tracker) {
  absl::StatusOr<std::shared_ptr<Resolution>> resolved =
      Resolve(host, port, timeouts.resolve, tracker);
  if (!resolved.ok()) return resolved.status();
  const Resolution& resolution = **resolved;
  absl::StatusOr<std::vector<size_t>> usable =
      UsableAddresses(host, resolution, allowing);
  if (!usable.ok()) return usable.status();
  const absl::Duration timeout = timeouts.connect;
  std::string last_error = "no address";
  for (const size_t i : *usable) {
    const sockaddr_storage& address = resolution.addresses[i];
    const int fd = socket(address.ss_family,
                          SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 && (errno == EMFILE || errno == ENFILE)) {
      return absl::ResourceExhaustedError(
          "no descriptor for the upstream connection (open-file limit "
          "reached)");
    }
    if (fd < 0) {
      last_error = ErrnoName(errno);
      continue;
    }
    if (!tracker->Track(fd)) {
      close(fd);
      return absl::CancelledError("the cell is stopping");
    }
    int result = connect(fd, reinterpret_cast<const sockaddr*>(&address),
                         resolution.lengths[i]);
    if (result != 0 && errno == EINPROGRESS) {
      pollfd event = {fd, POLLOUT, 0};
      const int ready =
          poll(&event, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout)));
      int error = ready == 0 ? ETIMEDOUT : 0;
      socklen_t length = sizeof(error);
      if (ready > 0) getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
      result = error == 0 ? 0 : -1;
      errno = error;
    }
    if (result == 0 && SetBlocking(fd, /*blocking=*/true)) {
      const int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      return fd;
    }
    last_error = ErrnoName(errno);
    tracker->Untrack(fd);
    close(fd);
  }
  return absl::UnavailableError(
      absl::StrCat("cannot connect to ", host, ":", port, ": ", last_error));
}

}  // namespace cell

#include "launcher/proxy/builtin/connect.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/fs_util.h"
#include "base/test_faults.h"
#include "launcher/proxy/address_policy.h"
#include "launcher/proxy/builtin/forward.h"
#include "launcher/proxy/builtin/resolver.h"

namespace cell {
namespace {

// The addresses of `host`, each with `port`, in the order to try them.
struct Resolution {
  std::vector<sockaddr_storage> addresses;
  std::vector<socklen_t> lengths;
};

// Resolves `host` once, waiting at most `timeout`: IP literals as they are,
// names through /etc/hosts and DNS by the launcher's own resolver
// (resolver.h), never glibc's NSS, which a static binary would load from
// the host it runs on. The resolver is bounded and polls `tracker`, so it
// runs in this connection's thread.
absl::StatusOr<Resolution> Resolve(const std::string& host, uint16_t port,
                                   absl::Duration timeout,
                                   ConnectionTracker* tracker) {
  ResolverOptions options;
  options.deadline = absl::Now() + timeout;
  options.cancelled = [tracker] { return tracker->Stopping(); };
  absl::StatusOr<std::vector<sockaddr_storage>> resolved =
      ResolveHost(host, options);
  if (!resolved.ok()) {
    const absl::Status& status = resolved.status();
    // A stopping engine ends the wait as a timeout did before.
    if (absl::IsCancelled(status)) {
      return absl::DeadlineExceededError(
          absl::StrCat("resolving ", host, " was cut short: the cell is "
                       "stopping"));
    }
    if (absl::IsDeadlineExceeded(status) ||
        absl::IsResourceExhausted(status)) {
      return status;
    }
    return absl::UnavailableError(status.message());
  }
  Resolution resolution;
  for (sockaddr_storage address : *resolved) {
    if (address.ss_family == AF_INET) {
      reinterpret_cast<sockaddr_in*>(&address)->sin_port = htons(port);
      resolution.lengths.push_back(sizeof(sockaddr_in));
    } else {
      reinterpret_cast<sockaddr_in6*>(&address)->sin6_port = htons(port);
      resolution.lengths.push_back(sizeof(sockaddr_in6));
    }
    resolution.addresses.push_back(address);
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
  absl::StatusOr<Resolution> resolved =
      Resolve(host, port, timeouts.resolve, tracker);
  if (!resolved.ok()) return resolved.status();
  const Resolution& resolution = *resolved;
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

// The upstream of an allowed request, host side in a connection's thread:
// the host resolved once by the launcher's own resolver (resolver.h: no
// NSS in a static binary; bounded and cancellable), each address judged (launcher/proxy/address_policy.h), and a
// connection to exactly an address that was checked (no second lookup: a
// name cannot rebind between check and connect).
#ifndef CELL_LAUNCHER_PROXY_BUILTIN_CONNECT_H_
#define CELL_LAUNCHER_PROXY_BUILTIN_CONNECT_H_

#include <cstdint>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace cell {

// Starts `body` on a detached thread; false when the system has no thread
// to give (the cell may have used up the user's process limit), which must
// never end the launcher: std::thread reports it by throwing.
template <typename Body>
bool StartDetached(Body body) {
  try {
    std::thread(std::move(body)).detach();
    return true;
  } catch (const std::system_error&) {
    return false;
  }
}

// What the engine keeps of its sockets: those its stop must shut down.
class ConnectionTracker {
 public:
  virtual ~ConnectionTracker() = default;
  // Registers `fd`; false when the engine is stopping (then close it).
  virtual bool Track(int fd) = 0;
  virtual void Untrack(int fd) = 0;
  virtual bool Stopping() = 0;
};

struct ConnectTimeouts {
  absl::Duration resolve;
  absl::Duration connect;
};

// A connected, blocking socket to `host`:`port`, never to a special-use
// address (loopback, private, link-local, the host's own, ...) unless one
// of `allowing` (the filter lines that allowed the host) names it.
// PermissionDenied for such an address (a 403), ResourceExhausted without
// a thread or descriptor (503), DeadlineExceeded (504), else Unavailable.
absl::StatusOr<int> ConnectUpstream(const std::string& host, uint16_t port,
                                    const std::vector<std::string>& allowing,
                                    const ConnectTimeouts& timeouts,
                                    ConnectionTracker* tracker);

}  // namespace cell

#endif  // CELL_LAUNCHER_PROXY_BUILTIN_CONNECT_H_

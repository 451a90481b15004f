// The builtin proxy engine (`network.engine = "builtin"`): an HTTP proxy in
// the launcher itself, serving the listener created inside the cell. No
// proxy process, no second hop over loopback. Host side, after the clone.
//
// - CONNECT host:port (HTTPS, the common case): the host is judged by the
//   filter, resolved here with a timeout, connected, and the tunnel is
//   relayed with splice(2).
// - Plain http:// requests: each request is judged on its own host (a
//   second request on a kept-alive connection is filtered again), sent
//   upstream in origin-form without hop-by-hop headers on its own upstream
//   connection, and the response passed back (its body spliced when its
//   length is known).
// - A denied host gets `403` with "blocked by cell filter: HOST" and an
//   `X-Cell-Filter-Lines` header; nothing is resolved or connected.
// - Every request is one JSON line in the audit log: time, method, host,
//   port, decision, matching filter line, status, bytes each way, duration.
//
// One thread per client connection; the launcher's event loop polls fd()
// and calls HandleEvents() to accept. Destruction stops accepting, shuts
// every open connection down and joins the threads.
#ifndef CELL_LAUNCHER_PROXY_BUILTIN_SERVER_H_
#define CELL_LAUNCHER_PROXY_BUILTIN_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "launcher/proxy/host_filter.h"

namespace cell {

struct BuiltinProxyOptions {
  // JSON lines appended here; empty for none.
  std::string audit_log;
  // Every record carries it ("run"), as the `started` status line does:
  // runs that share a log are told apart.
  std::string run_id;
  absl::Duration resolve_timeout = absl::Seconds(10);
  absl::Duration connect_timeout = absl::Seconds(10);
  // How long a client may take to send a request head.
  absl::Duration head_timeout = absl::Seconds(60);
};

class BuiltinProxy {
 public:
  // Takes ownership of `listener` (a listening TCP socket).
  static absl::StatusOr<std::unique_ptr<BuiltinProxy>> Create(
      int listener, HostFilter filter, BuiltinProxyOptions options);
  ~BuiltinProxy();
  BuiltinProxy(const BuiltinProxy&) = delete;
  BuiltinProxy& operator=(const BuiltinProxy&) = delete;

  // Readable when a connection waits to be accepted.
  int fd() const;
  // Accepts every waiting connection, one thread each.
  void HandleEvents();

  struct State;

 private:
  explicit BuiltinProxy(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

}  // namespace cell

#endif  // CELL_LAUNCHER_PROXY_BUILTIN_SERVER_H_

// Host side of the cell's only way out: the launcher accepts connections on
// a listening socket that was created *inside* the cell's network namespace
// (on 127.0.0.1:PORT there) and handed over, and relays each one to an
// upstream address in the host's namespace (the proxy). No helper process
// runs in the cell and none besides the proxy runs on the host.
//
// Single-threaded and non-blocking: the launcher's event loop polls fd()
// and calls HandleEvents(). Bytes move with splice(2) through a pipe per
// direction; a half-close on one side is passed on as shutdown(SHUT_WR).
#ifndef CELL_LAUNCHER_PROXY_TINYPROXY_RELAY_H_
#define CELL_LAUNCHER_PROXY_TINYPROXY_RELAY_H_

#include <netinet/in.h>

#include <cstddef>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"

namespace cell {

class Relay {
 public:
  // Takes ownership of `listener` (a listening TCP socket).
  static absl::StatusOr<std::unique_ptr<Relay>> Create(int listener,
                                                       sockaddr_in upstream);
  ~Relay();
  Relay(const Relay&) = delete;
  Relay& operator=(const Relay&) = delete;

  // Readable when HandleEvents() has work.
  int fd() const { return epoll_fd_; }
  // Accepts, connects and moves bytes until nothing is ready.
  void HandleEvents();

  size_t active_connections() const { return connections_.size(); }

  struct Connection;
  struct Endpoint;

 private:
  Relay(int epoll_fd, int listener, sockaddr_in upstream);
  void Accept();
  void Service(Connection* connection);
  void UpdateInterest(Connection* connection);
  void Close(Connection* connection);

  int epoll_fd_;
  int listener_;
  sockaddr_in upstream_;
  bool listener_paused_ = false;
  std::vector<std::unique_ptr<Connection>> connections_;
  std::vector<Connection*> closed_;
};

}  // namespace cell

#endif  // CELL_LAUNCHER_PROXY_TINYPROXY_RELAY_H_

#include "launcher/proxy/tinyproxy/relay.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "base/fs_util.h"
#include "launcher/proxy/splice_pump.h"

namespace cell {

namespace {

enum class Side { kClient, kUpstream };

}  // namespace

struct Relay::Endpoint {
  Connection* connection;
  Side side;
};

struct Relay::Connection {
  int client = -1;
  int upstream = -1;
  bool connected = false;
  bool failed = false;
  SpliceDirection to_upstream;  // client -> upstream
  SpliceDirection to_client;    // upstream -> client
  Endpoint client_endpoint{this, Side::kClient};
  Endpoint upstream_endpoint{this, Side::kUpstream};

  ~Connection() {
    if (client >= 0) close(client);
    if (upstream >= 0) close(upstream);
  }
};

absl::StatusOr<std::unique_ptr<Relay>> Relay::Create(int listener,
                                                     sockaddr_in upstream) {
  const int flags = fcntl(listener, F_GETFL);
  if (flags < 0 || fcntl(listener, F_SETFL, flags | O_NONBLOCK) != 0) {
    const absl::Status status = ErrnoStatus(errno, "relay: listener");
    close(listener);
    return status;
  }
  const int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd < 0) {
    const absl::Status status = ErrnoStatus(errno, "relay: epoll_create1");
    close(listener);
    return status;
  }
  std::unique_ptr<Relay> relay(new Relay(epoll_fd, listener, upstream));
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.ptr = nullptr;  // The listener.
  if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, listener, &event) != 0) {
    return ErrnoStatus(errno, "relay: epoll_ctl");
  }
  return relay;
}

Relay::Relay(int epoll_fd, int listener, sockaddr_in upstream)
    : epoll_fd_(epoll_fd), listener_(listener), upstream_(upstream) {}

Relay::~Relay() {
  connections_.clear();
  close(listener_);
  close(epoll_fd_);
}

void Relay::HandleEvents() {
  epoll_event events[64];
  while (true) {
    const int ready = epoll_wait(epoll_fd_, events, 64, 0);
    if (ready <= 0) break;
    for (int i = 0; i < ready; ++i) {
      auto* endpoint = static_cast<Endpoint*>(events[i].data.ptr);
      if (endpoint == nullptr) {
        Accept();
        continue;
      }
      Connection* connection = endpoint->connection;
      if (std::find(closed_.begin(), closed_.end(), connection) !=
          closed_.end()) {
        continue;
      }
      if (!connection->connected && endpoint->side == Side::kUpstream) {
        int error = 0;
        socklen_t length = sizeof(error);
        getsockopt(connection->upstream, SOL_SOCKET, SO_ERROR, &error, &length);
        if (error != 0) {
          // The proxy is gone or refuses: the command sees its connection
          // closed at once instead of a hang.
          Close(connection);
          continue;
        }
        connection->connected = true;
      }
      Service(connection);
    }
    for (Connection* connection : closed_) {
      connections_.erase(
          std::remove_if(connections_.begin(), connections_.end(),
                         [connection](const std::unique_ptr<Connection>& c) {
                           return c.get() == connection;
                         }),
          connections_.end());
    }
    if (!closed_.empty() && listener_paused_) {
      // A connection closed, so descriptors are free again.
      epoll_event event{};
      event.events = EPOLLIN;
      event.data.ptr = nullptr;
      epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, listener_, &event);
      listener_paused_ = false;
    }
    closed_.clear();
    if (ready < 64) break;
  }
}

void Relay::Accept() {
  while (true) {
    const int client =
        accept4(listener_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (client < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
          errno == ENOMEM) {
        // Out of descriptors: stop accepting until a connection closes
        // (level-triggered epoll would otherwise spin).
        epoll_event event{};
        event.events = 0;
        event.data.ptr = nullptr;
        epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, listener_, &event);
        listener_paused_ = true;
      }
      return;
    }
    auto connection = std::make_unique<Connection>();
    connection->client = client;
    connection->upstream =
        socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (connection->upstream < 0 || !connection->to_upstream.OpenPipe() ||
        !connection->to_client.OpenPipe()) {
      // No descriptor left: the client speaks HTTP to a proxy, so it gets
      // the proxy's answer for that (a short write to a fresh socket)
      // rather than a bare close. The destructor closes what was opened.
      constexpr absl::string_view kWhy =
          "cell relay: no descriptor for this connection (nofile)\n";
      const std::string answer = absl::StrCat(
          "HTTP/1.1 503 Service Unavailable\r\nContent-Length: ", kWhy.size(),
          "\r\nConnection: close\r\n\r\n", kWhy);
      (void)!send(client, answer.data(), answer.size(), MSG_NOSIGNAL);
      continue;
    }
    // Requests and responses are small writes; waiting to coalesce them
    // (Nagle) would add latency to every request through the cell.
    const int one = 1;
    setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setsockopt(connection->upstream, IPPROTO_TCP, TCP_NODELAY, &one,
               sizeof(one));
    connection->to_upstream.from = client;
    connection->to_upstream.to = connection->upstream;
    connection->to_client.from = connection->upstream;
    connection->to_client.to = client;
    const int result =
        connect(connection->upstream, reinterpret_cast<sockaddr*>(&upstream_),
                sizeof(upstream_));
    if (result == 0) {
      connection->connected = true;
    } else if (errno != EINPROGRESS) {
      continue;  // Closing the client tells the command at once.
    }
    epoll_event event{};
    event.data.ptr = &connection->client_endpoint;
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, client, &event) != 0) continue;
    event.data.ptr = &connection->upstream_endpoint;
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, connection->upstream, &event) !=
        0) {
      continue;
    }
    Connection* raw = connection.get();
    connections_.push_back(std::move(connection));
    UpdateInterest(raw);
  }
}

void Relay::Service(Connection* connection) {
  if (!connection->connected) {
    UpdateInterest(connection);
    return;
  }
  if (!connection->to_upstream.Pump() || !connection->to_client.Pump()) {
    Close(connection);
    return;
  }
  if (connection->to_upstream.Done() && connection->to_client.Done()) {
    Close(connection);
    return;
  }
  UpdateInterest(connection);
}

void Relay::UpdateInterest(Connection* connection) {
  epoll_event event{};
  if (!connection->connected) {
    event.events = 0;
    event.data.ptr = &connection->client_endpoint;
    epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, connection->client, &event);
    event.events = EPOLLOUT;
    event.data.ptr = &connection->upstream_endpoint;
    epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, connection->upstream, &event);
    return;
  }
  const SpliceDirection& up = connection->to_upstream;
  const SpliceDirection& down = connection->to_client;
  event.events = (up.WantsRead() ? uint32_t{EPOLLIN} : 0u) |
                 (down.buffered > 0 ? uint32_t{EPOLLOUT} : 0u) | EPOLLRDHUP;
  event.data.ptr = &connection->client_endpoint;
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, connection->client, &event);
  event.events = (down.WantsRead() ? uint32_t{EPOLLIN} : 0u) |
                 (up.buffered > 0 ? uint32_t{EPOLLOUT} : 0u) | EPOLLRDHUP;
  event.data.ptr = &connection->upstream_endpoint;
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, connection->upstream, &event);
}

void Relay::Close(Connection* connection) {
  if (std::find(closed_.begin(), closed_.end(), connection) != closed_.end()) {
    return;
  }
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, connection->client, nullptr);
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, connection->upstream, nullptr);
  closed_.push_back(connection);
}

}  // namespace cell

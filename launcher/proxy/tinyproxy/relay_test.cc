#include "launcher/proxy/tinyproxy/relay.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "base/loopback.h"
#include "testing/accept_when_ready.h"
#include "testing/descriptor_fill.h"
#include "testing/status_matchers.h"

namespace cell {
namespace {

// A listening socket on a free loopback port; returns {fd, port}.
std::pair<int, int> Listen() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address = LoopbackAddress(0);
  socklen_t length = sizeof(address);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  listen(fd, 512);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  return {fd, ntohs(address.sin_port)};
}

int Connect(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const sockaddr_in address = LoopbackAddress(port);
  if (connect(fd, reinterpret_cast<const sockaddr*>(&address),
              sizeof(address)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

std::string ReadToEof(int fd) {
  std::string out;
  char buffer[65536];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof(buffer))) > 0) out.append(buffer, n);
  return out;
}

bool WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

// An upstream that reads each connection to end-of-file, then answers
// "got N bytes, sum S" and closes: it only works if the relay passes the
// client's half-close on and keeps the way back open.
class CountingUpstream {
 public:
  CountingUpstream() {
    std::tie(listener_, port_) = Listen();
    thread_ = std::thread([this] {
      while (true) {
        const int client = testing::AcceptWhenReady(listener_);
        if (client < 0) return;
        workers_.emplace_back([client] {
          const std::string data = ReadToEof(client);
          unsigned long sum = 0;
          for (unsigned char c : data) sum += c;
          WriteAll(client,
                   absl::StrCat("got ", data.size(), " bytes, sum ", sum));
          close(client);
        });
      }
    });
  }
  ~CountingUpstream() {
    shutdown(listener_, SHUT_RDWR);
    thread_.join();
    for (std::thread& worker : workers_) worker.join();
    close(listener_);
  }
  int port() const { return port_; }

 private:
  int listener_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::vector<std::thread> workers_;
};

// Runs a relay from a fresh listener to `upstream_port` on its own thread,
// as the launcher's event loop would.
class RunningRelay {
 public:
  explicit RunningRelay(int upstream_port) {
    auto [listener, port] = Listen();
    port_ = port;
    absl::StatusOr<std::unique_ptr<Relay>> relay =
        Relay::Create(listener, LoopbackAddress(upstream_port));
    EXPECT_TRUE(relay.ok()) << relay.status();
    relay_ = *std::move(relay);
    thread_ = std::thread([this] {
      while (!stop_) {
        pollfd event = {relay_->fd(), POLLIN, 0};
        if (poll(&event, 1, 20) > 0) relay_->HandleEvents();
      }
    });
  }
  ~RunningRelay() {
    stop_ = true;
    thread_.join();
  }
  int port() const { return port_; }

 private:
  int port_ = 0;
  std::unique_ptr<Relay> relay_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

std::string Exchange(int port, const std::string& request) {
  const int fd = Connect(port);
  if (fd < 0) return "connect failed";
  WriteAll(fd, request);
  shutdown(fd, SHUT_WR);  // The half-close.
  std::string response = ReadToEof(fd);
  close(fd);
  return response;
}

std::string Payload(size_t size) {
  std::string data(size, '\0');
  for (size_t i = 0; i < size; ++i)
    data[i] = static_cast<char>(i * 131 + i / 977);
  return data;
}

unsigned long Sum(const std::string& data) {
  unsigned long sum = 0;
  for (unsigned char c : data) sum += c;
  return sum;
}

TEST(RelayTest, HalfCloseIsPassedOnAndTheAnswerComesBack) {
  CountingUpstream upstream;
  RunningRelay relay(upstream.port());
  EXPECT_EQ(Exchange(relay.port(), "hello"), "got 5 bytes, sum 532");
  EXPECT_EQ(Exchange(relay.port(), ""), "got 0 bytes, sum 0");
}

TEST(RelayTest, LargeTransfersArriveIntact) {
  CountingUpstream upstream;
  RunningRelay relay(upstream.port());
  const std::string data = Payload(64 << 20);
  EXPECT_EQ(Exchange(relay.port(), data),
            absl::StrCat("got ", data.size(), " bytes, sum ", Sum(data)));
}

TEST(RelayTest, ManyConcurrentConnections) {
  CountingUpstream upstream;
  RunningRelay relay(upstream.port());
  constexpr int kClients = 200;
  std::vector<std::string> results(kClients);
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&results, &relay, i] {
      results[i] = Exchange(relay.port(), Payload(1000 + i * 37));
    });
  }
  for (std::thread& client : clients) client.join();
  for (int i = 0; i < kClients; ++i) {
    const std::string data = Payload(1000 + i * 37);
    EXPECT_EQ(results[i],
              absl::StrCat("got ", data.size(), " bytes, sum ", Sum(data)))
        << "client " << i;
  }
}

// With one descriptor left the relay takes the connection and has none
// for its upstream: the client gets a proxy's 503, not a bare close.
TEST(RelayTest, NoDescriptorForTheUpstreamIsA503) {
  CountingUpstream upstream;
  RunningRelay relay(upstream.port());
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  const sockaddr_in address = LoopbackAddress(relay.port());
  std::string answer;
  {
    testing::DescriptorFill fill;
    ASSERT_TRUE(fill.Full());
    fill.Free(1);
    ASSERT_EQ(connect(fd, reinterpret_cast<const sockaddr*>(&address),
                      sizeof(address)),
              0);
    answer = ReadToEof(fd);
  }
  close(fd);
  EXPECT_THAT(answer, ::testing::StartsWith("HTTP/1.1 503"));
  EXPECT_THAT(answer, ::testing::HasSubstr("no descriptor"));
  EXPECT_EQ(Exchange(relay.port(), "hello"), "got 5 bytes, sum 532");
}

TEST(RelayTest, DeadUpstreamClosesTheClientAtOnce) {
  auto [unused_listener, dead_port] = Listen();
  close(unused_listener);  // Nothing listens there any more.
  RunningRelay relay(dead_port);
  const int fd = Connect(relay.port());
  ASSERT_GE(fd, 0);
  pollfd event = {fd, POLLIN, 0};
  ASSERT_EQ(poll(&event, 1, 5000), 1) << "the client was left hanging";
  char byte;
  EXPECT_LE(read(fd, &byte, 1), 0);
  close(fd);
}

}  // namespace
}  // namespace cell

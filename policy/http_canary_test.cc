#include "policy/http_canary.h"

#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "base/loopback.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace cell::policy {
namespace {

using ::testing::EndsWith;
using ::testing::StartsWith;

TEST(HostHeaderOfTest, FindsTheHeaderInAnyCase) {
  EXPECT_EQ(HostHeaderOf("GET / HTTP/1.1\r\nX: 1\r\nhOsT:  a.test:81 \r\n\r\n"),
            "a.test:81");
  EXPECT_EQ(HostHeaderOf("GET / HTTP/1.1\r\nX-Host: b\r\n\r\n"), "");
  // The request line is not a header, even when it holds "host:".
  EXPECT_EQ(HostHeaderOf("host: x HTTP/1.1\r\n\r\n"), "");
}

// A real exchange over loopback, as the proxy would make it.
std::string Ask(int port, const std::string& request) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const sockaddr_in address = LoopbackAddress(port);
  if (connect(fd, reinterpret_cast<const sockaddr*>(&address),
              sizeof(address)) != 0) {
    close(fd);
    return "connect failed";
  }
  send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string response;
  char buffer[512];
  for (ssize_t n; (n = recv(fd, buffer, sizeof(buffer), 0)) > 0;) {
    response.append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  return response;
}

TEST(HttpCanaryTest, AnswersEachRequestWithTheHostItWasSent) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<HttpCanary> canary, HttpCanary::Start());
  for (const char* host : {"127.0.0.1:8", "front.test"}) {
    const std::string response =
        Ask(canary->port(), std::string("GET /cell-canary HTTP/1.1\r\nHost: ") +
                                host + "\r\nConnection: close\r\n\r\n");
    EXPECT_THAT(response, StartsWith("HTTP/1.1 200 OK\r\n"));
    EXPECT_THAT(response, EndsWith(std::string("\r\n\r\n") + host));
  }
  // A client that sends half a head and goes quiet holds it 2 s at most.
  const std::string response = Ask(canary->port(), "GET / HTTP/1.1\r\n");
  EXPECT_THAT(response, StartsWith("HTTP/1.1 200 OK\r\n"));
}

}  // namespace
}  // namespace cell::policy

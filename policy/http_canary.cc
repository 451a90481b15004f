#include "policy/http_canary.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/fs_util.h"
#include "base/loopback.h"

namespace cell::policy {
namespace {

// Heads larger than this are answered as they are: the probe sends a few
// hundred bytes.
constexpr size_t kMaxHead = 8192;

// Reads one request head (to its blank line, a 2 s timeout) and answers.
void Answer(int fd) {
  const timeval timeout = {2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  std::string head;
  char buffer[1024];
  while (head.size() < kMaxHead && head.find("\r\n\r\n") == std::string::npos) {
    const ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) break;
    head.append(buffer, static_cast<size_t>(n));
  }
  const std::string body = HostHeaderOf(head);
  const std::string response = absl::StrCat(
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n",
      "Content-Length: ", body.size(), "\r\nConnection: close\r\n\r\n", body);
  (void)send(fd, response.data(), response.size(), MSG_NOSIGNAL);
}

}  // namespace

std::string HostHeaderOf(const std::string& head) {
  const size_t end = head.find("\r\n\r\n");
  const std::vector<absl::string_view> lines = absl::StrSplit(
      absl::string_view(head).substr(0, end), absl::ByString("\r\n"));
  for (size_t i = 1; i < lines.size(); ++i) {
    const size_t colon = lines[i].find(':');
    if (colon == absl::string_view::npos) continue;
    if (absl::EqualsIgnoreCase(lines[i].substr(0, colon), "host")) {
      return std::string(
          absl::StripAsciiWhitespace(lines[i].substr(colon + 1)));
    }
  }
  return "";
}

absl::StatusOr<std::unique_ptr<HttpCanary>> HttpCanary::Start() {
  absl::StatusOr<std::pair<int, int>> listening = ListenOnLoopback(16);
  if (!listening.ok()) return listening.status();
  UniqueFd listener(listening->first);
  int stop[2];
  if (pipe2(stop, O_CLOEXEC) != 0) return ErrnoStatus(errno, "pipe2");
  return std::unique_ptr<HttpCanary>(
      new HttpCanary(std::move(listener), listening->second, UniqueFd(stop[0]),
                     UniqueFd(stop[1])));
}

HttpCanary::HttpCanary(UniqueFd listener, int port, UniqueFd stop_read,
                       UniqueFd stop_write)
    : listener_(std::move(listener)),
      port_(port),
      stop_read_(std::move(stop_read)),
      stop_write_(std::move(stop_write)),
      thread_([this] { Serve(); }) {}

HttpCanary::~HttpCanary() {
  const char stop = 1;
  // Nothing to do if it fails: the pipe is ours and never full.
  const ssize_t written = write(stop_write_.get(), &stop, 1);
  (void)written;
  thread_.join();
}

// One request at a time: the probe sends a handful, one after another.
void HttpCanary::Serve() {
  for (;;) {
    pollfd events[2] = {{stop_read_.get(), POLLIN, 0},
                        {listener_.get(), POLLIN, 0}};
    if (poll(events, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (events[0].revents != 0) return;
    const int fd = accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    Answer(fd);
    close(fd);
  }
}

}  // namespace cell::policy

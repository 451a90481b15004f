#include "testing/http_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/fs_util.h"
#include "base/loopback.h"
#include "testing/accept_when_ready.h"

namespace cell::testing {
namespace {

bool WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

void Respond(int fd, const std::string& status, const std::string& body) {
  const std::string head =
      absl::StrCat("HTTP/1.1 ", status, "\r\nContent-Length: ", body.size(),
                   "\r\nConnection: close\r\n\r\n");
  if (WriteAll(fd, head.data(), head.size())) {
    WriteAll(fd, body.data(), body.size());
  }
}

}  // namespace

std::string PatternBytes(size_t offset, size_t length) {
  std::string out(length, '\0');
  for (size_t i = 0; i < length; ++i) {
    const size_t at = offset + i;
    // Varies with position at several scales, so a lost, repeated or
    // reordered chunk changes the bytes.
    out[i] = static_cast<char>('a' + (at * 7 + at / 4093 + at / 1048573) % 26);
  }
  return out;
}

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start() {
  absl::StatusOr<std::pair<int, int>> listening = ListenOnLoopback(1024);
  if (!listening.ok()) return listening.status();
  const auto [fd, port] = *listening;
  std::unique_ptr<HttpServer> server(new HttpServer(fd, port));
  server->acceptor_ = std::thread([raw = server.get()] { raw->AcceptLoop(); });
  return server;
}

HttpServer::~HttpServer() {
  stopping_ = true;
  shutdown(listener_, SHUT_RDWR);
  acceptor_.join();
  close(listener_);
  std::lock_guard<std::mutex> lock(mutex_);
  for (std::thread& worker : workers_) worker.join();
}

void HttpServer::AcceptLoop() {
  while (!stopping_) {
    const int client = AcceptWhenReady(listener_);
    if (client < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    workers_.emplace_back([this, client] { Serve(client); });
  }
}

void HttpServer::Serve(int client) {
  std::string request;
  char buffer[4096];
  while (request.find("\r\n\r\n") == std::string::npos &&
         request.size() < 65536) {
    const ssize_t n = recv(client, buffer, sizeof(buffer), 0);
    if (n <= 0) break;
    request.append(buffer, static_cast<size_t>(n));
  }
  ++requests_;
  const size_t space = request.find(' ');
  const size_t end = request.find(' ', space + 1);
  const std::string path =
      space == std::string::npos || end == std::string::npos
          ? ""
          : request.substr(space + 1, end - space - 1);
  const std::string route = path.substr(0, path.find('?'));
  size_t size = 0;
  if (route == "/hello") {
    Respond(client, "200 OK", kHelloBody);
  } else if (route == "/head") {
    Respond(client, "200 OK", request.substr(0, request.find("\r\n\r\n") + 4));
  } else if (route == "/echo") {
    // The request body, framed by Content-Length or chunked (raw).
    std::string body = request.substr(request.find("\r\n\r\n") + 4);
    const size_t length_at = request.find("Content-Length: ");
    size_t length = 0;
    const bool chunked =
        request.find("Transfer-Encoding: chunked") != std::string::npos;
    if (length_at != std::string::npos) {
      absl::SimpleAtoi(
          request.substr(length_at + 16,
                         request.find('\r', length_at) - length_at - 16),
          &length);
    }
    auto complete = [&] {
      return chunked ? body.find("0\r\n\r\n") != std::string::npos
                     : body.size() >= length;
    };
    while (!complete()) {
      const ssize_t n = recv(client, buffer, sizeof(buffer), 0);
      if (n <= 0) break;
      body.append(buffer, static_cast<size_t>(n));
    }
    Respond(client, "200 OK", body);
  } else if (route == "/chunked") {
    const std::string reply =
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
        "Connection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
    WriteAll(client, reply.data(), reply.size());
  } else if (absl::StartsWith(route, "/bytes/") &&
             absl::SimpleAtoi(route.substr(7), &size)) {
    const std::string head =
        absl::StrCat("HTTP/1.1 200 OK\r\nContent-Length: ", size,
                     "\r\nConnection: close\r\n\r\n");
    bool ok = WriteAll(client, head.data(), head.size());
    for (size_t offset = 0; ok && offset < size; offset += 1 << 20) {
      const std::string chunk =
          PatternBytes(offset, std::min<size_t>(1 << 20, size - offset));
      ok = WriteAll(client, chunk.data(), chunk.size());
    }
  } else if (absl::StartsWith(route, "/zeros/") &&
             absl::SimpleAtoi(route.substr(7), &size)) {
    static const std::string* const kZeros = new std::string(1 << 20, '\0');
    const std::string head =
        absl::StrCat("HTTP/1.1 200 OK\r\nContent-Length: ", size,
                     "\r\nConnection: close\r\n\r\n");
    bool ok = WriteAll(client, head.data(), head.size());
    for (size_t offset = 0; ok && offset < size; offset += kZeros->size()) {
      ok = WriteAll(client, kZeros->data(),
                    std::min(kZeros->size(), size - offset));
    }
  } else {
    Respond(client, "404 Not Found", "not found\n");
  }
  close(client);
}

void WritePatternFile(const std::string& path, size_t size) {
  std::ofstream out(path, std::ios::binary);
  for (size_t offset = 0; offset < size; offset += 1 << 20) {
    out << PatternBytes(offset, std::min<size_t>(1 << 20, size - offset));
  }
}

}  // namespace cell::testing

// A small HTTP/1.1 server on the host's 127.0.0.1 (random port): the only
// network peer of the proxy tests. One request per connection.
//   GET /hello      -> "hello from the host\n"
//   GET /bytes/N    -> N bytes of PatternBytes (checkable end to end)
//   GET /zeros/N    -> N zero bytes, as fast as possible (benchmarks)
//   GET /head       -> the request head as it arrived (header rewriting)
//   POST /echo      -> the request body (Content-Length or raw chunked)
//   GET /chunked    -> "hello world" in a chunked response
//   anything else   -> 404
#ifndef CELL_TESTING_HTTP_SERVER_H_
#define CELL_TESTING_HTTP_SERVER_H_

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"

namespace cell::testing {

inline constexpr char kHelloBody[] = "hello from the host\n";

// Bytes [offset, offset + length) of the deterministic body of /bytes/N.
std::string PatternBytes(size_t offset, size_t length);

// Writes the whole body of /bytes/`size` to `path`, to compare with what
// arrived through a proxy.
void WritePatternFile(const std::string& path, size_t size);

class HttpServer {
 public:
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start();
  ~HttpServer();

  int port() const { return port_; }
  int requests() const { return requests_.load(); }

 private:
  HttpServer(int listener, int port) : listener_(listener), port_(port) {}
  void AcceptLoop();
  void Serve(int client);

  int listener_;
  int port_;
  std::atomic<int> requests_{0};
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::mutex mutex_;
  std::vector<std::thread> workers_;
};

}  // namespace cell::testing

#endif  // CELL_TESTING_HTTP_SERVER_H_

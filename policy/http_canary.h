// A plain-HTTP server on the host's loopback for cell-verify's
// proxy-hostile checks (host side, a thread of cell-verify): it answers
// every request with 200 and, as the body, the Host header it received.
// A request that reaches it through the cell's proxy shows both that the
// proxy let it through and which virtual host the upstream was asked for.
#ifndef CELL_POLICY_HTTP_CANARY_H_
#define CELL_POLICY_HTTP_CANARY_H_

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "base/unique_fd.h"

namespace cell::policy {

class HttpCanary {
 public:
  // Listens on 127.0.0.1 (a port of the kernel's choice) and serves on a
  // thread until destroyed.
  static absl::StatusOr<std::unique_ptr<HttpCanary>> Start();
  ~HttpCanary();

  HttpCanary(const HttpCanary&) = delete;
  HttpCanary& operator=(const HttpCanary&) = delete;

  int port() const { return port_; }

 private:
  HttpCanary(UniqueFd listener, int port, UniqueFd stop_read,
             UniqueFd stop_write);
  void Serve();

  UniqueFd listener_;
  int port_;
  UniqueFd stop_read_, stop_write_;
  std::thread thread_;
};

// The Host header of a request head ("" when it has none); exposed for
// tests.
std::string HostHeaderOf(const std::string& head);

}  // namespace cell::policy

#endif  // CELL_POLICY_HTTP_CANARY_H_

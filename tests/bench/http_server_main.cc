// A loopback HTTP server for the network benchmarks: prints its port, then
// serves until stdin closes (testing/http_server.h lists the routes).
#include <cstdio>
#include <memory>

#include "testing/http_server.h"

int main() {
  absl::StatusOr<std::unique_ptr<cell::testing::HttpServer>> server =
      cell::testing::HttpServer::Start();
  if (!server.ok()) {
    std::fprintf(stderr, "%s\n", std::string(server.status().message()).c_str());
    return 1;
  }
  std::printf("%d\n", (*server)->port());
  std::fflush(stdout);
  while (std::getchar() != EOF) {
  }
  return 0;
}

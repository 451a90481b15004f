// Fuzz target: the builtin engine's HTTP parsing, which reads bytes from
// inside the cell. Request heads, response heads and chunked bodies; what
// parses is rewritten, and the rewritten response head must parse again.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "launcher/proxy/builtin/http_head.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const std::optional<size_t> end = cell::FindHeadEnd(input);
  const std::string head = end.has_value() ? input.substr(0, *end) : input;
  absl::StatusOr<cell::RequestHead> request = cell::ParseRequestHead(head);
  if (request.ok() && !request->connect) {
    (void)cell::UpstreamRequestHead(*request);
  }
  absl::StatusOr<cell::ResponseHead> response =
      cell::ParseResponseHead(head, "GET");
  if (response.ok()) {
    const std::string rewritten = cell::ClientResponseHead(*response, true);
    if (!cell::ParseResponseHead(rewritten, "GET").ok()) std::abort();
  }
  cell::ChunkedBody body;
  absl::StatusOr<size_t> used =
      body.Consume(end.has_value() ? input.substr(*end) : input);
  if (used.ok() && *used > input.size()) std::abort();
  return 0;
}

// How the builtin engine moves bytes once a request is allowed and its
// upstream connected: a CONNECT tunnel, or a plain HTTP exchange, and the
// socket helpers under them. No filtering, no audit: pure I/O over the two
// descriptors it is given, so it is unit-tested over socketpairs
// (forward_test.cc). Host side, a connection's thread.
#ifndef CELL_LAUNCHER_PROXY_BUILTIN_FORWARD_H_
#define CELL_LAUNCHER_PROXY_BUILTIN_FORWARD_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "launcher/proxy/builtin/http_head.h"

namespace cell {

bool SetBlocking(int fd, bool blocking);
// Writes all of `data` (MSG_NOSIGNAL); false when the peer is gone.
bool SendAll(int fd, absl::string_view data);

// Reads from `fd` into `buffer` until it holds a complete head; returns its
// length. NotFound at end of input before any byte of a head,
// ResourceExhausted past kMaxHttpHeadBytes, DeadlineExceeded at `deadline`.
absl::StatusOr<size_t> ReadHead(int fd, std::string* buffer,
                                absl::Time deadline);

// Moves bytes from `from` to `to` (blocking sockets), spliced when a pipe
// can be made and copied otherwise: exactly `count` of them, or with no
// count until `from` ends. False when either side fails, or `from` ends
// before `count` bytes. Adds what was written to `*moved`.
bool SpliceBytes(int from, int to, std::optional<uint64_t> count,
                 uint64_t* moved);

// Forwards a body framed by `framing` (content length or chunked; neither
// is an empty body): what is in `buffer` first, then from `from`. Bytes
// after the body stay in `buffer`.
bool ForwardBody(const BodyFraming& framing, int from, int to,
                 std::string* buffer, uint64_t* moved);

// The 503 answer when the engine cannot take a request on.
std::string Unavailable(absl::string_view why);
// The answer for a failed upstream: 504 for timeouts, 503 when the engine
// ran out of threads or descriptors, 502 otherwise; `*code` says which.
std::string GatewayError(const absl::Status& status, int* code);

struct TunnelResult {
  int status = 0;     // 200, or 503 when no pipe could be made.
  std::string error;  // For the audit record, when not 200.
  uint64_t up = 0;
  uint64_t down = 0;
};
// A CONNECT tunnel: 200 to `client`, then both directions spliced until
// both are done (each half-close passed on). `buffer` holds bytes the
// client sent after its head; they go first.
TunnelResult RelayTunnel(int client, int upstream, std::string* buffer);

struct HttpResult {
  int status = 0;     // The upstream's, or 502 for a bad response.
  bool keep = false;  // The client connection may carry another request.
  uint64_t up = 0;
  uint64_t down = 0;
};
// A plain HTTP request: its head rewritten for the origin and its body to
// `upstream`, interim responses (100 Continue) and then the response back
// to `client`, its body framed as the upstream framed it (or until the
// upstream closes, which ends the client connection too).
HttpResult ForwardHttp(int client, int upstream, const RequestHead& request,
                       std::string* buffer);

}  // namespace cell

#endif  // CELL_LAUNCHER_PROXY_BUILTIN_FORWARD_H_

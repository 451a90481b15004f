#include "launcher/proxy/builtin/forward.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "launcher/proxy/splice_pump.h"

namespace cell {
namespace {

// How long an upstream may take to start answering a plain request
// (tinyproxy's `Timeout 600`, as the tinyproxy engine is configured).
constexpr absl::Duration kResponseTimeout = absl::Seconds(600);

int RemainingMs(absl::Time deadline) {
  const absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) return 0;
  return static_cast<int>(
      std::min<int64_t>(absl::ToInt64Milliseconds(left) + 1, 1 << 30));
}

// SpliceBytes without a pipe, for when the launcher has no descriptor to
// make one (the cell holds many connections): the body still goes through.
bool CopyBytes(int from, int to, std::optional<uint64_t> count,
               uint64_t* moved) {
  char chunk[16384];
  uint64_t left_total = count.value_or(UINT64_MAX);
  while (left_total > 0) {
    const ssize_t in = read(
        from, chunk,
        static_cast<size_t>(std::min<uint64_t>(left_total, sizeof(chunk))));
    if (in < 0 && errno == EINTR) continue;
    if (in == 0 && !count.has_value()) return true;
    if (in <= 0) return false;
    if (!SendAll(to, absl::string_view(chunk, static_cast<size_t>(in)))) {
      return false;
    }
    *moved += static_cast<uint64_t>(in);
    if (count.has_value()) left_total -= static_cast<uint64_t>(in);
  }
  return true;
}

// Forwards a chunked body: what is in `buffer` first, then from `from`,
// until the body ends; bytes after it stay in `buffer`.
bool ForwardChunked(int from, int to, std::string* buffer, uint64_t* moved) {
  ChunkedBody body;
  char chunk[65536];
  while (true) {
    if (!buffer->empty()) {
      absl::StatusOr<size_t> used = body.Consume(*buffer);
      if (!used.ok()) return false;
      if (!SendAll(to, absl::string_view(*buffer).substr(0, *used))) {
        return false;
      }
      *moved += *used;
      buffer->erase(0, *used);
    }
    if (body.done()) return true;
    const ssize_t n = recv(from, chunk, sizeof(chunk), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buffer->append(chunk, static_cast<size_t>(n));
  }
}

}  // namespace

bool SetBlocking(int fd, bool blocking) {
  const int flags = fcntl(fd, F_GETFL);
  if (flags < 0) return false;
  return fcntl(fd, F_SETFL,
               blocking ? (flags & ~O_NONBLOCK) : (flags | O_NONBLOCK)) == 0;
}

bool SendAll(int fd, absl::string_view data) {
  while (!data.empty()) {
    const ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

absl::StatusOr<size_t> ReadHead(int fd, std::string* buffer,
                                absl::Time deadline) {
  char chunk[16384];
  while (true) {
    if (std::optional<size_t> end = FindHeadEnd(*buffer); end.has_value()) {
      return *end;
    }
    if (buffer->size() > kMaxHttpHeadBytes) {
      return absl::ResourceExhaustedError(
          absl::StrCat("HTTP head over ", kMaxHttpHeadBytes, " bytes"));
    }
    pollfd event = {fd, POLLIN, 0};
    const int ready = poll(&event, 1, RemainingMs(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) return absl::DeadlineExceededError("timed out");
    const ssize_t n = recv(fd, chunk, sizeof(chunk), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return buffer->empty()
                 ? absl::NotFoundError("closed")
                 : absl::DataLossError("connection closed inside a head");
    }
    buffer->append(chunk, static_cast<size_t>(n));
  }
}

bool SpliceBytes(int from, int to, std::optional<uint64_t> count,
                 uint64_t* moved) {
  SpliceDirection pipe;
  if (!pipe.OpenPipe()) return CopyBytes(from, to, count, moved);
  uint64_t left_total = count.value_or(UINT64_MAX);
  while (left_total > 0) {
    const ssize_t in = splice(
        from, nullptr, pipe.pipe_write, nullptr,
        static_cast<size_t>(std::min<uint64_t>(left_total, pipe.capacity)),
        SPLICE_F_MOVE);
    if (in < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (in == 0 && !count.has_value()) return true;
    if (in <= 0) return false;
    size_t left = static_cast<size_t>(in);
    while (left > 0) {
      const ssize_t out =
          splice(pipe.pipe_read, nullptr, to, nullptr, left, SPLICE_F_MOVE);
      if (out < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (out <= 0) return false;
      left -= static_cast<size_t>(out);
      *moved += static_cast<uint64_t>(out);
    }
    if (count.has_value()) left_total -= static_cast<uint64_t>(in);
  }
  return true;
}

bool ForwardBody(const BodyFraming& framing, int from, int to,
                 std::string* buffer, uint64_t* moved) {
  if (framing.chunked) return ForwardChunked(from, to, buffer, moved);
  if (!framing.content_length.has_value()) return true;
  const uint64_t length = *framing.content_length;
  const size_t buffered =
      static_cast<size_t>(std::min<uint64_t>(length, buffer->size()));
  if (!SendAll(to, absl::string_view(*buffer).substr(0, buffered))) {
    return false;
  }
  *moved += buffered;
  buffer->erase(0, buffered);
  return SpliceBytes(from, to, length - buffered, moved);
}

std::string Unavailable(absl::string_view why) {
  return ProxyResponse(503, "Service Unavailable", {},
                       absl::StrCat("cell proxy: ", why, "\n"));
}

std::string GatewayError(const absl::Status& status, int* code) {
  if (absl::IsResourceExhausted(status)) {
    *code = 503;
    return Unavailable(status.message());
  }
  *code = absl::IsDeadlineExceeded(status) ? 504 : 502;
  return ProxyResponse(*code, *code == 504 ? "Gateway Timeout" : "Bad Gateway",
                       {},
                       absl::StrCat("cell proxy: ", status.message(), "\n"));
}

TunnelResult RelayTunnel(int client, int upstream, std::string* buffer) {
  TunnelResult result;
  // The tunnel's pipes before its 200: a launcher out of descriptors
  // answers 503 instead of a tunnel that closes at once.
  SpliceDirection to_upstream, to_client;
  to_upstream.from = client;
  to_upstream.to = upstream;
  to_client.from = upstream;
  to_client.to = client;
  if (!to_upstream.OpenPipe() || !to_client.OpenPipe()) {
    int code = 503;
    SendAll(client, GatewayError(absl::ResourceExhaustedError(
                                     "no descriptor for the tunnel "
                                     "(open-file limit reached)"),
                                 &code));
    result.error = "no descriptor for the tunnel";
    result.status = code;
  } else {
    result.status = 200;
    if (SendAll(client, "HTTP/1.1 200 Connection established\r\n\r\n") &&
        SendAll(upstream, *buffer)) {
      result.up += buffer->size();
      buffer->clear();
      // Both directions in this thread, non-blocking, spliced.
      SetBlocking(client, /*blocking=*/false);
      SetBlocking(upstream, /*blocking=*/false);
      while (!(to_upstream.Done() && to_client.Done())) {
        if (!to_upstream.Pump() || !to_client.Pump()) break;
        pollfd events[2] = {
            {client,
             static_cast<short>((to_upstream.WantsRead() ? POLLIN : 0) |
                                (to_client.buffered > 0 ? POLLOUT : 0) |
                                POLLRDHUP),
             0},
            {upstream,
             static_cast<short>((to_client.WantsRead() ? POLLIN : 0) |
                                (to_upstream.buffered > 0 ? POLLOUT : 0) |
                                POLLRDHUP),
             0}};
        if (poll(events, 2, -1) < 0 && errno != EINTR) break;
        if (((events[0].revents | events[1].revents) & (POLLERR | POLLNVAL)) !=
            0) {
          to_upstream.Pump();
          to_client.Pump();
          break;
        }
      }
    }
    result.up += to_upstream.moved;
    result.down += to_client.moved;
  }
  return result;
}

HttpResult ForwardHttp(int client, int upstream, const RequestHead& request,
                       std::string* buffer) {
  HttpResult result;
  // Plain HTTP: the request upstream, then its response back.
  const std::string head = UpstreamRequestHead(request);
  result.up += head.size();
  bool ok = SendAll(upstream, head) &&
            ForwardBody(request.framing, client, upstream, buffer, &result.up);
  std::string reply;
  while (ok) {
    absl::StatusOr<size_t> head_length =
        ReadHead(upstream, &reply, absl::Now() + kResponseTimeout);
    absl::StatusOr<ResponseHead> response =
        head_length.ok() ? ParseResponseHead(
                               absl::string_view(reply).substr(0, *head_length),
                               request.method)
                         : absl::StatusOr<ResponseHead>(head_length.status());
    if (!response.ok()) {
      int code = 502;
      SendAll(client, GatewayError(absl::UnavailableError(absl::StrCat(
                                       "bad response from upstream: ",
                                       response.status().message())),
                                   &code));
      result.status = code;
      ok = false;
      break;
    }
    reply.erase(0, *head_length);
    result.status = response->status;
    if (result.status >= 100 && result.status < 200 && result.status != 101) {
      // Interim (100 Continue): pass on, then read the real response.
      ok = SendAll(client, ClientResponseHead(*response, true));
      continue;
    }
    const bool framed = !response->has_body || response->framing.chunked ||
                        response->framing.content_length.has_value();
    result.keep = request.keep_alive && framed && result.status != 101;
    const std::string client_head = ClientResponseHead(*response, result.keep);
    result.down += client_head.size();
    if (!SendAll(client, client_head)) {
      result.keep = false;
      break;
    }
    if (!response->has_body) break;
    if (framed) {
      result.keep = ForwardBody(response->framing, upstream, client, &reply,
                                &result.down) &&
                    result.keep;
    } else {
      // Length unknown: until the upstream closes, then close too.
      if (SendAll(client, reply)) {
        result.down += reply.size();
        SpliceBytes(upstream, client, std::nullopt, &result.down);
      }
      result.keep = false;
    }
    break;
  }
  if (!ok) result.keep = false;
  return result;
}

}  // namespace cell

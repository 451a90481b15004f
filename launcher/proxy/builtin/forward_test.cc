// The builtin engine's byte paths in-process, over socketpairs: the client
// and the upstream are the test's ends, so every case is exact and needs
// no network, no cell and no curl.
#include "launcher/proxy/builtin/forward.h"

#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace cell {
namespace {

using ::cell::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// A connected pair: `engine` is the engine's side, `peer` the test's.
struct Pair {
  Pair() {
    int fds[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    engine = fds[0];
    peer = fds[1];
  }
  ~Pair() {
    if (engine >= 0) close(engine);
    if (peer >= 0) close(peer);
  }
  int engine = -1;
  int peer = -1;
};

std::string ReadAll(int fd) {
  std::string out;
  char buffer[4096];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof(buffer))) > 0) out.append(buffer, n);
  return out;
}

RequestHead Parsed(const std::string& head) {
  absl::StatusOr<RequestHead> request = ParseRequestHead(head);
  EXPECT_TRUE(request.ok()) << request.status();
  return request.ok() ? *request : RequestHead();
}

TEST(ForwardTest, ReadHeadWaitsForTheWholeHeadAndKeepsWhatFollows) {
  Pair pair;
  std::thread writer([&pair] {
    SendAll(pair.peer, "GET http://a/ HTTP/1.1\r\nHo");
    absl::SleepFor(absl::Milliseconds(20));
    SendAll(pair.peer, "st: a\r\n\r\nBODY");
  });
  std::string buffer;
  absl::StatusOr<size_t> length =
      ReadHead(pair.engine, &buffer, absl::Now() + absl::Seconds(10));
  writer.join();
  ASSERT_TRUE(length.ok()) << length.status();
  EXPECT_EQ(buffer.substr(*length), "BODY");
}

TEST(ForwardTest, ReadHeadRefusesHugeHeadsAndSlowClients) {
  Pair big;
  SendAll(big.peer, "GET http://a/ HTTP/1.1\r\nX: " +
                        std::string(kMaxHttpHeadBytes + 10, 'x'));
  std::string buffer;
  EXPECT_THAT(ReadHead(big.engine, &buffer, absl::Now() + absl::Seconds(10)),
              StatusIs(absl::StatusCode::kResourceExhausted));
  Pair slow;
  buffer.clear();
  EXPECT_THAT(
      ReadHead(slow.engine, &buffer, absl::Now() + absl::Milliseconds(50)),
      StatusIs(absl::StatusCode::kDeadlineExceeded));
  Pair closed;
  close(closed.peer);
  closed.peer = -1;
  buffer.clear();
  EXPECT_THAT(ReadHead(closed.engine, &buffer, absl::Now() + absl::Seconds(10)),
              StatusIs(absl::StatusCode::kNotFound));
}

// A chunked body split anywhere arrives whole and unchanged; the next
// request's bytes stay for it.
TEST(ForwardTest, ChunkedBodiesEndWhereTheyEnd) {
  Pair client, upstream;
  const std::string body = "4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n";
  std::string buffer = body.substr(0, 7);
  std::thread writer(
      [&client, &body] { SendAll(client.peer, body.substr(7) + "GET next"); });
  BodyFraming framing;
  framing.chunked = true;
  uint64_t moved = 0;
  EXPECT_TRUE(
      ForwardBody(framing, client.engine, upstream.engine, &buffer, &moved));
  writer.join();
  EXPECT_EQ(moved, body.size());
  shutdown(upstream.engine, SHUT_WR);
  EXPECT_EQ(ReadAll(upstream.peer), body);
  EXPECT_THAT(buffer, ::testing::AnyOf("GET next", ""));
}

TEST(ForwardTest, ContentLengthBodiesTakeTheBufferedPartFirst) {
  Pair client, upstream;
  std::string buffer = "abc";
  SendAll(client.peer, "defgh-next");
  BodyFraming framing;
  framing.content_length = 8;
  uint64_t moved = 0;
  ASSERT_TRUE(
      ForwardBody(framing, client.engine, upstream.engine, &buffer, &moved));
  EXPECT_EQ(moved, 8u);
  shutdown(upstream.engine, SHUT_WR);
  EXPECT_EQ(ReadAll(upstream.peer), "abcdefgh");
}

// A plain request: the origin gets the rewritten head and the body; the
// client gets the interim 100 and the response, kept alive because its
// length is known.
TEST(ForwardTest, PlainHttpPassesInterimResponsesAndKeepsAlive) {
  Pair client, upstream;
  const RequestHead request = Parsed(
      "POST http://a.test/up HTTP/1.1\r\nHost: a.test\r\n"
      "Content-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  std::string buffer = "hello";
  std::string origin_saw;
  std::thread origin([&upstream, &origin_saw] {
    std::string head;
    absl::StatusOr<size_t> length =
        ReadHead(upstream.peer, &head, absl::Now() + absl::Seconds(10));
    origin_saw = head;
    SendAll(upstream.peer,
            "HTTP/1.1 100 Continue\r\n\r\n"
            "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok");
  });
  const HttpResult result =
      ForwardHttp(client.engine, upstream.engine, request, &buffer);
  origin.join();
  EXPECT_EQ(result.status, 201);
  EXPECT_TRUE(result.keep);
  EXPECT_THAT(origin_saw, StartsWith("POST /up HTTP/1.1\r\n"));
  EXPECT_THAT(origin_saw, HasSubstr("hello"));
  shutdown(client.engine, SHUT_WR);
  const std::string answer = ReadAll(client.peer);
  EXPECT_THAT(answer, StartsWith("HTTP/1.1 100 Continue\r\n"));
  EXPECT_THAT(answer, HasSubstr("HTTP/1.1 201 Created\r\n"));
  EXPECT_THAT(answer, HasSubstr("Connection: keep-alive"));
  EXPECT_THAT(answer, ::testing::EndsWith("\r\n\r\nok"));
}

// No length: the body runs until the origin closes, and so does the
// client connection.
TEST(ForwardTest, AResponseWithoutLengthEndsTheConnection) {
  Pair client, upstream;
  const RequestHead request = Parsed("GET http://a.test/ HTTP/1.1\r\n\r\n");
  std::string buffer;
  SendAll(upstream.peer, "HTTP/1.1 200 OK\r\n\r\nstream of bytes");
  shutdown(upstream.peer, SHUT_WR);
  const HttpResult result =
      ForwardHttp(client.engine, upstream.engine, request, &buffer);
  EXPECT_EQ(result.status, 200);
  EXPECT_FALSE(result.keep);
  shutdown(client.engine, SHUT_WR);
  EXPECT_THAT(ReadAll(client.peer), ::testing::EndsWith("stream of bytes"));
}

TEST(ForwardTest, ABadUpstreamIsA502) {
  Pair client, upstream;
  const RequestHead request = Parsed("GET http://a.test/ HTTP/1.1\r\n\r\n");
  std::string buffer;
  SendAll(upstream.peer, "SSH-2.0-OpenSSH\r\n\r\n");
  const HttpResult result =
      ForwardHttp(client.engine, upstream.engine, request, &buffer);
  EXPECT_EQ(result.status, 502);
  EXPECT_FALSE(result.keep);
  shutdown(client.engine, SHUT_WR);
  EXPECT_THAT(ReadAll(client.peer), StartsWith("HTTP/1.1 502 Bad Gateway"));
}

// A tunnel: 200, then bytes both ways (what the client sent early first),
// each half-close passed on, counted.
TEST(ForwardTest, TunnelsCarryBothWaysAndPassHalfCloses) {
  Pair client, upstream;
  std::string early = "early";
  std::thread ends([&client, &upstream] {
    SendAll(client.peer, "-from-client");
    shutdown(client.peer, SHUT_WR);
    EXPECT_EQ(ReadAll(upstream.peer), "early-from-client");
    SendAll(upstream.peer, "from-upstream");
    shutdown(upstream.peer, SHUT_WR);
  });
  const TunnelResult result =
      RelayTunnel(client.engine, upstream.engine, &early);
  ends.join();
  EXPECT_EQ(result.status, 200);
  EXPECT_EQ(result.up, 17u);
  EXPECT_EQ(result.down, 13u);
  EXPECT_EQ(ReadAll(client.peer),
            "HTTP/1.1 200 Connection established\r\n\r\nfrom-upstream");
}

TEST(ForwardTest, GatewayErrorsNameTheirCause) {
  int code = 0;
  EXPECT_THAT(GatewayError(absl::DeadlineExceededError("slow"), &code),
              StartsWith("HTTP/1.1 504 Gateway Timeout"));
  EXPECT_EQ(code, 504);
  EXPECT_THAT(GatewayError(absl::ResourceExhaustedError("no fd"), &code),
              HasSubstr("no fd"));
  EXPECT_EQ(code, 503);
  EXPECT_THAT(GatewayError(absl::UnavailableError("refused"), &code),
              HasSubstr("refused"));
  EXPECT_EQ(code, 502);
}

}  // namespace
}  // namespace cell

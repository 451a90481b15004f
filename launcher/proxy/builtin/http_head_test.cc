#include "launcher/proxy/builtin/http_head.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace cell {
namespace {

using ::cell::testing::IsOk;
using ::cell::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Optional;
using ::testing::Pair;

TEST(FindHeadEndTest, StopsAfterTheBlankLine) {
  EXPECT_EQ(FindHeadEnd("GET / HTTP/1.1\r\nHost: a\r\n"), std::nullopt);
  EXPECT_THAT(FindHeadEnd("GET / HTTP/1.1\r\n\r\nbody"), Optional(18u));
}

TEST(ParseRequestHeadTest, ConnectGivesHostAndPort) {
  ASSERT_OK_AND_ASSIGN(
      RequestHead r, ParseRequestHead("CONNECT api.github.com:443 HTTP/1.1\r\n"
                                      "Host: api.github.com:443\r\n\r\n"));
  EXPECT_TRUE(r.connect);
  EXPECT_EQ(r.method, "CONNECT");
  EXPECT_EQ(r.host, "api.github.com");
  EXPECT_EQ(r.port, 443);
  EXPECT_THAT(
      ParseRequestHead("CONNECT github.com HTTP/1.1\r\n\r\n"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("host:port")));
}

TEST(ParseRequestHeadTest, AbsoluteFormBecomesOriginForm) {
  ASSERT_OK_AND_ASSIGN(
      RequestHead r,
      ParseRequestHead("POST http://Example.org:8080/a/b?x=1&y HTTP/1.1\r\n"
                       "Host: example.org:8080\r\nContent-Length: 5\r\n"
                       "Proxy-Connection: keep-alive\r\n\r\n"));
  EXPECT_FALSE(r.connect);
  EXPECT_EQ(r.host, "Example.org");
  EXPECT_EQ(r.port, 8080);
  EXPECT_EQ(r.path, "/a/b?x=1&y");
  EXPECT_THAT(r.framing.content_length, Optional(5u));
  EXPECT_FALSE(r.framing.chunked);
  EXPECT_TRUE(r.keep_alive);
  ASSERT_OK_AND_ASSIGN(RequestHead root,
                       ParseRequestHead("GET http://a.test HTTP/1.0\r\n\r\n"));
  EXPECT_EQ(root.path, "/");
  EXPECT_EQ(root.port, 80);
  EXPECT_FALSE(root.keep_alive);  // HTTP/1.0 without keep-alive.
}

TEST(ParseRequestHeadTest, RefusesWhatAProxyCannotServe) {
  EXPECT_THAT(
      ParseRequestHead("GET /path HTTP/1.1\r\nHost: a\r\n\r\n"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("absolute URL")));
  EXPECT_THAT(
      ParseRequestHead("GET https://a.test/ HTTP/1.1\r\n\r\n"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("use CONNECT")));
  EXPECT_THAT(
      ParseRequestHead("GET http://u:p@a.test/ HTTP/1.1\r\n\r\n"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("credentials")));
  EXPECT_THAT(ParseRequestHead("NOPE\r\n\r\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("malformed HTTP head")));
  EXPECT_THAT(
      ParseRequestHead("GET http://a.test/ HTTP/1.1\r\n"
                       "Content-Length: 1\r\nContent-Length: 2\r\n\r\n"),
      Not(IsOk()));
  EXPECT_THAT(ParseRequestHead(std::string(kMaxHttpHeadBytes + 1, 'a')),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("HTTP head over")));
}

// Framing a proxy must not guess at: each was forwarded upstream before
// (a bare-LF head followed by a CRLF head went up as one request; unknown
// or doubled Transfer-Encodings and obs-fold went up with no body).
TEST(ParseRequestHeadTest, RefusesAmbiguousFraming) {
  EXPECT_THAT(
      ParseRequestHead("GET http://a.test/ HTTP/1.1\nHost: a.test\n\n"
                       "GET http://b.test/ HTTP/1.1\r\nHost: b\r\n\r\n"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("bare LF")));
  EXPECT_THAT(
      ParseRequestHead("GET http://a.test/ HTTP/1.1\r\nX-A: 1\n\r\n"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("bare LF")));
  EXPECT_THAT(
      ParseRequestHead("POST http://a.test/ HTTP/1.1\r\n"
                       "Transfer-Encoding: xchunked\r\n\r\n"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("only chunked")));
  EXPECT_THAT(ParseRequestHead("POST http://a.test/ HTTP/1.1\r\n"
                               "Transfer-Encoding: chunked\r\n"
                               "Transfer-Encoding: chunked\r\n\r\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("more than one Transfer-Encoding")));
  EXPECT_THAT(
      ParseRequestHead("POST http://a.test/ HTTP/1.1\r\n"
                       "Transfer-Encoding: chunked\r\nContent-Length: 4\r\n"
                       "\r\n"),
      Not(IsOk()));
  EXPECT_THAT(
      ParseRequestHead("GET http://a.test/ HTTP/1.1\r\n"
                       "X-A: one\r\n two\r\n\r\n"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("obs-fold")));
  // Found by an attacker review: a space before the colon, a name that is
  // not a token, a control character before a value.
  for (const char* header :
       {"Transfer-Encoding : chunked", "Transfer_Encoding: chunked", "X Y: z",
        "Transfer-Encoding:\x0b"
        "chunked"}) {
    EXPECT_FALSE(
        ParseRequestHead(absl::StrCat("POST http://a.test/ HTTP/1.1\r\n",
                                      header, "\r\n\r\n"))
            .ok())
        << header;
  }
  // What is fine stays fine.
  EXPECT_THAT(ParseRequestHead("POST http://a.test/ HTTP/1.1\r\n"
                               "Transfer-Encoding: Chunked \r\n\r\n"),
              IsOk());
}

// Host is the authority the filter judged, whatever the client sent.
TEST(UpstreamRequestHeadTest, HostIsTheRequestLinesAuthority) {
  ASSERT_OK_AND_ASSIGN(
      RequestHead r,
      ParseRequestHead("GET http://allowed.test:8080/x HTTP/1.1\r\n"
                       "Host: other.test\r\nHOST: third.test\r\n"
                       "Accept: */*\r\n\r\n"));
  EXPECT_EQ(UpstreamRequestHead(r),
            "GET /x HTTP/1.1\r\nHost: allowed.test:8080\r\nAccept: */*\r\n"
            "Connection: close\r\n\r\n");
}

TEST(UpstreamRequestHeadTest, AnIpv6LiteralKeepsItsBrackets) {
  ASSERT_OK_AND_ASSIGN(
      RequestHead r,
      ParseRequestHead("GET http://[2001:db8::1]:8080/ HTTP/1.1\r\n\r\n"));
  EXPECT_THAT(UpstreamRequestHead(r),
              HasSubstr("\r\nHost: [2001:db8::1]:8080\r\n"));
}

// A head of bare-LF lines ends (and is refused), not waited on.
TEST(FindHeadEndTest, ABareLfHeadEndsToo) {
  EXPECT_EQ(FindHeadEnd("GET http://a/ HTTP/1.1\nHost: a\n\nrest"),
            std::optional<size_t>(32));
  EXPECT_EQ(FindHeadEnd("GET / HTTP/1.1\r\nA: b\r\n\r\nx"),
            std::optional<size_t>(24));
}

TEST(UpstreamRequestHeadTest, DropsHopByHopHeaders) {
  ASSERT_OK_AND_ASSIGN(
      RequestHead r,
      ParseRequestHead("GET http://a.test/x HTTP/1.1\r\n"
                       "Connection: keep-alive, X-Secret\r\nX-Secret: 1\r\n"
                       "Proxy-Authorization: Basic Zm9v\r\nKeep-Alive: 5\r\n"
                       "TE: trailers\r\nAccept: */*\r\n\r\n"));
  EXPECT_EQ(UpstreamRequestHead(r),
            "GET /x HTTP/1.1\r\nHost: a.test\r\nAccept: */*\r\n"
            "Connection: close\r\n\r\n");
}

// Found by the fuzzer (CI): the system's lenient http_parser ends a head at
// "\r\r\n" and, if not stopped, reads the bytes after it as a second
// message whose URL and headers were added to the first. A head ends where
// FindHeadEnd says, or it is refused.
TEST(ParseHeadTest, AHeadEndsAtItsBlankLineOrIsRefused) {
  EXPECT_THAT(ParseRequestHead("GET http://a.test/ HTTP/1.1\r\r\n"
                               "GET http://b.test/ HTTP/1.1\r\n"
                               "Host: b.test\r\n\r\n"),
              Not(IsOk()));
  EXPECT_THAT(
      ParseResponseHead("HTTP/1.1 200\r\r\nContent-Length\r\n\r\n", "GET"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("ends before its blank line")));
  // A whole head that is followed by nothing parses, LF-only or CRLF.
  EXPECT_THAT(ParseResponseHead("HTTP/1.1 204 No Content\n\n", "GET"), IsOk());
  ASSERT_OK_AND_ASSIGN(
      ResponseHead one,
      ParseResponseHead("HTTP/1.1 200 OK\r\nX-A: 1\r\n\r\n", "GET"));
  EXPECT_THAT(one.headers, ElementsAre(Pair("X-A", "1")));
}

TEST(ParseResponseHeadTest, FramingAndBodies) {
  ASSERT_OK_AND_ASSIGN(
      ResponseHead r,
      ParseResponseHead("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n"
                        "Connection: close\r\n\r\n",
                        "GET"));
  EXPECT_EQ(r.status, 200);
  EXPECT_THAT(r.framing.content_length, Optional(10u));
  EXPECT_TRUE(r.has_body);
  EXPECT_EQ(ClientResponseHead(r, /*keep_alive=*/true),
            "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n"
            "Connection: keep-alive\r\n\r\n");
  ASSERT_OK_AND_ASSIGN(
      ResponseHead chunked,
      ParseResponseHead("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
                        "GET"));
  EXPECT_TRUE(chunked.framing.chunked);
  ASSERT_OK_AND_ASSIGN(
      ResponseHead head,
      ParseResponseHead("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n",
                        "HEAD"));
  EXPECT_FALSE(head.has_body);
  ASSERT_OK_AND_ASSIGN(ResponseHead until_close,
                       ParseResponseHead("HTTP/1.0 200 OK\r\n\r\n", "GET"));
  EXPECT_FALSE(until_close.framing.chunked);
  EXPECT_EQ(until_close.framing.content_length, std::nullopt);
}

TEST(ProxyResponseTest, IsCompleteAndCloses) {
  EXPECT_EQ(ProxyResponse(403, "Forbidden", {{"X-Cell-Filter-Lines", "3"}},
                          "blocked\n"),
            "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\n"
            "Content-Length: 8\r\nX-Cell-Filter-Lines: 3\r\n"
            "Connection: close\r\n\r\nblocked\n");
}

TEST(ChunkedBodyTest, StopsAtTheEndOfTheBody) {
  const std::string body = "5\r\nhello\r\n3\r\nabc\r\n0\r\n\r\n";
  ChunkedBody whole;
  ASSERT_OK_AND_ASSIGN(size_t n, whole.Consume(body + "NEXT"));
  EXPECT_EQ(n, body.size());
  EXPECT_TRUE(whole.done());
  // Byte by byte, as a socket might deliver it.
  ChunkedBody trickle;
  size_t total = 0;
  for (char c : body) {
    ASSERT_OK_AND_ASSIGN(size_t one, trickle.Consume(std::string(1, c)));
    total += one;
  }
  EXPECT_EQ(total, body.size());
  EXPECT_TRUE(trickle.done());
  ChunkedBody bad;
  EXPECT_THAT(bad.Consume("zz\r\n"), Not(IsOk()));
}

}  // namespace
}  // namespace cell

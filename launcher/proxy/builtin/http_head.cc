#include "launcher/proxy/builtin/http_head.h"

#include <http_parser.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/test_faults.h"

namespace cell {
namespace {

// What the callbacks collect while http_parser reads one head.
struct HeadCollector {
  std::string url;
  std::string status;
  HttpHeaders headers;
  bool in_value = false;
  bool complete = false;
  bool skip_body = false;  // For responses to HEAD.
};

int OnUrl(http_parser* p, const char* at, size_t length) {
  static_cast<HeadCollector*>(p->data)->url.append(at, length);
  return 0;
}

int OnStatus(http_parser* p, const char* at, size_t length) {
  static_cast<HeadCollector*>(p->data)->status.append(at, length);
  return 0;
}

int OnHeaderField(http_parser* p, const char* at, size_t length) {
  auto* c = static_cast<HeadCollector*>(p->data);
  if (c->headers.empty() || c->in_value) c->headers.emplace_back();
  c->in_value = false;
  c->headers.back().first.append(at, length);
  return 0;
}

int OnHeaderValue(http_parser* p, const char* at, size_t length) {
  auto* c = static_cast<HeadCollector*>(p->data);
  if (c->headers.empty()) return 1;
  c->in_value = true;
  c->headers.back().second.append(at, length);
  return 0;
}

int OnHeadersComplete(http_parser* p) {
  auto* c = static_cast<HeadCollector*>(p->data);
  c->complete = true;
  // Stop here: without the pause the parser reads on into a second
  // message, whose URL and headers the callbacks would add to this one.
  http_parser_pause(p, 1);
  // 1: "no body follows" (we only ever feed the head).
  return 1;
}

http_parser_settings HeadSettings() {
  http_parser_settings settings;
  http_parser_settings_init(&settings);
  settings.on_url = OnUrl;
  settings.on_status = OnStatus;
  settings.on_header_field = OnHeaderField;
  settings.on_header_value = OnHeaderValue;
  settings.on_headers_complete = OnHeadersComplete;
  return settings;
}

absl::Status Malformed(const http_parser& parser) {
  return absl::InvalidArgumentError(
      absl::StrCat("malformed HTTP head: ",
                   http_errno_description(HTTP_PARSER_ERRNO(&parser))));
}

// Runs http_parser over a complete head.
absl::Status ParseHead(absl::string_view head, http_parser_type type,
                       http_parser* parser, HeadCollector* collector) {
  if (head.size() > kMaxHttpHeadBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("HTTP head over ", kMaxHttpHeadBytes, " bytes"));
  }
  http_parser_init(parser, type);
  parser->data = collector;
  static const http_parser_settings settings = HeadSettings();
  const size_t parsed =
      http_parser_execute(parser, &settings, head.data(), head.size());
  if (HTTP_PARSER_ERRNO(parser) != HPE_PAUSED || !collector->complete) {
    return Malformed(*parser);
  }
  // The parser paused on the LF that ended the head for it (and reports
  // that LF's offset). It must be the LF that ends the head for
  // FindHeadEnd: a lenient parser ends "HTTP/1.1 200\r\r\n" there, and
  // the bytes after it would be read as a message the proxy never judged.
  if (parsed + 1 != head.size()) {
    return absl::InvalidArgumentError(
        "malformed HTTP head: it ends before its blank line (a stray CR?)");
  }
  return absl::OkStatus();
}

BodyFraming FramingOf(const http_parser& parser) {
  BodyFraming framing;
  framing.chunked = (parser.flags & F_CHUNKED) != 0;
  if (!framing.chunked && (parser.flags & F_CONTENTLENGTH) != 0) {
    framing.content_length = parser.content_length;
  }
  return framing;
}

// Hop-by-hop headers (RFC 9110 7.6.1), plus those `Connection` names.
bool IsHopByHop(absl::string_view name,
                const std::vector<std::string>& connection_named) {
  for (const char* hop :
       {"connection", "proxy-connection", "keep-alive", "proxy-authorization",
        "proxy-authenticate", "te", "upgrade"}) {
    if (absl::EqualsIgnoreCase(name, hop)) return true;
  }
  for (const std::string& named : connection_named) {
    if (absl::EqualsIgnoreCase(name, named) &&
        !absl::EqualsIgnoreCase(name, "transfer-encoding") &&
        !absl::EqualsIgnoreCase(name, "content-length")) {
      return true;
    }
  }
  return false;
}

std::vector<std::string> ConnectionNamed(const HttpHeaders& headers) {
  std::vector<std::string> named;
  for (const auto& [name, value] : headers) {
    if (!absl::EqualsIgnoreCase(name, "connection")) continue;
    for (absl::string_view token : absl::StrSplit(value, ',')) {
      token = absl::StripAsciiWhitespace(token);
      if (!token.empty()) named.emplace_back(token);
    }
  }
  return named;
}

void AppendHeaders(const HttpHeaders& headers, std::string* out) {
  const std::vector<std::string> named = ConnectionNamed(headers);
  for (const auto& [name, value] : headers) {
    if (IsHopByHop(name, named)) continue;
    absl::StrAppend(out, name, ": ", value, "\r\n");
  }
}

absl::string_view Field(const std::string& url, const http_parser_url& u,
                        http_parser_url_fields field) {
  if ((u.field_set & (1 << field)) == 0) return "";
  return absl::string_view(url).substr(u.field_data[field].off,
                                       u.field_data[field].len);
}

// Framing a proxy must not guess at (RFC 9112), in two steps: line ends
// before parsing (a bare LF, after which a head ending in one and a CRLF
// head were forwarded upstream as one request; obs-fold continuation
// lines), then the headers (any Transfer-Encoding but a single "chunked",
// or one with a Content-Length beside it). The messages are fit for a 400
// response.
absl::Status CheckLineEnds(absl::string_view head) {
  for (size_t i = 0; i < head.size(); ++i) {
    if (head[i] == '\n' && (i == 0 || head[i - 1] != '\r')) {
      return absl::InvalidArgumentError(
          "a line of the request head ends in a bare LF; end lines with CRLF");
    }
    if (head[i] == '\n' && i + 1 < head.size() &&
        (head[i + 1] == ' ' || head[i + 1] == '\t')) {
      return absl::InvalidArgumentError(
          "folded header lines (obs-fold) are refused");
    }
  }
  return absl::OkStatus();
}

absl::Status CheckRequestHeaders(const HttpHeaders& headers) {
  // Header names are tokens and values hold no control characters but
  // HTAB (RFC 9110 5.1, 5.5): "Transfer-Encoding : chunked",
  // "Transfer_Encoding", "\v" before a value are read differently by
  // different servers.
  static constexpr absl::string_view kTokenExtra = "!#$%&'*+-.^_`|~";
  for (const auto& [name, value] : headers) {
    if (name.empty()) return absl::InvalidArgumentError("empty header name");
    for (const char c : name) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) &&
          kTokenExtra.find(c) == absl::string_view::npos) {
        return absl::InvalidArgumentError(
            absl::StrCat("header name '", name, "' is not a token"));
      }
    }
    // Servers that map '_' to '-' (CGI, some frameworks) would read these
    // as the framing headers the proxy did not.
    if (name.find('_') != std::string::npos) {
      std::string dashed = name;
      std::replace(dashed.begin(), dashed.end(), '_', '-');
      if (absl::EqualsIgnoreCase(dashed, "transfer-encoding") ||
          absl::EqualsIgnoreCase(dashed, "content-length")) {
        return absl::InvalidArgumentError(
            absl::StrCat("header name '", name, "' is ambiguous"));
      }
    }
    for (const char c : value) {
      const unsigned char u = static_cast<unsigned char>(c);
      if ((u < 0x20 && c != '\t') || u == 0x7f) {
        return absl::InvalidArgumentError(
            absl::StrCat("header '", name, "' holds a control character"));
      }
    }
  }
  int transfer_encodings = 0;
  bool content_length = false;
  for (const auto& [name, value] : headers) {
    if (absl::EqualsIgnoreCase(name, "content-length")) content_length = true;
    if (!absl::EqualsIgnoreCase(name, "transfer-encoding")) continue;
    ++transfer_encodings;
    if (!absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(value), "chunked")) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Transfer-Encoding '", value, "' is not supported; only chunked"));
    }
  }
  if (transfer_encodings > 1) {
    return absl::InvalidArgumentError("more than one Transfer-Encoding header");
  }
  if (transfer_encodings == 1 && content_length) {
    return absl::InvalidArgumentError(
        "both Transfer-Encoding and Content-Length");
  }
  return absl::OkStatus();
}

}  // namespace

std::optional<size_t> FindHeadEnd(absl::string_view buffer) {
  // A head of bare-LF lines ends too (and is then refused), rather than
  // waiting for a CRLF blank line that never comes. In a CRLF head "\n\n"
  // cannot occur.
  const size_t crlf = buffer.find("\r\n\r\n");
  const size_t lf = buffer.find("\n\n");
  if (crlf == absl::string_view::npos && lf == absl::string_view::npos) {
    return std::nullopt;
  }
  if (lf != absl::string_view::npos &&
      (crlf == absl::string_view::npos || lf < crlf)) {
    return lf + 2;
  }
  return crlf + 4;
}

absl::StatusOr<RequestHead> ParseRequestHead(absl::string_view head) {
  // Line ends first: they decide where the parser thinks the head ends.
  if (absl::Status lines = CheckLineEnds(head); !lines.ok()) return lines;
  http_parser parser;
  HeadCollector collector;
  absl::Status parsed = ParseHead(head, HTTP_REQUEST, &parser, &collector);
  if (!parsed.ok()) return parsed;
  if (absl::Status framing = CheckRequestHeaders(collector.headers);
      !framing.ok()) {
    return framing;
  }
  RequestHead request;
  request.method = http_method_str(static_cast<http_method>(parser.method));
  request.target = collector.url;
  request.http_major = parser.http_major;
  request.http_minor = parser.http_minor;
  request.headers = std::move(collector.headers);
  request.framing = FramingOf(parser);
  request.keep_alive = http_should_keep_alive(&parser) != 0;
  request.connect = parser.method == HTTP_CONNECT;

  http_parser_url u;
  http_parser_url_init(&u);
  if (http_parser_parse_url(request.target.data(), request.target.size(),
                            request.connect ? 1 : 0, &u) != 0) {
    return absl::InvalidArgumentError(
        request.connect ? absl::StrCat("CONNECT needs host:port, got '",
                                       request.target, "'")
                        : absl::StrCat("a proxy request needs an absolute URL "
                                       "(http://host/path), got '",
                                       request.target, "'"));
  }
  request.host = std::string(Field(request.target, u, UF_HOST));
  if (request.connect) {
    if ((u.field_set & (1 << UF_PORT)) == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("CONNECT needs host:port, got '", request.target, "'"));
    }
    request.port = u.port;
    return request;
  }
  const absl::string_view scheme = Field(request.target, u, UF_SCHEMA);
  if (scheme.empty() || request.host.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a proxy request needs an absolute URL (http://host/path), got '",
        request.target, "'"));
  }
  if (!absl::EqualsIgnoreCase(scheme, "http")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "scheme '", scheme, "' is not proxied; use CONNECT for https"));
  }
  if ((u.field_set & (1 << UF_USERINFO)) != 0) {
    return absl::InvalidArgumentError("credentials in the URL are refused");
  }
  request.port = (u.field_set & (1 << UF_PORT)) != 0 ? u.port : 80;
  const absl::string_view path = Field(request.target, u, UF_PATH);
  request.path = path.empty() ? "/" : std::string(path);
  const absl::string_view query = Field(request.target, u, UF_QUERY);
  if ((u.field_set & (1 << UF_QUERY)) != 0) {
    absl::StrAppend(&request.path, "?", query);
  }
  return request;
}

absl::StatusOr<ResponseHead> ParseResponseHead(
    absl::string_view head, absl::string_view request_method) {
  http_parser parser;
  HeadCollector collector;
  absl::Status parsed = ParseHead(head, HTTP_RESPONSE, &parser, &collector);
  if (!parsed.ok()) return parsed;
  ResponseHead response;
  response.status = static_cast<int>(parser.status_code);
  response.http_major = parser.http_major;
  response.http_minor = parser.http_minor;
  response.reason = std::move(collector.status);
  response.headers = std::move(collector.headers);
  response.framing = FramingOf(parser);
  response.has_body = !(request_method == "HEAD" ||
                        (response.status >= 100 && response.status < 200) ||
                        response.status == 204 || response.status == 304);
  return response;
}

std::string UpstreamRequestHead(const RequestHead& request) {
  std::string out =
      absl::StrCat(request.method, " ", request.path, " HTTP/1.1\r\n");
  // Host is always the request line's authority, which the filter judged:
  // a client's own Host header could name another virtual host there.
  // An IPv6 literal keeps its brackets, or the port would read as part of
  // the address.
  const bool ipv6 = request.host.find(':') != std::string::npos;
  const bool client_host = TestFault(fault::kClientHostHeader);
  if (!client_host) {
    absl::StrAppend(
        &out, "Host: ", ipv6 ? "[" : "", request.host, ipv6 ? "]" : "",
        request.port == 80 ? "" : absl::StrCat(":", request.port), "\r\n");
  }
  HttpHeaders headers;
  for (const auto& header : request.headers) {
    if (client_host || !absl::EqualsIgnoreCase(header.first, "host"))
      headers.push_back(header);
  }
  AppendHeaders(headers, &out);
  absl::StrAppend(&out, "Connection: close\r\n\r\n");
  return out;
}

std::string ClientResponseHead(const ResponseHead& response, bool keep_alive) {
  std::string out =
      absl::StrCat("HTTP/", response.http_major, ".", response.http_minor, " ",
                   response.status, " ", response.reason, "\r\n");
  AppendHeaders(response.headers, &out);
  absl::StrAppend(&out, "Connection: ", keep_alive ? "keep-alive" : "close",
                  "\r\n\r\n");
  return out;
}

std::string ProxyResponse(int status, absl::string_view reason,
                          const HttpHeaders& extra_headers,
                          absl::string_view body) {
  std::string out = absl::StrCat("HTTP/1.1 ", status, " ", reason, "\r\n",
                                 "Content-Type: text/plain\r\n",
                                 "Content-Length: ", body.size(), "\r\n");
  for (const auto& [name, value] : extra_headers) {
    absl::StrAppend(&out, name, ": ", value, "\r\n");
  }
  absl::StrAppend(&out, "Connection: close\r\n\r\n", body);
  return out;
}

struct ChunkedBody::Parser {
  http_parser parser;
  http_parser_settings settings;
  bool* done;
};

namespace {

int OnChunkedMessageComplete(http_parser* p) {
  *static_cast<bool*>(p->data) = true;
  http_parser_pause(p, 1);  // Stop exactly at the end of the body.
  return 0;
}

}  // namespace

ChunkedBody::ChunkedBody() : parser_(std::make_unique<Parser>()) {
  http_parser_init(&parser_->parser, HTTP_RESPONSE);
  http_parser_settings_init(&parser_->settings);
  parser_->settings.on_message_complete = OnChunkedMessageComplete;
  parser_->parser.data = &done_;
  // A head that announces the framing, so the parser is at the body.
  constexpr char kHead[] =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  http_parser_execute(&parser_->parser, &parser_->settings, kHead,
                      std::strlen(kHead));
}

ChunkedBody::~ChunkedBody() = default;

absl::StatusOr<size_t> ChunkedBody::Consume(absl::string_view data) {
  if (done_) return 0;
  const size_t n = http_parser_execute(&parser_->parser, &parser_->settings,
                                       data.data(), data.size());
  const http_errno error = HTTP_PARSER_ERRNO(&parser_->parser);
  if (error != HPE_OK && !(error == HPE_PAUSED && done_)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "malformed chunked body: ", http_errno_description(error)));
  }
  return n;
}

}  // namespace cell

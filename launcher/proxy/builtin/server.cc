#include "launcher/proxy/builtin/server.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/fs_util.h"
#include "base/host_path.h"
#include "launcher/proxy/builtin/connect.h"
#include "launcher/proxy/builtin/forward.h"
#include "launcher/proxy/builtin/http_head.h"
#include "nlohmann/json.hpp"

namespace cell {
namespace {

using Json = nlohmann::json;

// More concurrent connections than this pause accepting (one thread each).
constexpr int kMaxConnections = 1024;
// The longest text of an audit field (a host, an error quoting a request).
constexpr size_t kMaxAuditText = 1024;
// An audit record's time: UTC, milliseconds.
std::string AuditTime(absl::Time time) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", time, absl::UTCTimeZone());
}

}  // namespace

struct BuiltinProxy::State : public ConnectionTracker {
  int listener = -1;
  int epoll_fd = -1;
  int wake_fd = -1;  // eventfd: a connection ended while accepting paused.
  HostFilter filter = HostFilter::AllowAll();
  BuiltinProxyOptions options;
  int audit_fd = -1;
  // Held so that a launcher out of descriptors can still accept one more
  // connection, to answer it 503 instead of leaving it in the backlog.
  int spare_fd = -1;

  std::mutex mu;
  std::condition_variable idle_cv;
  bool stopping = false;
  bool paused = false;
  int active = 0;
  std::set<int> open_fds;
  // Numbers the requests of this run: a `begin` record and the final one
  // share it.
  std::atomic<uint64_t> next_request{0};

  std::mutex audit_mu;
  bool audit_failing = false;  // Guarded by audit_mu.

  // Registers a socket that Stop() must shut down; false when stopping.
  bool Track(int fd) override {
    std::lock_guard<std::mutex> lock(mu);
    if (stopping) return false;
    open_fds.insert(fd);
    return true;
  }
  void Untrack(int fd) override {
    std::lock_guard<std::mutex> lock(mu);
    open_fds.erase(fd);
  }
  bool Stopping() override {
    std::lock_guard<std::mutex> lock(mu);
    return stopping;
  }

  // Answers a connection the launcher cannot serve (no thread, no
  // descriptor) with 503 and records it; on the event loop, so a short
  // write to a fresh socket. The cell goes on.
  void Refuse(int client, absl::string_view why) {
    SendAll(client, Unavailable(why));
    Audit({{"time", AuditTime(absl::Now())},
           {"decision", "error"},
           {"error", std::string(why)},
           {"status", 503}});
  }

  // Appends one record, whole or not at all: a write the file cannot take
  // (a full disk, a file-size limit) is cut back, and the engine refuses
  // requests until a record can be written again (AuditWorks). Text the
  // cell chose is capped, so one request adds at most a few KiB.
  // True when the record is in the log (or there is no log).
  bool Audit(Json record) {
    if (audit_fd < 0) return true;
    if (!options.run_id.empty()) record["run"] = options.run_id;
    for (auto& [key, value] : record.items()) {
      if (value.is_string() &&
          value.get_ref<const std::string&>().size() > kMaxAuditText) {
        value = value.get<std::string>().substr(0, kMaxAuditText) + "...";
      }
    }
    const std::string line =
        record.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
    std::lock_guard<std::mutex> lock(audit_mu);
    // Runs sharing a logDir append to one file: the lock keeps another
    // launcher from appending between this write and its cut-back.
    (void)!flock(audit_fd, LOCK_EX);
    const off_t before = lseek(audit_fd, 0, SEEK_END);
    const ssize_t written = write(audit_fd, line.data(), line.size());
    const bool whole = written == static_cast<ssize_t>(line.size());
    if (!whole && written > 0 && before >= 0) {
      (void)!ftruncate(audit_fd, before);
    }
    (void)!flock(audit_fd, LOCK_UN);
    audit_failing = !whole;
    return whole;
  }
  // False while the last record could not be written.
  bool AuditWorks() {
    if (audit_fd < 0) return true;
    std::lock_guard<std::mutex> lock(audit_mu);
    return !audit_failing;
  }

  // The answer when the audit log cannot take a record (a full disk, a
  // file-size limit): no request goes out unrecorded.
  void RefuseUnrecorded(int client, Json* record) {
    SendAll(client, Unavailable("the audit log cannot be written (disk full "
                                "or file-size limit); requests are refused "
                                "until it can"));
    (*record)["decision"] = "error";
    (*record)["error"] = "audit log unwritable";
    (*record)["status"] = 503;
  }

  void Serve(int client);
  // Serves one request whose head was parsed; returns whether the client
  // connection may carry another.
  bool ServeRequest(int client, const RequestHead& request, std::string* buffer,
                    Json* record);
};

bool BuiltinProxy::State::ServeRequest(int client, const RequestHead& request,
                                       std::string* buffer, Json* record) {
  if (!AuditWorks()) {
    // Fail closed. This refusal's own record is the test of whether the
    // log takes records again.
    RefuseUnrecorded(client, record);
    return false;
  }
  if (!IsProxyableHost(request.host)) {
    SendAll(client, ProxyResponse(400, "Bad Request", {},
                                  "cell proxy: invalid host name\n"));
    (*record)["decision"] = "error";
    (*record)["error"] = "invalid host name";
    (*record)["status"] = 400;
    return false;
  }
  const FilterDecision decision = filter.Decide(request.host);
  (*record)["decision"] = decision.allowed ? "allow" : "deny";
  (*record)["filterLine"] =
      decision.line.has_value() ? Json(*decision.line) : Json();
  uint64_t up = 0, down = 0;
  auto finish = [&](int status, bool keep) {
    (*record)["status"] = status;
    (*record)["bytesUp"] = up;
    (*record)["bytesDown"] = down;
    return keep;
  };
  if (!decision.allowed) {
    // Denied before any resolution or connection: the host never learns.
    const std::string body =
        absl::StrCat("blocked by cell filter: ", request.host, "\n");
    // The reason in the status line too: clients that print only that
    // (curl -v, proxies' logs) name the cause.
    SendAll(client, ProxyResponse(403, "Forbidden by cell filter",
                                  {{"X-Cell-Filter-Lines",
                                    std::to_string(filter.line_count())}},
                                  body));
    return finish(403, false);
  }
  // Written before anything leaves the host (resolving included): a
  // request that goes out always has a record, even when the launcher is
  // killed or the log fills before it ends. No record, no request.
  if (!Audit({{"time", AuditTime(absl::Now())},
              {"event", "begin"},
              {"request", (*record)["request"]},
              {"method", request.method},
              {"host", request.host},
              {"port", request.port},
              {"decision", "allow"}})) {
    RefuseUnrecorded(client, record);
    return finish(503, false);
  }
  absl::StatusOr<int> connected = ConnectUpstream(
      request.host, request.port, filter.MatchingPatterns(request.host),
      {options.resolve_timeout, options.connect_timeout}, this);
  if (absl::IsPermissionDenied(connected.status())) {
    // The host was allowed, the address it stands for is not.
    const std::string why(connected.status().message());
    SendAll(client,
            ProxyResponse(
                403, "Forbidden by cell filter",
                {{"X-Cell-Filter-Lines", std::to_string(filter.line_count())}},
                absl::StrCat("blocked by cell filter: ", why, "\n")));
    (*record)["decision"] = "deny";
    (*record)["error"] = why;
    return finish(403, false);
  }
  if (!connected.ok()) {
    int code = 502;
    SendAll(client, GatewayError(connected.status(), &code));
    (*record)["error"] = std::string(connected.status().message());
    return finish(code, false);
  }
  const int upstream = *connected;
  bool keep = false;
  int status = 0;
  if (request.connect) {
    const TunnelResult tunnel = RelayTunnel(client, upstream, buffer);
    if (!tunnel.error.empty()) (*record)["error"] = tunnel.error;
    status = tunnel.status;
    up = tunnel.up;
    down = tunnel.down;
  } else {
    const HttpResult exchange = ForwardHttp(client, upstream, request, buffer);
    status = exchange.status;
    keep = exchange.keep;
    up = exchange.up;
    down = exchange.down;
  }
  Untrack(upstream);
  close(upstream);
  return finish(status, keep);
}

void BuiltinProxy::State::Serve(int client) {
  const int one = 1;
  setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  std::string buffer;
  while (true) {
    absl::StatusOr<size_t> head_length =
        ReadHead(client, &buffer, absl::Now() + options.head_timeout);
    if (!head_length.ok()) {
      if (absl::IsResourceExhausted(head_length.status())) {
        SendAll(client, ProxyResponse(431, "Request Header Fields Too Large",
                                      {}, "cell proxy: head too large\n"));
      }
      break;
    }
    const absl::Time start = absl::Now();
    absl::StatusOr<RequestHead> request =
        ParseRequestHead(absl::string_view(buffer).substr(0, *head_length));
    buffer.erase(0, *head_length);
    Json record = {{"time", AuditTime(start)}};
    if (!request.ok()) {
      SendAll(
          client,
          ProxyResponse(
              400, "Bad Request", {},
              absl::StrCat("cell proxy: ", request.status().message(), "\n")));
      record.update({{"decision", "error"},
                     {"status", 400},
                     {"error", std::string(request.status().message())}});
      Audit(record);
      break;
    }
    record.update({{"request", ++next_request},
                   {"method", request->method},
                   {"host", request->host},
                   {"port", request->port}});
    const bool keep = ServeRequest(client, *request, &buffer, &record);
    record["durationMs"] = absl::ToDoubleMilliseconds(absl::Now() - start);
    Audit(record);
    if (!keep) break;
  }
}

absl::StatusOr<std::unique_ptr<BuiltinProxy>> BuiltinProxy::Create(
    int listener, HostFilter filter, BuiltinProxyOptions options) {
  auto state = std::make_shared<State>();
  state->listener = listener;
  state->filter = std::move(filter);
  state->options = std::move(options);
  std::unique_ptr<BuiltinProxy> proxy(new BuiltinProxy(state));
  if (!SetBlocking(listener, /*blocking=*/false)) {
    return ErrnoStatus(errno, "builtin proxy: listener");
  }
  state->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  state->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  state->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (state->epoll_fd < 0 || state->wake_fd < 0 || state->spare_fd < 0) {
    return ErrnoStatus(errno, "builtin proxy: epoll");
  }
  for (int fd : {listener, state->wake_fd}) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = fd;
    if (epoll_ctl(state->epoll_fd, EPOLL_CTL_ADD, fd, &event) != 0) {
      return ErrnoStatus(errno, "builtin proxy: epoll_ctl");
    }
  }
  if (!state->options.audit_log.empty()) {
    // logDir may be writable by the cell (a symlink or a hard link
    // planted there must not make the launcher write elsewhere).
    const std::string& path = state->options.audit_log;
    const size_t slash = path.rfind('/');
    absl::StatusOr<UniqueFd> log =
        slash == std::string::npos
            ? OpenLogFile(".", path)
            : OpenLogFile(slash == 0 ? "/" : path.substr(0, slash),
                          path.substr(slash + 1));
    if (!log.ok()) return log.status();
    state->audit_fd = log->Release();
  }
  return proxy;
}

BuiltinProxy::BuiltinProxy(std::shared_ptr<State> state)
    : state_(std::move(state)) {}

BuiltinProxy::~BuiltinProxy() {
  {
    std::unique_lock<std::mutex> lock(state_->mu);
    state_->stopping = true;
    for (int fd : state_->open_fds) shutdown(fd, SHUT_RDWR);
    state_->idle_cv.wait(lock, [this] { return state_->active == 0; });
  }
  for (int fd : {state_->listener, state_->epoll_fd, state_->wake_fd,
                 state_->audit_fd, state_->spare_fd}) {
    if (fd >= 0) close(fd);
  }
}

int BuiltinProxy::fd() const { return state_->epoll_fd; }

void BuiltinProxy::HandleEvents() {
  State& s = *state_;
  uint64_t wakes;
  (void)!read(s.wake_fd, &wakes, sizeof(wakes));
  std::lock_guard<std::mutex> lock(s.mu);
  if (s.stopping) return;
  bool pause = false;
  while (s.active < kMaxConnections) {
    const int client =
        accept4(s.listener, nullptr, nullptr, SOCK_CLOEXEC);  // Blocking I/O.
    if (client < 0 && (errno == EMFILE || errno == ENFILE) && s.spare_fd >= 0) {
      // The spare descriptor makes room for one: accept, answer, close,
      // take the spare back. Without it, wait for a connection to end.
      close(s.spare_fd);
      s.spare_fd = -1;
      const int refused = accept4(s.listener, nullptr, nullptr, SOCK_CLOEXEC);
      if (refused >= 0) {
        s.Refuse(refused,
                 "no descriptor for this connection (open-file "
                 "limit reached)");
        close(refused);
      }
      s.spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (refused >= 0) continue;
    }
    if (client < 0) {
      pause = errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
              errno == ENOMEM;
      break;
    }
    s.open_fds.insert(client);
    ++s.active;
    std::shared_ptr<State> state = state_;
    const bool started = StartDetached([state, client] {
      // Nothing a connection does may end the launcher: an exception
      // (a bug) ends this connection only.
      try {
        state->Serve(client);
      } catch (const std::exception& e) {
        state->Audit({{"time", AuditTime(absl::Now())},
                      {"decision", "error"},
                      {"error", absl::StrCat("internal error: ", e.what())},
                      {"status", 500}});
      }
      std::lock_guard<std::mutex> lock(state->mu);
      state->open_fds.erase(client);
      close(client);
      --state->active;
      if (state->paused) {
        const uint64_t one = 1;
        (void)!write(state->wake_fd, &one, sizeof(one));
      }
      state->idle_cv.notify_all();
    });
    if (!started) {
      s.Refuse(client,
               "no thread for this connection (process limit "
               "reached)");
      s.open_fds.erase(client);
      close(client);
      --s.active;
    }
  }
  pause = pause || s.active >= kMaxConnections;
  if (pause != s.paused) {
    // Level-triggered epoll would spin on a listener we cannot serve.
    epoll_event event{};
    event.events = pause ? 0u : uint32_t{EPOLLIN};
    event.data.fd = s.listener;
    epoll_ctl(s.epoll_fd, EPOLL_CTL_MOD, s.listener, &event);
    s.paused = pause;
  }
}

}  // namespace cell

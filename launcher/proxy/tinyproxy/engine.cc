#include "launcher/proxy/tinyproxy/engine.h"

#include <utility>

#include "base/loopback.h"
#include "launcher/proxy/tinyproxy/process.h"
#include "launcher/proxy/tinyproxy/relay.h"

namespace cell {
namespace {

class TinyproxyEngine : public ProxyEngine {
 public:
  TinyproxyEngine(std::string filter_text, std::optional<std::string> log_dir)
      : filter_text_(std::move(filter_text)), log_dir_(std::move(log_dir)) {}
  ~TinyproxyEngine() override { Stop(); }

  absl::Status Start(const EngineStart& start) override {
    absl::StatusOr<TinyproxyProcess> started = TinyproxyProcess::Start(
        start.jd_dir, filter_text_, log_dir_, start.cell_writable);
    if (!started.ok()) return started.status();
    process_.emplace(*std::move(started));
    return absl::OkStatus();
  }

  absl::Status Attach(int listener) override {
    absl::StatusOr<std::unique_ptr<Relay>> made =
        Relay::Create(listener, LoopbackAddress(process_->port()));
    if (!made.ok()) return made.status();
    relay_ = *std::move(made);
    return absl::OkStatus();
  }

  int fd() const override { return relay_ != nullptr ? relay_->fd() : -1; }
  void HandleEvents() override {
    if (relay_ != nullptr) relay_->HandleEvents();
  }
  void AddStatusFields(nlohmann::json* started) const override {
    (*started)["engine"] = "tinyproxy";
    if (process_.has_value()) {
      (*started)["hostProxyPort"] = process_->port();
      (*started)["proxyPid"] = process_->pid();
    }
  }
  // Connections first, then the process they lead to.
  void Stop() override {
    relay_.reset();
    if (process_.has_value()) process_->Stop();
  }

 private:
  std::string filter_text_;
  std::optional<std::string> log_dir_;
  std::optional<TinyproxyProcess> process_;
  std::unique_ptr<Relay> relay_;
};

}  // namespace

std::unique_ptr<ProxyEngine> MakeTinyproxyEngine(
    std::string filter_text, std::optional<std::string> log_dir) {
  return std::make_unique<TinyproxyEngine>(std::move(filter_text),
                                           std::move(log_dir));
}

}  // namespace cell

#include "launcher/proxy/builtin/engine.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "launcher/proxy/builtin/server.h"

namespace cell {
namespace {

class BuiltinEngine : public ProxyEngine {
 public:
  BuiltinEngine(HostFilter filter, std::optional<std::string> log_dir,
                std::string run_id)
      : filter_(std::move(filter)),
        log_dir_(std::move(log_dir)),
        run_id_(std::move(run_id)) {}

  // Nothing runs beside the cell: the engine is this process.
  absl::Status Start(const EngineStart& start) override {
    jd_dir_ = start.jd_dir;
    return absl::OkStatus();
  }

  absl::Status Attach(int listener) override {
    BuiltinProxyOptions options;
    options.run_id = run_id_;
    options.audit_log =
        absl::StrCat(log_dir_.value_or(jd_dir_), "/", kProxyAuditLogName);
    absl::StatusOr<std::unique_ptr<BuiltinProxy>> made =
        BuiltinProxy::Create(listener, std::move(filter_), std::move(options));
    if (!made.ok()) return made.status();
    server_ = *std::move(made);
    return absl::OkStatus();
  }

  int fd() const override { return server_ != nullptr ? server_->fd() : -1; }
  void HandleEvents() override {
    if (server_ != nullptr) server_->HandleEvents();
  }
  void AddStatusFields(nlohmann::json* started) const override {
    (*started)["engine"] = "builtin";
  }
  void Stop() override { server_.reset(); }

 private:
  HostFilter filter_;
  std::optional<std::string> log_dir_;
  std::string run_id_;
  std::string jd_dir_;
  std::unique_ptr<BuiltinProxy> server_;
};

}  // namespace

std::unique_ptr<ProxyEngine> MakeBuiltinEngine(
    HostFilter filter, std::optional<std::string> log_dir, std::string run_id) {
  return std::make_unique<BuiltinEngine>(std::move(filter), std::move(log_dir),
                                         std::move(run_id));
}

}  // namespace cell

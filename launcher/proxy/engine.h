// The proxy engine of a cell in proxy mode, host side (the launcher, after
// the spec is resolved): one interface for the builtin engine and for
// tinyproxy, so that the run never branches on which one serves the cell.
//
// Life cycle, in the order the run calls it:
//   CreateProxyEngine  before $JD exists: reads and checks the filter once
//   Start              before the clone: what runs beside the cell, if any
//   Attach             after the clone: the listener the child made inside
//   fd/HandleEvents    the run's event loop, until the command ends
//   Stop               teardown (the destructor stops too)
#ifndef CELL_LAUNCHER_PROXY_ENGINE_H_
#define CELL_LAUNCHER_PROXY_ENGINE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "nlohmann/json.hpp"

namespace cell {

// The builtin engine's audit log (JSON lines), in logDir or else in $JD.
inline constexpr char kProxyAuditLogName[] = "proxy-audit.jsonl";

// What an engine learns when the run starts it.
struct EngineStart {
  // The run's private directory ($JD): engine state goes here.
  std::string jd_dir;
  // Host directories the cell may write (its read-write binds): nothing
  // the engine runs or trusts may come from them.
  std::vector<std::string> cell_writable;
};

class ProxyEngine {
 public:
  virtual ~ProxyEngine() = default;

  // Before the clone. Errors name the cause and the fix.
  virtual absl::Status Start(const EngineStart& start) = 0;
  // After the clone: takes ownership of `listener` (a listening TCP socket
  // in the cell's network namespace) and serves it.
  virtual absl::Status Attach(int listener) = 0;
  // Readable when HandleEvents has work; -1 before Attach.
  virtual int fd() const = 0;
  // Does what is ready without blocking the event loop.
  virtual void HandleEvents() = 0;
  // The engine's fields of the `started` status line.
  virtual void AddStatusFields(nlohmann::json* started) const = 0;
  // Closes every connection and ends what Start started. Idempotent.
  virtual void Stop() = 0;
};

}  // namespace cell

#endif  // CELL_LAUNCHER_PROXY_ENGINE_H_

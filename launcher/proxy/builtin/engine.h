// The builtin engine behind the ProxyEngine interface: the HTTP proxy in
// the launcher itself (server.h), with its audit log in logDir or $JD.
// Host side, launcher process.
#ifndef CELL_LAUNCHER_PROXY_BUILTIN_ENGINE_H_
#define CELL_LAUNCHER_PROXY_BUILTIN_ENGINE_H_

#include <memory>
#include <optional>
#include <string>

#include "launcher/proxy/engine.h"
#include "launcher/proxy/host_filter.h"

namespace cell {

// `filter`: compiled from the spec's filter file. `log_dir`: the spec's
// logDir (the audit log goes to $JD without one). `run_id`: in every
// audit record.
std::unique_ptr<ProxyEngine> MakeBuiltinEngine(
    HostFilter filter, std::optional<std::string> log_dir, std::string run_id);

}  // namespace cell

#endif  // CELL_LAUNCHER_PROXY_BUILTIN_ENGINE_H_

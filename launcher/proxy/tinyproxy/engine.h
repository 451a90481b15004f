// tinyproxy behind the ProxyEngine interface: a tinyproxy process on the
// host's loopback (process.h), and the relay (relay.h) from the listener
// inside the cell to it. Host side, launcher process.
#ifndef CELL_LAUNCHER_PROXY_TINYPROXY_ENGINE_H_
#define CELL_LAUNCHER_PROXY_TINYPROXY_ENGINE_H_

#include <memory>
#include <optional>
#include <string>

#include "launcher/proxy/engine.h"

namespace cell {

// `filter_text`: the filter file as checked (tinyproxy gets these bytes,
// not a second read). `log_dir`: the spec's logDir, for tinyproxy.log.
std::unique_ptr<ProxyEngine> MakeTinyproxyEngine(
    std::string filter_text, std::optional<std::string> log_dir);

}  // namespace cell

#endif  // CELL_LAUNCHER_PROXY_TINYPROXY_ENGINE_H_

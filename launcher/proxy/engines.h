// Which proxy engine a spec asks for, made with its filter read and
// checked once. Host side, launcher process, before $JD exists.
#ifndef CELL_LAUNCHER_PROXY_ENGINES_H_
#define CELL_LAUNCHER_PROXY_ENGINES_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "launcher/proxy/engine.h"
#include "launcher/spec/spec.h"

namespace cell {

// The engine of a cell in proxy mode (network.engine), or nullptr when the
// cell has no proxy. `run_id` goes into every audit record. Errors name
// the field `tinyproxyFilter`.
absl::StatusOr<std::unique_ptr<ProxyEngine>> CreateProxyEngine(
    const CellSpec& spec, const std::string& run_id);

// The filter file as the spec's engine would load it at launch (for
// `cell check-spec`): OK without a filter or without a proxy.
absl::Status CheckFilter(const CellSpec& spec);

}  // namespace cell

#endif  // CELL_LAUNCHER_PROXY_ENGINES_H_

#include "launcher/proxy/engines.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "launcher/proxy/builtin/engine.h"
#include "launcher/proxy/filter.h"
#include "launcher/proxy/host_filter.h"
#include "launcher/proxy/tinyproxy/engine.h"

namespace cell {
namespace {

absl::Status FieldError(const absl::Status& status) {
  return absl::Status(status.code(), absl::StrCat("field `tinyproxyFilter`: ",
                                                  status.message()));
}

// The filter file, read once (it was checked when the spec was resolved,
// but what the engine applies must be what is checked now); the
// allow-all filter without one.
absl::StatusOr<FilterFile> SpecFilter(const CellSpec& spec) {
  if (!spec.tinyproxy_filter.has_value()) {
    absl::StatusOr<std::vector<FilterPattern>> patterns =
        ParseFilter(kAllowAllFilter, "the default filter");
    if (!patterns.ok()) return patterns.status();
    return FilterFile{std::string(kAllowAllFilter), *std::move(patterns)};
  }
  absl::StatusOr<FilterFile> file = ReadFilterFile(*spec.tinyproxy_filter);
  if (!file.ok()) return FieldError(file.status());
  return file;
}

// The builtin engine's decision code, compiled with RE2 before anything
// starts.
absl::StatusOr<HostFilter> CompileFilter(const CellSpec& spec,
                                         const FilterFile& file) {
  if (!spec.tinyproxy_filter.has_value()) return HostFilter::AllowAll();
  absl::StatusOr<HostFilter> filter =
      HostFilter::Compile(file.patterns, *spec.tinyproxy_filter);
  if (!filter.ok()) return FieldError(filter.status());
  return filter;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ProxyEngine>> CreateProxyEngine(
    const CellSpec& spec, const std::string& run_id) {
  if (spec.network.mode != NetworkMode::kProxy) {
    return std::unique_ptr<ProxyEngine>();
  }
  absl::StatusOr<FilterFile> file = SpecFilter(spec);
  if (!file.ok()) return file.status();
  if (spec.network.engine == EngineKind::kTinyproxy) {
    return MakeTinyproxyEngine(std::move(file->text), spec.log_dir);
  }
  absl::StatusOr<HostFilter> filter = CompileFilter(spec, *file);
  if (!filter.ok()) return filter.status();
  return MakeBuiltinEngine(*std::move(filter), spec.log_dir, run_id);
}

absl::Status CheckFilter(const CellSpec& spec) {
  return CreateProxyEngine(spec, "").status();
}

}  // namespace cell

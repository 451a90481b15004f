// Fuzz target: the spec parser (JSON text with comments -> CellSpec). A
// spec that parses must print (SpecToJson) and parse again to the same
// JSON: what check-spec prints is itself a spec.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "launcher/spec/spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<cell::CellSpec> spec = cell::ParseSpec(text, "fuzz");
  if (!spec.ok()) return 0;
  const nlohmann::json printed = cell::SpecToJson(*spec);
  (void)printed.dump();  // Must not throw: strings were checked as UTF-8.
  absl::StatusOr<cell::CellSpec> again = cell::SpecFromJson(printed);
  if (!again.ok() || cell::SpecToJson(*again) != printed) std::abort();
  return 0;
}

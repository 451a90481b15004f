// Fuzz target: the probes' /proc parsers. Inside a cell the probe reads
// files the cell's own processes can shape (mountinfo paths, interface
// names), so every parser must take any text.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "base/mountinfo.h"
#include "probes/parsers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  (void)cell::probes::ParseStatus(text);
  if (const std::optional<uint64_t> mask = cell::probes::ParseCapMask(text);
      mask.has_value() && cell::probes::CountBits(*mask) > 64) {
    std::abort();
  }
  (void)cell::ParseMountInfo(text);
  (void)cell::probes::ParseIpv4Routes(text);
  (void)cell::probes::ParseIpv6Routes(text);
  (void)cell::probes::ParseNetDevInterfaces(text);
  (void)cell::probes::ParseIdMap(text);
  (void)cell::probes::ParseNamespaceLink(text);
  (void)cell::probes::IsSecretName(text);
  return 0;
}

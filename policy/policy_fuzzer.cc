// Fuzz target: the policy parser (JSON text with comments -> Policy).
#include <cstdint>
#include <string>

#include "policy/policy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  (void)cell::policy::ParsePolicy(text, "fuzz");
  return 0;
}

// The version every binary reports with --version, and how it was built.
#ifndef CELL_BASE_VERSION_H_
#define CELL_BASE_VERSION_H_

#include <string>

namespace cell {

// As nix/package.nix says; raised with each release.
inline constexpr char kVersion[] = "0.1.0";

// "PROGRAM VERSION" and a second line with the build: compiler, C++
// standard, architecture, and whether sanitizers are in (a line a bug
// report can carry as it is).
inline std::string VersionText(const char* program) {
  std::string text = std::string(program) + " " + kVersion + "\nbuilt with ";
#if defined(__clang__)
  text += "clang " __clang_version__;
#elif defined(__GNUC__)
  text += "gcc " __VERSION__;
#endif
  text += ", C++" + std::to_string(__cplusplus / 100 % 100);
#if defined(__x86_64__)
  text += ", x86_64";
#elif defined(__aarch64__)
  text += ", aarch64";
#endif
#if defined(__SANITIZE_ADDRESS__)
  text += ", AddressSanitizer";
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  text += ", AddressSanitizer";
#endif
#endif
#if defined(NDEBUG)
  text += ", optimized";
#endif
  return text + "\n";
}

}  // namespace cell

#endif  // CELL_BASE_VERSION_H_

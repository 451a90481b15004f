// Test-only faults: each switches off one protection of the launcher, so
// that cell-verify's broken-cell suite (tests/integration/broken_cells_test)
// can prove that it catches a cell without that protection, on today's
// code rather than on a hand-made imitation.
//
// They exist only in a binary built with -DCELL_TEST_FAULTS, which only
// tools/faults:faults.bzl does (for testonly targets). Everywhere else
// TestFault() is the constant false: the compiler drops the code behind
// it, and the shipped `cell` holds neither the fault points nor the name
// of the variable (tests/integration:faults_absent_test checks the
// binary). In a fault build, CELL_TEST_FAULTS in the launcher's
// environment names the faults to switch on, comma-separated.
//
// Safe on either side of the clone: getenv and a scan, no allocation.
#ifndef CELL_BASE_TEST_FAULTS_H_
#define CELL_BASE_TEST_FAULTS_H_

#ifdef CELL_TEST_FAULTS
#include <cstdlib>
#include <cstring>
#endif

namespace cell {

// The faults, one per protection; the broken-cell suite names them.
namespace fault {
// The /proc read-only binds and masks (sysctls, sysrq-trigger, kcore...).
inline constexpr char kNoProcMasks[] = "no-proc-masks";
// The command keeps the caller's session and terminal (no setsid, no pty).
inline constexpr char kCallerTerminal[] = "caller-terminal";
// Host paths are resolved through any symlink, not only root's in /.
inline constexpr char kFollowSymlinks[] = "follow-symlinks";
// The launcher's descriptors are not closed before exec.
inline constexpr char kKeepDescriptors[] = "keep-descriptors";
// A descriptor of the host's / is left open for the command.
inline constexpr char kLeakHostDirectory[] = "leak-host-directory";
// $JD is left behind.
inline constexpr char kKeepJobDir[] = "keep-job-dir";
// The seccomp filter lets io_uring through.
inline constexpr char kAllowIoUring[] = "allow-io-uring";
// The cell's network namespace gets a default route (through lo).
inline constexpr char kDefaultRoute[] = "default-route";
// The builtin engine connects to any address (loopback, private, ...).
inline constexpr char kNoAddressPolicy[] = "no-address-policy";
// NIX_CONFIG is not forced in a Nix cell.
inline constexpr char kNoNixConfig[] = "no-nix-config";
// The Nix store is bound read-write.
inline constexpr char kWritableStore[] = "writable-store";
// Binds of the host's /proc, /sys, /dev directories and terminals are let
// through, and binds keep their device nodes usable (no nodev).
inline constexpr char kAllowKernelBinds[] = "allow-kernel-binds";
// Kernel file systems beneath a bind's source are not masked (the check
// of what the cell will see before the pivot still runs).
inline constexpr char kNoKernelMasks[] = "no-kernel-masks";
// Control files are protected only in views found by spelling (a bind of
// the file itself, another name for its directory are missed).
inline constexpr char kViewsBySpelling[] = "views-by-spelling";
// logDir is bound read-write and `protect` paths are left writable.
inline constexpr char kWritableControlFiles[] = "writable-control-files";
// The cell's user is root inside (the caller's ids map to 0, as with
// `unshare -r`), not the caller's own ids.
inline constexpr char kMapRootInside[] = "map-root-inside";
// No network namespace: the cell shares the host's (and its loopback).
inline constexpr char kShareNetworkNamespace[] = "share-network-namespace";
// The cell's mounts stay slaves of the host's: what the host mounts later
// beneath a bound directory appears in the cell (no MS_PRIVATE).
inline constexpr char kHostPropagation[] = "host-propagation";
// The builtin engine forwards the client's Host header as it came, not the
// request line's authority (which the filter judged).
inline constexpr char kClientHostHeader[] = "client-host-header";
}  // namespace fault

#ifdef CELL_TEST_FAULTS
inline bool TestFault(const char* name) {
  const char* list = std::getenv("CELL_TEST_FAULTS");
  if (list == nullptr) return false;
  const size_t length = std::strlen(name);
  for (const char* at = list; *at != '\0';) {
    const char* end = std::strchr(at, ',');
    const size_t size =
        end == nullptr ? std::strlen(at) : static_cast<size_t>(end - at);
    if (size == length && std::strncmp(at, name, length) == 0) return true;
    if (end == nullptr) break;
    at = end + 1;
  }
  return false;
}
#else
constexpr bool TestFault(const char*) { return false; }
#endif

}  // namespace cell

#endif  // CELL_BASE_TEST_FAULTS_H_

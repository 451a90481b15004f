// The seccomp filter of `isolation.seccomp`: the syscalls an agent would use
// to leave or widen its cell fail with EPERM (new namespaces, ptrace and
// cross-process memory access, keyrings, bpf, perf, userfaultfd, kernel
// modules and kexec, open_by_handle_at). Everything else is allowed: it is
// a deny list against escape routes, not an allow list of what agents run.
//
// Built on the host side before the clone (libseccomp allocates); the child
// only installs the finished program, right before exec.
#ifndef CELL_LAUNCHER_JAIL_SECCOMP_H_
#define CELL_LAUNCHER_JAIL_SECCOMP_H_

#include <linux/filter.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace cell {

// The syscalls the filter denies, by name, for documentation and probes.
const std::vector<std::string>& SeccompDeniedSyscalls();

// The filter as a classic BPF program for the native architecture; other
// architectures' syscalls (32-bit entry points) kill the process.
absl::StatusOr<std::vector<sock_filter>> BuildSeccompFilter();

// Child side, after every other step: installs `program`. Returns 0 or an
// errno. Needs no_new_privs or CAP_SYS_ADMIN in the cell's user namespace
// (the cell has the latter unless capabilities are none, which sets the
// former).
int InstallSeccompFilter(const std::vector<sock_filter>& program);

}  // namespace cell

#endif  // CELL_LAUNCHER_JAIL_SECCOMP_H_

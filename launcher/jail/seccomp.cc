#include "launcher/jail/seccomp.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/fs_util.h"
#include "base/status_macros.h"
#include "base/test_faults.h"
#include "base/unique_fd.h"

namespace cell {
namespace {

// The namespace flags of clone(2): a new one of any of these is a way to
// regain privileges (a user namespace) or to hide from the launcher.
constexpr uint64_t kNamespaceFlags[] = {
    CLONE_NEWNS,  CLONE_NEWUSER, CLONE_NEWPID,   CLONE_NEWNET,
    CLONE_NEWIPC, CLONE_NEWUTS,  CLONE_NEWCGROUP};

}  // namespace

const std::vector<std::string>& SeccompDeniedSyscalls() {
  static const std::vector<std::string>* const kDenied =
      new std::vector<std::string>{
          // Namespaces (clone with CLONE_NEW* is denied by flag below).
          "unshare", "setns",
          // Other processes' memory.
          "ptrace", "process_vm_readv", "process_vm_writev",
          // Kernel keyrings (shared per uid with the host).
          "keyctl", "add_key", "request_key",
          // Kernel attack surface agents do not need.
          "bpf", "perf_event_open", "userfaultfd", "init_module",
          "finit_module", "delete_module", "kexec_load", "kexec_file_load",
          // Escaping a bind mount through a file handle.
          "open_by_handle_at",
          // io_uring: a second syscall path, with a history of kernel
          // escapes, that this filter could not see into.
          "io_uring_setup", "io_uring_enter", "io_uring_register",
          // The new mount API: mounts and remounts by descriptor, a path
          // the mount(2) checks of the old API do not cover.
          "fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree",
          "mount_setattr"};
  return *kDenied;
}

absl::StatusOr<std::vector<sock_filter>> BuildSeccompFilter() {
  std::unique_ptr<void, void (*)(scmp_filter_ctx)> ctx(
      seccomp_init(SCMP_ACT_ALLOW), seccomp_release);
  if (ctx == nullptr) return absl::InternalError("seccomp_init failed");
  auto check = [](int rc, absl::string_view what) -> absl::Status {
    if (rc == 0) return absl::OkStatus();
    return absl::InternalError(
        absl::StrCat("seccomp: ", what, ": ", ErrnoName(-rc)));
  };
  for (const std::string& name : SeccompDeniedSyscalls()) {
    if (TestFault(fault::kAllowIoUring) && name.rfind("io_uring", 0) == 0) {
      continue;
    }
    const int number = seccomp_syscall_resolve_name(name.c_str());
    if (number == __NR_SCMP_ERROR) {
      return absl::InternalError(
          absl::StrCat("seccomp: unknown syscall ", name));
    }
    CELL_RETURN_IF_ERROR(check(
        seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(EPERM), number, 0), name));
  }
  for (const uint64_t flag : kNamespaceFlags) {
    CELL_RETURN_IF_ERROR(check(
        seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                         SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag)),
        "clone"));
  }
  // Terminal injection: TIOCSTI pushes input into a terminal (the
  // caller's, run as the caller after the cell exits), TIOCLINUX can too on
  // a virtual console. The request is an unsigned int: the kernel ignores
  // the upper 32 bits, so compare only the lower ones.
  for (const uint64_t request : {uint64_t{TIOCSTI}, uint64_t{TIOCLINUX}}) {
    CELL_RETURN_IF_ERROR(check(
        seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
                         SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, request)),
        "ioctl"));
  }
  // personality(2) flags that weaken the address space for an exploit:
  // no randomisation, readable-implies-executable, page zero mapped, the
  // legacy layout. The query (0xffffffff) stays allowed: no flag uses bit
  // 31, so the rule asks for the flag set and bit 31 clear (one comparison
  // per argument is all a rule may have).
  for (const uint64_t flag : {uint64_t{0x0040000}, uint64_t{0x0400000},
                              uint64_t{0x0100000}, uint64_t{0x0200000}}) {
    CELL_RETURN_IF_ERROR(check(
        seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(EPERM),
                         SCMP_SYS(personality), 1,
                         SCMP_A0(SCMP_CMP_MASKED_EQ, flag | 0x80000000u, flag)),
        "personality"));
  }
  // Other ABIs (i386's int 0x80, x32) have other syscall numbers the rules
  // above do not name: the whole process dies on any of them.
  CELL_RETURN_IF_ERROR(
      check(seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH,
                             SCMP_ACT_KILL_PROCESS),
            "bad-arch action"));
  // clone3 passes its flags in memory, where a filter cannot look: ENOSYS
  // makes libc fall back to clone, which is checked.
  CELL_RETURN_IF_ERROR(check(
      seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0),
      "clone3"));
  const UniqueFd out(memfd_create("cell-seccomp", MFD_CLOEXEC));
  if (out.get() < 0) return ErrnoStatus(errno, "memfd_create");
  CELL_RETURN_IF_ERROR(
      check(seccomp_export_bpf(ctx.get(), out.get()), "export"));
  const off_t size = lseek(out.get(), 0, SEEK_END);
  if (size <= 0 || size % sizeof(sock_filter) != 0) {
    return absl::InternalError("seccomp: exported program has a bad size");
  }
  std::vector<sock_filter> program(size / sizeof(sock_filter));
  if (pread(out.get(), program.data(), size, 0) != size) {
    return ErrnoStatus(errno, "seccomp: reading the exported program");
  }
  return program;
}

int InstallSeccompFilter(const std::vector<sock_filter>& program) {
  sock_fprog prog;
  prog.len = static_cast<unsigned short>(program.size());
  prog.filter = const_cast<sock_filter*>(program.data());
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) != 0) {
    return errno;
  }
  return 0;
}

}  // namespace cell

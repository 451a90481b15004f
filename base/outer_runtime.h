// The environment the launcher itself runs in, when that is a container
// (podman, docker, a Kubernetes pod): which runtime, which /proc paths it
// masks, whether a seccomp filter and user-namespace limits apply, whether
// /sys/fs/cgroup is read-only. Host side (the launcher's parent side and
// cell-verify), never in the launcher's child.
//
// A launch step the environment refuses (a fresh proc mount under masked
// /proc paths, a user namespace under a seccomp profile, $JD in a
// read-only /tmp, a cgroup of the cell's own) gets advice naming that cause
// and the setting that changes it for each runtime. Detection is pure
// (DetectOuterRuntime on gathered text), so every case is unit-tested.
#ifndef CELL_BASE_OUTER_RUNTIME_H_
#define CELL_BASE_OUTER_RUNTIME_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cell {

// What DetectOuterRuntime reads; GatherRuntimeFacts fills it from this
// process's view of the machine.
struct RuntimeFacts {
  std::optional<std::string> containerenv;  // /run/.containerenv, if any.
  bool dockerenv = false;                   // /.dockerenv exists.
  std::string container_variable;           // $container (podman, lxc...).
  bool kubernetes_variable = false;         // $KUBERNETES_SERVICE_HOST.
  std::string proc1_cgroup;                 // /proc/1/cgroup.
  std::string mountinfo;                    // /proc/self/mountinfo.
  std::string status;                       // /proc/self/status.
  std::optional<int64_t> max_user_namespaces;
  std::optional<int64_t> unprivileged_userns_clone;  // Debian's sysctl.
  std::optional<int64_t> apparmor_restrict_userns;   // Ubuntu's sysctl.
};

struct OuterRuntime {
  // "podman", "docker", "kubernetes", "containerd", "lxc",
  // "systemd-nspawn", "a container" (kind unknown), or "" for none seen.
  std::string runtime;
  std::string evidence;  // What told: "/run/.containerenv", ...
  // Paths under /proc with something mounted over them (a runtime's masks
  // and read-only binds), in mountinfo order.
  std::vector<std::string> proc_overmounts;
  bool seccomp_filter = false;  // Seccomp: 2 in /proc/self/status.
  bool cgroup_read_only = false;
  std::optional<int64_t> max_user_namespaces;
  std::optional<int64_t> unprivileged_userns_clone;
  std::optional<int64_t> apparmor_restrict_userns;

  bool in_container() const { return !runtime.empty(); }
};

RuntimeFacts GatherRuntimeFacts();
OuterRuntime DetectOuterRuntime(const RuntimeFacts& facts);

// Each returns "; CAUSE: FIX..." to append to a one-line error, naming the
// setting for podman, docker and Kubernetes when in a container.
// A fresh proc mount refused (EPERM) for a PID namespace.
std::string ProcMountAdvice(const OuterRuntime& runtime);
// clone(CLONE_NEWUSER) refused with `error` (EPERM, ENOSPC, EINVAL...).
std::string UserNamespaceAdvice(const OuterRuntime& runtime, int error);
// The cell's uid or gid map was refused (EPERM): capabilities dropped.
std::string IdMapAdvice(const OuterRuntime& runtime);
// The run directory ($JD) could not be made in `parent`.
std::string TmpAdvice(const OuterRuntime& runtime);
// A cgroup of the cell's own could not be made or enabled.
std::string CgroupAdvice(const OuterRuntime& runtime);

// "name: value" pairs for cell-verify's environment section: container and
// runtime, masked /proc paths, seccomp, user-namespace limits, cgroups.
std::vector<std::pair<std::string, std::string>> DescribeOuterRuntime(
    const OuterRuntime& runtime);

}  // namespace cell

#endif  // CELL_BASE_OUTER_RUNTIME_H_
